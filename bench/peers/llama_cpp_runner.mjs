#!/usr/bin/env node
// Benchmark peer: llama.cpp through node-llama-cpp's prebuilt binaries, one thread, offline.
//
//   node bench/peers/llama_cpp_runner.mjs --model M.gguf --texts T.json [--runs 5] [--warmup 1]
//        [--package-dir DIR]
//
// --package-dir: a directory whose node_modules holds a copy of node-llama-cpp with a single
// CPU variant (bench.mjs makes them), to force e.g. the AVX2-only `haswell` build. The last line
// of stdout is one JSON object: load time, per-text timings and raw (unnormalized) vectors.
import { loadLlama, openLlamaCppModel } from "../../tests/node/llama_cpp.mjs";
import { die, parseRunnerArgs, printResult, timeTexts } from "./runner_util.mjs";

const RUNNER = "llama_cpp_runner";

async function main() {
  const opts = parseRunnerArgs(RUNNER, { "package-dir": { type: "string", default: "" } });
  // Load time: the model and an embedding context (the addon itself is loaded before).
  const llama = await loadLlama(opts["package-dir"]);
  const t0 = performance.now();
  const model = await openLlamaCppModel(opts.model, { packageDir: opts["package-dir"] });
  const loadMs = performance.now() - t0;
  const texts = await timeTexts(RUNNER, opts.texts, opts, async (text) => (
    { vector: await model.embed(text), tokens: model.inputLength(text) }));
  await model.dispose();
  const features = llama.systemInfo.split("|").map((f) => f.trim())
      .filter((f) => / = 1$/.test(f)).map((f) => f.replace(/^CPU : /, "").replace(/ = 1$/, ""));
  printResult({
    runtime: "llama.cpp",
    version: llama.llamaCppRelease.release,
    cpu_features: features,
    threads: 1,
    load_ms: loadMs,
    texts,
  });
}

main().catch((err) => die(RUNNER, err?.stack || String(err)));
