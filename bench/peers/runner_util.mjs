// What every benchmark runner shares: its command line, the timing loop and the one JSON line it
// prints. A runner is a separate process, so its load time and peak RSS are its own.
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";

import { timeTextsWith } from "./timing.mjs";

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
 * [{tokens, times_ms, norm, vector}] with the last call's raw vector (timing.mjs, which the
 * Chromium runners also load into the page).
 */
export function timeTexts(runner, texts, opts, embed) {
  return timeTextsWith(texts, opts, embed, (line) => process.stderr.write(`${runner}: ${line}\n`));
}

/** Prints the runner's result as the last line of stdout. Peak RSS is this process's. */
export function printResult(fields) {
  process.stdout.write(JSON.stringify({
    ...fields, peak_rss_mb: process.resourceUsage().maxRSS / 1024,
  }) + "\n");
}
