// Conformance of gemma-embedding2 with llama.cpp through wllama 3.13.0 (llama.cpp b12211 in wasm,
// the only llama.cpp build here that knows the architecture), on the same GGUF file: identical
// token ids and cosine >= 0.9995 between our vector and llama.cpp's, for the corpus and texts of
// 600 and 3,000 tokens (past the sliding window). The model is $GGUFEMBED_MODEL.
//
// wllama 3.13 has no tokenize call, so the ids are checked through the vectors: llama.cpp embeds
// the text and, separately, our token ids; the two must be the same bits.
//
// With GGUFEMBED_FLOOR=native the same run also embeds every text with a native llama.cpp that
// knows gemma-embedding2 (scripts/llama-eg2/build.sh: node-llama-cpp's llama.cpp and prebuilt
// ggml with our port of the graph; opt-in, for measurement). The rule is then the one of
// conformance.test.mjs for gemma-embedding: ours against native llama.cpp (whose x86 rounding
// ggufembed follows) >= min(0.9995, native vs wasm llama.cpp's minimum over the texts); ours
// against wllama is reported beside it.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

import { checkRows, label, normRatio, openWllama } from "./conformance_util.mjs";
import { SHORT_TEXTS, proseOfTokens } from "./corpus.mjs";
import { cosine, runCli } from "./gguf_util.mjs";

const modelPath = process.env.GGUFEMBED_MODEL;
const floorPeer = process.env.GGUFEMBED_FLOOR || "";
assert.ok(["", "native"].includes(floorPeer), `GGUFEMBED_FLOOR=${floorPeer}: only "native" is known`);
const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

// The native llama.cpp build's raw vectors of `texts` ({tokens, embedding} each).
function nativeLlamaCpp(texts) {
  const driver = join(root, "build/llama-eg2/embed");
  assert.ok(existsSync(driver), `${driver} is missing: run bash scripts/llama-eg2/build.sh`);
  const r = spawnSync(driver, [join(root, "node_modules/@node-llama-cpp/linux-x64/bins/linux-x64"),
                               modelPath], {
    input: texts.map((s) => `${s}\0`).join(""), encoding: "utf8", maxBuffer: 1 << 30,
  });
  assert.equal(r.status, 0, r.stderr);
  const out = r.stdout.trim().split("\n").map((line) => JSON.parse(line));
  assert.equal(out.length, texts.length);
  return out;
}

const ourIds = (text) => {
  const r = runCli(["tokenize", "-m", modelPath, "--", text]);
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
};

// 20 minutes by default; the opt-in 270m runs raise it (wllama's Q4_0 wasm code alone takes longer).
const timeoutMinutes = Number(process.env.GGUFEMBED_TIMEOUT_MINUTES ?? 20);
assert.ok(timeoutMinutes > 0, `GGUFEMBED_TIMEOUT_MINUTES must be a positive number`);

test(`matches llama.cpp (wllama) on ${basename(modelPath ?? "(GGUFEMBED_MODEL unset)")}`,
     { timeout: timeoutMinutes * 60 * 1000 }, async (t) => {
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
    const native = floorPeer === "native" ? nativeLlamaCpp(texts) : null;
    const rows = [];
    for (let i = 0; i < texts.length; i++) {
      const fromText = await wllama.embed(texts[i]);
      const fromIds = await wllama.embed(ids[i]);
      assert.equal(fromText.tokens, ids[i].length, `token count of ${label(texts[i])}`);
      assert.deepEqual(fromText.vector, fromIds.vector, `token ids of ${label(texts[i])}`);
      assert.equal(ours[i].tokens, ids[i].length);
      const row = { text: label(texts[i]), tokens: ids[i].length,
                    cosine: cosine(ours[i].embedding, fromText.vector),
                    norm: normRatio(ours[i].embedding, fromText.vector) };
      if (native) {
        assert.equal(native[i].tokens, ids[i].length, `native token count of ${label(texts[i])}`);
        row.wasm = row.cosine;
        row.cosine = cosine(ours[i].embedding, native[i].embedding);
        row.floor = cosine(native[i].embedding, fromText.vector);
        row.floorNorm = normRatio(native[i].embedding, fromText.vector);
      }
      rows.push(row);
    }
    const extra = native ? { against: "native llama.cpp (scripts/llama-eg2)",
                             floorBuilds: "native vs wasm",
                             minWasm: Math.min(...rows.map((r) => r.wasm)) } : {};
    const summary = checkRows(t, "wllama", modelPath, rows, extra);
    if (native) t.diagnostic(`ours vs wllama: minimum cosine ${summary.minWasm.toFixed(6)}`);
  } finally {
    await wllama.exit();
  }
});
