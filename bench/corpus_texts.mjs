// The benchmarks' corpus: deterministic texts from English words, 85% sentences of 8–35 words and
// 15% paragraphs of 80–400 words (about 10–40 and 100–500 tokens).
const WORDS = ("the of and to in a is that for it as was with be by on not he this are or his " +
  "from at which but have an they you were her she there been one all we their has would when " +
  "if so no will can more other into some could them than then now only its time these two may " +
  "first any new very after most also made over did many where before must through back years " +
  "much your way well down should because each just those people how too little state good " +
  "embedding search vector model index document query retrieval language meaning distance " +
  "sentence paragraph corpus engine computer network weather history river mountain").split(" ");
// n texts as {id, text, paragraph}, the same for every n up to it.
export function makeCorpus(n) {
  let seed = 12345;
  const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
  const texts = [];
  for (let i = 0; i < n; i++) {
    const paragraph = rand() < 0.15;
    const words = paragraph ? 80 + Math.floor(rand() * 320) : 8 + Math.floor(rand() * 27);
    let t = "";
    for (let w = 0; w < words; w++) {
      const word = WORDS[Math.floor(rand() * WORDS.length)];
      t += (w === 0 ? word[0].toUpperCase() + word.slice(1) : " " + word);
      if (rand() < 0.07 && w < words - 1) t += ",";
    }
    texts.push({ id: i, text: t + ".", paragraph });
  }
  return texts;
}
