// The module's heap from JavaScript: its views, the last error, checked allocations (sizes are
// JS numbers until checked against the module's limit) and the scratch of one call.
import { ERROR_CODES, GgufembedError } from "./errors.js";


// The module's typed-array views of its heap. The threads build's memory is a SharedArrayBuffer
// that any thread may grow, and views made before a growth see only the old length: they are
// made again when the buffer changed.
export function heap(mod) {
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

export function lastError(mod) {
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
export function maxBufferSize(mod) {
  let limit = maxBufferSizes.get(mod);
  if (limit === undefined) {
    limit = mod._ggufembed_max_buffer_size() >>> 0;
    maxBufferSizes.set(mod, limit);
  }
  return limit;
}

const gib = (n) => `${(n / 2 ** 30).toFixed(2)} GiB`;

// `what` names the buffer in messages, e.g. "m.gguf: the file".
export function checkBufferSize(mod, size, what) {
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
export function heapAlloc(mod, size, what) {
  checkBufferSize(mod, size, what);
  const ptr = mod._ggufembed_alloc(size) >>> 0;  // pointers above 2 GiB are negative i32
  if (ptr === 0) throw new GgufembedError("out_of_memory", `${what}: ${lastError(mod).message}`);
  return ptr;
}

// Resizes a heap buffer; on failure `ptr` stays valid (and the caller's to free).
export function heapRealloc(mod, ptr, size, what) {
  checkBufferSize(mod, size, what);
  const grown = mod._ggufembed_realloc(ptr, size) >>> 0;
  if (grown === 0) throw new GgufembedError("out_of_memory", `${what}: ${lastError(mod).message}`);
  return grown;
}

// Calls `fn(ptr)` with `text` as a NUL-terminated UTF-8 string in the wasm heap.
export function withCString(mod, text, fn) {
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
export function adoptBuffer(mod, ptr, size, name, load) {
  try {
    return withCString(mod, name, (namePtr) => load(ptr, size, namePtr));
  } catch (e) {
    mod._ggufembed_free(ptr);  // withCString failed before `load` was called
    throw e;
  }
}

// Copies bytes into a fresh heap buffer; the caller passes ownership on to the engine.
export function copyIn(mod, bytes, what) {
  const ptr = heapAlloc(mod, bytes.length, what);
  heap(mod).HEAPU8.set(bytes, ptr);
  return ptr;
}

export function asBytes(source) {
  if (source instanceof ArrayBuffer) return new Uint8Array(source);
  if (ArrayBuffer.isView(source)) {
    return new Uint8Array(source.buffer, source.byteOffset, source.byteLength);
  }
  throw new GgufembedError("invalid_argument", "expected an ArrayBuffer or a typed array of GGUF bytes");
}


// Allocations for one call, freed together.
export class Scratch {
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

