// Conformance with llama.cpp (node-llama-cpp, one thread) on the same GGUF file: identical token
// ids, and cosine >= 0.9995 between our vector and llama.cpp's for every text of the corpus.
// The model is $GGUFEMBED_MODEL; a summary goes to $GGUFEMBED_REPORT_DIR when set.
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { test } from "node:test";

import { LONG_TOKEN_TARGETS, SHORT_TEXTS, proseOfTokens } from "./corpus.mjs";
import { cosine, runCli } from "./gguf_util.mjs";
import { openLlamaCppModel } from "./llama_cpp.mjs";

const MIN_COSINE = 0.9995;
const modelPath = process.env.GGUFEMBED_MODEL;

function label(text) {
  const s = JSON.stringify(text);
  return s.length > 40 ? `${s.slice(0, 37)}...` : s;
}

test(`matches llama.cpp on ${basename(modelPath ?? "(GGUFEMBED_MODEL unset)")}`, async (t) => {
  assert.ok(modelPath, "GGUFEMBED_MODEL must name the model to compare");
  const llama = await openLlamaCppModel(modelPath);
  try {
    // llama.cpp's ids: BOS + tokenize(text, parse special) + EOS, as the file's flags ask.
    const llamaIds = (text) => [2, ...llama.tokenize(text), 1];
    const texts = [...SHORT_TEXTS];
    for (const target of LONG_TOKEN_TARGETS) {
      texts.push(proseOfTokens(target, (s) => llamaIds(s).length));
    }
    assert.ok(texts.length >= 40);

    const embedded = runCli(["embed", "-q", "-m", modelPath, "--no-normalize", "-f", "jsonl", "--", ...texts]);
    assert.equal(embedded.status, 0, embedded.stderr);
    const ours = embedded.stdout.trim().split("\n").map((line) => JSON.parse(line));
    assert.equal(ours.length, texts.length);

    const rows = [];
    for (let i = 0; i < texts.length; i++) {
      const ids = llamaIds(texts[i]);
      const tokenized = runCli(["tokenize", "-m", modelPath, "--", texts[i]]);
      assert.equal(tokenized.status, 0, tokenized.stderr);
      assert.deepEqual(JSON.parse(tokenized.stdout), ids, `token ids of ${label(texts[i])}`);
      assert.equal(ours[i].tokens, ids.length);
      const theirs = await llama.embed(ids);
      const c = cosine(ours[i].embedding, theirs);
      rows.push({ text: label(texts[i]), tokens: ids.length, cosine: c });
    }
    const worst = rows.reduce((a, b) => (b.cosine < a.cosine ? b : a));
    t.diagnostic(`${basename(modelPath)}: ${rows.length} texts, ${rows.reduce((s, r) => s + r.tokens, 0)} ` +
                 `tokens, minimum cosine ${worst.cosine.toFixed(6)} (${worst.text}, ${worst.tokens} tokens)`);
    if (process.env.GGUFEMBED_REPORT_DIR) {
      mkdirSync(process.env.GGUFEMBED_REPORT_DIR, { recursive: true });
      writeFileSync(join(process.env.GGUFEMBED_REPORT_DIR, `conformance-${basename(modelPath)}.json`),
                    JSON.stringify({ model: basename(modelPath), minCosine: worst.cosine, worst, rows }, null, 1));
    }
    for (const r of rows) {
      assert.ok(r.cosine >= MIN_COSINE, `cosine ${r.cosine} < ${MIN_COSINE} for ${r.text}`);
    }
  } finally {
    await llama.dispose();
  }
});

// The SIMD forward pass promises the scalar reference's bits on every target (kernels_test checks
// each kernel; this checks the whole model, pooling none, so every token's row is compared). The
// reference is slow, so a few texts: short ones (f16 attention sums) and one of 70+ tokens (f32).
test(`the SIMD forward pass equals the reference on every target: ${basename(modelPath ?? "")}`, () => {
  const texts = [SHORT_TEXTS[0], SHORT_TEXTS[19], proseOfTokens(80, (s) => {
    const r = runCli(["tokenize", "-m", modelPath, "--", s]);
    return JSON.parse(r.stdout).length;
  })];
  const args = ["embed", "-q", "-m", modelPath, "--pooling", "none", "-f", "raw", "--", ...texts];
  const reference = runCli([...args.slice(0, 2), "--reference", ...args.slice(2)]);
  assert.equal(reference.status, 0, reference.stderr);
  const version = runCli(["--version"]).stdout;
  const supported = version.match(/supported: ([A-Z0-9_ ]+)\)/)[1].split(" ");
  const targets = { avx512vnni: "AVX3_DL", avx512: "AVX3", avx2: "AVX2", scalar: "SCALAR" };
  let ran = 0;
  for (const [name, hwy] of Object.entries(targets)) {
    if (!supported.includes(hwy)) continue;  // not this CPU's (CI runs on one that has AVX2)
    const fast = runCli(args, { env: { ...process.env, GGUFEMBED_TARGET: name } });
    assert.equal(fast.status, 0, fast.stderr);
    assert.ok(fast.stdout === reference.stdout, `target ${name}: vectors differ from the reference`);
    ran++;
  }
  assert.ok(supported.includes("AVX2") && supported.includes("SCALAR") && ran >= 2);
});
