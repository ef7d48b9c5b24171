// How a kept model comes back in Chromium: the Cache API (what the package uses) against OPFS
// for the raw bytes, the package's load-to-first-embedding from its cache, and the renderer's
// peak memory from the cache and from a download. Not a test.
//
//   node bench/browser-cache.mjs [MODEL.gguf] [--runs N]
//
// Default model: models/embeddinggemma-300m-synthetic-q8_0.gguf (scripts/run.sh makes it).
import { execSync } from "node:child_process";
import { existsSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join, resolve } from "node:path";

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";

import { launchChromiumProfile, rendererPeakRssMb, root, serve } from "../tests/browser/browser_util.mjs";

const args = process.argv.slice(2);
const runsAt = args.indexOf("--runs");
const runs = runsAt >= 0 ? Number(args.splice(runsAt, 2)[1]) : 3;
const model = resolve(args[0] ?? join(root, "models/embeddinggemma-300m-synthetic-q8_0.gguf"));
if (!existsSync(model)) throw new Error(`no model at ${model} (run scripts/run.sh, or pass one)`);

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const { server, base } = await serve({
  extra: { "/blank.html": { body: "<!doctype html><title>cache</title>", type: "text/html" },
           "/model.gguf": model },
  lengths: true,
});
// A profile on disk, as a user's browser has: an incognito-like context keeps no 300 MB entry.
const profile = mkdtempSync(join(tmpdir(), "ggufembed-cache-bench-"));
process.on("exit", () => rmSync(profile, { recursive: true, force: true }));
const browser = await launchChromiumProfile(profile);
const page = await browser.newPage();
await page.goto(`${base}/blank.html`);
const load0 = loadavg()[0];
const result = await page.evaluate(async (runs) => {
  const { deleteCachedModel, loadEmbedder } = await import("/js/dist/index.js");
  const url = new URL("/model.gguf", location.href).href;
  // Reads a stream to its end, touching every chunk (as a copy into the heap would).
  const drain = async (stream) => {
    let n = 0;
    const reader = stream.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return n;
      n += value[value.length - 1] >= 0 ? value.length : 0;
    }
  };
  // The same into one 2 MiB buffer used again for every chunk (a BYOB reader, as the package
  // reads): no new ArrayBuffer, hence no fresh pages to fault in, per chunk.
  const drainByob = async (stream) => {
    let n = 0;
    const reader = stream.getReader({ mode: "byob" });
    let buffer = new ArrayBuffer(2 << 20);
    for (;;) {
      const { done, value } = await reader.read(new Uint8Array(buffer));
      if (done) return n;
      n += value[value.length - 1] >= 0 ? value.length : 0;
      buffer = value.buffer;
    }
  };
  const time = async (f) => { const t = performance.now(); const v = await f(); return [performance.now() - t, v]; };
  // Raw bytes: store once in each, then read back `runs` times.
  const cache = await caches.open("bench-raw");
  await cache.put(url, await fetch(url));
  const dirHandle = await navigator.storage.getDirectory();
  const fileHandle = await dirHandle.getFileHandle("model.gguf", { create: true });
  const writable = await fileHandle.createWritable();
  await (await fetch(url)).body.pipeTo(writable);
  const raw = { cacheApi: [], cacheApiByob: [], opfs: [] };
  for (let i = 0; i < runs; i++) {
    raw.cacheApi.push((await time(async () => drain((await cache.match(url)).body)))[0]);
    raw.cacheApiByob.push((await time(async () => drainByob((await cache.match(url)).body)))[0]);
    raw.opfs.push((await time(async () => drain((await fileHandle.getFile()).stream())))[0]);
  }
  await caches.delete("bench-raw");
  await dirHandle.removeEntry("model.gguf");
  // The package: a first load (download and keep), then loads from the cache to the first vector.
  await deleteCachedModel(url);
  const first = (await time(async () => {
    const e = await loadEmbedder(url);
    await e.embed("first");
    e.dispose();
  }))[0];
  // Each load from the cache, split by its progress reports (the worker sends the first one and
  // the last one, loaded === total, at once): the worker and module start up to the first bytes,
  // the bytes into the heap, the parse (up to loadEmbedder's answer), the first text.
  const cached = [];
  const parts = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    let fromCache = false, first, last;
    const e = await loadEmbedder(url, { onProgress: (p) => {
      fromCache = p.cached;
      first ??= performance.now();
      if (p.loaded === p.total) last = performance.now();
    } });
    const loaded = performance.now();
    await e.embed("The first embedding after a visit.");
    const embedded = performance.now();
    e.dispose();
    if (!fromCache) throw new Error("not from the cache");
    cached.push(embedded - t0);
    parts.push({ start: first - t0, read: last - first, parse: loaded - last, embed: embedded - loaded });
  }
  return { raw, first, cached, parts, bytes: (await fetch(url, { method: "HEAD" })).headers.get("content-length") };
}, runs);
await browser.close();

// The renderer's peak memory for one load and a first text, each in a browser of its own on the
// same profile (the page and its worker are one renderer): from the cache (the token embeddings
// stay in the cached Blob), then downloaded again with `cache: false` (every byte in the heap).
const memory = {};
for (const [how, options] of [["cache", {}], ["download", { cache: false }]]) {
  const b = await launchChromiumProfile(profile);
  const p = await b.newPage();
  await p.goto(`${base}/blank.html`);
  const cached = await p.evaluate(async (options) => {
    const { loadEmbedder } = await import("/js/dist/index.js");
    let cached = false;
    const e = await loadEmbedder(new URL("/model.gguf", location.href).href,
                                 { ...options, onProgress: (x) => { cached = x.cached; } });
    await e.embed("The first embedding after a visit.");
    e.dispose();
    return cached;
  }, options);
  if (cached !== (how === "cache")) throw new Error(`the ${how} load was ${cached ? "" : "not "}from the cache`);
  memory[how] = rendererPeakRssMb();
  if (how === "download") {
    await p.evaluate(async () => (await import("/js/dist/index.js")).deleteCachedModel(new URL("/model.gguf", location.href).href));
  }
  await b.close();
}
server.close();

const commit = execSync("git rev-parse --short HEAD", { cwd: root, encoding: "utf8" }).trim();
const mb = Number(result.bytes) / 1e6;
console.log(`model ${model} (${mb.toFixed(1)} MB), Chromium headless, commit ${commit}, ${cpus()[0].model}, ` +
            `load average ${load0.toFixed(2)} -> ${loadavg()[0].toFixed(2)}, ${runs} runs (median)`);
console.log(`read the bytes back: Cache API ${median(result.raw.cacheApi).toFixed(0)} ms (into one reused buffer: ` +
            `${median(result.raw.cacheApiByob).toFixed(0)} ms), OPFS ${median(result.raw.opfs).toFixed(0)} ms`);
console.log(`package, load to first embedding: download ${result.first.toFixed(0)} ms, from the cache ` +
            `${median(result.cached).toFixed(0)} ms (${result.cached.map((x) => x.toFixed(0)).join(", ")})`);
const part = (key) => median(result.parts.map((p) => p[key])).toFixed(0);
console.log(`  from the cache, medians of each part: worker and module start ${part("start")} ms, bytes into ` +
            `the heap ${part("read")} ms, parse ${part("parse")} ms, first text ${part("embed")} ms`);
console.log(`renderer peak RSS for a load and a first text: from the cache ${memory.cache?.toFixed(0)} MB, ` +
            `downloaded (cache: false) ${memory.download?.toFixed(0)} MB`);
