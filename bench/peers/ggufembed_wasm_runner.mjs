#!/usr/bin/env node
// Benchmark runner: our WebAssembly build (the npm package in js/dist) under Node, one thread.
//
//   node bench/peers/ggufembed_wasm_runner.mjs --model M.gguf --texts T.json [--runs 5] [--warmup 1]
//        [--simd simd128|relaxed]
//
// --simd picks the single-threaded build (default SIMD128; relaxed needs js/dist/relaxed/ and a
// runtime that computes relaxed SIMD as specified: not Node 20). A build other than the one asked
// for is an error, never a silent fallback.
//
// The last line of stdout is one JSON object: load time, per-text timings and raw vectors.
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

import { loadEmbedder } from "../../js/dist/index.js";
import { die, parseRunnerArgs, printResult, timeTexts } from "./runner_util.mjs";

const RUNNER = "ggufembed_wasm_runner";

async function main() {
  const opts = parseRunnerArgs(RUNNER, { simd: { type: "string", default: "simd128" } });
  if (!["simd128", "relaxed"].includes(opts.simd)) die(RUNNER, "--simd must be simd128 or relaxed");
  // Load time: compiling the module, reading the file and copying it into the wasm heap.
  const t0 = performance.now();
  const embedder = await loadEmbedder(opts.model, { quiet: true, threads: 1, simd: opts.simd });
  const loadMs = performance.now() - t0;
  const want = opts.simd === "relaxed" ? "relaxed-simd" : "simd128";
  if (embedder.build !== want) die(RUNNER, `loaded the ${embedder.build} build, not ${want}`);
  const texts = await timeTexts(RUNNER, opts.texts, opts, async (text) => {
    const e = await embedder.embed(text, { normalize: false });
    return { vector: e.vector, tokens: e.tokens };
  });
  embedder.dispose();
  const pkg = JSON.parse(readFileSync(
      join(dirname(fileURLToPath(import.meta.url)), "../../js/package.json"), "utf8"));
  printResult({ runtime: "ggufembed-wasm", version: pkg.version, node: process.version, build: want, threads: 1,
                load_ms: loadMs, texts });
}

main().catch((err) => die(RUNNER, err?.stack || String(err)));
