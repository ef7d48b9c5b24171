// ggufembed for Node.js and browsers: the WebAssembly engine behind a small promise-based API.
import createGgufembedModule from "./ggufembed.mjs";

// Indexed by the C API's error codes (src/ggufembed_c.h).
const ERROR_CODES = [
  "ok",
  "invalid_argument",
  "invalid_file",
  "unsupported",
  "io_error",
  "input_too_long",
  "out_of_memory",
  "internal",
];

/** Every failure of the engine: `code` names the class, `message` the file, item and offset. */
export class GgufembedError extends Error {
  constructor(code, message) {
    super(message);
    this.name = "GgufembedError";
    this.code = code;
  }
}

const isNode = typeof process !== "undefined" && process.versions?.node != null;

async function loadWasmBinary(wasm) {
  if (wasm instanceof ArrayBuffer || ArrayBuffer.isView(wasm)) return wasm;
  const url = new URL(wasm ?? "./ggufembed.wasm", import.meta.url);
  if (isNode && url.protocol === "file:") {
    const { readFile } = await import("node:fs/promises");
    return readFile(url);
  }
  const response = await fetch(url);
  if (!response.ok) {
    throw new GgufembedError("io_error", `cannot fetch ${url}: HTTP ${response.status}`);
  }
  return response.arrayBuffer();
}

// One module instance per process for the default wasm file; explicit `wasm` options get their own.
let defaultModule;
function getModule(options = {}) {
  const instantiate = async () =>
    createGgufembedModule({ wasmBinary: await loadWasmBinary(options.wasm) });
  if (options.wasm !== undefined) return instantiate();
  defaultModule ??= instantiate();
  return defaultModule;
}

function lastError(mod) {
  const code = ERROR_CODES[mod._ggufembed_last_error_code()] ?? "internal";
  return new GgufembedError(code, mod.UTF8ToString(mod._ggufembed_last_error_message()));
}

// Calls `fn(ptr)` with `text` as a NUL-terminated UTF-8 string in the wasm heap.
function withCString(mod, text, fn) {
  const size = mod.lengthBytesUTF8(text) + 1;
  const ptr = mod._ggufembed_alloc(size) >>> 0;
  if (ptr === 0) throw new GgufembedError("out_of_memory", `cannot allocate ${size} bytes`);
  try {
    mod.stringToUTF8(text, ptr, size);
    return fn(ptr);
  } finally {
    mod._ggufembed_free(ptr);
  }
}

// Copies bytes into a fresh heap buffer; the caller passes ownership on to the engine.
function copyIn(mod, bytes) {
  const ptr = mod._ggufembed_alloc(bytes.length) >>> 0;  // pointers above 2 GiB are negative i32
  if (ptr === 0) {
    throw new GgufembedError(
      "out_of_memory", `cannot allocate ${bytes.length} bytes in the WebAssembly heap`);
  }
  mod.HEAPU8.set(bytes, ptr);
  return ptr;
}

function asBytes(source) {
  if (source instanceof ArrayBuffer) return new Uint8Array(source);
  if (ArrayBuffer.isView(source)) {
    return new Uint8Array(source.buffer, source.byteOffset, source.byteLength);
  }
  throw new GgufembedError("invalid_argument", "expected an ArrayBuffer or a typed array of GGUF bytes");
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

  info({ maxArrayItems = 8 } = {}) {
    const json = this.#mod._ggufembed_gguf_info_json(this.#live(), maxArrayItems >>> 0) >>> 0;
    if (json === 0) throw lastError(this.#mod);
    return JSON.parse(this.#mod.UTF8ToString(json));
  }

  dequantizeRow(name, row = 0) {
    const handle = this.#live();
    const length = this.#rowLengths.get(name);
    if (length === undefined) {
      throw new GgufembedError("invalid_argument", `no tensor named '${name}'`);
    }
    const mod = this.#mod;
    const out = mod._ggufembed_alloc(length * 4) >>> 0;
    if (out === 0) throw new GgufembedError("out_of_memory", `cannot allocate ${length} floats`);
    try {
      const n = withCString(mod, name, (namePtr) =>
        mod._ggufembed_gguf_dequantize_row(handle, namePtr, row, out, length));
      if (n < 0) throw lastError(mod);
      return new Float32Array(mod.HEAPF32.buffer, out, n).slice();
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
export async function openGguf(source, options = {}) {
  const bytes = asBytes(source);
  const mod = await getModule(options);
  const ptr = copyIn(mod, bytes);
  const handle = withCString(mod, options.name ?? "model.gguf", (namePtr) =>
    mod._ggufembed_gguf_open_buffer(ptr, bytes.length, namePtr));
  if (handle === 0) throw lastError(mod);
  return new Gguf(mod, handle);
}
