// The engine in a worker (worker_threads in Node; the same worker.js as browsers' module Web
// Worker): the same bits and errors as on the calling thread, progress, cancellation, every kind
// of source, and the option checks of loadEmbedder and tokenize.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { pathToFileURL } from "node:url";

import { GgufembedError, cacheKey, cosineSimilarity, deleteCachedModel, listCachedModels, loadEmbedder, openGguf }
  from "../../js/dist/index.js";
import { SHORT_TEXTS } from "../node/corpus.mjs";
import { runCli, synthTinyModels } from "../node/gguf_util.mjs";

const dir = mkdtempSync(join(tmpdir(), "ggufembed-worker-"));
process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
const models = synthTinyModels(dir);
const TEXTS = [...SHORT_TEXTS, "Embedding models map text to vectors. ".repeat(60)];
const bits = (v) => Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString("base64");
const isError = (code, pattern) => (e) =>
  e instanceof GgufembedError && e.code === code && (pattern === undefined || pattern.test(e.message));

for (const [arch, path] of Object.entries(models)) {
  test(`${arch}: a worker embeds the bits of this thread's engine`, async () => {
    const here = await loadEmbedder(path, { threads: 1, quiet: true });
    const there = await loadEmbedder(path, { threads: 1, quiet: true, worker: true });
    assert.equal(here.runsIn, "thread");
    assert.equal(there.runsIn, "worker");
    assert.deepEqual(there.info, here.info);
    assert.equal(there.build, here.build);
    assert.equal(typeof there.relaxedInt32Dot, "boolean");
    assert.equal(there.relaxedInt32Dot, here.relaxedInt32Dot);
    const options = { prompt: "query", dim: 64 };
    assert.deepEqual((await there.embedBatch(TEXTS, options)).map((e) => bits(e.vector)),
                     (await here.embedBatch(TEXTS, options)).map((e) => bits(e.vector)));
    const one = await there.embed(TEXTS[0]);
    assert.equal(bits(one.vector), bits((await here.embed(TEXTS[0])).vector));
    assert.deepEqual(await there.tokenize(TEXTS[0]), await here.tokenize(TEXTS[0]));
    assert.deepEqual(await there.tokenize("<eos>", { parseSpecial: false, addSpecial: false }),
                     await here.tokenize("<eos>", { parseSpecial: false, addSpecial: false }));
    here.dispose();
    there.dispose();
  });
}

test("a worker loads from a file URL, bytes, a Blob, a Response and a stream alike", async () => {
  const bytes = readFileSync(models["gemma-embedding"]);
  const want = bits((await (await loadEmbedder(bytes, { quiet: true })).embed("same")).vector);
  const sources = {
    url: pathToFileURL(models["gemma-embedding"]),
    bytes,
    blob: new Blob([bytes]),
    response: new Response(new Blob([bytes]).stream(), { headers: { "content-length": String(bytes.length) } }),
    stream: new Blob([bytes]).stream(),
  };
  for (const [kind, source] of Object.entries(sources)) {
    const progress = [];
    const e = await loadEmbedder(source, { worker: true, quiet: true, onProgress: (p) => progress.push(p) });
    assert.equal(bits((await e.embed("same")).vector), want, kind);
    assert.equal(progress.at(-1).loaded, bytes.length, kind);
    assert.equal(progress.at(-1).cached, false, kind);
    e.dispose();
  }
});

test("a batch reports its progress in order and can be cancelled", async () => {
  for (const worker of [false, true]) {
    const e = await loadEmbedder(models["gemma-embedding"], { threads: 1, quiet: true, worker });
    const texts = Array.from({ length: 400 }, (_, i) => `text number ${i} `.repeat(1 + (i % 30)));
    const progress = [];
    const all = await e.embedBatch(texts, { onProgress: (p) => progress.push(p) });
    assert.equal(all.length, texts.length);
    assert.ok(progress.length > 3, `${progress.length} progress calls`);  // chunks of the batch
    assert.deepEqual(progress.at(-1), { done: texts.length, total: texts.length });
    for (let i = 1; i < progress.length; i++) assert.ok(progress[i].done > progress[i - 1].done);
    // Chunked or not, the vectors are those of one text at a time.
    assert.equal(bits(all[123].vector), bits((await e.embed(texts[123])).vector));
    // Empty texts and a long prompt count too: each text costs its prompt's bytes and 64 more in
    // a chunk of 8 KiB (these were one call each, 20,000 empty texts 4.3 s that no abort or
    // progress could interrupt). On this thread, where each chunk reports (a worker runs the
    // same engine.js and reports at most every 30 ms).
    if (!worker) {
      const steps = async (batch, options) => {
        const seen = [];
        await e.embedBatch(batch, { ...options, onProgress: ({ done }) => seen.push(done) });
        return seen.map((done, i) => done - (seen[i - 1] ?? 0));
      };
      assert.ok(Math.max(...await steps(Array(1000).fill(""))) <= 8192 / 64);
      const promptText = "Represent this sentence for retrieval: ".repeat(12);  // 468 bytes
      assert.ok(Math.max(...await steps(Array(100).fill("a"), { promptText })) <= Math.ceil(8192 / (1 + 468 + 64)));
    }

    const controller = new AbortController();
    const cancelled = e.embedBatch(texts, {
      signal: controller.signal,
      onProgress: ({ done }) => { if (done > 0) controller.abort(new Error("enough")); },
    });
    await assert.rejects(cancelled, isError("aborted", /^embedBatch was aborted: enough$/));
    await assert.rejects(e.embed("x", { signal: AbortSignal.abort() }), isError("aborted"));
    // Still usable.
    assert.equal(bits((await e.embed(texts[5])).vector), bits(all[5].vector));
    e.dispose();
    await assert.rejects(e.embed("x"), isError("invalid_argument", /disposed/));
  }
});

test("in a worker a batch reports its texts as the engine's passes end, inside a chunk", async () => {
  // Three texts of a pass each in one chunk, one call of the engine: a worker hears each pass's
  // end (its first report always goes out; later ones at most every 30 ms), the calling thread
  // only the chunk's end. Emoji the tiny vocabulary lacks are a token a byte: 144 bytes, over
  // 128 tokens, so no two texts share a pass of 256; a new embedder's first chunk takes texts
  // until they reach 512 bytes, with 64 a text: all three (208, 416, 624).
  const texts = ["🙂", "😀", "🙃"].map((emoji) => emoji.repeat(36));
  for (const worker of [true, false]) {
    const e = await loadEmbedder(models["gemma-embedding"], { threads: 1, quiet: true, worker });
    for (const text of texts) {
      assert.equal(new TextEncoder().encode(text).length, 144);
      assert.ok((await e.tokenize(text)).length > 128);
    }
    const progress = [];
    const all = await e.embedBatch(texts, { onProgress: (p) => progress.push(p) });
    assert.deepEqual(progress.at(0), { done: worker ? 1 : 3, total: 3 }, `worker: ${worker}`);
    assert.deepEqual(progress.at(-1), { done: 3, total: 3 });
    for (let i = 1; i < progress.length; i++) assert.ok(progress[i].done > progress[i - 1].done);
    assert.equal(bits(all[2].vector), bits((await e.embed(texts[2])).vector));
    e.dispose();
  }
});

test("a batch's chunks hold about half a second of the model's work, 8 KiB a thread at most", async () => {
  const texts = Array.from({ length: 300 }, (_, i) => `short text number ${i % 10}`);
  const cost = texts[0].length + 64;  // a text's bytes as a chunk counts them
  const steps = async (e, batch, options) => {
    const seen = [];
    await e.embedBatch(batch, { ...options, onProgress: ({ done }) => seen.push(done) });
    return seen.map((done, i) => done - (seen[i - 1] ?? 0));
  };
  for (const threads of [undefined, 8]) {
    // A batch's `threads` beyond the build's (one thread here) does not widen its chunks.
    const tiny = await loadEmbedder(models["gemma-embedding"], { threads: 1, quiet: true, worker: false });
    const s = await steps(tiny, texts, { threads });
    assert.equal(s[0], Math.ceil(512 / cost));  // before a chunk was timed: 512 bytes
    assert.ok(Math.max(...s) <= Math.ceil(8192 / cost), s.join(" "));
    tiny.dispose();
  }
  // The 300M model (tens of milliseconds a short text): once a chunk was timed, 40 short texts
  // (3.3 KiB: one chunk when chunks were 8 KiB, which took it 7 s of short texts) go in several.
  const path = join(dir, "300m.gguf");
  assert.equal(runCli(["synth", "--preset", "300m", "-o", path]).status, 0);
  const big = await loadEmbedder(path, { threads: 1, quiet: true, worker: false });
  await big.embedBatch(texts.slice(0, 4));
  const chunks = await steps(big, texts.slice(0, 40));
  assert.ok(chunks.length >= 2, chunks.join(" "));
  big.dispose();
  rmSync(path);
});

test("one signal over many calls in flight: no listener warning, all of them cancelled, none kept", async () => {
  const e = await loadEmbedder(models["gemma-embedding"], { threads: 1, quiet: true, worker: true });
  const warnings = [];
  const onWarning = (w) => warnings.push(w.name);
  process.on("warning", onWarning);
  try {
    const texts = Array.from({ length: 25 }, (_, i) => `call ${i} `.repeat(1 + i));
    // Answered: 25 calls under one signal that never fires.
    const quiet = new AbortController();
    const got = await Promise.all(texts.map((t) => e.embed(t, { signal: quiet.signal })));
    for (const [i, r] of got.entries()) assert.equal(bits(r.vector), bits((await e.embed(texts[i])).vector));
    // Cancelled: every call in flight rejects with the signal's reason.
    const controller = new AbortController();
    const calls = texts.map((t) => e.embed(t, { signal: controller.signal }));
    controller.abort(new Error("stop"));
    const settled = await Promise.allSettled(calls);
    assert.ok(settled.every((r) => r.status === "rejected" && isError("aborted", /^embed was aborted: stop$/)(r.reason)));
    // A signal used again after its calls settled, then fired: nothing left listening to it.
    const reused = new AbortController();
    await e.embed("one", { signal: reused.signal });
    reused.abort();
    assert.equal(bits((await e.embed("two")).vector), bits((await e.embed("two")).vector));
    await new Promise((resolve) => setImmediate(resolve));  // warnings are emitted on a later turn
    assert.deepEqual(warnings, []);
  } finally {
    process.off("warning", onWarning);
    e.dispose();
  }
});

test("errors in a worker are the same GgufembedErrors, and the worker stays usable", async () => {
  const e = await loadEmbedder(models["gemma-embedding"], { worker: true, quiet: true });
  await assert.rejects(e.embedBatch(["ok", "zq".repeat(1100)]),
                       isError("input_too_long", /^text 1: the text is 2202 tokens long/));
  await assert.rejects(e.embed("x", { dims: 3 }), isError("invalid_argument", /^embed: unknown option 'dims'/));
  await assert.rejects(e.embedBatch("x"), isError("invalid_argument"));
  await assert.rejects(e.embed("x", null), isError("invalid_argument", /^embed: options must be an object, got null$/));
  await assert.rejects(e.embedBatch(["x"], 3), isError("invalid_argument", /^embedBatch: options must be an object, got number$/));
  await assert.rejects(e.embedBatch([() => 1]), isError("invalid_argument", /^embedBatch: /));
  await assert.rejects(e.embed("x", () => 1), isError("invalid_argument", /^embed: /));
  await assert.rejects(e.embedBatch([1]), isError("invalid_argument", /text 0 is not a string/));
  await assert.rejects(e.tokenize("x", { add: true }), isError("invalid_argument", /^tokenize: unknown option 'add'/));
  await assert.rejects(e.tokenize(42), isError("invalid_argument", /^tokenize expects a string/));
  // A text that cannot go to the worker is refused as on the calling thread (the clone's own
  // message quoted the object, a function's source included).
  const secret = { toString() { return "a secret source"; } };
  await assert.rejects(e.embed(secret), isError("invalid_argument", /^embed expects a string, got object$/));
  await assert.rejects(e.tokenize(() => "x"), isError("invalid_argument", /^tokenize expects a string, got function$/));
  await assert.rejects(e.embedBatch([], { prompt: "bogus" }), isError("invalid_argument"));
  assert.ok(Object.isFrozen(e.info) && Object.isFrozen(e.info.prompts) && Object.isFrozen(e.info.warnings));
  // An option set to null takes its default here too.
  const fine = (await e.embed("fine")).vector;
  assert.equal(fine.length, 128);
  assert.deepEqual((await e.embed("fine", { signal: null, dim: null, prompt: null })).vector, fine);
  assert.deepEqual((await e.embedBatch(["fine"], { signal: null, onProgress: null, truncate: null }))[0].vector, fine);
  e.dispose();
});

test("loadEmbedder checks its source and options, in a worker and here", async () => {
  for (const worker of [false, true]) {
    const cases = [
      [[models["gemma-embedding"], null], "invalid_argument", /^loadEmbedder: options must be an object, got null$/],
      [[models["gemma-embedding"], { thread: 2 }], "invalid_argument", /^loadEmbedder: unknown option 'thread'/],
      [[models["gemma-embedding"], { quiet: "yes" }], "invalid_argument", /^loadEmbedder: quiet must be a boolean/],
      [[models["gemma-embedding"], { simd: "sse2" }], "invalid_argument", /simd 'sse2'/],
      [[models["gemma-embedding"], { signal: AbortSignal.abort() }], "aborted", /^loadEmbedder was aborted/],
      [[dir], "io_error", new RegExp(`^${dir}: not a file$`)],
      [[join(dir, "missing.gguf")], "io_error", /missing\.gguf: cannot open/],
      [[`file://${join(dir, "missing.gguf")}`], "io_error", /missing\.gguf: cannot open/],
      [[null], "invalid_argument", /^model\.gguf: expected a path, URL, .* got null$/],
      [[42], "invalid_argument", /got number$/],
      [["http://127.0.0.1:9/none.gguf"], "io_error", /^cannot fetch http:\/\/127\.0\.0\.1:9\/none\.gguf: /],
      [[new Uint8Array(64)], "invalid_file", undefined],
    ];
    for (const [[source, options], code, pattern] of cases) {
      const withWorker = options === null ? null : { quiet: true, ...options, worker };
      await assert.rejects(loadEmbedder(source, withWorker), isError(code, pattern),
                           `${worker ? "worker" : "here"}: ${String(source)} ${JSON.stringify(options)}`);
    }
  }
  assert.deepEqual(await listCachedModels(), []);  // Node has no model cache
});

// An outside probe's findings (2026-12-03), each on this thread and in a worker; the embedder
// still embeds the same bits afterwards.
test("hostile inputs: options and texts that grow the heap, wrong types, lone surrogates, stalled and shared streams", async () => {
  const path = models["gemma-embedding"];
  const bytes = readFileSync(path);
  const simd128 = readFileSync(new URL("../../js/dist/ggufembed.wasm", import.meta.url));
  for (const worker of [false, true]) {
    // A module of its own (`wasm` bytes): its heap is small, so the long prompt below grows it.
    const e = await loadEmbedder(path, { threads: 1, quiet: true, worker, wasm: simd128 });
    const reference = bits((await e.embed("hello world")).vector);
    // The heap's growth under a call, on this thread only: a worker runs the same engine.js on a
    // module of its own, and the texts below take seconds to tokenize.
    if (!worker) {
      // The prompt's pointer was written into the heap's view from before the growth and lost:
      // the first call returned the text without its prompt (5 tokens), the second the right
      // answer. Now a prompt that fills the context is refused, by both calls alike (without it,
      // a vector).
      const prompted = { promptText: "x ".repeat(6e6) + "query: ", truncate: true };
      for (let call = 0; call < 2; call++) {
        await assert.rejects(e.embed("hello world", prompted), (err) => err instanceof GgufembedError &&
          err.code === "input_too_long" && /^the prompt is \d+ tokens long with BOS and EOS/.test(err.message),
          `call ${call}`);
      }
      // The same for a text's own pointer (it was refused as invalid UTF-8 on the first call).
      const fresh = await loadEmbedder(path, { threads: 1, quiet: true, worker, wasm: simd128 });
      const long = "ab ".repeat(1.2e6);
      assert.deepEqual([(await fresh.embed(long, { truncate: true })).tokens, (await fresh.embedBatch(["x", long], { truncate: true }))[1].truncated],
                       [2048, true]);
      fresh.dispose();
    }
    const refused = (promise, code, message) => assert.rejects(promise, (err) =>
      err instanceof GgufembedError && err.code === code && err.message === message);
    await refused(e.embed("x", { normalize: "false" }), "invalid_argument", "embed: normalize must be a boolean, got string");
    await refused(e.embedBatch(["x"], { truncate: 1 }), "invalid_argument", "embedBatch: truncate must be a boolean, got number");
    await refused(e.tokenize("x", { addSpecial: "no" }), "invalid_argument", "tokenize: addSpecial must be a boolean, got string");
    assert.deepEqual(await e.tokenize("hello", { addSpecial: null }), await e.tokenize("hello"));  // null: the default
    await refused(e.embedBatch([, "a"]), "invalid_argument", "embedBatch: text 0 is not a string");  // a hole
    // What the engine finds wrong with options (against the model) is named with the call, as
    // what the package finds is (it said "unknown prompt 'nope'" alone).
    await assert.rejects(e.embed("x", { prompt: "nope" }),
                         isError("invalid_argument", /^embed: unknown prompt 'nope' \(known: query, document, /));
    await assert.rejects(e.embedBatch(["x"], { prompt: "nope" }), isError("invalid_argument", /^embedBatch: unknown prompt 'nope'/));
    await assert.rejects(e.embedBatch([], { prompt: "nope" }), isError("invalid_argument", /^embedBatch: unknown prompt 'nope'/));
    // Options that throw when read (a getter, a Proxy's trap) are the caller's error, named; they
    // were rejected with the getter's own Error (and in a worker read once more in a catch).
    const boom = (key, options = {}) =>
      Object.defineProperty(options, key, { get() { throw new Error("boom"); }, enumerable: true });
    await refused(e.embed("x", boom("dim")), "invalid_argument", "embed: option 'dim' cannot be read: boom");
    await refused(e.embedBatch(["x"], boom("onProgress")), "invalid_argument",
                  "embedBatch: option 'onProgress' cannot be read: boom");
    await refused(e.tokenize("x", boom("addSpecial")), "invalid_argument", "tokenize: option 'addSpecial' cannot be read: boom");
    await refused(e.embed("x", new Proxy({}, { ownKeys() { throw new RangeError("no keys"); } })), "invalid_argument",
                  "embed: the options cannot be read: no keys");
    await refused(loadEmbedder(path, boom("quiet", { worker })), "invalid_argument",
                  "loadEmbedder: option 'quiet' cannot be read: boom");
    // Each option is read once, as before: one whose value changes from read to read is seen as it
    // first was (a guard for the snapshot above, which reads them now).
    let dimReads = 0;
    const shifty = { get dim() { return dimReads++ === 0 ? 32 : 2 ** 40; } };
    assert.deepEqual([(await e.embed("x", shifty)).dim, dimReads], [32, 1]);
    // Options are checked before texts, in a worker as here.
    await assert.rejects(e.embedBatch([1], { dim: "x" }), isError("invalid_argument", /^embedBatch: dim must be/));
    await assert.rejects(e.embedBatch("x", { bogus: 1 }), isError("invalid_argument", /^embedBatch: unknown option 'bogus'/));
    // A sparse array of the largest length was walked whole first (minutes, or a RangeError in a
    // worker), and so was a Proxy's length: the first hole is named at once, a length past the
    // limit refused before any text is read.
    const sparse = ["x"];
    sparse.length = 2 ** 32 - 1;
    await refused(e.embedBatch(sparse), "invalid_argument",
                  "embedBatch: 4294967295 texts, more than the 16777216 one call takes (split the batch)");
    sparse.length = 2 ** 24;
    await refused(e.embedBatch(sparse), "invalid_argument", "embedBatch: text 1 is not a string");
    let reads = 0;
    const endless = new Proxy([], { get: (target, key) => key === "length" ? 1e9 : (reads++, "text") });
    await refused(e.embedBatch(endless), "invalid_argument",
                  "embedBatch: 1000000000 texts, more than the 16777216 one call takes (split the batch)");
    assert.equal(reads, 0);
    await refused(e.embed("hello \ud800 world"), "invalid_argument",
                  "embed: the text has a lone surrogate (U+D800) at index 6: not Unicode text, so it has no UTF-8 form");
    await refused(e.embedBatch(["ok", "\udc00"]), "invalid_argument",
                  "embedBatch: text 1 has a lone surrogate (U+DC00) at index 0: not Unicode text, so it has no UTF-8 form");
    assert.equal((await e.tokenize("pair \ud83d\ude00 ok")).length > 0, true);  // a whole pair is fine
    await refused(e.embed("x", { promptText: "a\0b" }), "invalid_argument", "embed: promptText holds a NUL character at index 1");
    await refused(e.embed("x", { signal: { aborted: false } }), "invalid_argument", "embed: signal must be an AbortSignal");
    // Only own properties are options: a Map's entries and an inherited dim were ignored.
    await refused(e.embed("x", new Map([["dim", 8]])), "invalid_argument", "embed: options must be a plain object, got a Map");
    await refused(e.embedBatch(["x"], Object.create({ dim: 8 })), "invalid_argument",
                  "embedBatch: options must be a plain object, got an object that inherits from another");
    await refused(e.tokenize("x", new Date()), "invalid_argument", "tokenize: options must be a plain object, got a Date");
    assert.equal((await e.embed("x", Object.assign(Object.create(null), { dim: 8 }))).dim, 8);
    // One that can take a listener but not give it back (in a worker the finished call threw on
    // removing it: the result was lost and the process died of the unhandled rejection).
    const halfSignal = { aborted: false, addEventListener() {} };
    await refused(e.embed("x", { signal: halfSignal }), "invalid_argument", "embed: signal must be an AbortSignal");
    await assert.rejects(loadEmbedder(path, { worker, signal: halfSignal }),
                         isError("invalid_argument", /^loadEmbedder: signal must be an AbortSignal$/));
    // A text whose tokenization would not fit the heap (it aborted the module) is refused first.
    const huge = "ab ".repeat(5.6e6);  // 16,800,000 bytes
    await refused(e.tokenize(huge), "input_too_long",
                  "the text is 16800000 bytes long, more than the 16777216 (16 MiB) a text may have in WebAssembly");
    await refused(e.embedBatch(["ok", huge], { truncate: true }), "input_too_long",
                  "text 1: the text is 16800000 bytes long, more than the 16777216 (16 MiB) a text may have in WebAssembly");
    // A throwing progress callback fails its call (in a worker it was thrown in the message handler).
    await assert.rejects(e.embedBatch(["a", "b"], { onProgress() { throw new Error("boom"); } }), { message: "boom" });
    assert.equal(bits((await e.embed("hello world")).vector), reference);
    e.dispose();

    // A stream that stalls: the signal ends the load.
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error("user gave up")), 100);
    await assert.rejects(loadEmbedder(new ReadableStream({ pull: () => new Promise(() => {}) }),
                                      { threads: 1, worker, signal: controller.signal }),
                         isError("aborted", /^loadEmbedder was aborted: user gave up$/));
    // Chunks that are views of one buffer, and a chunk that is a whole buffer: loaded, and the
    // caller's buffers left as they were (a worker's load hung on the first, emptied the second).
    const shared = new Uint8Array(bytes), half = shared.length >> 1;
    const own = new Uint8Array(bytes);
    for (const chunks of [[shared.subarray(0, half), shared.subarray(half)], [own]]) {
      const loaded = await loadEmbedder(new ReadableStream({ start(c) {
        for (const chunk of chunks) c.enqueue(chunk);
        c.close();
      } }), { threads: 1, worker, quiet: true });
      assert.equal(bits((await loaded.embed("hello world")).vector), reference);
      loaded.dispose();
    }
    assert.deepEqual([shared, own], [new Uint8Array(bytes), new Uint8Array(bytes)]);
    // Sources something else already read, and a pool of workers that would not fit.
    const locked = new Blob([bytes]).stream();
    locked.getReader();
    await assert.rejects(loadEmbedder(locked, { worker }), isError("invalid_argument", /the stream is locked/));
    const used = new Response(bytes);
    await used.arrayBuffer();
    await assert.rejects(loadEmbedder(used, { worker }), isError("invalid_argument", /body was already read$/));
    await assert.rejects(loadEmbedder(path, { worker, wasm: 5 }), isError("invalid_argument", /^wasm must be a URL/));
  }
  // The helpers' arguments.
  const gguf = await openGguf(bytes);
  assert.throws(() => gguf.info(null), isError("invalid_argument", /^info: options must be an object/));
  assert.throws(() => gguf.info({ foo: 1 }), isError("invalid_argument", /^info: unknown option 'foo'/));
  gguf.close();
  await assert.rejects(openGguf(bytes, { name: 5 }), isError("invalid_argument", /^openGguf: name must be a string/));
  // One check of `simd` for both calls (openGguf's did not name the call).
  await assert.rejects(openGguf(bytes, { simd: "sse" }),
                       isError("invalid_argument", /^openGguf: simd 'sse' is not one of auto, relaxed, simd128$/));
  await assert.rejects(loadEmbedder(path, { simd: "sse" }),
                       isError("invalid_argument", /^loadEmbedder: simd 'sse' is not one of auto, relaxed, simd128$/));
  assert.throws(() => cosineSimilarity(null, [1]), isError("invalid_argument", /a must be an array of numbers$/));
  assert.throws(() => cosineSimilarity([NaN, 1], [1, 1]),
                isError("invalid_argument", /^cosineSimilarity: value 0 is not a finite number in both vectors$/));
  assert.equal(cosineSimilarity(new Float32Array([1, 0]), [1, 0]), 1);
  assert.ok(Math.abs(cosineSimilarity([1e200, 1e200], [1e200, 0]) - Math.SQRT1_2) < 1e-15);  // squares that overflow
  assert.equal(cosineSimilarity([3e-200, 4e-200], [3e-200, 4e-200]), 1);     // squares that vanish
  assert.throws(() => cacheKey(new Blob(["x"]), 5), isError("invalid_argument", /name must be a string/));
  for (const bad of [null, 5]) {
    await assert.rejects(deleteCachedModel(bad), isError("invalid_argument", /is not a model URL or cache key$/));
  }
  assert.equal(await deleteCachedModel("http://["), false);  // Node keeps no cache (browsers refuse it)
});
