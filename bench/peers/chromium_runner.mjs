#!/usr/bin/env node
// Benchmark runner: our WebAssembly build or wllama inside a page of headless Chromium (Debian's
// package, driven by playwright-core), one thread.
//
//   node bench/peers/chromium_runner.mjs --engine ours|wllama --model M.gguf --texts T.json
//        [--runs 5] [--warmup 1] [--simd simd128|relaxed|auto] [--worker] [--wllama-build auto|compat]
//        [--ctx 2048] [--verbose]
//
// This process serves the repository and the model on 127.0.0.1 (tests/browser/browser_util.mjs),
// opens a blank page of that origin and runs the same timing loop as the Node runners there
// (timing.mjs, imported into the page). The page is not cross-origin isolated, so both engines
// take their single-threaded paths.
//
// - ours: `loadEmbedder(url, {worker: false, threads: 1, cache: false, simd})` from js/dist, i.e.
//   the engine on the page's thread, timed like the Node runner (--worker times it through the
//   package's Web Worker instead, message round trips included).
// - wllama: @wllama/wllama's browser build with the settings of wllama_runner.mjs (n_threads 1,
//   embeddings, mean pooling, n_ctx = n_batch = n_ubatch = --ctx, n_parallel 1, raw vectors). In
//   its own Web Worker, as wllama always runs. Chromium has JSPI and memory64, so wllama picks its
//   default build; the compat build (the one Node 20 gets) is used only where those are missing,
//   or with --wllama-build compat (the page then hides WebAssembly.Suspending from wllama).
//   Both builds are served from node_modules: nothing is fetched from a CDN.
//
// Load time runs from the model's URL to a ready engine (download over loopback included, for
// both). Peak memory: the page's renderer process's peak RSS (VmHWM), where the page and its
// workers live; performance.measureUserAgentSpecificMemory needs cross-origin isolation: n/a.
// The last line of stdout is one JSON object, as for the Node runners.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative } from "node:path";

import { launchChromium, rendererPeakRssMb, root, serve } from "../../tests/browser/browser_util.mjs";
import { die, parseRunnerArgs } from "./runner_util.mjs";

const RUNNER = "chromium_runner";
const require = createRequire(import.meta.url);

// A URL path (under the served repository root) of a file inside it.
const urlPath = (file) => "/" + relative(root, file).split("/").map(encodeURIComponent).join("/");

// In the page: our package, timed as ggufembed_wasm_runner.mjs times it.
async function oursInPage({ modelUrl, texts, runs, warmup, simd, worker }) {
  const { loadEmbedder } = await import("/js/dist/index.js");
  const { timeTextsWith } = await import("/bench/peers/timing.mjs");
  const t0 = performance.now();
  const embedder = await loadEmbedder(modelUrl, { worker, threads: 1, cache: false, simd, quiet: true });
  const loadMs = performance.now() - t0;
  // auto: either, as the package picks it here (Chromium: relaxed SIMD, Q8_0's kernel as timed).
  const want = simd === "relaxed" ? ["relaxed-simd"] : simd === "simd128" ? ["simd128"] : ["relaxed-simd", "simd128"];
  if (!want.includes(embedder.build)) throw new Error(`loaded the ${embedder.build} build, not ${want.join(" or ")}`);
  const results = await timeTextsWith(texts, { runs, warmup }, async (text) => {
    const e = await embedder.embed(text, { normalize: false });
    return { vector: e.vector, tokens: e.tokens };
  }, (line) => console.log(line));
  const out = { load_ms: loadMs, texts: results, build: embedder.build, relaxed_int32_dot: embedder.relaxedInt32Dot,
                runs_in: embedder.runsIn };
  embedder.dispose();
  return out;
}

// In the page: wllama, configured as wllama_runner.mjs configures it under Node.
async function wllamaInPage({ modelUrl, texts, runs, warmup, ctx, verbose, wllamaUrl, wasmUrl,
                              compatWorkerUrl, compatWasmUrl, forceCompat }) {
  if (forceCompat) delete WebAssembly.Suspending;  // wllama's needCompat(): no JSPI -> compat
  const { Wllama } = await import(wllamaUrl);
  const { timeTextsWith } = await import("/bench/peers/timing.mjs");
  const noop = () => {};
  const logger = { debug: verbose ? console.debug : noop, log: console.log, info: console.info,
                   warn: console.warn, error: console.error };
  // Empty cache and model managers, as under Node (Blobs passed to loadModel() use neither).
  const wllama = new Wllama({ default: wasmUrl }, { cacheManager: {}, modelManager: {}, logger });
  // The compat build from node_modules (never the CDN), used only if wllama decides it needs it.
  wllama.setCompat({ worker: { code: await (await fetch(compatWorkerUrl)).text() }, wasm: compatWasmUrl });
  let mem64 = true;
  try {
    new WebAssembly.Memory({ address: "i64", initial: 1n });
  } catch {
    mem64 = false;
  }
  const build = WebAssembly.Suspending && mem64 ? "default" : "compat";

  const t0 = performance.now();
  const blob = await (await fetch(modelUrl)).blob();
  await wllama.loadModel([blob], {
    n_threads: 1,
    n_gpu_layers: 0,
    embeddings: true,
    pooling_type: "mean",
    n_ctx: ctx, n_batch: ctx, n_ubatch: ctx,
    n_parallel: 1,
    log_level: verbose ? 1 : 3,
  });
  const loadMs = performance.now() - t0;
  if (wllama.isMultithread()) throw new Error("wllama loaded its multi-threaded build");
  const results = await timeTextsWith(texts, { runs, warmup }, async (input) => {
    const res = await wllama.createEmbedding({ input, embd_normalize: -1 });
    const vector = res?.data?.[0]?.embedding;
    if (!Array.isArray(vector) || vector.length === 0) {
      throw new Error(`unexpected createEmbedding response: ${JSON.stringify(res).slice(0, 300)}`);
    }
    return { vector, tokens: res.usage?.prompt_tokens };
  }, (line) => console.log(line));
  await wllama.exit();
  return { load_ms: loadMs, texts: results, build, version: Wllama.getLibllamaVersion?.() ?? "unknown" };
}

async function main() {
  const opts = parseRunnerArgs(RUNNER, {
    engine: { type: "string" },
    simd: { type: "string", default: "simd128" },
    worker: { type: "boolean", default: false },
    "wllama-build": { type: "string", default: "auto" },
    ctx: { type: "string", default: "2048" },
    verbose: { type: "boolean", default: false },
  });
  if (!["ours", "wllama"].includes(opts.engine)) die(RUNNER, "--engine must be ours or wllama");
  if (!["simd128", "relaxed", "auto"].includes(opts.simd)) die(RUNNER, "--simd must be simd128, relaxed or auto");
  if (!["auto", "compat"].includes(opts["wllama-build"])) die(RUNNER, "--wllama-build must be auto or compat");
  const ctx = Number(opts.ctx);
  if (!Number.isInteger(ctx) || ctx < 1) die(RUNNER, "--ctx must be a positive integer");

  const { server, base } = await serve({
    extra: { "/bench-model.gguf": opts.model,
             "/bench-blank.html": { body: "<!doctype html><link rel=icon href=\"data:,\"><title>bench</title>", type: "text/html" } },
    lengths: true,
  });
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    page.on("console", (msg) => process.stderr.write(`${RUNNER} [page]: ${msg.text()}\n`));
    page.on("pageerror", (err) => process.stderr.write(`${RUNNER} [page error]: ${err.message}\n`));
    // A blank page of the server's origin (module imports and fetches are then same-origin).
    await page.goto(`${base}/bench-blank.html`);
    const browserVersion = browser.version();
    const common = { modelUrl: `${base}/bench-model.gguf`, texts: opts.texts, runs: opts.runs,
                     warmup: opts.warmup };
    let result;
    if (opts.engine === "ours") {
      result = await page.evaluate(oursInPage, { ...common, simd: opts.simd, worker: opts.worker });
      const pkg = JSON.parse(readFileSync(join(root, "js", "package.json"), "utf8"));
      result = { runtime: "ggufembed-wasm-chromium", version: pkg.version, ...result };
    } else {
      const wllamaDir = dirname(require.resolve("@wllama/wllama/package.json"));
      const compatDir = join(dirname(require.resolve("@wllama/wllama-compat/package.json")), "wasm");
      result = await page.evaluate(wllamaInPage, {
        ...common, ctx, verbose: opts.verbose,
        wllamaUrl: urlPath(join(wllamaDir, "esm", "index.js")),
        wasmUrl: urlPath(join(wllamaDir, "esm", "wasm", "wllama.wasm")),
        compatWorkerUrl: urlPath(join(compatDir, "wllama.js")),
        compatWasmUrl: urlPath(join(compatDir, "wllama.wasm")),
        forceCompat: opts["wllama-build"] === "compat",
      });
      const pkg = JSON.parse(readFileSync(join(wllamaDir, "package.json"), "utf8"));
      result = { runtime: "wllama-chromium", package_version: pkg.version, ...result };
    }
    const peak = rendererPeakRssMb();
    process.stdout.write(JSON.stringify({
      ...result, threads: 1, browser: `Chromium ${browserVersion}`,
      peak_rss_mb: peak,
      memory: "peak RSS (VmHWM) of the page's renderer process; " +
              "performance.measureUserAgentSpecificMemory: n/a (the page is not cross-origin isolated)",
    }) + "\n");
  } finally {
    await browser.close();
    server.close();
  }
}

main().catch((err) => die(RUNNER, err?.stack || String(err)));
