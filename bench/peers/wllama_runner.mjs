#!/usr/bin/env node
// Benchmark peer: wllama (llama.cpp in wasm, compat build) under Node 20, one thread, offline.
//
//   node bench/peers/wllama_runner.mjs --model M.gguf --texts T.json [--runs 5] [--warmup 1] [--ctx 2048]
//
// T.json is a JSON array of strings. The last line of stdout is one JSON object with the load
// time, per-text timings and raw (unnormalised) vectors; every log goes to stderr.
import { openAsBlob } from "node:fs";
import { die, parseRunnerArgs, printResult, timeTexts } from "./runner_util.mjs";
import { createLocalWllama, installWllamaNodeShim, WLLAMA_VERSION } from "./wllama_node_shim.mjs";

const RUNNER = "wllama_runner";

// stdout carries only the result, so wllama's logger writes to stderr; its debug level
// (which also receives llama.cpp's INFO lines) only with --verbose.
const stderrLogger = (verbose) => {
  const write = (...args) => console.error(...args);
  return { debug: verbose ? write : () => {}, log: write, info: write, warn: write, error: write };
};

async function main() {
  const opts = parseRunnerArgs(RUNNER, {
    ctx: { type: "string", default: "2048" }, verbose: { type: "boolean", default: false },
  });
  const ctx = Number(opts.ctx);
  if (!Number.isInteger(ctx) || ctx < 1) die(RUNNER, "--ctx must be a positive integer");
  // A dead worker would otherwise leave wllama's pending promises hanging forever.
  installWllamaNodeShim({ onWorkerError: (err) => die(RUNNER, `worker failed: ${err?.stack || err}`) });
  const blob = await openAsBlob(opts.model).catch((e) => die(RUNNER, `cannot open model: ${e.message}`));
  const { wllama, Wllama } = await createLocalWllama({ logger: stderrLogger(opts.verbose) });

  // Load time covers worker start, wasm compile and reading the GGUF into the wasm heap.
  const t0 = performance.now();
  await wllama.loadModel([blob], {
    n_threads: 1,
    n_gpu_layers: 0,
    embeddings: true,
    pooling_type: "mean",
    // A non-causal model must see the whole input in one ubatch.
    n_ctx: ctx, n_batch: ctx, n_ubatch: ctx,
    n_parallel: 1,
    // llama.cpp's INFO lines arrive as debug and are dropped unless --verbose.
    log_level: opts.verbose ? 1 : 3,
  });
  const loadMs = performance.now() - t0;

  // embd_normalize: -1 is passed through to llama.cpp's server code: raw pooled vector
  // (wllama's default is L2-normalised).
  const embed = async (input) => {
    const res = await wllama.createEmbedding({ input, embd_normalize: -1 });
    const vector = res?.data?.[0]?.embedding;
    if (!Array.isArray(vector) || vector.length === 0) {
      throw new Error(`unexpected createEmbedding response: ${JSON.stringify(res).slice(0, 300)}`);
    }
    return { vector, tokens: res.usage?.prompt_tokens };
  };

  const texts = await timeTexts(RUNNER, opts.texts, opts, embed);
  await wllama.exit();
  printResult({
    runtime: "wllama",
    version: Wllama.getLibllamaVersion?.() ?? "unknown",
    package_version: WLLAMA_VERSION,
    build: "compat",
    threads: 1,
    load_ms: loadMs,
    texts,
  });
}

main().catch((err) => die(RUNNER, err?.stack || String(err)));
