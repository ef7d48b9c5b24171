// Runs wllama 3.8.1 (a browser library) under Node 20, offline, with the compat build.
//
// Node 20's V8 has neither memory64 nor JSPI, so wllama picks its compat build (wasm32 +
// Asyncify) and by default would fetch it from jsDelivr; we point it at the files installed
// by @wllama/wllama-compat instead. wllama also expects browser globals (navigator,
// self.location, Worker with blob: URLs); this file supplies just enough of them.
import { readFileSync } from "node:fs";
import { resolveObjectURL } from "node:buffer";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { Worker as NodeWorker } from "node:worker_threads";

const require = createRequire(import.meta.url);
// Resolved through package.json (not a main entry: @wllama/wllama's "main" does not exist).
const WLLAMA_DIR = dirname(require.resolve("@wllama/wllama/package.json"));
const COMPAT_DIR = join(dirname(require.resolve("@wllama/wllama-compat/package.json")), "wasm");

export const WLLAMA_VERSION = JSON.parse(readFileSync(join(WLLAMA_DIR, "package.json"), "utf8")).version;

const networkDisabled = (what) => async () => {
  throw new Error(`wllama shim: network access is disabled (${what})`);
};

// Prepended to the worker code wllama builds. The code is evaluated as a CommonJS script
// (eval: true), so emscripten sees ENVIRONMENT_IS_NODE and loads the wasm with fs from the
// file:// URL we give it; the rest makes the browser-worker API (postMessage/onmessage,
// navigator) exist on top of parentPort.
const WORKER_PRELUDE = `
const { parentPort: __wllamaParentPort } = require("node:worker_threads");
globalThis.self = globalThis;
globalThis.location = { href: ${JSON.stringify(pathToFileURL(process.cwd() + "/").href)} };
// The webgpu backend registers even with n_gpu_layers: 0 and probes navigator.gpu; a null
// adapter makes it back off cleanly.
globalThis.navigator = {
  userAgent: "Node.js/" + process.versions.node,
  hardwareConcurrency: 1,
  gpu: { requestAdapter: async () => null },
};
globalThis.fetch = async () => { throw new Error("wllama shim: network access is disabled (worker fetch)"); };
globalThis.postMessage = (msg, transfer) =>
  __wllamaParentPort.postMessage(msg, Array.isArray(transfer) ? transfer : transfer?.transfer);
__wllamaParentPort.on("message", (data) => globalThis.onmessage?.({ data }));
`;

// Browser-style postMessage takes either a transfer array or {transfer}; Node wants the array.
const transferList = (t) => (Array.isArray(t) ? t : t?.transfer ?? []);

/**
 * Minimal browser `Worker` on top of worker_threads. wllama creates it synchronously from a
 * blob: URL and posts to it at once, but a Blob can only be read asynchronously, so messages
 * are queued until the thread exists.
 */
class BlobWorker {
  #thread = null;
  #queue = [];
  #terminated = false;
  onmessage = null;
  onerror = null;

  constructor(url, _options) {
    const blob = resolveObjectURL(String(url));
    if (!blob) throw new Error(`wllama shim: cannot resolve worker URL ${url}`);
    URL.revokeObjectURL(String(url));
    blob.text().then((code) => this.#start(code)).catch((err) => this.#fail(err));
  }

  #start(code) {
    if (this.#terminated) return;
    // stdout: true keeps any stray console.log in the worker off our stdout (the runner's
    // stdout carries only its JSON result); we forward it to stderr instead.
    const thread = new NodeWorker(WORKER_PRELUDE + code, { eval: true, stdout: true });
    thread.stdout.pipe(process.stderr);
    thread.on("message", (data) => this.onmessage?.({ data }));
    thread.on("error", (err) => this.#fail(err));
    thread.on("exit", (code) => {
      if (!this.#terminated) this.#fail(new Error(`wllama worker exited unexpectedly (code ${code})`));
    });
    this.#thread = thread;
    for (const [msg, transfer] of this.#queue) thread.postMessage(msg, transfer);
    this.#queue = [];
  }

  // wllama only logs worker errors (pending promises would hang), so the error is also
  // reported to the handler given to installWllamaNodeShim().
  #fail(err) {
    if (this.#terminated) return;
    this.onerror?.(err);
    onWorkerError(err);
  }

  postMessage(msg, transfer) {
    if (this.#thread) this.#thread.postMessage(msg, transferList(transfer));
    else this.#queue.push([msg, transferList(transfer)]);
  }

  terminate() {
    this.#terminated = true;
    this.#queue = [];
    this.#thread?.terminate();
  }
}

let onWorkerError = (err) => {
  throw err;
};

/**
 * Installs the browser globals wllama needs into this (main) thread. Idempotent.
 * onWorkerError(err) is called when a wllama worker dies (default: rethrow, which crashes).
 */
export function installWllamaNodeShim({ onWorkerError: handler } = {}) {
  if (handler) onWorkerError = handler;
  if (globalThis.__wllamaNodeShim) return;
  globalThis.__wllamaNodeShim = true;
  // The Wllama constructor reads navigator.*, and absoluteUrl() resolves against self.location.
  if (typeof globalThis.navigator === "undefined") {
    globalThis.navigator = {
      userAgent: `Node.js/${process.versions.node}`,
      hardwareConcurrency: 1,
    };
  }
  if (typeof globalThis.self === "undefined") globalThis.self = globalThis;
  globalThis.location ??= { href: pathToFileURL(process.cwd() + "/").href };
  globalThis.Worker = BlobWorker;
  // Belt and braces for "fully offline": with local compat assets wllama never fetches, and
  // if that ever changes (e.g. an upgrade), we want a loud error, not a CDN download.
  globalThis.fetch = networkDisabled("main fetch");
}

/**
 * Imports wllama and returns a Wllama instance wired to the local compat build.
 * logger: console-like object (wllama's own logs); suppressNativeLog silences llama.cpp.
 */
export async function createLocalWllama({ logger, suppressNativeLog = false } = {}) {
  installWllamaNodeShim();
  const { Wllama } = await import(pathToFileURL(join(WLLAMA_DIR, "esm", "index.js")).href);
  const wllama = new Wllama(
    // "default" must exist, but needCompat() is true on Node 20, so only compat assets load.
    { default: pathToFileURL(join(WLLAMA_DIR, "esm", "wasm", "wllama.wasm")).href },
    {
      // Both defaults need browser storage (OPFS): "No supported storage backend found".
      // Blobs passed to loadModel() use neither.
      cacheManager: {},
      modelManager: {},
      logger,
      suppressNativeLog,
    },
  );
  // {code} hands wllama the worker script text directly (otherwise it would fetch() a URL);
  // the wasm URL is read by emscripten with fs in the worker.
  wllama.setCompat({
    worker: { code: readFileSync(join(COMPAT_DIR, "wllama.js"), "utf8") },
    wasm: pathToFileURL(join(COMPAT_DIR, "wllama.wasm")).href,
  });
  return { wllama, Wllama };
}
