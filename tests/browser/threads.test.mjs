// The threads build in Chromium (its relaxed-SIMD module by default, SIMD128 forced): a
// cross-origin-isolated page gets it (one shared heap, a pool of
// workers), on the page's thread and inside the package's module worker, and its vectors are the
// single-threaded build's bits for both architectures; a page that is not isolated gets the
// single-threaded build with the same API.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";

import { SHORT_TEXTS } from "../node/corpus.mjs";
import { synthTinyModels } from "../node/gguf_util.mjs";
import { launchChromium, serve } from "./browser_util.mjs";

const dir = mkdtempSync(join(tmpdir(), "ggufembed-browser-threads-"));
process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
const models = synthTinyModels(dir);
const TEXTS = [...SHORT_TEXTS, "Embedding models map text to vectors. ".repeat(30)];
const extra = {
  "/blank.html": { body: "<!doctype html><title>threads</title>", type: "text/html" },
  "/model.gguf": models["gemma-embedding"],
  "/model2.gguf": models["gemma-embedding2"],
};

let isolated, plain, browser;
before(async () => {
  [isolated, plain] = await Promise.all([serve({ extra, isolated: true }), serve({ extra })]);
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  isolated?.server.close();
  plain?.server.close();
});

// Embeds TEXTS with the package's default module for `threads` (undefined: the default) and
// with the single-threaded build; returns what the page saw, vectors as base64 of their bytes.
async function embedOnPage(base, modelPath, threads, worker = false) {
  const page = await browser.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(`${base}/blank.html`);
  const seen = await page.evaluate(async ({ modelPath, threads, texts, worker }) => {
    // Counts the pthreads started from this thread: emscripten posts {cmd: "run"} to a pool
    // worker for each (inside the package's worker they are out of sight).
    let started = 0;
    const post = Worker.prototype.postMessage;
    Worker.prototype.postMessage = function (message, ...rest) {
      if (message?.cmd === "run") started++;
      return post.call(this, message, ...rest);
    };
    const { loadEmbedder } = await import("/js/dist/index.js");
    const bits = (v) => btoa(String.fromCharCode(...new Uint8Array(v.buffer, v.byteOffset, v.byteLength)));
    const multi = await loadEmbedder(modelPath, { threads, quiet: true, worker });
    const single = await loadEmbedder(modelPath, { threads: 1, quiet: true, worker: false });
    const simd128 = await loadEmbedder(modelPath, { threads, quiet: true, worker, simd: "simd128" });
    const out = {
      isolated: globalThis.crossOriginIsolated,
      cores: navigator.hardwareConcurrency,
      threads: multi.threads,
      runsIn: multi.runsIn,
      builds: [multi.build, simd128.build, single.build],
      multi: (await multi.embedBatch(texts)).map((e) => bits(e.vector)),
      simd128: (await simd128.embedBatch(texts)).map((e) => bits(e.vector)),
      two: (await multi.embedBatch(texts, { threads: 2, prompt: "query" })).map((e) => bits(e.vector)),
      single: (await single.embedBatch(texts)).map((e) => bits(e.vector)),
      singleQuery: (await single.embedBatch(texts, { prompt: "query" })).map((e) => bits(e.vector)),
      started,
    };
    multi.dispose();
    single.dispose();
    simd128.dispose();
    return out;
  }, { modelPath, threads, texts: TEXTS, worker });
  await page.close();
  assert.deepEqual(errors, []);
  return seen;
}

for (const [arch, modelPath] of [["gemma-embedding", "/model.gguf"], ["gemma-embedding2", "/model2.gguf"]]) {
  test(`${arch}: a cross-origin-isolated page embeds on a pool of threads with the same bits`, async () => {
    const seen = await embedOnPage(isolated.base, modelPath, 3);
    assert.equal(seen.isolated, true);
    assert.equal(seen.threads, 3);
    // Each batch's passes start pthreads: two batches of the default module (2 + 1 beside the
    // caller) and one of the SIMD128 one (2).
    assert.ok(seen.started >= 6, `${seen.started} pthreads started`);
    // Chromium computes relaxed SIMD: the threads build's relaxed module by default, or forced
    // SIMD128; the single-threaded relaxed build; all the same bits.
    assert.deepEqual(seen.builds, ["relaxed-simd-threads", "threads", "relaxed-simd"]);
    assert.equal(seen.multi.length, TEXTS.length);
    assert.deepEqual(seen.multi, seen.single);
    assert.deepEqual(seen.simd128, seen.single);
    assert.deepEqual(seen.two, seen.singleQuery);
    assert.notDeepEqual(seen.single, seen.singleQuery);
  });
}

test("the package's worker in an isolated page runs the threads build with the same bits", async () => {
  const seen = await embedOnPage(isolated.base, "/model2.gguf", 3, true);
  assert.equal(seen.runsIn, "worker");
  assert.equal(seen.threads, 3);
  assert.deepEqual(seen.builds, ["relaxed-simd-threads", "threads", "relaxed-simd"]);
  assert.deepEqual(seen.multi, seen.single);
  assert.deepEqual(seen.simd128, seen.single);
  assert.deepEqual(seen.two, seen.singleQuery);
});

test("the default pool of an isolated page is navigator.hardwareConcurrency", async () => {
  const seen = await embedOnPage(isolated.base, "/model.gguf", undefined);
  assert.equal(seen.threads, seen.cores > 1 ? seen.cores : 1);
  assert.deepEqual(seen.multi, seen.single);
});

test("a page that is not isolated gets the single-threaded build", async () => {
  const seen = await embedOnPage(plain.base, "/model.gguf", 3);
  assert.equal(seen.isolated, false);
  assert.equal(seen.threads, 1);
  assert.equal(seen.started, 0);
  assert.deepEqual(seen.builds, ["relaxed-simd", "simd128", "relaxed-simd"]);
  assert.deepEqual(seen.multi, seen.single);
  assert.deepEqual(seen.simd128, seen.single);
});

// Equal bits cannot tell the two threads modules apart: the page and its pool's workers must fetch
// the relaxed one alone (the workers get the module compiled on the page, not by name; their own
// requests — the worker script, the loader — are seen here too).
test("the relaxed threads build fetches its own module, never the SIMD128 one", async () => {
  const page = await browser.newPage();
  const fetched = [];
  page.on("request", (r) => fetched.push(new URL(r.url()).pathname));
  await page.goto(`${isolated.base}/blank.html`);
  const build = await page.evaluate(async () => {
    const { loadEmbedder } = await import("/js/dist/index.js");
    const multi = await loadEmbedder("/model.gguf", { threads: 3, quiet: true, worker: false });
    await multi.embedBatch(["one", "two", "three"]);
    multi.dispose();
    return multi.build;
  });
  await page.close();
  assert.equal(build, "relaxed-simd-threads");
  const wasm = fetched.filter((path) => path.endsWith(".wasm"));
  assert.deepEqual(wasm, ["/js/dist/threads/ggufembed-threads-relaxed.wasm"]);
});

// A failed fetch of the threads build (a network error, a server busy) falls back to one thread
// for that load only: the next load fetches it again (a failure was once kept as "unavailable"
// for the page's life).
test("a failed fetch of the threads build is tried again on the next load", async () => {
  const page = await browser.newPage();
  let failing = true;
  await page.route("**/js/dist/threads/*.wasm", (route) =>
    failing ? route.fulfill({ status: 503, body: "busy" }) : route.continue());
  await page.goto(`${isolated.base}/blank.html`);
  const load = () => page.evaluate(async () => {
    const { loadEmbedder } = await import("/js/dist/index.js");
    const e = await loadEmbedder("/model.gguf", { threads: 3, quiet: true, worker: false });
    const seen = { build: e.build, threads: e.threads, dim: (await e.embed("one")).dim };
    e.dispose();
    return seen;
  });
  const failed = await load();
  failing = false;
  const again = await load();
  await page.close();
  assert.equal(failed.threads, 1);
  assert.doesNotMatch(failed.build, /threads/);
  assert.deepEqual(again, { build: "relaxed-simd-threads", threads: 3, dim: failed.dim });
});
