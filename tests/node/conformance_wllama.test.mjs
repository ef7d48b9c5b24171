// Conformance of gemma-embedding2 with llama.cpp through wllama 3.13.0 (llama.cpp b12211 in wasm,
// the only llama.cpp build here that knows the architecture), on the same GGUF file: identical
// token ids and cosine >= 0.9995 between our vector and llama.cpp's, for the corpus and texts of
// 600 and 3,000 tokens (past the sliding window). The model is $GGUFEMBED_MODEL.
//
// wllama 3.13 has no tokenize call, so the ids are checked through the vectors: llama.cpp embeds
// the text and, separately, our token ids; the two must be the same bits.
import assert from "node:assert/strict";
import { basename } from "node:path";
import { test } from "node:test";

import { checkRows, label, openWllama } from "./conformance_util.mjs";
import { SHORT_TEXTS, proseOfTokens } from "./corpus.mjs";
import { cosine, runCli } from "./gguf_util.mjs";

const modelPath = process.env.GGUFEMBED_MODEL;

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

  const wllama = await openWllama(modelPath, { ctx: 4096 });
  try {
    const embedded = runCli(["embed", "-q", "-m", modelPath, "--no-normalize", "-f", "jsonl", "--",
                             ...texts]);
    assert.equal(embedded.status, 0, embedded.stderr);
    const ours = embedded.stdout.trim().split("\n").map((line) => JSON.parse(line));
    const rows = [];
    for (let i = 0; i < texts.length; i++) {
      const fromText = await wllama.embed(texts[i]);
      const fromIds = await wllama.embed(ids[i]);
      assert.equal(fromText.tokens, ids[i].length, `token count of ${label(texts[i])}`);
      assert.deepEqual(fromText.vector, fromIds.vector, `token ids of ${label(texts[i])}`);
      assert.equal(ours[i].tokens, ids[i].length);
      rows.push({ text: label(texts[i]), tokens: ids[i].length,
                  cosine: cosine(ours[i].embedding, fromText.vector) });
    }
    checkRows(t, "wllama", modelPath, rows);
  } finally {
    await wllama.exit();
  }
});
