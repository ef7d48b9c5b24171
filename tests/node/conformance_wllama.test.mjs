// Conformance of gemma-embedding2 with llama.cpp through wllama 3.13.0 (llama.cpp b12211 in wasm,
// the only llama.cpp build here that knows the architecture), on the same GGUF file: identical
// token ids and cosine >= 0.9995 between our vector and llama.cpp's, for the corpus and texts of
// 600 and 3,000 tokens (past the sliding window). The model is $GGUFEMBED_MODEL.
//
// wllama 3.13 has no tokenize call, so the ids are checked through the vectors: llama.cpp embeds
// the text and, separately, our token ids; the two must be the same bits.
import assert from "node:assert/strict";
import { mkdirSync, openAsBlob, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { test } from "node:test";

import { createLocalWllama, installWllamaNodeShim } from "../../bench/peers/wllama_node_shim.mjs";
import { SHORT_TEXTS, proseOfTokens } from "./corpus.mjs";
import { cosine, runCli } from "./gguf_util.mjs";

const MIN_COSINE = 0.9995;
const modelPath = process.env.GGUFEMBED_MODEL;

function label(text) {
  const s = JSON.stringify(text);
  return s.length > 40 ? `${s.slice(0, 37)}...` : s;
}

const ourIds = (text) => {
  const r = runCli(["tokenize", "-m", modelPath, "--", text]);
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
};

test(`matches llama.cpp (wllama) on ${basename(modelPath ?? "(GGUFEMBED_MODEL unset)")}`,
     { timeout: 20 * 60 * 1000 }, async (t) => {
  assert.ok(modelPath, "GGUFEMBED_MODEL must name the model to compare");
  const texts = [...SHORT_TEXTS, proseOfTokens(600, (s) => ourIds(s).length),
                 proseOfTokens(3000, (s) => ourIds(s).length)];
  const ids = texts.map(ourIds);
  assert.ok(ids.at(-1).length > 2900);

  installWllamaNodeShim({ onWorkerError: (err) => { throw err; } });
  const { wllama } = await createLocalWllama({
    logger: { debug() {}, log() {}, info() {}, warn() {}, error: console.error },
  });
  const ctx = 4096;
  await wllama.loadModel([await openAsBlob(modelPath)], {
    n_threads: 1, n_gpu_layers: 0, embeddings: true, pooling_type: "mean",
    n_ctx: ctx, n_batch: ctx, n_ubatch: ctx, n_parallel: 1, log_level: 3,
  });
  const llamaEmbed = async (input) => {
    const r = await wllama.createEmbedding({ input, embd_normalize: -1 });
    return { vector: r.data[0].embedding, tokens: r.usage?.prompt_tokens };
  };
  try {
    const embedded = runCli(["embed", "-q", "-m", modelPath, "--no-normalize", "-f", "jsonl", "--",
                             ...texts]);
    assert.equal(embedded.status, 0, embedded.stderr);
    const ours = embedded.stdout.trim().split("\n").map((line) => JSON.parse(line));
    const rows = [];
    for (let i = 0; i < texts.length; i++) {
      const fromText = await llamaEmbed(texts[i]);
      const fromIds = await llamaEmbed(ids[i]);
      assert.equal(fromText.tokens, ids[i].length, `token count of ${label(texts[i])}`);
      assert.deepEqual(fromText.vector, fromIds.vector, `token ids of ${label(texts[i])}`);
      assert.equal(ours[i].tokens, ids[i].length);
      rows.push({ text: label(texts[i]), tokens: ids[i].length,
                  cosine: cosine(ours[i].embedding, fromText.vector) });
    }
    const worst = rows.reduce((a, b) => (b.cosine < a.cosine ? b : a));
    t.diagnostic(`${basename(modelPath)}: ${rows.length} texts, minimum cosine ` +
                 `${worst.cosine.toFixed(6)} (${worst.text}, ${worst.tokens} tokens)`);
    if (process.env.GGUFEMBED_REPORT_DIR) {
      mkdirSync(process.env.GGUFEMBED_REPORT_DIR, { recursive: true });
      writeFileSync(join(process.env.GGUFEMBED_REPORT_DIR, `wllama-${basename(modelPath)}.json`),
                    JSON.stringify({ model: basename(modelPath), minCosine: worst.cosine, worst, rows },
                                   null, 1));
    }
    for (const r of rows) {
      assert.ok(r.cosine >= MIN_COSINE, `cosine ${r.cosine} < ${MIN_COSINE} for ${r.text}`);
    }
  } finally {
    await wllama.exit();
  }
});
