// Conformance with llama.cpp (node-llama-cpp, one thread) on the same GGUF file: identical token
// ids, and cosine >= 0.9995 between our vector and llama.cpp's for every text of the corpus.
// The model is $GGUFEMBED_MODEL; a summary goes to $GGUFEMBED_REPORT_DIR when set.
//
// With GGUFEMBED_FLOOR=wllama the same run also embeds every text (the same token ids) with a
// second llama.cpp build, wllama 3.13.0 (llama.cpp b12211 in wasm), and measures the cosine
// between the two llama.cpp builds text by text: the threshold becomes min(0.9995, their minimum),
// for quantization formats whose own rounding makes two correct implementations differ more.
import assert from "node:assert/strict";
import { basename } from "node:path";
import { test } from "node:test";

import { checkRows, label, normRatio, openWllama } from "./conformance_util.mjs";
import { LONG_TOKEN_TARGETS, SHORT_TEXTS, proseOfTokens } from "./corpus.mjs";
import { cosine, runCli } from "./gguf_util.mjs";
import { openLlamaCppModel } from "./llama_cpp.mjs";

const modelPath = process.env.GGUFEMBED_MODEL;
const floorPeer = process.env.GGUFEMBED_FLOOR || "";
assert.ok(["", "wllama"].includes(floorPeer), `GGUFEMBED_FLOOR=${floorPeer}: only "wllama" is known`);

test(`matches llama.cpp on ${basename(modelPath ?? "(GGUFEMBED_MODEL unset)")}`,
     { timeout: 60 * 60 * 1000 }, async (t) => {
  assert.ok(modelPath, "GGUFEMBED_MODEL must name the model to compare");
  const llama = await openLlamaCppModel(modelPath);
  const second = floorPeer === "wllama" ? await openWllama(modelPath, { ctx: 2048 }) : null;
  try {
    // llama.cpp's ids: its BOS + tokenize(text, parse special) + its EOS, as the file's flags ask
    // (llama.cpp's own count of what it embeds is checked against them below).
    assert.ok(Number.isInteger(llama.bos) && Number.isInteger(llama.eos), "llama.cpp's BOS and EOS ids");
    const llamaIds = (text) => [llama.bos, ...llama.tokenize(text), llama.eos];
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
      // llama.cpp's own count of what it embeds (BOS and EOS as its flags say), for texts that
      // spell no special token (it counts without special-token parsing).
      if (llama.tokenizeText(texts[i]).join() === ids.slice(1, -1).join()) {
        assert.equal(llama.inputLength(texts[i]), ids.length, `llama.cpp's input length of ${label(texts[i])}`);
      }
      assert.equal(ours[i].tokens, ids.length);
      const theirs = await llama.embed(ids);
      const row = { text: label(texts[i]), tokens: ids.length, cosine: cosine(ours[i].embedding, theirs),
                    norm: normRatio(ours[i].embedding, theirs) };
      if (second) {
        const other = await second.embed(ids);
        assert.equal(other.tokens, ids.length);
        row.floor = cosine(theirs, other.vector);
        row.floorNorm = normRatio(theirs, other.vector);
      }
      rows.push(row);
    }
    // Without special-token parsing (`tokenize --no-special`; llama.cpp's tokenize(text, false)),
    // text that spells a CONTROL token stays text and a USER_DEFINED one is still split out —
    // with llama.cpp's own overrides (Gemma's </s>, USER_DEFINED in converted files, counts as
    // CONTROL). One text of them all, one call.
    const spelled = ["</s>", "a </s> b", "<eos><bos>", "<end_of_turn>", "<start_of_turn>user",
                     "<mask> <unused3> </s>", "<pad><unk>", "[multimodal]", "<0x41>", "<eos",
                     "</s"].join("\n");
    const plain = runCli(["tokenize", "-m", modelPath, "--no-special", "--", spelled]);
    assert.equal(plain.status, 0, plain.stderr);
    assert.deepEqual(JSON.parse(plain.stdout), llama.tokenizeText(spelled), "ids without special parsing");
    checkRows(t, "conformance", modelPath, rows,
              second ? { floorBuilds: "node-llama-cpp native vs wllama 3.13.0 (b12211, wasm)" } : {});
  } finally {
    await second?.exit();
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
