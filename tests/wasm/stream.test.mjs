// Loading from a Blob, a ReadableStream of unknown size, a fetch Response (with and without a
// usable Content-Length) gives the model loaded by path: the same vectors bit for bit. Chunks are
// copied into the heap as they arrive (the test stream reuses one buffer for every chunk).
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { gzipSync } from "node:zlib";

import createGgufembedModule from "../../js/dist/ggufembed.mjs";
import { GgufembedError, loadEmbedder } from "../../js/dist/index.js";
import { runCli } from "../node/gguf_util.mjs";

const dir = mkdtempSync(join(tmpdir(), "ggufembed-wasm-stream-"));
process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
const tiny = join(dir, "tiny.gguf");
assert.equal(runCli(["synth", "--preset", "tiny", "-o", tiny]).status, 0);
const bytes = readFileSync(tiny);
const TEXTS = ["Streams deliver a model in chunks.", "ein zweiter Satz", ""];

let reference, server, base;
before(async () => {
  const e = await loadEmbedder(tiny);
  reference = (await e.embedBatch(TEXTS)).map((r) => r.vector);
  e.dispose();
  // /plain.gguf with Content-Length, /gzip.gguf content-encoded (its Content-Length is the
  // compressed size), /chunked.gguf without a length.
  server = createServer((req, res) => {
    if (req.url === "/plain.gguf") {
      res.writeHead(200, { "content-length": String(bytes.length) }).end(bytes);
    } else if (req.url === "/gzip.gguf") {
      const z = gzipSync(bytes, { level: 1 });
      res.writeHead(200, { "content-encoding": "gzip", "content-length": String(z.length) }).end(z);
    } else if (req.url === "/chunked.gguf") {
      res.writeHead(200);
      for (let at = 0; at < bytes.length; at += 300000) res.write(bytes.subarray(at, at + 300000));
      res.end();
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise((ok) => server.listen(0, "127.0.0.1", ok));
  base = `http://127.0.0.1:${server.address().port}`;
});
after(() => server?.close());

// Loads `source`, checks its vectors against the path's and returns the progress reports.
async function loadsLikePath(source, options = {}) {
  const progress = [];
  const e = await loadEmbedder(source, { ...options, onProgress: (p) => progress.push({ ...p }) });
  try {
    const vectors = (await e.embedBatch(TEXTS)).map((r) => r.vector);
    assert.deepEqual(vectors, reference);
    assert.equal(e.info.name, "Synthetic EmbeddingGemma tiny");
  } finally {
    e.dispose();
  }
  assert.equal(progress.at(-1).loaded, bytes.length);
  return progress;
}

// A stream of `chunkSize`-byte chunks that all share one buffer, overwritten for each chunk: a
// loader that kept chunks to copy later would assemble garbage. highWaterMark 0: a chunk is made
// only when the loader asks for the next one.
function reusedBufferStream(data, chunkSize) {
  const buffer = new Uint8Array(chunkSize);
  let at = 0;
  return new ReadableStream({
    pull(controller) {
      if (at >= data.length) {
        controller.close();
        return;
      }
      const n = Math.min(chunkSize, data.length - at);
      buffer.set(data.subarray(at, at + n));
      at += n;
      controller.enqueue(buffer.subarray(0, n));
    },
  }, { highWaterMark: 0 });
}

test("a Blob loads like the path; its size is the progress total", async () => {
  const progress = await loadsLikePath(new Blob([bytes]));
  assert.ok(progress.every((p) => p.total === bytes.length));
});

test("a ReadableStream without a known size loads like the path, chunks copied as they arrive", async () => {
  // 65521-byte chunks: the buffer (1 MiB at first) grows twice, by reallocation.
  const progress = await loadsLikePath(reusedBufferStream(bytes, 65521));
  assert.equal(progress.length, Math.ceil(bytes.length / 65521));
  assert.ok(progress.every((p) => p.total === undefined));
  // A first chunk larger than 1.5 times the first buffer, then one byte at a time at the end.
  const stream = new ReadableStream({
    start(c) {
      c.enqueue(bytes.slice(0, 1700000));
      c.enqueue(bytes.slice(1700000, bytes.length - 10));
      for (let i = bytes.length - 10; i < bytes.length; i++) c.enqueue(bytes.slice(i, i + 1));
      c.close();
    },
  });
  await loadsLikePath(stream);
});

test("fetched URLs and Responses load like the path", async () => {
  // Content-Length known: allocated once; the progress total is the length.
  let progress = await loadsLikePath(`${base}/plain.gguf`);
  assert.ok(progress.every((p) => p.total === bytes.length));
  // Content-encoded: the length is the compressed size, so the size counts as unknown.
  progress = await loadsLikePath(new URL(`${base}/gzip.gguf`));
  assert.ok(progress.every((p) => p.total === undefined));
  progress = await loadsLikePath(await fetch(`${base}/chunked.gguf`));
  assert.ok(progress.every((p) => p.total === undefined));
  await assert.rejects(loadEmbedder(`${base}/missing.gguf`), (e) => e instanceof GgufembedError &&
    e.code === "io_error" && e.message === `cannot fetch ${base}/missing.gguf: HTTP 404`);
});

test("stream failures are GgufembedErrors and leave the instance usable", async () => {
  const failing = new ReadableStream({
    start(c) {
      c.enqueue(bytes.slice(0, 1000));
      c.error(new Error("connection reset"));
    },
  });
  await assert.rejects(loadEmbedder(failing, { name: "reset.gguf" }), (e) =>
    e.code === "io_error" && e.message === "reset.gguf: read failed: connection reset");
  const strings = new ReadableStream({ start(c) { c.enqueue("GGUF"); c.close(); } });
  await assert.rejects(loadEmbedder(strings), (e) => e.code === "invalid_argument" &&
    e.message === "model.gguf: the stream gave a chunk that is not a Uint8Array");
  const cut = reusedBufferStream(bytes.subarray(0, 40000), 4096);
  await assert.rejects(loadEmbedder(cut, { name: "cut.gguf" }), (e) =>
    e.code === "invalid_file" && e.message.startsWith("cut.gguf: offset "));
  await assert.rejects(loadEmbedder(new Blob([])), (e) => e.code === "invalid_file");
  await loadsLikePath(reusedBufferStream(bytes, 1 << 20));
});

test("ggufembed_realloc grows the buffer at the heap's top in place: the heap ends near its size", async () => {
  // A fresh module, grown as the loader grows a stream of unknown size: 1 MiB, then 1.5x steps.
  const wasmBinary = readFileSync(new URL("../../js/dist/ggufembed.wasm", import.meta.url));
  const mod = await createGgufembedModule({ wasmBinary });
  const start = mod.HEAPU8.length;
  const FINAL = 96 << 20;
  let capacity = 1 << 20;
  let ptr = mod._ggufembed_alloc(capacity) >>> 0;
  mod.HEAPU8.set(bytes.subarray(0, capacity), ptr);
  while (capacity < FINAL) {
    capacity = Math.min(FINAL, Math.floor(capacity * 1.5));
    ptr = mod._ggufembed_realloc(ptr, capacity) >>> 0;
    assert.notEqual(ptr, 0);
  }
  assert.equal(Buffer.compare(mod.HEAPU8.subarray(ptr, ptr + (1 << 20)), bytes.subarray(0, 1 << 20)), 0);
  // Copying on every step would leave about 2.5 x 96 MiB.
  const grown = mod.HEAPU8.length - start;
  assert.ok(grown < 1.2 * FINAL, `the heap grew by ${grown} bytes for a buffer of ${FINAL}`);
  mod._ggufembed_free(ptr);
});
