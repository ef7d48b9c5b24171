// The engine on the calling thread: the WebAssembly module (single-threaded, relaxed-SIMD or
// threads build), models in its heap, and the embedder whose calls run here (index.js decides
// between this and a worker; worker.js runs this inside one).
import createGgufembedModule from "./ggufembed.mjs";
import { OPTIONS_LAYOUT, optionsLayoutMismatch, readOptionsLayout } from "./layout.js";

import { ERROR_CODES, GgufembedError, MAX_THREADS, abortedError, checkAbort, checkBoolean, checkInt32, checkOptionNames,
  checkText, copyTexts, isNode, typeofValue, yieldToEventLoop } from "./errors.js";
import { cacheAvailable, cachedResponse, cacheKey, cacheWriter, deleteCachedModel, isFileKey } from "./cache.js";

async function loadWasmBinary(wasm) {
  if (wasm instanceof ArrayBuffer || ArrayBuffer.isView(wasm)) return wasm;
  if (wasm != null && !(wasm instanceof URL) && (typeof wasm !== "string" || wasm === "")) {
    throw new GgufembedError("invalid_argument", "wasm must be a URL, a non-empty string, an ArrayBuffer or a " +
      `typed array, got ${typeof wasm === "string" ? "an empty string" : typeofValue(wasm)}`);
  }
  let url;
  try {
    url = new URL(wasm ?? "./ggufembed.wasm", import.meta.url);
  } catch {
    throw new GgufembedError("invalid_argument", `wasm: '${wasm}' is not a URL, ArrayBuffer or typed array`);
  }
  try {
    if (isNode && url.protocol === "file:") {
      const { readFile } = await import("node:fs/promises");
      return await readFile(url);
    }
    const response = await fetch(url);
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    return await response.arrayBuffer();
  } catch (e) {
    throw new GgufembedError("io_error", `cannot load the WebAssembly module ${url}: ${e.message}`);
  }
}

// One module instance per process for the default wasm file; explicit `wasm` options get their own.
// A module whose ggufembed_options struct is laid out unlike layout.js (a mismatched .wasm) is
// refused before any call could write options into the wrong fields.
//
// The default is the threads build (js/dist/threads: pthreads over a SharedArrayBuffer heap, one
// copy of the weights for every thread) with a pool of `threads` workers (default: the cores
// available) — in Node always, in browsers when the page is cross-origin isolated (the only way
// a page gets SharedArrayBuffer). `threads: 1`, an explicit `wasm`, a package without that build
// or a browser that cannot start it (no isolation, workers from another origin, a CSP without
// 'unsafe-eval') give the single-threaded module. The vectors are the same bits either way.
const threadModules = new Map();  // "pool variant" -> module promise (null: the build is unavailable)

async function checkedModule(mod) {
  const mismatch = optionsLayoutMismatch(readOptionsLayout(mod), OPTIONS_LAYOUT);
  if (mismatch) throw new GgufembedError("internal", `the wasm module does not match this package (js/src/layout.js): ${mismatch}`);
  return mod;
}

// The threads build's pool: `threads` (checked by the caller: 0 to MAX_THREADS), 0 for the cores.
async function poolSize(options) {
  if (options.threads > 0) return options.threads;
  if (!isNode) return Math.min(globalThis.navigator?.hardwareConcurrency ?? 1, MAX_THREADS);
  const os = await import("node:os");
  return Math.min(os.availableParallelism?.() ?? os.cpus().length, MAX_THREADS);
}

const THREADS_SCRIPT = new URL("./threads/ggufembed-threads.js", import.meta.url);
const THREADS_WASM = new URL("./threads/ggufembed-threads.wasm", import.meta.url);
const THREADS_WORKER = new URL("./threads/ggufembed-threads.worker.js", import.meta.url);
// Its relaxed-SIMD module: the same loader takes it as wasmBinary, and the pool's workers get the
// compiled module from the main thread.
const THREADS_RELAXED_WASM = new URL("./threads/ggufembed-threads-relaxed.wasm", import.meta.url);

// Node: the CommonJS script through require() (emscripten 3.1.6's pthread workers require() it
// too, which is why it is not an ES module), or null when the package has no threads build (or,
// for `wasm`, no such module).
async function instantiateThreadsNode(pool, wasm) {
  const { existsSync } = await import("node:fs");
  if (!existsSync(THREADS_SCRIPT) || !existsSync(wasm)) return null;
  const { createRequire } = await import("node:module");
  const { readFile } = await import("node:fs/promises");
  const { fileURLToPath } = await import("node:url");
  const create = createRequire(import.meta.url)(fileURLToPath(THREADS_SCRIPT));
  const wasmBinary = await readFile(wasm);
  // emscripten's Node shell sets the global Worker (worker_threads') and starts the pool with it,
  // synchronously in create() (the pool never grows: PTHREAD_POOL_SIZE_STRICT): the host's global
  // is put back as soon as create() returns.
  const hostWorker = Object.getOwnPropertyDescriptor(globalThis, "Worker");
  let starting;
  try {
    starting = create({ wasmBinary, ggufembedThreads: pool });
  } finally {
    if (hostWorker) Object.defineProperty(globalThis, "Worker", hostWorker);
    else delete globalThis.Worker;
  }
  const mod = await starting;
  // Idle pool workers must not keep the process alive.
  const { unusedWorkers = [], runningWorkers = [] } = mod.PThread ?? {};
  for (const worker of [...unusedWorkers, ...runningWorkers]) worker.unref?.();
  return mod;
}

// Browsers: the same script, evaluated from its text (a module cannot importScripts, and the
// script is not an ES module); its pthread workers are classic workers that importScripts it
// by URL. Null when the page cannot have it (not isolated, no build deployed); other failures
// throw, and the caller falls back for this call and tries again on the next.
async function instantiateThreadsBrowser(pool, wasmUrl) {
  if (globalThis.crossOriginIsolated !== true || typeof Worker !== "function") return null;
  // The worker script is checked too: a pool worker that cannot load would leave the module's
  // start waiting forever.
  const [script, wasm, worker] = await Promise.all(
      [fetch(THREADS_SCRIPT), fetch(wasmUrl), fetch(THREADS_WORKER, { method: "HEAD" })]);
  if (!script.ok || !wasm.ok || !worker.ok) return null;
  const source = await script.text();
  const create = new Function(`${source}\nreturn createGgufembedModule;`)();
  return create({
    wasmBinary: await wasm.arrayBuffer(),
    ggufembedThreads: pool,
    mainScriptUrlOrBlob: THREADS_SCRIPT.href,
    locateFile: (file) => new URL(file, THREADS_SCRIPT).href,
  });
}

const SIMD_BUILDS = ["auto", "relaxed", "simd128"];

// Throws unless `simd` (an option of `call`) is unset or one of SIMD_BUILDS.
export function checkSimd(simd, call) {
  if (simd != null && !SIMD_BUILDS.includes(simd)) {
    throw new GgufembedError("invalid_argument", `${call}: simd '${simd}' is not one of ${SIMD_BUILDS.join(", ")}`);
  }
}
const RELAXED_MODULE = new URL("./relaxed/ggufembed-relaxed.mjs", import.meta.url);
const RELAXED_WASM = new URL("./relaxed/ggufembed-relaxed.wasm", import.meta.url);

// A yes-or-no of wasm_features.js (false where it cannot be imported): "relaxedSimdWorks", whether
// the runtime computes the relaxed dot product as the final specification says, or
// "relaxedDotIsFast", whether it runs it faster than SIMD128's dot_i16x8_s (the relaxed build's
// kernels on its int32 dot product pay).
async function wasmFeature(name) {
  try {
    return await (await import("./wasm_features.js"))[name]();
  } catch {
    return false;
  }
}

// Memoized module starts: a start that fails is forgotten, so the next call tries again (a
// failed fetch of the .wasm does not poison later loads).
function memo(map, key, start) {
  if (!map.has(key)) {
    map.set(key, start().catch((e) => {
      map.delete(key);
      throw e;
    }));
  }
  return map.get(key);
}
// Module starts by variant: "simd128", "relaxed" (forced: every relaxed kernel) or "relaxed-auto"
// (the kernels on the int32 dot product as timed); the threads build's by pool size and variant.
const singleModules = new Map();

// The threads build with `pool` workers in `variant`, null where it cannot run here; `int32Dot` (a
// boolean or its promise) sets the relaxed modules' int32 switch.
function threadsModule(pool, variant, int32Dot) {
  return memo(threadModules, `${pool} ${variant}`, async () => {
    const wasm = variant === "simd128" ? THREADS_WASM : THREADS_RELAXED_WASM;
    const [mod, relaxedInt32Dot] = await Promise.all(
        [isNode ? instantiateThreadsNode(pool, wasm) : instantiateThreadsBrowser(pool, wasm), int32Dot]);
    if (mod === null) return null;
    mod.ggufembedPool = pool;
    mod.ggufembedBuild = variant === "simd128" ? "threads" : "relaxed-simd-threads";
    if (variant !== "simd128") mod._ggufembed_set_relaxed_int32_dot(relaxedInt32Dot ? 1 : 0);
    return checkedModule(mod);
  });
}

// A module given as `wasm` bytes or URL (single-threaded, not shared): it must compile here, and be
// the build `simd` asks for, if one is asked; the relaxed-SIMD build must also run where relaxed
// SIMD is computed as specified — Node 20 with --experimental-wasm-relaxed-simd runs an older
// draft of the instruction, and its vectors would be wrong.
async function explicitModule(wasm, simd) {
  const source = wasm instanceof ArrayBuffer || ArrayBuffer.isView(wasm)
    ? "the WebAssembly module given as bytes" : `the WebAssembly module ${wasm}`;
  const wasmBinary = await loadWasmBinary(wasm);
  if (!WebAssembly.validate(wasmBinary)) {
    let reason = "invalid";
    try {
      new WebAssembly.Module(wasmBinary);
    } catch (e) {
      reason = e.message;
    }
    // The relaxed-SIMD module, where the engine has no relaxed SIMD (its reason names it, as V8's
    // does): a module this runtime cannot run, not a wrong one.
    const unsupported = /relaxed/i.test(reason) && !(await wasmFeature("relaxedSimdWorks"));
    throw new GgufembedError(unsupported ? "unsupported" : "invalid_argument", `${source} cannot be compiled here: ${reason}`);
  }
  let mod, build;
  // emscripten prints why an instantiation failed ("Aborted(LinkError: …)" for the threads build's
  // module) before it rejects with the same reason, which the caller gets below: not printed.
  let instantiated = false;
  const printErr = (text) => { if (instantiated) console.error(text); };
  try {
    mod = await checkedModule(await createGgufembedModule({ wasmBinary, printErr }).finally(() => {
      instantiated = true;
    }));
    // Its int32 switch starts on, so this reports whether the module holds the relaxed instruction.
    build = mod._ggufembed_relaxed_int32_dot() === 1 ? "relaxed-simd" : "simd128";
  } catch (e) {
    if (e instanceof GgufembedError) throw e;
    throw new GgufembedError("invalid_argument", `${source} is not a ggufembed module: ${e.message}`);
  }
  if (build === "relaxed-simd" && !(await wasmFeature("relaxedSimdWorks"))) {
    throw new GgufembedError("unsupported",
      `${source} is the relaxed-SIMD build, and this runtime does not compute ` +
      "relaxed SIMD's int8 dot products as specified (Node >= 22 and Chrome >= 114 do)");
  }
  if (simd !== "auto" && (simd === "relaxed") !== (build === "relaxed-simd")) {
    throw new GgufembedError("invalid_argument", `simd '${simd}' asks for the ${simd === "relaxed" ?
      "relaxed-SIMD" : "SIMD128"} build, and ${source} is the ${build === "relaxed-simd" ? "relaxed-SIMD" :
      "SIMD128"} one`);
  }
  mod.ggufembedBuild = build;
  return mod;
}

async function getModule(options = {}) {
  const simd = options.simd ?? "auto";  // checked by the caller (checkSimd)
  if (options.wasm != null) return explicitModule(options.wasm, simd);
  const relaxed = simd !== "simd128" && await wasmFeature("relaxedSimdWorks");
  if (simd === "relaxed" && !relaxed) {
    throw new GgufembedError("unsupported",
      "the relaxed-SIMD build cannot run here: this runtime does not compute " +
      "relaxed SIMD's int8 dot products as specified (Node >= 22 and Chrome >= 114 do), or " +
      "the package has no dist/relaxed/");
  }
  const variant = !relaxed ? "simd128" : simd === "relaxed" ? "relaxed" : "relaxed-auto";
  // Forced, the relaxed modules run the kernels on the int32 dot product (Q8_0's relaxed kernel,
  // the 4- to 6-bit types' int32 form); "auto" keeps Q8_0 on the SIMD128 kernel and the others on
  // their int16 form where that dot product is not faster (src/kernels/relaxed_dot.h), timed while
  // the module loads. The int16 form gains from relaxed SIMD either way.
  const int32Dot = variant === "relaxed" || (variant === "relaxed-auto" && wasmFeature("relaxedDotIsFast"));
  if (options.threads !== 1) {
    const pool = await poolSize(options);
    if (pool > 1) {
      let mod = null;
      try {
        if (variant !== "simd128") {
          try {
            mod = await threadsModule(pool, variant, int32Dot);
          } catch (e) {
            if (variant === "relaxed") throw e;  // forced; "auto" falls back to SIMD128
          }
        }
        // Without its relaxed module "auto" takes the SIMD128 threads build, "relaxed" one thread.
        if (mod === null && variant !== "relaxed") mod = await threadsModule(pool, "simd128", false);
      } catch (e) {
        if (isNode) throw e;
        mod = null;  // a browser still has the single-threaded build
      }
      if (mod !== null) return mod;
    }
  }
  if (relaxed) {
    try {
      return await memo(singleModules, variant, async () => {
        // The loader, the module and the timing at once: a load waits for all anyway.
        const [{ default: create }, wasmBinary, relaxedInt32Dot] = await Promise.all([
          import(RELAXED_MODULE.href), loadWasmBinary(RELAXED_WASM), int32Dot]);
        const mod = await create({ wasmBinary });
        mod.ggufembedBuild = "relaxed-simd";
        mod._ggufembed_set_relaxed_int32_dot(relaxedInt32Dot ? 1 : 0);
        return checkedModule(mod);
      });
    } catch (e) {
      if (simd === "relaxed") throw e;  // forced; "auto" falls back to SIMD128
    }
  }
  return memo(singleModules, "simd128", async () => {
    const mod = await createGgufembedModule({ wasmBinary: await loadWasmBinary(undefined) });
    mod.ggufembedBuild = "simd128";
    return checkedModule(mod);
  });
}

// The module's typed-array views of its heap. The threads build's memory is a SharedArrayBuffer
// that any thread may grow, and views made before a growth see only the old length: they are
// made again when the buffer changed.
function heap(mod) {
  const memory = mod.wasmMemory;
  if (memory !== undefined && mod.HEAPU8.buffer !== memory.buffer) {
    const b = memory.buffer;
    mod.HEAP8 = new Int8Array(b);
    mod.HEAPU8 = new Uint8Array(b);
    mod.HEAP32 = new Int32Array(b);
    mod.HEAPU32 = new Uint32Array(b);
    mod.HEAPF32 = new Float32Array(b);
  }
  return mod;
}

function lastError(mod) {
  const code = ERROR_CODES[mod._ggufembed_last_error_code()] ?? "internal";
  return new GgufembedError(code, mod.UTF8ToString(mod._ggufembed_last_error_message()));
}

// ------------------------------------------------------------------------- heap allocations
//
// Sizes are JS numbers (exact up to 2^53) until checked here against the module's limit for one
// buffer; only then do they become a wasm32 size_t, which would silently wrap anything of 4 GiB
// or more modulo 2^32 (a 4 GiB + 1 MiB file would get a 1 MiB buffer). Every allocation and
// every size handed to the C API goes through checkBufferSize.

const maxBufferSizes = new WeakMap();
/** The largest buffer the module allocates (`ggufembed_max_buffer_size`: 4 GiB less one page and 256 MiB). */
function maxBufferSize(mod) {
  let limit = maxBufferSizes.get(mod);
  if (limit === undefined) {
    limit = mod._ggufembed_max_buffer_size() >>> 0;
    maxBufferSizes.set(mod, limit);
  }
  return limit;
}

const gib = (n) => `${(n / 2 ** 30).toFixed(2)} GiB`;

// `what` names the buffer in messages, e.g. "m.gguf: the file".
function checkBufferSize(mod, size, what) {
  if (!Number.isSafeInteger(size) || size < 0) {
    throw new GgufembedError("invalid_argument", `${what}: ${size} is not a valid size in bytes`);
  }
  const limit = maxBufferSize(mod);
  if (size > limit) {
    throw new GgufembedError("out_of_memory",
      `${what} is ${size} bytes (${gib(size)}), more than the ${limit} bytes (${gib(limit)}) ` +
      "that fit in the WebAssembly heap (wasm32: at most 4 GiB, less room for the engine)");
  }
}

// A heap buffer of `size` bytes; a GgufembedError (out_of_memory) when it cannot be had.
function heapAlloc(mod, size, what) {
  checkBufferSize(mod, size, what);
  const ptr = mod._ggufembed_alloc(size) >>> 0;  // pointers above 2 GiB are negative i32
  if (ptr === 0) throw new GgufembedError("out_of_memory", `${what}: ${lastError(mod).message}`);
  return ptr;
}

// Resizes a heap buffer; on failure `ptr` stays valid (and the caller's to free).
function heapRealloc(mod, ptr, size, what) {
  checkBufferSize(mod, size, what);
  const grown = mod._ggufembed_realloc(ptr, size) >>> 0;
  if (grown === 0) throw new GgufembedError("out_of_memory", `${what}: ${lastError(mod).message}`);
  return grown;
}

// Calls `fn(ptr)` with `text` as a NUL-terminated UTF-8 string in the wasm heap.
function withCString(mod, text, fn) {
  const size = mod.lengthBytesUTF8(text) + 1;
  const ptr = heapAlloc(mod, size, "a string");
  try {
    mod.stringToUTF8(text, ptr, size);
    return fn(ptr);
  } finally {
    mod._ggufembed_free(ptr);
  }
}

// Hands a heap buffer of model bytes to `load(ptr, size, namePtr)`, which takes ownership of it
// (also when it fails); the buffer is freed here if the call cannot be made.
function adoptBuffer(mod, ptr, size, name, load) {
  try {
    return withCString(mod, name, (namePtr) => load(ptr, size, namePtr));
  } catch (e) {
    mod._ggufembed_free(ptr);  // withCString failed before `load` was called
    throw e;
  }
}

// Copies bytes into a fresh heap buffer; the caller passes ownership on to the engine.
function copyIn(mod, bytes, what) {
  const ptr = heapAlloc(mod, bytes.length, what);
  heap(mod).HEAPU8.set(bytes, ptr);
  return ptr;
}

function asBytes(source) {
  if (source instanceof ArrayBuffer) return new Uint8Array(source);
  if (ArrayBuffer.isView(source)) {
    return new Uint8Array(source.buffer, source.byteOffset, source.byteLength);
  }
  throw new GgufembedError("invalid_argument", "expected an ArrayBuffer or a typed array of GGUF bytes");
}

// The C side's info JSON (the CLI's `info --json`) with camelCase names, like the rest of the API.
function ggufInfoFromJson(raw) {
  return {
    file: raw.file,
    version: raw.version,
    fileSize: raw.file_size,
    alignment: raw.alignment,
    dataOffset: raw.data_offset,
    metadata: raw.metadata.map((m) => m.type === "arr"
      ? { key: m.key, type: m.type, elementType: m.element_type, count: m.count, values: m.values }
      : { key: m.key, type: m.type, value: m.value }),
    tensors: raw.tensors.map((t) =>
      ({ name: t.name, type: t.type, shape: t.shape, offset: t.offset, bytes: t.bytes })),
  };
}

class Gguf {
  #mod;
  #handle;
  #rowLengths;

  constructor(mod, handle) {
    this.#mod = mod;
    this.#handle = handle;
    this.#rowLengths = new Map(this.info().tensors.map((t) => [t.name, t.shape[0]]));
  }

  #live() {
    if (this.#handle === 0) throw new GgufembedError("invalid_argument", "this GGUF file is closed");
    return this.#handle;
  }

  info(options) {
    const { maxArrayItems = 8 } = checkOptionNames(options, new Set(["maxArrayItems"]), "info");
    const handle = this.#live();
    if (!Number.isInteger(maxArrayItems) || maxArrayItems < 0 || maxArrayItems > 2 ** 32 - 1) {
      throw new GgufembedError("invalid_argument",
        `maxArrayItems must be an integer from 0 to 2^32-1, got ${maxArrayItems}`);
    }
    const json = this.#mod._ggufembed_gguf_info_json(handle, maxArrayItems) >>> 0;
    if (json === 0) throw lastError(this.#mod);
    return ggufInfoFromJson(JSON.parse(this.#mod.UTF8ToString(json)));
  }

  dequantizeRow(name, row = 0) {
    const handle = this.#live();
    const length = this.#rowLengths.get(name);
    if (length === undefined) {
      throw new GgufembedError("invalid_argument", `no tensor named '${name}'`);
    }
    checkInt32(row, "row");
    checkInt32(length, `the row length of '${name}'`);
    const mod = this.#mod;
    const out = heapAlloc(mod, length * 4, `a row of '${name}'`);
    try {
      const n = withCString(mod, name, (namePtr) =>
        mod._ggufembed_gguf_dequantize_row(handle, namePtr, row, out, length));
      if (n < 0) throw lastError(mod);
      return new Float32Array(heap(mod).HEAPF32.buffer, out, n).slice();
    } finally {
      mod._ggufembed_free(out);
    }
  }

  close() {
    if (this.#handle !== 0) this.#mod._ggufembed_gguf_close(this.#handle);
    this.#handle = 0;
  }
}

/** Parses GGUF bytes (copied into the WebAssembly heap); throws `GgufembedError` on bad input. */
export async function openGguf(source, options) {
  options = checkOptionNames(options, new Set(["name", "wasm", "simd"]), "openGguf");
  if (options.name != null) checkText(options.name, "openGguf: name", true);  // a C string
  checkSimd(options.simd, "openGguf");
  const bytes = asBytes(source);
  const mod = await getModule({ ...options, threads: 1 });
  const name = options.name ?? "model.gguf";
  const ptr = copyIn(mod, bytes, `${name}: the file`);
  const handle = adoptBuffer(mod, ptr, bytes.length, name, mod._ggufembed_gguf_open_buffer);
  if (handle === 0) throw lastError(mod);
  return new Gguf(mod, handle);
}

// ---------------------------------------------------------------------------------- embeddings

const POOLING = { none: 0, mean: 1, cls: 2, last: 3 };
const EMBED_OPTIONS = new Set(OPTIONS_LAYOUT.fields.map((f) => f.option));

// Reads `source` straight into one heap buffer: no second full copy of the model exists at any
// time for files, Blobs, streams and fetched URLs. Returns {ptr, size}; the caller hands `ptr` to
// the engine, which frees it. Sizes are checked against the heap's limit before anything is
// allocated or read (see checkBufferSize). `load`: {onProgress, signal, cache} (cache: keep an
// http(s) URL's or a Blob's bytes in the browser's model cache and read a kept copy from there).
async function loadIntoHeap(mod, source, name, load) {
  const progress = (p, cached = false) => load.onProgress?.({ ...p, cached });
  if (source instanceof ArrayBuffer || ArrayBuffer.isView(source)) {
    const bytes = asBytes(source);
    const ptr = copyIn(mod, bytes, `${name}: the model`);
    progress({ loaded: bytes.length, total: bytes.length });
    return { ptr, size: bytes.length };
  }
  // A string is a path unless it starts with a URL scheme; one letter and a colon is a Windows
  // drive (C:\models\m.gguf), not a scheme.
  if (typeof source === "string" && isNode && !/^[a-z][a-z0-9+.-]+:/i.test(source)) {
    return readFileIntoHeap(mod, source, name, load.signal, progress);
  }
  if ((typeof source === "string" || source instanceof URL) && /^file:/i.test(String(source))) {
    if (!isNode) {
      throw new GgufembedError("invalid_argument",
        `${name}: a file: URL cannot be read in a browser (pass the File from an <input type=file>)`);
    }
    return readFileIntoHeap(mod, new URL(source), name, load.signal, progress);
  }
  if (typeof Blob !== "undefined" && source instanceof Blob) {
    const key = load.cache && cacheAvailable() ? cacheKey(source, name) : undefined;
    const sink = key && cacheWriter(key, name, source.size);
    if (sink === undefined) return readBlobIntoHeap(mod, source, name, load.signal, progress);
    const read = await readStreamIntoHeap(mod, source.stream(), source.size, name, load.signal, progress, sink, true);
    return { ...read, keptAs: read.kept ? key : undefined };
  }
  if (typeof Response !== "undefined" && source instanceof Response) {
    return readResponseIntoHeap(mod, source, name, load.signal, progress);
  }
  if (typeof ReadableStream !== "undefined" && source instanceof ReadableStream) {
    return readStreamIntoHeap(mod, source, undefined, name, load.signal, progress);
  }
  if (typeof source === "string" || source instanceof URL) {
    let url;
    try {
      url = new URL(source, globalThis.location?.href);
    } catch {
      throw new GgufembedError("invalid_argument", `${name}: not a path or URL`);
    }
    const keep = load.cache && cacheAvailable() && /^https?:$/.test(url.protocol);
    const kept = keep || isFileKey(url) ? await cachedResponse(url.href) : undefined;
    if (kept !== undefined) {
      // The cache's Blob is its entry on disk, read where asked (not the whole body at once).
      let blob;
      try {
        blob = await kept.blob();
      } catch (e) {
        throw new GgufembedError("io_error", `${name}: cannot read the model cache: ${e.message}`);
      }
      return { ...await readBlobIntoHeap(mod, blob, name, load.signal, (p) => progress(p, true)),
               keptAs: url.href, readBack: true };
    }
    if (isFileKey(url)) {
      throw new GgufembedError("io_error", `${name}: not in the model cache (deleted?)`);
    }
    let response;
    try {
      response = await fetch(url, { signal: load.signal });
    } catch (e) {
      checkAbort(load.signal, "loadEmbedder");
      throw new GgufembedError("io_error", `cannot fetch ${name}: ${e.message}`);
    }
    const fileName = decodeURIComponent(url.pathname.split("/").pop() || url.hostname);
    const sink = keep && response.ok ? cacheWriter(url.href, fileName, contentLength(response)) : undefined;
    const read = await readResponseIntoHeap(mod, response, name, load.signal, progress, sink);
    return { ...read, keptAs: read.kept ? url.href : undefined };
  }
  throw new GgufembedError("invalid_argument",
    `${name}: expected a path, URL, Blob, Response, ReadableStream, ArrayBuffer or typed array of ` +
    `GGUF bytes, got ${source === null ? "null" : typeof source}`);
}

// A Blob (a picked file, a copy in the model cache) can be read at any offset, so the token
// embedding table, most of an EmbeddingGemma file (214 of the 300m Q8_0 model's 333 MB), stays
// out of the heap (readAroundTable): Embedder reads the rows its texts need from the Blob when it
// first meets them. Returns {ptr, size, rows} (rows: see Embedder).
async function readBlobIntoHeap(mod, blob, name, signal, progress) {
  const size = blob.size;
  const ptr = heapAlloc(mod, size, `${name}: the model`);
  try {
    const table = await readAroundTable(mod, ptr, size, progress,
      (from, to, onBytes) => readBlobInto(mod, blob, from, to, ptr, name, signal, onBytes));
    return { ptr, size, rows: table === null ? undefined : { ...table, ptr, name, source: blobRows(mod, blob, name) } };
  } catch (e) {
    mod._ggufembed_free(ptr);
    throw e;
  }
}

// Where an Embedder reads token embedding rows: read(from, to) gives bytes [from, to) of the file;
// readInto(from, to, base, signal, call) copies them to the heap at base() + from (base() throws
// once the model is gone); check() fails when the file is no longer the one loaded; close().
function blobRows(mod, blob, name) {
  return {
    read: async (from, to) => new Uint8Array(await blob.slice(from, to).arrayBuffer()),
    readInto: (from, to, base, signal, call) =>
      readBlobInto(mod, blob, from, to, base, name, signal, undefined, call),
    check: async () => {},  // a Blob fails its own reads when its file changed (Chromium, Node)
    close() {},
  };
}

// Node: the file handle of the load, kept open, so a file renamed over or deleted is still the
// one loaded; one changed in place (another size or modification time) fails check().
function fileRows(mod, handle, stat, name) {
  const piece = (to, from) => Math.min(to - from, 1 << 24);
  const readExactly = async (buffer, n, at) => {
    let done = 0;
    while (done < n) {
      const { bytesRead } = await handle.read(buffer, done, n - done, at + done);
      if (bytesRead === 0) throw new Error("the file ends early");
      done += bytesRead;
    }
  };
  return {
    async read(from, to) {
      const bytes = new Uint8Array(to - from);
      await readExactly(bytes, to - from, from);
      return bytes;
    },
    async readInto(from, to, base, signal, call) {
      const bounce = new Uint8Array(piece(to, from));  // the heap may be freed while a read waits
      for (let at = from; at < to;) {
        checkAbort(signal, call);
        const n = piece(to, at);
        try {
          await readExactly(bounce, n, at);
        } catch (e) {
          throw new GgufembedError("io_error", `${name}: cannot read token embeddings at offset ${at}: ${e.message}`);
        }
        heap(mod).HEAPU8.set(bounce.subarray(0, n), base() + at);
        at += n;
      }
    },
    async check() {
      const now = await handle.stat({ bigint: true }).catch((e) => ({ error: e }));
      if (now.error || now.size !== stat.size || now.mtimeNs !== stat.mtimeNs) {
        throw new GgufembedError("io_error", `${name}: the file changed on disk after it was loaded ` +
          "(its token embeddings are read from it as texts need them)");
      }
    },
    close() {
      handle.close().catch(() => {});
    },
  };
}

// Fills the heap buffer at `ptr` with a file of `size` bytes but for its token embedding table:
// the load writes a third of the 300m model's bytes, and the pages of the table's place in the
// buffer, never written, are never faulted in. The header is read in growing pieces until
// ggufembed_gguf_locate_tensor places the table; a file it cannot place (not a GGUF model, no
// table) is read whole, and the engine then says what is wrong with it. `readInto(from, to,
// onBytes)` copies bytes [from, to) of the file to ptr + from. Returns the table {begin, end,
// rowBytes}, or null when it was read (all of the file was).
async function readAroundTable(mod, ptr, size, progress, readInto) {
  let done = 0;  // bytes read or left out, for the progress reports
  const read = (from, to) => readInto(from, to, (n) => {
    done += n;
    progress({ loaded: done, total: size });
  });
  let loaded = 0, table;
  for (let want = Math.min(size, HEADER_PIECE_BYTES); table === undefined; want = Math.min(size, want * 2)) {
    await read(loaded, want);
    loaded = want;
    table = locateTable(mod, ptr, loaded, size) ?? (loaded === size ? null : undefined);
  }
  if (table === null || loaded >= table.end) {  // no table, or all of it read with the header
    if (loaded < size) await read(loaded, size);
    return null;
  }
  if (loaded < table.begin) await read(loaded, table.begin);
  done += table.end - Math.max(loaded, table.begin);  // left out
  if (Math.max(loaded, table.end) < size) await read(Math.max(loaded, table.end), size);
  else progress({ loaded: size, total: size });  // the table ends the file
  return table;
}

// Header bytes read before asking where the token embedding table is, then twice as many each
// time: Gemma's header (its 262,144-piece vocabulary) is about 6 MB, a tiny model's 100 kB, and
// each question costs at most a few ms (a parse of what is there).
const HEADER_PIECE_BYTES = 64 << 10;

// Where token_embd.weight lies, from the first `loaded` of `size` bytes at `ptr`: {begin, end,
// rowBytes}; undefined while the header may go on past `loaded`; null when it cannot be placed.
function locateTable(mod, ptr, loaded, size) {
  const scratch = new Scratch(mod);
  try {
    const out = scratch.alloc(12, "the table's place");
    const found = mod._ggufembed_gguf_locate_tensor(ptr, loaded, size, scratch.string("token_embd.weight"), out);
    if (found === 0) return undefined;
    if (found < 0) return null;
    const [begin, end, rowBytes] = heap(mod).HEAPU32.subarray(out >>> 2, (out >>> 2) + 3);
    return { begin, end, rowBytes };
  } finally {
    scratch.free();
  }
}

// Copies bytes [from, to) of `blob` to the heap at base + from, in pieces of BYOB_CHUNK_BYTES
// read through one reused buffer (see chunkReader); `onBytes(n)` after each piece. `base`: the
// buffer's address, or a function that gives it before each write (and throws when it is gone).
async function readBlobInto(mod, blob, from, to, base, name, signal, onBytes, call = "loadEmbedder") {
  const reader = chunkReader(blob.slice(from, to).stream(), true);
  let at = from;
  try {
    for (;;) {
      checkAbort(signal, call);
      let result;
      try {
        result = await readOrAbort(reader, signal);
      } catch (e) {
        checkAbort(signal, call);
        throw new GgufembedError("io_error", `${name}: read failed at offset ${at}: ${e.message}`);
      }
      if (result.done) break;
      if (at + result.value.length > to) {
        throw new GgufembedError("io_error", `${name}: the file grew while it was read`);
      }
      heap(mod).HEAPU8.set(result.value, (typeof base === "function" ? base() : base) + at);
      at += result.value.length;
      onBytes?.(result.value.length);
    }
    if (at !== to) throw new GgufembedError("io_error", `${name}: the file shrank while it was read`);
  } catch (e) {
    await reader.cancel().catch(() => {});
    throw e;
  }
}

// Node: a file read with its handle straight into the heap, but for the token embedding table
// (readAroundTable), whose rows Embedder reads later through the same handle (fileRows), which
// the model then keeps open until it is disposed.
async function readFileIntoHeap(mod, path, name, signal, progress) {
  const { open } = await import("node:fs/promises");
  let handle;
  try {
    handle = await open(path, "r");
  } catch (e) {
    throw new GgufembedError("io_error", `${name}: cannot open: ${e.message}`);
  }
  let kept = false;
  try {
    const stat = await handle.stat({ bigint: true });
    if (!stat.isFile()) throw new GgufembedError("io_error", `${name}: not a file`);
    const size = Number(stat.size);
    const ptr = heapAlloc(mod, size, `${name}: the file`);
    try {
      const readInto = async (from, to, onBytes) => {
        for (let done = from; done < to;) {
          checkAbort(signal, "loadEmbedder");
          const n = Math.min(to - done, 1 << 24);
          let bytesRead;
          try {
            ({ bytesRead } = await handle.read(heap(mod).HEAPU8, ptr + done, n, done));
          } catch (e) {
            throw new GgufembedError("io_error", `${name}: read failed at offset ${done}: ${e.message}`);
          }
          if (bytesRead === 0) throw new GgufembedError("io_error", `${name}: file shrank while reading`);
          done += bytesRead;
          onBytes(bytesRead);
        }
      };
      const table = await readAroundTable(mod, ptr, size, progress, readInto);
      if (table === null) return { ptr, size };
      kept = true;
      return { ptr, size, rows: { ...table, ptr, name, source: fileRows(mod, handle, stat, name) } };
    } catch (e) {
      mod._ggufembed_free(ptr);
      throw e;
    }
  } finally {
    if (!kept) await handle.close();
  }
}

// Content-Length is the body's size unless the body is content-encoded (then it is the
// compressed size, and fetch hands out the decoded bytes): only then is it used.
function contentLength(response) {
  const length = response.headers.get("content-length") ?? response.headers.get("x-ggufembed-size");
  const encoding = response.headers.get("content-encoding");
  return length !== null && /^\s*\d+\s*$/.test(length) &&
         (encoding === null || encoding.trim().toLowerCase() === "identity")
    ? Number(length) : undefined;
}

// `own`: the body is the browser's own stream (chunkReader). A caller's Response is taken as such
// unless it was made by a constructor (type "default"; fetched ones are "basic" or "cors"); a
// copy from the model cache is the browser's read of its disk, whatever its type.
async function readResponseIntoHeap(mod, response, name, signal, progress, sink,
                                    own = response.type !== "default") {
  if (!response.ok) {
    await response.body?.cancel().catch(() => {});
    throw new GgufembedError("io_error", `cannot fetch ${name}: HTTP ${response.status}`);
  }
  return readStreamIntoHeap(mod, response.body, response.body === null ? 0 : contentLength(response),
                            name, signal, progress, sink, own);
}

// First buffer for a stream of unknown size.
const STREAM_INITIAL_BYTES = 1 << 20;

// The one buffer a byte stream is read into, chunk after chunk (see chunkReader).
const BYOB_CHUNK_BYTES = 2 << 20;

// A reader of `stream` whose read() gives {done, value} as a default reader's does. `byob`: the
// stream is the browser's own (a fetch or Cache API body, Blob.stream()) and its chunks are not
// kept (the model cache's writer keeps them): then it is read with a BYOB reader into one buffer
// used again for every chunk, so a chunk is valid until the next read(). A default reader hands
// out every chunk in a new ArrayBuffer whose pages the process must fault in, which doubled the
// cost of a load from the cache (333 MB in Chromium on this project's machine: 1.7 s with a
// default reader, 0.4 s into one reused buffer; bench/browser-cache.mjs). The heap itself cannot
// be the BYOB buffer: a read transfers its buffer, and a WebAssembly memory's cannot be.
// Streams made by the caller keep the default reader: a byte stream that closes without
// answering a pending BYOB request (byobRequest.respond(0)) would leave a BYOB read waiting
// forever, where a default read ends. Node keeps it too (its file reads never come here).
function chunkReader(stream, byob) {
  let reader;
  if (byob && !isNode) {
    try {
      reader = stream.getReader({ mode: "byob" });
    } catch {
      reader = undefined;  // not a byte stream: the default reader
    }
  }
  if (reader === undefined) return stream.getReader();
  let buffer = new ArrayBuffer(BYOB_CHUNK_BYTES);
  return {
    async read() {
      const result = await reader.read(new Uint8Array(buffer));
      if (!result.done) buffer = result.value.buffer;  // the read transferred it: take it back
      return result;
    },
    cancel: (reason) => reader.cancel(reason),
  };
}

// Copies a stream's chunks into one heap buffer as they arrive; no chunk is kept (except by
// `sink`, the model cache's writer, which holds at most a few).
//
// With a known size (`total`: Blob.size, Content-Length) the buffer is allocated once, after the
// size is checked and before anything is read. With an unknown size (or a stream that delivers
// more than `total`) the choice is realloc-style growth: when a chunk does not fit, the buffer
// grows with ggufembed_realloc to 1.5 times its size (or what the chunk needs, up to the limit),
// and at the end it shrinks to the bytes received. The model is never also held in JavaScript.
// ggufembed_realloc extends the free top of the heap first, so the buffer, which is the heap's
// last block while a model streams in, grows in place without a copy (a buffer grown to N bytes
// leaves a heap of about 1.1 N, where plain realloc copies and leaves about 2.5 N); if something
// else was allocated after it meanwhile, it is moved once. The factor 1.5 keeps the steps few
// (about 20 from 1 MiB to 3 GiB) and over-allocates by at most a half until the final shrink.
async function readStreamIntoHeap(mod, stream, total, name, signal, progress, sink, own = false) {
  const what = `${name}: the model`;
  const reader = stream == null ? undefined : chunkReader(stream, own && sink === undefined);
  let ptr = 0;
  let loaded = 0;
  try {
    let capacity = total ?? STREAM_INITIAL_BYTES;
    ptr = heapAlloc(mod, capacity, what);
    for (;;) {
      checkAbort(signal, "loadEmbedder");
      let chunk;
      try {
        const { done, value } = reader ? await readOrAbort(reader, signal) : { done: true };
        if (done) break;
        chunk = value;
      } catch (e) {
        checkAbort(signal, "loadEmbedder");
        throw new GgufembedError("io_error", `${name}: read failed: ${e.message}`);
      }
      if (!(chunk instanceof Uint8Array)) {
        throw new GgufembedError("invalid_argument", `${name}: the stream gave a chunk that is not a Uint8Array`);
      }
      const needed = loaded + chunk.length;
      if (needed > capacity) {
        checkBufferSize(mod, needed, `${what} (so far)`);
        capacity = Math.min(maxBufferSize(mod), Math.max(needed, Math.floor(capacity * 1.5)));
        ptr = heapRealloc(mod, ptr, capacity, what);
      }
      heap(mod).HEAPU8.set(chunk, ptr + loaded);
      loaded = needed;
      await sink?.write(chunk);
      progress({ loaded, total });
    }
    if (loaded < capacity) ptr = heapRealloc(mod, ptr, loaded, what);  // shrinks in place
    const kept = (await sink?.close()) === true;
    return { ptr, size: loaded, kept };
  } catch (e) {
    sink?.abort();
    if (ptr !== 0) mod._ggufembed_free(ptr);
    await reader?.cancel().catch(() => {});
    throw e;
  }
}

// reader.read(), the reader held until it is answered (below), or the "aborted" error as soon as
// `signal` fires: a stream that stalls must not hold a cancelled load (the caller's catch cancels
// the reader).
async function readOrAbort(reader, signal) {
  readersReading.add(reader);
  let onAbort;
  try {
    if (signal === undefined) return await reader.read();
    const aborted = new Promise((_, reject) => {
      onAbort = () => reject(abortedError(signal, "loadEmbedder"));
      signal.addEventListener("abort", onAbort, { once: true });
    });
    return await Promise.race([reader.read(), aborted]);
  } finally {
    readersReading.delete(reader);
    if (onAbort !== undefined) signal.removeEventListener("abort", onAbort);
  }
}

// Readers with a read pending. Chromium collects a Blob's stream while a read of it is pending
// if nothing else refers to it, and that read then never settles: loads from the model cache
// (a Blob of its entry) hung now and then under load (about one in 40), the page idle, and
// every time with gc() called every few ms. Held here, they live until their read is answered
// (one that is never answered stays: its load hung anyway, and a signal's abort lets it go).
const readersReading = new Set();

// Embedders dropped without dispose(): their model's heap memory and a path's file handle go back
// when the collector takes them (Node warns of a file handle it closes, and means to make that
// an error). No call can be running then: a call holds its embedder.
const droppedEmbedders = typeof FinalizationRegistry === "function"
  ? new FinalizationRegistry(({ mod, model, source }) => {
    try {
      source?.close();
      mod._ggufembed_model_free(model);
    } catch {
      // A module that has aborted cannot free anything: nothing to give back.
    }
  })
  : undefined;

// Allocations for one call, freed together.
class Scratch {
  #mod;
  #ptrs = [];
  constructor(mod) { this.#mod = mod; }
  alloc(size, what = "a buffer") {
    const ptr = heapAlloc(this.#mod, size, what);
    this.#ptrs.push(ptr);
    return ptr;
  }
  bytes(data) {
    const ptr = this.alloc(data.length + 1, "a text");
    heap(this.#mod).HEAPU8.set(data, ptr);
    heap(this.#mod).HEAPU8[ptr + data.length] = 0;
    return ptr;
  }
  string(text) { return text == null ? 0 : this.bytes(new TextEncoder().encode(String(text))); }
  free() { for (const p of this.#ptrs) this.#mod._ggufembed_free(p); this.#ptrs = []; }
}

// The options of embed/embedBatch: the C options (layout.js) and the JS call's own.
const CALL_OPTIONS = new Set(["signal"]);
const BATCH_OPTIONS = new Set(["signal", "onProgress"]);
const TOKENIZE_OPTIONS = new Set(["addSpecial", "parseSpecial"]);

// Checks the options of `call`; returns {embed: the C options, signal, onProgress, prefixBytes}.
function checkEmbedOptions(mod, options, call, own) {
  const known = new Set([...EMBED_OPTIONS, ...own]);
  const { signal, onProgress, ...embed } = checkOptionNames(options, known, call);
  if (embed.pooling != null && !Object.hasOwn(POOLING, embed.pooling)) {
    throw new GgufembedError("invalid_argument",
      `${call}: pooling '${embed.pooling}' is not one of ${Object.keys(POOLING).join(", ")}`);
  }
  if (embed.dim != null) checkInt32(embed.dim, `${call}: dim`);
  if (embed.threads != null) checkInt32(embed.threads, `${call}: threads`);
  for (const key of ["prompt", "title", "promptText"]) {
    if (embed[key] != null) checkText(embed[key], `${call}: ${key}`, true);  // C strings
  }
  for (const key of ["normalize", "truncate", "parseSpecial"]) checkBoolean(embed[key], key, call);
  // The prefix is tokenized with each text, so it counts toward the text's size.
  let prefixBytes = 0;
  for (const key of ["title", "promptText"]) {
    if (embed[key] == null) continue;
    prefixBytes += mod.lengthBytesUTF8(embed[key]);
    checkTextSize(mod, "", `${call}: ${key}`, undefined, prefixBytes);
  }
  if (onProgress !== undefined && typeof onProgress !== "function") {
    throw new GgufembedError("invalid_argument", `${call}: onProgress must be a function`);
  }
  checkAbort(signal, call);
  return { embed, signal, onProgress, prefixBytes };
}

// The most UTF-8 bytes one text may have here. Tokenizing takes about 70 bytes of the heap per
// byte of text (16 MiB: 1.2 GB), and a tokenization that does not fit the 4 GiB heap ends the
// module (a failed C++ allocation aborts in WebAssembly); 16 MiB leaves room for the largest
// models beside it. `truncate` embeds a text's beginning, but tokenizes all of it first.
const MAX_TEXT_BYTES = 16 << 20;

// Refuses a text whose UTF-8 with `prefixBytes` of prompt or title is more than MAX_TEXT_BYTES,
// before anything is encoded or embedded (`call` names it, `index` in a batch; `mod` counts).
function checkTextSize(mod, text, call, index, prefixBytes = 0) {
  // UTF-8 takes at least one byte and at most three per UTF-16 unit: count only when it matters.
  if (text.length * 3 + prefixBytes <= MAX_TEXT_BYTES) return;
  const length = mod.lengthBytesUTF8(text) + prefixBytes;
  if (length > MAX_TEXT_BYTES) {
    const what = index !== undefined ? `text ${index}: the text` : /: /.test(call) ? call : "the text";
    throw new GgufembedError("input_too_long", `${what}${prefixBytes > 0 && text !== "" ? " with its prompt" : ""} ` +
      `is ${length} bytes long, more than the ${MAX_TEXT_BYTES} (16 MiB) a text may have in WebAssembly`);
  }
}

// Text bytes per call of the C API in embedBatch, per thread: enough for a few packed passes,
// small enough that progress, cancellation and (on a page's thread) rendering get a turn often.
const BATCH_CHUNK_BYTES = 8192;
// What a text costs in a chunk beyond its bytes and its prompt's: BOS, EOS, a prompt name's
// tokens and its share of a pass, as bytes of text (without it 20,000 empty texts, or 3,000 short
// ones with a long prompt, were one call of seconds that no abort or rendering could interrupt).
const TEXT_COST_BYTES = 64;

// Where the chunk of an embedBatch call that starts at text `start` of `n` ends: texts up to
// BATCH_CHUNK_BYTES a thread (at least one), each counted with its UTF-8 bytes (`bytesOf(i)`,
// called once per text in order) and `prefixBytes` and TEXT_COST_BYTES.
export function chunkEnd(n, start, threads, prefixBytes, bytesOf) {
  let end = start;
  for (let bytes = 0; end < n && bytes < BATCH_CHUNK_BYTES * threads; end++) {
    bytes += bytesOf(end) + prefixBytes + TEXT_COST_BYTES;
  }
  return end;
}

// Token embedding rows read from a model's Blob (Embedder's #bringRows): rows at most ROW_GAP
// apart are one read (the rows between come along); ROW_READS_AT_ONCE reads are in flight; past
// WHOLE_TABLE_ROWS rows for one call the whole table is read.
const ROW_GAP = 8;
const ROW_READS_AT_ONCE = 64;
const WHOLE_TABLE_ROWS = 1024;

// Writes the options that are set into an initialized ggufembed_options at `opts`, by the one
// table of its fields (layout.js); the others keep ggufembed_options_init's defaults.
function writeOptions(mod, scratch, opts, options) {
  for (const { option, offset, kind } of OPTIONS_LAYOUT.fields) {
    const value = options[option];
    if (value == null) continue;
    const at = (opts + offset) >>> 2;
    // Allocate first, then take the heap's views: an allocation that grows the memory detaches
    // views taken before it (`heap(mod).HEAPU32[at] = scratch.string(value)` would take the view
    // first and write the pointer into the old buffer, losing the option).
    if (kind === "string") {
      const pointer = scratch.string(value);
      heap(mod).HEAPU32[at] = pointer;
    }
    else if (kind === "int") heap(mod).HEAP32[at] = value;
    else if (kind === "bool") heap(mod).HEAP32[at] = value ? 1 : 0;
    else if (kind === "pooling") heap(mod).HEAP32[at] = POOLING[value];
    else throw new GgufembedError("internal", `option ${option} has an unknown kind ${kind}`);
  }
}

/** A loaded embedding model in the WebAssembly heap, embedding on the calling thread. */
export class Embedder {
  #mod;
  #model;
  // The token embedding rows not yet in the heap, for a model read from a Blob or a Node path
  // (readAroundTable): {source, ptr, begin, end, rowBytes, name} (source: blobRows, fileRows);
  // undefined once every row is in.
  #rows;

  constructor(mod, model, rows, kept = false) {
    this.#mod = mod;
    this.#model = model;
    this.#rows = rows;
    droppedEmbedders?.register(this, { mod, model, source: rows?.source }, this);
    /** Threads `embedBatch` may use: the threads build's pool, else 1. */
    this.threads = mod.ggufembedPool ?? 1;
    this.runsIn = "thread";
    /** A copy of the model is in the browser's model cache: read from it, or kept by this load. */
    this.kept = kept;
    this.build = mod.ggufembedBuild;
    this.relaxedInt32Dot = mod._ggufembed_relaxed_int32_dot() === 1;  // what the module will do
    const json = mod._ggufembed_model_info_json(model) >>> 0;
    const raw = JSON.parse(mod.UTF8ToString(json));
    this.info = Object.freeze({
      architecture: raw.architecture,
      name: raw.name,
      dim: raw.dim,
      contextLength: raw.context_length,
      vocabSize: raw.vocab_size,
      pooling: raw.pooling,
      hasDense: raw.has_dense,
      prompts: Object.freeze(raw.prompts),
      warnings: Object.freeze(raw.warnings),
    });
  }

  #live() {
    if (this.#model === 0) throw new GgufembedError("invalid_argument", "this model was disposed");
    return this.#model;
  }

  /** Embeds one text: {vector, rows, dim, tokens, inputTokens, truncated}. */
  async embed(text, options) {
    const { embed, signal, prefixBytes } = checkEmbedOptions(this.#mod, options, "embed", CALL_OPTIONS);
    if (typeof text !== "string") {
      throw new GgufembedError("invalid_argument", `embed expects a string, got ${typeof text}`);
    }
    checkText(text, "embed: the text");
    checkTextSize(this.#mod, text, "embed", undefined, prefixBytes);
    this.#checkOptions(embed, "embed");
    return (await this.#embedTexts([text], embed, signal, undefined, "embed", prefixBytes))[0];
  }

  /**
   * Embeds several texts; the results equal one-at-a-time calls. Short texts share forward
   * passes, and with the threads build `threads` passes run at once (default: the pool).
   */
  async embedBatch(texts, options) {
    const { embed, signal, onProgress, prefixBytes } = checkEmbedOptions(this.#mod, options, "embedBatch", BATCH_OPTIONS);
    const list = copyTexts(texts, "embedBatch");
    for (let i = 0; i < list.length; i++) {
      checkText(list[i], `embedBatch: text ${i}`);
      checkTextSize(this.#mod, list[i], "embedBatch", i, prefixBytes);
    }
    // The engine checks the options first (so an empty batch is checked too, and an error of a
    // later call is its texts').
    this.#checkOptions(this.#withThreads(embed), "embedBatch");
    if (list.length === 0) return [];
    return this.#embedTexts(list, embed, signal, onProgress, "embedBatch", prefixBytes);
  }

  // The engine's checks of `options` against this model (a prompt's name, dim, a prompt with a
  // title), by a call with no text: what it finds is the options', named with the call.
  #checkOptions(options, call) {
    this.#live();
    try {
      this.#embedChunk([], options);
    } catch (e) {
      if (e instanceof GgufembedError && !e.message.startsWith(`${call}: `)) e.message = `${call}: ${e.message}`;
      throw e;
    }
  }

  // `options` with the threads build's pool as the default of `threads`.
  #withThreads(options) {
    return options.threads == null && this.threads > 1 ? { ...options, threads: this.threads } : options;
  }

  // The texts in chunks of about BATCH_CHUNK_BYTES per thread, one C call each, with a turn of
  // the event loop between them. Chunks cut the batch between texts only, and a vector does not
  // depend on the texts it shares a pass with, so the results are those of one call. A text
  // counts with its prompt's `prefixBytes` and TEXT_COST_BYTES, which it costs however short.
  async #embedTexts(texts, options, signal, onProgress, call, prefixBytes) {
    this.#live();
    // The threads build embeds on its whole pool unless told otherwise.
    const threads = options.threads || this.threads;
    options = this.#withThreads(options);
    const encoder = new TextEncoder();
    const out = [];
    for (let start = 0; start < texts.length;) {
      const chunk = [];
      chunkEnd(texts.length, start, threads, prefixBytes, (i) => {
        chunk.push(encoder.encode(texts[i]));
        return chunk[chunk.length - 1].length;
      });
      if (this.#rows !== undefined) await this.#bringRows(chunk, options, signal, call);
      try {
        out.push(...this.#embedChunk(chunk, options));
      } catch (e) {
        // The C API numbers the texts of its call when it has more than one; name them as the
        // caller's (embedBatch checked the options already: an error of a one-text call is its
        // text's). Errors of reading rows, an abort or a dispose are not a text's.
        if (e instanceof GgufembedError && call === "embedBatch") {
          if (/^text \d+:/.test(e.message)) {
            e.message = e.message.replace(/^text (\d+):/, (_, i) => `text ${Number(i) + start}:`);
          } else if (chunk.length === 1) {
            e.message = `text ${start}: ${e.message}`;
          }
        }
        throw e;
      }
      start += chunk.length;
      onProgress?.({ done: start, total: texts.length });
      if (start < texts.length) {
        await yieldToEventLoop();
        checkAbort(signal, call);
        this.#live();
      }
    }
    return out;
  }

  // The texts and options of a C call, written into `scratch`: {textPtrs, lengths, n, opts}.
  #callArguments(scratch, encoded, options) {
    const mod = this.#mod;
    const n = encoded.length;
    const textPtrs = scratch.alloc(4 * Math.max(n, 1), "the text pointers");
    const lengths = scratch.alloc(4 * Math.max(n, 1), "the text lengths");
    for (let i = 0; i < n; i++) {
      checkInt32(encoded[i].length, `the length of text ${i}`);
      const pointer = scratch.bytes(encoded[i]);  // may grow the memory: then the view
      heap(mod).HEAPU32[(textPtrs >>> 2) + i] = pointer;
      heap(mod).HEAP32[(lengths >>> 2) + i] = encoded[i].length;
    }
    const opts = scratch.alloc(OPTIONS_LAYOUT.size, "the options");
    mod._ggufembed_options_init(opts);
    writeOptions(mod, scratch, opts, options);
    return { textPtrs, lengths, n, opts };
  }

  // #readRows, failing as "this model was disposed" when it was disposed meanwhile (which closes
  // a path's file under the read).
  async #bringRows(encoded, options, signal, call) {
    try {
      await this.#readRows(encoded, options, signal, call);
    } catch (e) {
      this.#live();
      throw e;
    }
  }

  // Reads the token embedding rows these texts need and the heap lacks from the model's Blob,
  // writes them in place and marks them. Rows a few apart are read as one slice; past
  // WHOLE_TABLE_ROWS rows (a large batch) one pass over the whole table is cheaper (in Chromium
  // a slice read costs about 0.6 ms, the table about 2 ms per MB), and then no call asks again.
  async #readRows(encoded, options, signal, call) {
    const mod = this.#mod;
    let ids;
    const scratch = new Scratch(mod);
    try {
      const a = this.#callArguments(scratch, encoded, options);
      for (let capacity = 256; ids === undefined;) {
        const out = scratch.alloc(4 * capacity, "the token ids");
        const n = mod._ggufembed_model_absent_token_rows(this.#live(), a.textPtrs, a.lengths, a.n, a.opts, out, capacity);
        if (n < 0) throw lastError(mod);
        if (n <= capacity) ids = new Int32Array(heap(mod).HEAP32.buffer, out, n).slice();
        capacity = n;
      }
    } finally {
      scratch.free();
    }
    if (ids.length === 0) return;
    const rows = this.#rows;
    await rows.source.check();
    if (ids.length > WHOLE_TABLE_ROWS) {
      // Written as it comes in, each piece after checking that the model is still there.
      await rows.source.readInto(rows.begin, rows.end, () => { this.#live(); return rows.ptr; }, signal, call);
      const all = Int32Array.from({ length: (rows.end - rows.begin) / rows.rowBytes }, (_, i) => i);
      const marks = new Scratch(mod);
      try {
        const marked = marks.alloc(4 * all.length, "the token ids");
        heap(mod).HEAP32.set(all, marked >>> 2);
        if (mod._ggufembed_model_mark_token_rows(this.#live(), marked, all.length) < 0) throw lastError(mod);
      } finally {
        marks.free();
      }
      this.#rows = undefined;
      rows.source.close();
      return;
    }
    const spans = [];  // [first id, last id]
    for (const id of ids) {
      const last = spans[spans.length - 1];
      if (last !== undefined && id - last[1] <= ROW_GAP) last[1] = id;
      else spans.push([id, id]);
    }
    // Read first, write after: the model may be disposed (and its buffer freed) while we wait.
    const pieces = [];
    for (let k = 0; k < spans.length; k += ROW_READS_AT_ONCE) {
      pieces.push(...await Promise.all(spans.slice(k, k + ROW_READS_AT_ONCE).map(async ([first, last]) => {
        const from = rows.begin + first * rows.rowBytes, to = rows.begin + (last + 1) * rows.rowBytes;
        try {
          return [from, await rows.source.read(from, to)];
        } catch (e) {
          throw new GgufembedError("io_error", `${rows.name}: cannot read token embeddings [${from}, ${to}): ${e.message}`);
        }
      })));
      checkAbort(signal, call);
    }
    const model = this.#live();
    if (this.#rows === undefined) return;  // another call read the whole table meanwhile
    const marks = new Scratch(mod);
    try {
      let count = 0;
      for (const [from, bytes] of pieces) {
        if (bytes.length !== 0 && bytes.length % rows.rowBytes === 0) count += bytes.length / rows.rowBytes;
      }
      const marked = marks.alloc(4 * Math.max(count, 1), "the token ids");
      const view = heap(mod);
      let at = marked >>> 2;
      for (const [from, bytes] of pieces) {
        if (bytes.length === 0 || bytes.length % rows.rowBytes !== 0) {
          throw new GgufembedError("io_error", `${rows.name}: token embeddings at offset ${from} ended early (the file changed?)`);
        }
        view.HEAPU8.set(bytes, rows.ptr + from);
        const first = (from - rows.begin) / rows.rowBytes;
        for (let r = 0; r < bytes.length / rows.rowBytes; r++) view.HEAP32[at++] = first + r;
      }
      if (mod._ggufembed_model_mark_token_rows(model, marked, count) < 0) throw lastError(mod);
    } finally {
      marks.free();
    }
  }

  #embedChunk(encoded, options) {
    const model = this.#live();
    const mod = this.#mod;
    const scratch = new Scratch(mod);
    let result = 0;
    try {
      const { textPtrs, lengths, n, opts } = this.#callArguments(scratch, encoded, options);
      result = mod._ggufembed_embed(model, textPtrs, lengths, n, opts) >>> 0;
      if (result === 0) throw lastError(mod);
      const out = [];
      for (let i = 0; i < n; i++) {
        const rows = mod._ggufembed_result_rows(result, i);
        const dim = mod._ggufembed_result_dim(result, i);
        const values = mod._ggufembed_result_values(result, i) >>> 0;
        out.push({
          vector: new Float32Array(heap(mod).HEAPF32.buffer, values, rows * dim).slice(),
          rows,
          dim,
          tokens: mod._ggufembed_result_tokens(result, i),
          inputTokens: mod._ggufembed_result_input_tokens(result, i),
          truncated: mod._ggufembed_result_truncated(result, i) === 1,
        });
      }
      return out;
    } finally {
      if (result !== 0) mod._ggufembed_result_free(result);
      scratch.free();
    }
  }

  /** Token ids of `text` (BOS/EOS and special-token parsing on by default). */
  async tokenize(text, options) {
    const checked = checkOptionNames(options, TOKENIZE_OPTIONS, "tokenize");
    for (const key of TOKENIZE_OPTIONS) checkBoolean(checked[key], key, "tokenize");
    // null is the default, as in embed.
    const addSpecial = checked.addSpecial ?? true, parseSpecial = checked.parseSpecial ?? true;
    if (typeof text !== "string") {
      throw new GgufembedError("invalid_argument", `tokenize expects a string, got ${typeof text}`);
    }
    checkText(text, "tokenize: the text");
    checkTextSize(this.#mod, text, "tokenize");
    const model = this.#live();
    const mod = this.#mod;
    const scratch = new Scratch(mod);
    try {
      const bytes = new TextEncoder().encode(text);
      const textPtr = scratch.bytes(bytes);
      let capacity = bytes.length + 8;
      for (;;) {
        const out = scratch.alloc(4 * capacity, "the token ids");
        const n = mod._ggufembed_tokenize(model, textPtr, bytes.length, addSpecial ? 1 : 0,
                                          parseSpecial ? 1 : 0, out, capacity);
        if (n < 0) throw lastError(mod);
        if (n <= capacity) return new Int32Array(heap(mod).HEAP32.buffer, out, n).slice();
        capacity = n;
      }
    } finally {
      scratch.free();
    }
  }

  /** Frees the model; the object is unusable afterwards. */
  dispose() {
    droppedEmbedders?.unregister(this);
    if (this.#model !== 0) this.#mod._ggufembed_model_free(this.#model);
    this.#model = 0;
    this.#rows?.source.close();
    this.#rows = undefined;
  }
}

// The loadEmbedder options this thread's engine reads (index.js checks them all).
export const LOAD_OPTIONS = new Set(["wasm", "name", "onProgress", "quiet", "threads", "simd",
                                     "cache", "signal", "worker"]);

/** Loads a model into this thread's engine (index.js's loadEmbedder documents the options). */
export async function loadEmbedderHere(source, options) {
  const mod = await getModule(options);
  const name = options.name ?? sourceName(source);
  const loaded = await loadIntoHeap(mod, source, name, options);
  const rows = loaded.rows;
  let model = 0;
  try {
    model = adoptBuffer(mod, loaded.ptr, loaded.size, name, rows === undefined
      ? mod._ggufembed_model_load_buffer
      : (ptr, size, namePtr) => mod._ggufembed_model_load_buffer_lazy(ptr, size, namePtr, rows.begin, rows.end));
  } finally {
    if (model === 0) rows?.source.close();
  }
  if (model === 0) {
    const error = lastError(mod);
    // A copy that is not a model is not kept: one written by this load whatever the failure, one
    // read back from the cache when its bytes are not a model (not when, say, memory ran out).
    if (loaded.keptAs && (!loaded.readBack || error.code === "invalid_file")) {
      await deleteCachedModel(loaded.keptAs).catch(() => {});
    }
    throw error;
  }
  const embedder = new Embedder(mod, model, rows, loaded.keptAs !== undefined);
  if (!options.quiet) for (const w of embedder.info.warnings) console.warn(`ggufembed: ${w}`);
  return embedder;
}

/** How messages name a model source by default. */
export function sourceName(source) {
  return typeof source === "string" ? source
       : source instanceof URL ? source.href
       : typeof File !== "undefined" && source instanceof File ? source.name
       : typeof Response !== "undefined" && source instanceof Response && source.url ? source.url
       : "model.gguf";
}

/** Cosine similarity of two vectors. */
export function cosineSimilarity(a, b) {
  for (const [v, which] of [[a, "a"], [b, "b"]]) {
    if (typeof v !== "object" || v === null || typeof v.length !== "number") {
      throw new GgufembedError("invalid_argument", `cosineSimilarity: ${which} must be an array of numbers`);
    }
  }
  if (a.length !== b.length) {
    throw new GgufembedError("invalid_argument", `vectors of length ${a.length} and ${b.length}`);
  }
  const sums = (scaleA, scaleB) => {
    let ab = 0, aa = 0, bb = 0;
    for (let i = 0; i < a.length; i++) {
      const x = a[i] / scaleA, y = b[i] / scaleB;
      ab += x * y;
      aa += x * x;
      bb += y * y;
    }
    return aa > 0 && bb > 0 ? ab / Math.sqrt(aa * bb) : 0;
  };
  let maxA = 0, maxB = 0;
  for (let i = 0; i < a.length; i++) {
    if (typeof a[i] !== "number" || typeof b[i] !== "number" || !Number.isFinite(a[i] + b[i])) {
      throw new GgufembedError("invalid_argument", `cosineSimilarity: value ${i} is not a finite number in both vectors`);
    }
    maxA = Math.max(maxA, Math.abs(a[i]));
    maxB = Math.max(maxB, Math.abs(b[i]));
  }
  const cosine = sums(1, 1);
  // Squares that overflow (1e200) or vanish (1e-200): again, divided by the largest magnitudes.
  return Number.isFinite(cosine) && (cosine !== 0 || maxA === 0 || maxB === 0) ? cosine : sums(maxA, maxB);
}
