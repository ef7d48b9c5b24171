// The browser's model cache: models kept in the Cache API under their URL (a picked file under
// cacheKey(file)), written while they stream into the heap and read back on the next visit.
//
// The Cache API rather than OPFS: it is in every browser's window and worker scopes, a kept
// model comes back as a Response whose body streams into the heap like a download, and keys are
// the URLs themselves. (Measured on the 300M model in Chromium: see the README's "Caching".)
import { GgufembedError, checkText, isNode } from "./errors.js";

const CACHE_NAME = "ggufembed-models-v1";
const FILE_KEYS = "https://cache.ggufembed.invalid/file/";

export function cacheAvailable() {
  return !isNode && typeof globalThis.caches?.open === "function";
}

/** The key under which a Blob or File is kept: its size, date and name. */
export function cacheKey(file, name) {
  if (typeof Blob === "undefined" || !(file instanceof Blob)) {
    throw new GgufembedError("invalid_argument", "cacheKey expects a Blob or File");
  }
  if (name != null) checkText(name, "cacheKey: name");  // a lone surrogate has no URI form either
  const label = name ?? (typeof file.name === "string" ? file.name : "model.gguf");
  return `${FILE_KEYS}${file.size}-${file.lastModified ?? 0}/${encodeURIComponent(label)}`;
}

export function isFileKey(url) {
  return String(url).startsWith(FILE_KEYS);
}

async function openCache() {
  try {
    return await globalThis.caches.open(CACHE_NAME);
  } catch (e) {
    throw new GgufembedError("io_error", `cannot open the model cache: ${e.message}`);
  }
}

/** The kept copy of `url` as a Response, or undefined. */
export async function cachedResponse(url) {
  if (!cacheAvailable()) return undefined;
  return (await openCache()).match(url);
}

/**
 * A writer that keeps a model under `url` as its chunks go by: write(chunk) waits while the
 * cache is behind (so at most a few chunks are held), close() commits it and resolves to whether
 * the copy is kept, abort() drops it. A cache that fails (quota, a private window's storage) is
 * given up without an error: the load does not depend on it (Embedder.kept says so).
 */
export function cacheWriter(url, name, total) {
  let controller;
  let wake = null;
  let failed = !cacheAvailable();
  const waitForRoom = () => new Promise((resolve) => { wake = resolve; });
  const stream = new ReadableStream({
    start(c) { controller = c; },
    pull() { wake?.(); wake = null; },
  }, { highWaterMark: 4 });
  const headers = {
    "content-type": "application/octet-stream",
    "x-ggufembed-name": encodeURIComponent(name),
    "x-ggufembed-cached-at": new Date().toISOString(),
  };
  if (total !== undefined) headers["x-ggufembed-size"] = String(total);
  const stored = failed ? Promise.resolve() : openCache()
    .then((cache) => cache.put(url, new Response(stream, { headers })))
    .catch(() => {
      failed = true;
      wake?.();
    });
  return {
    async write(chunk) {
      if (failed) return;
      controller.enqueue(chunk);
      while (!failed && controller.desiredSize <= 0) await waitForRoom();
    },
    async close() {
      if (failed) return false;
      controller.close();
      await stored;
      return !failed;
    },
    abort() {
      if (!failed) controller.error(new Error("the load failed"));
      failed = true;
    },
  };
}

/** The models kept in the cache. */
export async function listCachedModels() {
  if (!cacheAvailable()) return [];
  const cache = await openCache();
  const out = [];
  for (const request of await cache.keys()) {
    const response = await cache.match(request);
    if (response === undefined) continue;
    const h = response.headers;
    const size = h.get("x-ggufembed-size") ?? (await response.blob()).size;
    out.push({
      url: request.url,
      name: decodeURIComponent(h.get("x-ggufembed-name") ?? new URL(request.url).pathname.split("/").pop()),
      size: Number(size),
      cachedAt: h.get("x-ggufembed-cached-at") ?? "",
    });
  }
  return out;
}

/** Removes a kept model; resolves to whether there was one. */
export async function deleteCachedModel(url) {
  // A URL (as listCachedModels gives them) or a cacheKey: anything else is a mistake, not a miss.
  const bad = () => new GgufembedError("invalid_argument",
    `deleteCachedModel: ${typeof url === "string" ? JSON.stringify(url) : typeof url} is not a model URL or cache key`);
  if (!(url instanceof URL) && typeof url !== "string") throw bad();
  if (!cacheAvailable()) return false;
  // Relative URLs against the base the Cache API takes (a document's, else the worker's).
  const base = globalThis.document?.baseURI ?? globalThis.location?.href;
  if (typeof url === "string" && !isFileKey(url) && URL.canParse?.(url, base) === false) throw bad();
  return (await openCache()).delete(String(url));
}
