// The threads build of the npm package (js/dist/threads, pthreads over one shared heap): Node
// loads it by default, its vectors are the single-threaded build's bits for any thread count and
// both architectures, errors stay GgufembedErrors, and a script that used it exits by itself.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";

import { GgufembedError, loadEmbedder } from "../../js/dist/index.js";
import { SHORT_TEXTS } from "../node/corpus.mjs";
import { synthTinyModels } from "../node/gguf_util.mjs";

const dir = mkdtempSync(join(tmpdir(), "ggufembed-wasm-threads-"));
process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
const models = synthTinyModels(dir);
const TEXTS = [...SHORT_TEXTS, "Embedding models map text to vectors. ".repeat(30)];

const bits = (v) => Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString("base64");

test("the package ships the threads build and Node uses it", async () => {
  assert.ok(existsSync(new URL("../../js/dist/threads/ggufembed-threads.wasm", import.meta.url)));
  const multi = await loadEmbedder(models["gemma-embedding"], { threads: 3, quiet: true });
  const single = await loadEmbedder(models["gemma-embedding"], { threads: 1, quiet: true });
  assert.equal(multi.threads, 3);
  assert.equal(single.threads, 1);
  multi.dispose();
  single.dispose();
});

for (const [arch, path] of Object.entries(models)) {
  test(`${arch}: every thread count gives the single-threaded build's bits`, async () => {
    const single = await loadEmbedder(path, { threads: 1, quiet: true });
    const multi = await loadEmbedder(path, { threads: 3, quiet: true });
    const want = (await single.embedBatch(TEXTS)).map((e) => bits(e.vector));
    for (const threads of [undefined, 1, 2, 3, 0]) {
      const got = await multi.embedBatch(TEXTS, threads === undefined ? {} : { threads });
      assert.deepEqual(got.map((e) => bits(e.vector)), want, `threads ${threads}`);
    }
    const options = { prompt: "query", dim: 64 };
    assert.deepEqual((await multi.embedBatch(TEXTS, options)).map((e) => bits(e.vector)),
                     (await single.embedBatch(TEXTS, options)).map((e) => bits(e.vector)));
    single.dispose();
    multi.dispose();
  });
}

test("errors of the threads build are GgufembedErrors and the instance stays usable", async () => {
  const multi = await loadEmbedder(models["gemma-embedding"], { threads: 2, quiet: true });
  const long = "x ".repeat(5000);
  await assert.rejects(multi.embedBatch(["fine", long]), (e) => e instanceof GgufembedError &&
    e.code === "input_too_long" && /^text 1: the text is \d+ tokens long/.test(e.message));
  await assert.rejects(multi.embedBatch(["x"], { threads: -2 }),
                       { name: "GgufembedError", code: "invalid_argument",
                         message: "embedBatch: threads -2 is not 0 (all cores) to 4096" });
  await assert.rejects(multi.embedBatch(["x"], { threads: 1.5 }), { code: "invalid_argument" });
  await assert.rejects(loadEmbedder(models["gemma-embedding"], { threads: -1 }),
                       { code: "invalid_argument", message: "loadEmbedder: threads -1 is not 0 (the cores) to 256" });
  // Not a pool of 100,000 workers (each a realm and a stack: gigabytes before any error).
  await assert.rejects(loadEmbedder(models["gemma-embedding"], { threads: 100000 }),
                       { code: "invalid_argument", message: "loadEmbedder: threads 100000 is not 0 (the cores) to 256" });
  assert.equal((await multi.embedBatch(["still fine"]))[0].vector.length, 128);
  multi.dispose();
});

test("a script that used the threads build exits by itself", () => {
  const script = join(dir, "exit.mjs");
  writeFileSync(script, `import { loadEmbedder } from ${JSON.stringify(new URL("../../js/dist/index.js", import.meta.url).href)};
const e = await loadEmbedder(${JSON.stringify(models["gemma-embedding"])}, { quiet: true });
console.log(e.threads > 1 || e.threads, (await e.embedBatch(["a", "b", "c"])).length);
`);
  const r = spawnSync(process.execPath, [script], { encoding: "utf8", timeout: 30000 });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^(true|1) 3\n$/);
});

test("the threads build leaves the host's process handlers and global Worker alone", () => {
  // In a child: the host keeps running past its own uncaught errors, and has its own Worker.
  const script = join(dir, "host.mjs");
  writeFileSync(script, `import { loadEmbedder } from ${JSON.stringify(new URL("../../js/dist/index.js", import.meta.url).href)};
class HostWorker {}
globalThis.Worker = HostWorker;
const before = ["uncaughtException", "unhandledRejection"].map((e) => process.listenerCount(e));
const [a, b] = await Promise.all([2, 3].map((threads) => loadEmbedder(${JSON.stringify(models["gemma-embedding"])}, { threads, quiet: true })));
const after = ["uncaughtException", "unhandledRejection"].map((e) => process.listenerCount(e));
let caught = 0;
process.on("uncaughtException", () => { caught++; });
process.on("unhandledRejection", () => { caught++; });
setTimeout(() => { throw new Error("the host's own error"); });
Promise.reject(new Error("the host's own rejection"));
setTimeout(async () => {
  console.log(JSON.stringify({ before, after, worker: globalThis.Worker === HostWorker, caught,
                               vectors: (await a.embedBatch(["x", "y"])).length + (await b.embedBatch(["z"])).length }));
  a.dispose();
  b.dispose();
}, 50);
`);
  const r = spawnSync(process.execPath, [script], { encoding: "utf8", timeout: 30000 });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { before: [0, 0], after: [0, 0], worker: true, caught: 2, vectors: 3 });
});
