// What every benchmark runner shares: its command line, the timing loop and the one JSON line it
// prints. A runner is a separate process, so its load time and peak RSS are its own.
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";

export function die(runner, message) {
  process.stderr.write(`${runner}: ${message}\n`);
  process.exit(1);
}

/**
 * Parses `--model M.gguf --texts T.json [--runs N] [--warmup N]` plus `extra` parseArgs options.
 * T.json is a JSON array of strings. Returns {model, texts, runs, warmup, ...extra values}.
 */
export function parseRunnerArgs(runner, extra = {}) {
  const usage = `usage: --model M.gguf --texts T.json [--runs N] [--warmup N]` +
      Object.keys(extra).map((k) => ` [--${k}]`).join("");
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        model: { type: "string" },
        texts: { type: "string" },
        runs: { type: "string", default: "5" },
        warmup: { type: "string", default: "1" },
        ...extra,
      },
    }));
  } catch (e) {
    die(runner, `${e.message}\n${usage}`);
  }
  if (!values.model || !values.texts) die(runner, usage);
  const int = (name, min) => {
    const n = Number(values[name]);
    if (!Number.isInteger(n) || n < min) die(runner, `--${name} must be an integer >= ${min}`);
    return n;
  };
  let texts;
  try {
    texts = JSON.parse(readFileSync(values.texts, "utf8"));
  } catch (e) {
    die(runner, `cannot read ${values.texts}: ${e.message}`);
  }
  if (!Array.isArray(texts) || !texts.every((t) => typeof t === "string")) {
    die(runner, `${values.texts} must be a JSON array of strings`);
  }
  return { ...values, texts, runs: int("runs", 1), warmup: int("warmup", 0) };
}

/**
 * Times `embed(text)` -> {vector, tokens} `warmup` + `runs` times per text, in order. Returns
 * [{tokens, times_ms, norm, vector}] with the last call's raw vector.
 */
export async function timeTexts(runner, texts, { runs, warmup }, embed) {
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
    process.stderr.write(`${runner}: text ${i}: ${last.tokens} tokens, ` +
      `${times.map((x) => x.toFixed(1)).join(" / ")} ms\n`);
  }
  return results;
}

/** Prints the runner's result as the last line of stdout. Peak RSS is this process's. */
export function printResult(fields) {
  process.stdout.write(JSON.stringify({
    ...fields, peak_rss_mb: process.resourceUsage().maxRSS / 1024,
  }) + "\n");
}
