// The WebAssembly modules: which build runs here (SIMD128, relaxed SIMD, threads), fetched or
// read once per process and instantiated, each checked against the package's options layout.
import createGgufembedModule from "./ggufembed.mjs";
import { OPTIONS_LAYOUT, optionsLayoutMismatch, readOptionsLayout } from "./layout.js";
import { GgufembedError, MAX_THREADS, isNode, typeofValue } from "./errors.js";

async function loadWasmBinary(wasm) {
  if (wasm instanceof ArrayBuffer) return wasm;
  // Any view as its bytes: a DataView, which WebAssembly's calls do not take, and a wider typed
  // array, which emscripten would copy element by element.
  if (ArrayBuffer.isView(wasm)) {
    try {
      return new Uint8Array(wasm.buffer, wasm.byteOffset, wasm.byteLength);
    } catch (e) {  // a detached buffer
      throw new GgufembedError("invalid_argument", `wasm: the bytes given cannot be read: ${e.message}`);
    }
  }
  if (wasm != null && !(wasm instanceof URL) && (typeof wasm !== "string" || wasm === "")) {
    throw new GgufembedError("invalid_argument", "wasm must be a URL, a non-empty string, an ArrayBuffer or a " +
      `view of one, got ${typeof wasm === "string" ? "an empty string" : typeofValue(wasm)}`);
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
// by URL. Null when the page cannot have it (not isolated, or a package deployed without the
// build: 404 or 410); other failures — a network error, a busy server — throw, and the caller
// falls back for this call and tries again on the next (a null is kept for good).
async function instantiateThreadsBrowser(pool, wasmUrl) {
  if (globalThis.crossOriginIsolated !== true || typeof Worker !== "function") return null;
  // The worker script is checked too: a pool worker that cannot load would leave the module's
  // start waiting forever.
  const [script, wasm, worker] = await Promise.all(
      [fetch(THREADS_SCRIPT), fetch(wasmUrl), fetch(THREADS_WORKER, { method: "HEAD" })]);
  const responses = [script, wasm, worker];
  if (responses.some((r) => r.status === 404 || r.status === 410)) return null;
  for (const response of responses) {
    if (!response.ok) throw new Error(`cannot fetch ${response.url}: HTTP ${response.status}`);
  }
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

export async function getModule(options = {}) {
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
