// The timing loop every benchmark runner uses, in Node and in a browser page alike (no Node
// imports here: Chromium runners import this file into the page).

/**
 * Times `embed(text)` -> {vector, tokens} `warmup` + `runs` times per text, in order. Returns
 * [{tokens, times_ms, norm, vector}] with the last call's raw vector (a plain array). `log(line)`
 * gets one line per text.
 */
export async function timeTextsWith(texts, { runs, warmup }, embed, log = () => {}) {
  const results = [];
  for (const [i, text] of texts.entries()) {
    for (let w = 0; w < warmup; w++) await embed(text);
    const times = [];
    let last;
    for (let r = 0; r < runs; r++) {
      const t = performance.now();
      last = await embed(text);
      times.push(performance.now() - t);
    }
    const vector = Array.from(last.vector);
    if (!vector.every(Number.isFinite)) throw new Error(`text ${i}: non-finite values in the vector`);
    results.push({ tokens: last.tokens, times_ms: times, norm: Math.hypot(...vector), vector });
    log(`text ${i}: ${last.tokens} tokens, ${times.map((x) => x.toFixed(1)).join(" / ")} ms`);
  }
  return results;
}
