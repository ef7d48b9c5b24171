#!/usr/bin/env node
// Benchmark runner: our WebAssembly build (the npm package in js/dist) under Node, one thread.
//
//   node bench/peers/ggufembed_wasm_runner.mjs --model M.gguf --texts T.json [--runs 5] [--warmup 1]
//
// The last line of stdout is one JSON object: load time, per-text timings and raw vectors.
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

import { loadEmbedder } from "../../js/dist/index.js";
import { die, parseRunnerArgs, printResult, timeTexts } from "./runner_util.mjs";

const RUNNER = "ggufembed_wasm_runner";

async function main() {
  const opts = parseRunnerArgs(RUNNER);
  // Load time: compiling the module, reading the file and copying it into the wasm heap.
  const t0 = performance.now();
  const embedder = await loadEmbedder(opts.model, { quiet: true, threads: 1 });
  const loadMs = performance.now() - t0;
  const texts = await timeTexts(RUNNER, opts.texts, opts, async (text) => {
    const e = await embedder.embed(text, { normalize: false });
    return { vector: e.vector, tokens: e.tokens };
  });
  embedder.dispose();
  const pkg = JSON.parse(readFileSync(
      join(dirname(fileURLToPath(import.meta.url)), "../../js/package.json"), "utf8"));
  printResult({ runtime: "ggufembed-wasm", version: pkg.version, threads: 1, load_ms: loadMs, texts });
}

main().catch((err) => die(RUNNER, err?.stack || String(err)));
