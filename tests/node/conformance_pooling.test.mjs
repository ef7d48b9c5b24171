// Conformance with llama.cpp for the poolings other than mean: the file's pooling_type set to cls
// (2), last (3) and none (0) in a copy of $GGUFEMBED_MODEL, each compared text by text with
// llama.cpp on that copy, with the thresholds of the mean-pooled conformance tests. gemma-embedding
// against native llama.cpp (node-llama-cpp) on the corpus; gemma-embedding2 against wllama 3.13.0
// (the build that knows it) on the short texts and one of 600 tokens.
// With none, a peer gives one row: node-llama-cpp the last token's (llama_get_embeddings_ith(ctx,
// -1)), wllama the first's; ours is that one of the rows `--pooling none` gives, and the rows
// between are held to the mean-pooled vector (their mean), which the other tests compare.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { test } from "node:test";

import { checkRows, label, normRatio, openWllama } from "./conformance_util.mjs";
import { LONG_TOKEN_TARGETS, SHORT_TEXTS, proseOfTokens } from "./corpus.mjs";
import { cosine, runCli } from "./gguf_util.mjs";
import { openLlamaCppModel } from "./llama_cpp.mjs";

const modelPath = process.env.GGUFEMBED_MODEL;
const ARCHITECTURES = ["gemma-embedding", "gemma-embedding2"];

/** {arch, at}: the file's architecture and the offset of its pooling_type key's value. */
function poolingKey(bytes) {
  for (const arch of ARCHITECTURES) {
    const key = `${arch}.pooling_type`;
    const start = bytes.indexOf(key);
    if (start < 0) continue;
    const at = start + key.length;
    assert.equal(bytes.readUInt32LE(at), 4, `${key} is a u32`);
    assert.equal(bytes.readUInt32LE(at + 4), 1, "the file pools by mean");
    return { arch, at: at + 4 };
  }
  assert.fail("no pooling_type key of a known architecture");
}

const ourIds = (text) => {
  const r = runCli(["tokenize", "-m", modelPath, "--", text]);
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
};

/**
 * The peer for `file` (whose architecture is `arch`) with `pooling`: {texts, embed(ids) ->
 * {vector, tokens (what the peer counted, where it says)}, noneRow(rows) -> the row of ours it
 * gives for pooling none, dispose()}.
 */
async function openPeer(arch, file, pooling) {
  if (arch === "gemma-embedding") {
    const llama = await openLlamaCppModel(file);
    const texts = [...SHORT_TEXTS];
    for (const target of LONG_TOKEN_TARGETS) {
      texts.push(proseOfTokens(target, (s) => llama.tokenize(s).length + 2));
    }
    return {
      texts,
      embed: async (ids) => ({ vector: await llama.embed(ids) }),
      noneRow: (rows) => rows.at(-1),
      dispose: () => llama.dispose(),
    };
  }
  const wllama = await openWllama(file, { ctx: 1024, pooling });
  return {
    texts: [...SHORT_TEXTS, proseOfTokens(600, (s) => ourIds(s).length)],
    embed: (ids) => wllama.embed(ids),
    noneRow: (rows) => rows[0],
    dispose: () => wllama.exit(),
  };
}

for (const [pooling, value] of [["cls", 2], ["last", 3], ["none", 0]]) {
  test(`pooling ${pooling} matches llama.cpp on ${basename(modelPath ?? "(GGUFEMBED_MODEL unset)")}`,
       { timeout: 20 * 60 * 1000 }, async (t) => {
    assert.ok(modelPath, "GGUFEMBED_MODEL must name the model to compare");
    const bytes = readFileSync(modelPath);
    const { arch, at } = poolingKey(bytes);
    const dir = mkdtempSync(join(tmpdir(), "ggufembed-pooling-"));
    const file = join(dir, `${basename(modelPath, ".gguf")}-${pooling}.gguf`);
    bytes.writeUInt32LE(value, at);
    writeFileSync(file, bytes);
    let peer;
    try {
      peer = await openPeer(arch, file, pooling);
      const { texts } = peer;
      // Ours from the file's key, and the same bits from the option on the mean-pooled original.
      const args = ["embed", "-q", "--no-normalize", "-f", "jsonl"];
      const fromFile = runCli([...args, "-m", file, "--", ...texts]);
      assert.equal(fromFile.status, 0, fromFile.stderr);
      const fromOption = runCli([...args, "-m", modelPath, "--pooling", pooling, "--", ...texts]);
      assert.equal(fromOption.status, 0, fromOption.stderr);
      assert.ok(fromFile.stdout === fromOption.stdout, "the file's pooling_type and --pooling agree");
      const ours = fromFile.stdout.trim().split("\n").map((line) => JSON.parse(line));
      assert.equal(ours.length, texts.length);
      const vectorOf = (i) => {
        if (pooling !== "none") return ours[i].embedding;
        assert.equal(ours[i].embedding.length, ours[i].tokens, "one row per token");
        return peer.noneRow(ours[i].embedding);
      };

      const rows = [];
      for (let i = 0; i < texts.length; i++) {
        const ids = ourIds(texts[i]);  // the same as llama.cpp's: the mean-pooled tests check it
        assert.equal(ours[i].tokens, ids.length, `tokens of ${label(texts[i])}`);
        const theirs = await peer.embed(ids);
        if (theirs.tokens !== undefined) {
          assert.equal(theirs.tokens, ids.length, `llama.cpp's tokens of ${label(texts[i])}`);
        }
        const vector = vectorOf(i);
        assert.equal(vector.length, theirs.vector.length);
        rows.push({ text: label(texts[i]), tokens: ids.length, cosine: cosine(vector, theirs.vector),
                    norm: normRatio(vector, theirs.vector) });
      }
      // Not mean's rows: a pooling that fell back to mean would pass the thresholds.
      const mean = runCli([...args, "-m", modelPath, "--", ...texts]);
      assert.equal(mean.status, 0, mean.stderr);
      const means = mean.stdout.trim().split("\n").map((line) => JSON.parse(line).embedding);
      assert.ok(cosine(vectorOf(1), means[1]) < 0.99, "differs from mean pooling");
      if (pooling === "none") {
        // Every row, through their mean: the projections after pooling are linear (dense layers
        // without bias) and quantize their inputs, so the mean of the projected rows is the
        // projected mean up to that rounding (measured, least cosine over the texts: 0.99995 for
        // tiny and 300m Q8_0 with dense layers, 0.9999999 and above otherwise; with the rows
        // between the first and the last zeroed, 0.52 on tiny Q8_0 and −0.05 on EG2's).
        for (let i = 0; i < texts.length; i++) {
          const tokenRows = ours[i].embedding;
          const average = tokenRows[0].map((_, c) =>
            tokenRows.reduce((sum, row) => sum + row[c], 0) / tokenRows.length);
          assert.ok(cosine(average, means[i]) >= 0.9999,
                    `the mean of the rows of ${label(texts[i])} against mean pooling: ${cosine(average, means[i])}`);
        }
      }
      checkRows(t, `pooling-${pooling}`, modelPath, rows);
    } finally {
      await peer?.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
