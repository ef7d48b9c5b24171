// ggufembed for Node.js and browsers: text embeddings from GGUF models in WebAssembly, behind a
// small promise-based API. A model runs in a worker (browsers, by default) or on this thread.
import { cacheKey, deleteCachedModel, listCachedModels } from "./cache.js";
import { LOAD_OPTIONS, cosineSimilarity, loadEmbedderHere, openGguf, sourceName } from "./engine.js";
import { checkSimd } from "./module.js";
import { GgufembedError, MAX_THREADS, checkAbort, checkInt32, checkOptionNames, checkText, checkUnread, isNode }
  from "./errors.js";
import { WorkerUnavailable, loadInWorker } from "./remote.js";

export { GgufembedError, cacheKey, cosineSimilarity, deleteCachedModel, listCachedModels, openGguf };

function checkLoadOptions(options) {
  options = checkOptionNames(options, LOAD_OPTIONS, "loadEmbedder");
  const expect = (key, type) => {
    if (options[key] !== undefined && typeof options[key] !== type) {
      throw new GgufembedError("invalid_argument", `loadEmbedder: ${key} must be a ${type}, got ${typeof options[key]}`);
    }
  };
  expect("name", "string");
  if (options.name != null) checkText(options.name, "loadEmbedder: name", true);  // a C string
  expect("onProgress", "function");
  expect("quiet", "boolean");
  expect("cache", "boolean");
  expect("worker", "boolean");
  if (options.threads !== undefined) {
    checkInt32(options.threads, "loadEmbedder: threads");
    if (options.threads < 0 || options.threads > MAX_THREADS) {
      throw new GgufembedError("invalid_argument",
        `loadEmbedder: threads ${options.threads} is not 0 (the cores) to ${MAX_THREADS}`);
    }
  }
  // A module given is a single-threaded one (the threads build is several files, its pool's
  // workers among them): more than one thread cannot come from it, and is no silent 1.
  if (options.wasm != null && options.threads != null && options.threads !== 1) {
    throw new GgufembedError("invalid_argument", `loadEmbedder: threads ${options.threads}` +
      `${options.threads === 0 ? " (the cores)" : ""} needs the package's threads build, and the ` +
      "wasm option gives a single-threaded module (leave threads out, or give 1)");
  }
  checkSimd(options.simd, "loadEmbedder");
  checkAbort(options.signal, "loadEmbedder");
  return options;
}

/**
 * Loads an embedding model: a file path (Node), a URL (fetched; kept in the browser's cache), a
 * Blob/File, a fetch Response, a ReadableStream of Uint8Array chunks, or GGUF bytes.
 * Options (index.d.ts documents each): `worker`, `cache`, `onProgress({loaded, total, cached})`,
 * `signal`, `threads`, `simd`, `wasm`, `name`, `quiet`.
 */
export async function loadEmbedder(source, options) {
  options = checkLoadOptions(options);
  checkUnread(source, "loadEmbedder");
  const isBlob = typeof Blob !== "undefined" && source instanceof Blob;
  const load = {
    ...options,
    name: options.name ?? sourceName(source),
    cache: options.cache ?? (!isNode && !isBlob),
  };
  const inWorker = options.worker ?? !isNode;
  if (inWorker) {
    try {
      return await loadInWorker(source, load);
    } catch (e) {
      // A page where no worker can run still gets the engine, on its own thread.
      if (!(e instanceof WorkerUnavailable) || options.worker === true) throw e;
    }
  }
  return loadEmbedderHere(source, load);
}
