// The npm package (the engine in WebAssembly) embeds as the native build does: the same bits on
// the tiny model for the whole corpus, the same token ids, options and errors as exceptions.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { pathToFileURL } from "node:url";

import { GgufembedError, loadEmbedder } from "../../js/dist/index.js";
import { SHORT_TEXTS } from "../node/corpus.mjs";
import { runCli } from "../node/gguf_util.mjs";

const dir = mkdtempSync(join(tmpdir(), "ggufembed-wasm-embed-"));
process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
const tiny = join(dir, "tiny.gguf");
const plain = join(dir, "tiny-nodense.gguf");
assert.equal(runCli(["synth", "--preset", "tiny", "-o", tiny]).status, 0);
assert.equal(runCli(["synth", "--preset", "tiny", "--no-dense", "-o", plain]).status, 0);

const LONG = "Embedding models map text to vectors. ".repeat(40);
const TEXTS = [...SHORT_TEXTS, LONG];

function nativeEmbed(texts, args = []) {
  const r = runCli(["embed", "-q", "-m", tiny, "-f", "jsonl", ...args, "--", ...texts]);
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim().split("\n").map((l) => JSON.parse(l));
}

// The CLI's JSON numbers round-trip a float: as f32 they are the native vector's bits.
const f32 = (values) => Float32Array.from(values, Math.fround);

test("wasm vectors are the native ones, bit for bit, with the same token counts", async () => {
  const embedder = await loadEmbedder(tiny);
  try {
    const native = nativeEmbed(TEXTS);
    const wasm = await embedder.embedBatch(TEXTS);
    for (let i = 0; i < TEXTS.length; i++) {
      assert.equal(wasm[i].tokens, native[i].tokens, JSON.stringify(TEXTS[i]));
      assert.equal(wasm[i].vector.length, 128);
      assert.deepEqual(wasm[i].vector, f32(native[i].embedding), JSON.stringify(TEXTS[i]));
      const ids = JSON.parse(runCli(["tokenize", "-m", tiny, "--", TEXTS[i]]).stdout);
      assert.deepEqual(Array.from(await embedder.tokenize(TEXTS[i])), ids);
    }
  } finally {
    embedder.dispose();
  }
});

test("EmbeddingGemma 2 (gemma-embedding2, gemma4 tokenizer): the same bits as native", async () => {
  const eg2 = join(dir, "eg2.gguf");
  assert.equal(runCli(["synth", "--arch", "gemma-embedding2", "-o", eg2]).status, 0);
  const embedder = await loadEmbedder(eg2);
  try {
    assert.equal(embedder.info.architecture, "gemma-embedding2");
    assert.equal(embedder.info.dim, 96);
    const texts = [...SHORT_TEXTS.slice(0, 12), LONG];
    const r = runCli(["embed", "-q", "-m", eg2, "-f", "raw", "--", ...texts]);
    assert.equal(r.status, 0, r.stderr);
    const native = r.stdout.trim().split("\n").map((l) => Float32Array.from(l.split(" ").map(Number)));
    const wasm = await embedder.embedBatch(texts);
    for (let i = 0; i < texts.length; i++) {
      assert.deepEqual(Array.from(wasm[i].vector), Array.from(native[i]), JSON.stringify(texts[i]));
      const ids = JSON.parse(runCli(["tokenize", "-m", eg2, "--", texts[i]]).stdout);
      assert.deepEqual(Array.from(await embedder.tokenize(texts[i])), ids);
    }
  } finally {
    embedder.dispose();
  }
});

test("info, and loading from bytes, a file URL or a path give the same model", async () => {
  const fromPath = await loadEmbedder(tiny);
  assert.deepEqual({ ...fromPath.info, prompts: [...fromPath.info.prompts], warnings: [...fromPath.info.warnings] }, {
    architecture: "gemma-embedding",
    name: "Synthetic EmbeddingGemma tiny",
    dim: 128,
    contextLength: 2048,
    vocabSize: 4096,
    pooling: "mean",
    hasDense: true,
    prompts: ["query", "document", "question-answering", "fact-checking", "classification",
              "clustering", "sentence-similarity", "code-retrieval"],
    warnings: [],
  });
  const progress = [];
  const fromBytes = await loadEmbedder(readFileSync(tiny), { onProgress: (p) => progress.push(p) });
  const fromUrl = await loadEmbedder(pathToFileURL(tiny));
  const a = (await fromPath.embed("same text")).vector;
  assert.deepEqual((await fromBytes.embed("same text")).vector, a);
  assert.deepEqual((await fromUrl.embed("same text")).vector, a);
  const size = readFileSync(tiny).length;
  assert.deepEqual(progress.at(-1), { loaded: size, total: size, cached: false });
  for (const e of [fromPath, fromBytes, fromUrl]) e.dispose();
});

test("options: batches, dim, normalize, prompts, pooling", async () => {
  const e = await loadEmbedder(tiny);
  try {
    const batch = await e.embedBatch(["one", "two", "three"]);
    for (const [i, t] of ["one", "two", "three"].entries()) {
      assert.deepEqual(batch[i].vector, (await e.embed(t)).vector);
    }
    const raw = (await e.embed("a fox", { normalize: false })).vector;
    const cut = (await e.embed("a fox", { dim: 32 })).vector;
    assert.equal(cut.length, 32);
    const n = Math.hypot(...raw.slice(0, 32));
    cut.forEach((x, i) => assert.ok(Math.abs(x - raw[i] / n) < 1e-6));
    assert.deepEqual((await e.embed("a fox", { prompt: "document", title: "Foxes" })).vector,
                     (await e.embed("title: Foxes | text: a fox")).vector);
    const tokens = await e.embed("a fox", { pooling: "none" });
    assert.equal(tokens.rows, tokens.tokens);
    assert.equal(tokens.vector.length, tokens.rows * 128);
    const native = nativeEmbed(["a fox"], ["--dim", "32", "-p", "query"])[0];
    assert.deepEqual((await e.embed("a fox", { dim: 32, prompt: "query" })).vector, f32(native.embedding));
  } finally {
    e.dispose();
  }
});

test("errors are GgufembedError exceptions and the instance stays usable", async () => {
  const e = await loadEmbedder(tiny);
  const long = "zq".repeat(1100);
  await assert.rejects(e.embed(long), (err) => err instanceof GgufembedError &&
    err.code === "input_too_long" &&
    err.message === "the text is 2202 tokens long, more than the model's context of 2048 tokens " +
      "(use truncation to embed its beginning)");
  const cut = await e.embed(long, { truncate: true });
  // Cut to BOS + 2046 tokens + EOS: the vector of the text that fits exactly.
  assert.deepEqual(cut.vector, (await e.embed("zq".repeat(1023))).vector);
  assert.deepEqual([cut.tokens, cut.inputTokens, cut.truncated], [2048, 2202, true]);
  await assert.rejects(e.embedBatch(["ok", long]), (err) => /^text 1: the text is 2202 tokens/.test(err.message));
  await assert.rejects(e.embed("x", { dims: 64 }), (err) => err.code === "invalid_argument" &&
    err.message.startsWith("embed: unknown option 'dims'"));
  await assert.rejects(e.embed("x", { dim: 500 }), (err) => err.code === "invalid_argument" &&
    err.message === "embed: dim 500 is outside the model's output size (1 to 128, or 0 for all)");
  await assert.rejects(e.embed("x", { dim: 2 ** 32 + 64 }), (err) => err.code === "invalid_argument" &&
    err.message === "embed: dim must be a 32-bit integer, got 4294967360");  // not wrapped to 64
  await assert.rejects(e.embed("x", { pooling: "max" }), (err) => err.code === "invalid_argument");
  await assert.rejects(e.embed("x", { pooling: "toString" }), (err) => err.code === "invalid_argument");
  await assert.rejects(e.embed("x", { prompt: "nope" }), (err) => err.code === "invalid_argument");
  await assert.rejects(e.embedBatch("not an array"), (err) => err.code === "invalid_argument");
  await assert.rejects(loadEmbedder(new Uint8Array(100)), (err) => err.code === "invalid_file");
  await assert.rejects(loadEmbedder(join(dir, "missing.gguf")), (err) => err.code === "io_error");
  await assert.rejects(loadEmbedder(readFileSync(tiny).subarray(0, 50000), { name: "cut.gguf" }),
    (err) => err.code === "invalid_file" && err.message.startsWith("cut.gguf: offset "));
  // Still usable after all of that.
  assert.equal((await e.embed("still works")).vector.length, 128);
  e.dispose();
  await assert.rejects(e.embed("x"), (err) => err.code === "invalid_argument");
});

test("embedBatch embeds the texts as they were at the call and names a failing text alone in its chunk", async () => {
  const e = await loadEmbedder(tiny, { threads: 1 });
  try {
    // ~36 KB: several chunks of the batch, with a turn of the event loop between them.
    const texts = Array.from({ length: 60 }, (_, i) => `text ${i}: ${"a quick brown fox ".repeat(33)}`);
    const want = await e.embedBatch([...texts]);
    const batch = [...texts];
    let progressCalls = 0;
    const pending = e.embedBatch(batch, { onProgress: () => { progressCalls++; batch.push("added later"); } });
    batch[59] = 42;
    batch.length = 1;
    const got = await pending;
    assert.ok(progressCalls > 1, "the batch took several chunks");
    assert.equal(got.length, 60);
    got.forEach((g, i) => assert.deepEqual(g.vector, want[i].vector, `text ${i}`));
    // Five texts of 1,800 bytes fill a chunk (8 KiB a thread), so the too-long one is alone in its
    // call of the engine, which then numbers nothing.
    const filler = Array(5).fill("zq".repeat(900));
    await assert.rejects(e.embedBatch([...filler, "zq".repeat(1100)]), (err) =>
      err instanceof GgufembedError && err.code === "input_too_long" &&
      err.message.startsWith("text 5: the text is 2202 tokens long"));
    // An empty batch has its options checked like any other.
    for (const options of [{ prompt: "bogus" }, { dim: 4096 }, { threads: -3 }, { title: "t" }]) {
      await assert.rejects(e.embedBatch([], options), (err) => err instanceof GgufembedError &&
        err.code === "invalid_argument", JSON.stringify(options));
    }
    assert.deepEqual(await e.embedBatch([], { prompt: "query", dim: 32 }), []);
  } finally {
    e.dispose();
  }
});

test("an option set to null takes its default, in every call", async () => {
  const e = await loadEmbedder(tiny, { threads: null, quiet: null, signal: null, onProgress: null, name: null,
                                       simd: null, worker: null, cache: null, wasm: null });
  try {
    const plain = await e.embed("a fox");
    const nulls = { prompt: null, title: null, promptText: null, dim: null, normalize: null, truncate: null,
                    parseSpecial: null, pooling: null, threads: null, signal: null };
    assert.deepEqual((await e.embed("a fox", nulls)).vector, plain.vector);
    const [batched] = await e.embedBatch(["a fox"], { ...nulls, onProgress: null });
    assert.deepEqual(batched.vector, plain.vector);
    assert.deepEqual(await e.tokenize("a fox", { addSpecial: null, parseSpecial: null }), await e.tokenize("a fox"));
  } finally {
    e.dispose();
  }
});

test("a prompt or title counts toward the 16 MiB a text may have", async () => {
  const e = await loadEmbedder(tiny, { threads: 1 });
  try {
    // Refused before anything is encoded: neither string reaches the heap.
    await assert.rejects(e.embed("x", { promptText: "a".repeat(17 << 20) }), (err) =>
      err instanceof GgufembedError && err.code === "input_too_long" &&
      err.message === `embed: promptText is ${17 << 20} bytes long, more than the 16777216 (16 MiB) a text may have in WebAssembly`);
    await assert.rejects(e.embedBatch(["ok", "y".repeat(9 << 20)], { prompt: "document", title: "t\u00e9".repeat(4 << 20) }),
      (err) => err.code === "input_too_long" &&
        err.message.startsWith(`text 1: the text with its prompt is ${(9 << 20) + 3 * (4 << 20)} bytes long`));
    await assert.rejects(e.embed("\u{1F98A}".repeat(3 << 20), { promptText: "z".repeat(5 << 20) }), (err) =>
      err.code === "input_too_long" && err.message.startsWith(`the text with its prompt is ${(12 << 20) + (5 << 20)} bytes`));
    assert.equal((await e.embed("still works", { promptText: "p: " })).vector.length, 128);
  } finally {
    e.dispose();
  }
});

test("in Node a string with a one-letter scheme is a Windows path, not a URL", async () => {
  await assert.rejects(loadEmbedder("C:\\models\\missing.gguf"), (err) =>
    err instanceof GgufembedError && err.code === "io_error" && !/fetch/.test(err.message) &&
    err.message.includes("C:\\models\\missing.gguf"));
});

test("weights holding NaN or infinity (the fuzzing findings) are not_finite errors", async () => {
  const findings = new URL("../data/fuzz-findings/", import.meta.url);
  // A norm weight: refused at load, naming the tensor.
  await assert.rejects(loadEmbedder(new URL("nan_attn_norm.gguf", findings), { quiet: true }),
    (err) => err instanceof GgufembedError && err.code === "not_finite" &&
      /norm tensor 'blk\.0\.attn_norm\.weight' holds a value that is not finite/.test(err.message));
  // Token embeddings: the text that reads them fails, naming the row; the instance goes on.
  const broken = await loadEmbedder(new URL("inf_token_embd_scales.gguf", findings), { quiet: true });
  for (const call of [() => broken.embed("hello world"), () => broken.embedBatch(["a", "b"])]) {
    await assert.rejects(call(), (err) => err instanceof GgufembedError && err.code === "not_finite" &&
      /token_embd\.weight row \d+ \(the embedding of token \d+\) holds a value that is not finite/
        .test(err.message));
  }
  assert.equal((await broken.tokenize("hello")).length > 0, true);
  broken.dispose();
  const e = await loadEmbedder(tiny);
  assert.equal((await e.embed("still works")).vector.length, 128);
  e.dispose();
});

test("a model without dense layers warns once unless quiet", async () => {
  const warnings = [];
  const original = console.warn;
  console.warn = (m) => warnings.push(m);
  try {
    const e = await loadEmbedder(plain);
    assert.equal(e.info.hasDense, false);
    assert.equal(e.info.warnings.length, 1);
    (await loadEmbedder(plain, { quiet: true })).dispose();
    e.dispose();
  } finally {
    console.warn = original;
  }
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], /^ggufembed: .*no dense_2\/dense_3 projections/);
});
