// Shared by the conformance tests (conformance.test.mjs: llama.cpp natively through node-llama-cpp;
// conformance_wllama.test.mjs: llama.cpp b12211 in wasm through wllama 3.13.0): labels, wllama on
// a file, the threshold and the floor, the summary.
import assert from "node:assert/strict";
import { mkdirSync, openAsBlob, writeFileSync } from "node:fs";
import { basename, join } from "node:path";

import { createLocalWllama, installWllamaNodeShim } from "../../bench/peers/wllama_node_shim.mjs";
import { runCli } from "./gguf_util.mjs";

/** The cosine every text must reach against llama.cpp, unless a measured floor is lower. */
export const MIN_COSINE = 0.9995;

/**
 * How close to llama.cpp a file's weights call for: {cosine, norm} — the least cosine, and the
 * most a vector's length may differ (|‖ours‖/‖theirs‖ − 1|: cosine ignores length, which raw
 * vectors keep). Quantized weights: MIN_COSINE and 2 %, as both engines quantize activations too;
 * float weights far closer, where only f16/bf16 rounding of activations and summation order differ.
 * Measured on the tiny models (least cosine, largest length difference): F32 0.99999989, 9e-5; F16
 * 0.9999997, 3.5e-4; BF16 0.9999914, 1.0e-3; Q8_0 and the 4- to 6-bit types 0.99981, 5.9e-3 —
 * each bound 3 to 30 times the measured difference. A regression in the float paths would pass
 * MIN_COSINE by far, and one that scales every vector would pass any cosine.
 */
export function agreementOf(modelPath) {
  const info = runCli(["info", modelPath, "--json"]);
  assert.equal(info.status, 0, info.stderr);
  const types = new Set(JSON.parse(info.stdout).tensors.map((t) => t.type));
  const only = (...allowed) => [...types].every((type) => allowed.includes(type));
  if (only("F32", "F16")) return { cosine: 0.99999, norm: 2e-3 };
  if (only("F32", "F16", "BF16")) return { cosine: 0.99995, norm: 5e-3 };
  return { cosine: MIN_COSINE, norm: 2e-2 };
}

/** ‖a‖ / ‖b‖: cosine ignores a vector's length, which raw (unnormalized) vectors keep. */
export function normRatio(a, b) {
  const norm = (v) => Math.sqrt(Array.from(v).reduce((s, x) => s + x * x, 0));
  return norm(a) / norm(b);
}

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
 * one thread, `pooling` (mean by default; with none its vector is the first token's row), raw
 * vectors, a context of `ctx` tokens in one ubatch (the model is non-causal). Returns
 * {embed(text or token ids) -> {vector, tokens}, exit()}.
 */
export async function openWllama(modelPath, { ctx = 4096, pooling = "mean" } = {}) {
  installWllamaNodeShim({ onWorkerError: (err) => { throw err; } });
  const { wllama } = await createLocalWllama({
    logger: { debug() {}, log() {}, info() {}, warn() {}, error: console.error },
  });
  await wllama.loadModel([await openAsBlob(modelPath)], {
    n_threads: 1, n_gpu_layers: 0, embeddings: true, pooling_type: pooling,
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
export function thresholdOf(floor, min = MIN_COSINE) {
  return floor === undefined ? min : Math.min(min, floor);
}

/**
 * Asserts every row's cosine >= the threshold (and its length ratio within agreementOf's bound, or
 * within what two llama.cpp builds differ by, if more) and writes the summary to
 * $GGUFEMBED_REPORT_DIR/<prefix>-<model>.json when set. `rows`: {text, tokens, cosine[, norm]
 * [, floor, floorNorm]}, where `floor` and `floorNorm` are the cosine and length ratio between two
 * llama.cpp builds on that text. Returns the summary.
 */
export function checkRows(t, prefix, modelPath, rows, extra = {}) {
  const worst = worstOf(rows);
  const hasFloor = rows.every((r) => typeof r.floor === "number");
  const floorWorst = hasFloor ? worstOf(rows, "floor") : undefined;
  const agreement = agreementOf(modelPath);
  const threshold = thresholdOf(floorWorst?.floor, agreement.cosine);
  const floorNorms = rows.filter((r) => typeof r.floorNorm === "number").map((r) => Math.abs(r.floorNorm - 1));
  const normBound = Math.max(agreement.norm, ...floorNorms);
  const summary = {
    model: basename(modelPath), texts: rows.length, tokens: rows.reduce((s, r) => s + r.tokens, 0),
    minCosine: worst.cosine, worst, threshold, ...extra,
    ...(rows.every((r) => r.norm !== undefined)
      ? { maxNormDeviation: Math.max(...rows.map((r) => Math.abs(r.norm - 1))), normBound } : {}),
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
    if (r.norm !== undefined) {
      assert.ok(Math.abs(r.norm - 1) <= normBound,
                `length ratio ${r.norm} is more than ${normBound} from 1 for ${r.text}`);
    }
  }
  return summary;
}
