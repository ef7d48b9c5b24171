// Texts for comparing with llama.cpp: scripts, emoji, numbers, code, whitespace runs, special-token
// text, and long prose cut to a token count with a model's own tokenizer.

export const SHORT_TEXTS = [
  "The quick brown fox jumps over the lazy dog.",
  "a",
  "",
  "Hello, world!",
  "What is the capital of France?",
  "Machine learning models turn text into vectors that capture its meaning.",
  "Le cœur a ses raisons que la raison ne connaît point.",
  "Größere Straßen führen über die Brücke nach Süden.",
  "¿Dónde está la biblioteca? ¡Muchas gracias!",
  "Съешь же ещё этих мягких французских булок, да выпей чаю.",
  "Η γρήγορη καφέ αλεπού πηδάει πάνω από το τεμπέλικο σκυλί.",
  "我们使用向量来表示文本的含义。",
  "東京は日本の首都です。ひらがなとカタカナも使います。",
  "한국어 문장도 올바르게 처리되어야 합니다.",
  "اللغة العربية تكتب من اليمين إلى اليسار.",
  "שלום עולם, זהו משפט בעברית.",
  "हिन्दी में लिखा गया एक वाक्य।",
  "Tiếng Việt có nhiều dấu thanh điệu khác nhau.",
  "ภาษาไทยไม่มีการเว้นวรรคระหว่างคำ",
  "I love pizza 🍕🍕 and cats 😺!",
  "Family: 👨‍👩‍👧‍👦, flag: 🇯🇵, thumbs: 👍🏽",
  "In 2024, the price rose 12.5% to $1,234,567.89 on 03/14/2024 at 09:30.",
  "E = mc² and ∑ᵢ xᵢ² ≥ 0 for all x ∈ ℝⁿ.",
  "def fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\n",
  '{"name": "ggufembed", "version": [0, 1, 0], "tags": ["gguf", "wasm"]}',
  "for (int i = 0; i < n; ++i) {\n\tsum += a[i] * b[i];\n}",
  "grep -rn \"TODO\" src/ | wc -l && echo 'done'",
  "two  spaces,   three spaces,    four spaces,        eight spaces.",
  "   leading and trailing spaces   ",
  "\tcolumn1\tcolumn2\t\tcolumn4",
  "line one\nline two\n\nline four\n\n\n",
  " \n\t \r\n ",
  "<bos>begin and <eos>end",
  "<start_of_turn>user\nhello<end_of_turn>",
  "Use <code>x</code> in a <table> with <br> breaks.",
  "<unk> and <pad> and <mask> tokens",
  "Visit https://example.com/path?q=1&r=2 or write to me@example.org.",
  "# Title\n\n- item *one*\n- item **two**\n\n> a quote",
  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!!!!!!!!!!????",
  "English, Русский, 中文, العربية, and हिन्दी in one line.",
  "Ancient 𐎀𐎁𐎂 signs and 𝔉𝔯𝔞𝔨𝔱𝔲𝔯 letters, plus \u{20000}.",
  "bell\u0007 and escape\u001b[31m red\u001b[0m",
  "embedding",
  "?",
];

const PROSE =
  "Search engines once matched words; today they match meanings. An embedding model reads a " +
  "sentence and writes down a list of numbers, a point in a space with hundreds of dimensions, " +
  "placed so that texts about the same thing land near each other. A question about the weather " +
  "in Paris and a forecast for the French capital end up close together even when they share " +
  "no words at all. This idea powers retrieval for question answering, clustering of support " +
  "tickets, deduplication of news, and recommendations of related documents. Small models can " +
  "do this well. They run on a laptop, on a phone, or in a browser tab, which keeps private " +
  "text on the device and answers quickly without a network. The work is mostly matrix " +
  "multiplication: every layer multiplies the vectors of all the tokens by large weight " +
  "matrices, mixes information between tokens with attention, and passes the result through a " +
  "small feed-forward network. Quantized weights, stored with eight bits each and a scale for " +
  "every block of thirty-two, make the model four times smaller than single precision and let " +
  "integer instructions do the heavy lifting. Long documents bring their own questions. " +
  "Attention compares every token with every other one, so its cost grows with the square of " +
  "the length, and some models therefore let most layers look only at nearby tokens. Whatever " +
  "the tricks, the result must stay the same: the same text must always give the same vector, " +
  "on every machine, in every runtime, whether it was embedded alone or in a batch of thousands.";

/**
 * The longest prefix of repeated prose, cut at a word boundary, whose token count (by
 * `countTokens`, BOS/EOS included) is at most `target`.
 */
export function proseOfTokens(target, countTokens) {
  const words = [];
  while (words.length < target * 2) words.push(...PROSE.split(" "));
  let lo = 1, hi = words.length;
  while (lo < hi) {  // largest n with countTokens(first n words) <= target
    const mid = Math.ceil((lo + hi) / 2);
    if (countTokens(words.slice(0, mid).join(" ")) <= target) lo = mid;
    else hi = mid - 1;
  }
  return words.slice(0, lo).join(" ");
}

/** Token targets of the long texts: past EmbeddingGemma's 257-token sliding-window reach. */
export const LONG_TOKEN_TARGETS = [300, 700, 1500];
