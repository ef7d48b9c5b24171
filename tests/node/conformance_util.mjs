// Shared by the conformance tests (conformance.test.mjs: llama.cpp natively through node-llama-cpp;
// conformance_wllama.test.mjs: llama.cpp b12211 in wasm through wllama 3.13.0): labels, wllama on
// a file, the threshold and the floor, the summary.
import assert from "node:assert/strict";
import { mkdirSync, openAsBlob, writeFileSync } from "node:fs";
import { basename, join } from "node:path";

import { createLocalWllama, installWllamaNodeShim } from "../../bench/peers/wllama_node_shim.mjs";

/** The cosine every text must reach against llama.cpp, unless a measured floor is lower. */
export const MIN_COSINE = 0.9995;

/** A text as it appears in messages: JSON, cut to 40 characters. */
export function label(text) {
  const s = JSON.stringify(text);
  return s.length > 40 ? `${s.slice(0, 37)}...` : s;
}

/** The row with the smallest `key` (default: cosine). */
export function worstOf(rows, key = "cosine") {
  return rows.reduce((a, b) => (b[key] < a[key] ? b : a));
}

/**
 * wllama 3.13.0 (llama.cpp b12211 compiled to wasm, its compat build under Node) on `modelPath`:
 * one thread, mean pooling, raw vectors, a context of `ctx` tokens in one ubatch (the model is
 * non-causal). Returns {embed(text or token ids) -> {vector, tokens}, exit()}.
 */
export async function openWllama(modelPath, { ctx = 4096 } = {}) {
  installWllamaNodeShim({ onWorkerError: (err) => { throw err; } });
  const { wllama } = await createLocalWllama({
    logger: { debug() {}, log() {}, info() {}, warn() {}, error: console.error },
  });
  await wllama.loadModel([await openAsBlob(modelPath)], {
    n_threads: 1, n_gpu_layers: 0, embeddings: true, pooling_type: "mean",
    n_ctx: ctx, n_batch: ctx, n_ubatch: ctx, n_parallel: 1, log_level: 3,
  });
  return {
    async embed(input) {
      const r = await wllama.createEmbedding({ input, embd_normalize: -1 });
      return { vector: r.data[0].embedding, tokens: r.usage?.prompt_tokens };
    },
    exit: () => wllama.exit(),
  };
}

/**
 * The threshold of a comparison with llama.cpp: MIN_COSINE, or lower where two llama.cpp builds
 * differ more from each other on the same file (`floor`: their minimum cosine over the texts),
 * since a format's own rounding then makes correct implementations differ by that much.
 */
export function thresholdOf(floor) {
  return floor === undefined ? MIN_COSINE : Math.min(MIN_COSINE, floor);
}

/**
 * Asserts every row's cosine >= the threshold and writes the summary to
 * $GGUFEMBED_REPORT_DIR/<prefix>-<model>.json when set. `rows`: {text, tokens, cosine[, floor]},
 * where `floor` is the cosine between two llama.cpp builds on that text. Returns the summary.
 */
export function checkRows(t, prefix, modelPath, rows, extra = {}) {
  const worst = worstOf(rows);
  const hasFloor = rows.every((r) => typeof r.floor === "number");
  const floorWorst = hasFloor ? worstOf(rows, "floor") : undefined;
  const threshold = thresholdOf(floorWorst?.floor);
  const summary = {
    model: basename(modelPath), texts: rows.length, tokens: rows.reduce((s, r) => s + r.tokens, 0),
    minCosine: worst.cosine, worst, threshold, ...extra,
    ...(hasFloor ? { floor: floorWorst.floor, floorWorst } : {}), rows,
  };
  t.diagnostic(`${summary.model}: ${rows.length} texts, ${summary.tokens} tokens, minimum cosine ` +
               `${worst.cosine.toFixed(6)} (${worst.text}, ${worst.tokens} tokens)` +
               (hasFloor ? `; llama.cpp vs llama.cpp (${extra.floorBuilds ?? "two builds"}) minimum ` +
                           `${floorWorst.floor.toFixed(6)} (${floorWorst.text}, ${floorWorst.tokens} tokens)` : "") +
               `; threshold ${threshold.toFixed(6)}`);
  if (process.env.GGUFEMBED_REPORT_DIR) {
    mkdirSync(process.env.GGUFEMBED_REPORT_DIR, { recursive: true });
    writeFileSync(join(process.env.GGUFEMBED_REPORT_DIR, `${prefix}-${basename(modelPath)}.json`),
                  JSON.stringify(summary, null, 1));
  }
  for (const r of rows) {
    assert.ok(r.cosine >= threshold, `cosine ${r.cosine} < ${threshold} for ${r.text}`);
  }
  return summary;
}
