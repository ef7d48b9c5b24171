// Model sources into the heap: files, Blobs, streams, Responses and URLs read into one buffer
// as they arrive (the browser's model cache read or kept on the way), and the token embedding
// rows a model without them brings in as texts need them.
import { cacheAvailable, cacheKey, cacheWriter, cachedResponse, isFileKey } from "./cache.js";
import { GgufembedError, abortedError, checkAbort, isNode, sourceUrl } from "./errors.js";
import { Scratch, asBytes, checkBufferSize, copyIn, heap, heapAlloc, heapRealloc, maxBufferSize } from "./heap.js";


// Reads `source` straight into one heap buffer: no second full copy of the model exists at any
// time for files, Blobs, streams and fetched URLs. Returns {ptr, size}; the caller hands `ptr` to
// the engine, which frees it. Sizes are checked against the heap's limit before anything is
// allocated or read (see checkBufferSize). `load`: {onProgress, signal, cache} (cache: keep an
// http(s) URL's or a Blob's bytes in the browser's model cache and read a kept copy from there).
export async function loadIntoHeap(mod, source, name, load) {
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
    const url = sourceUrl(source, name);
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

