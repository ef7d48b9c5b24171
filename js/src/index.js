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

// ---------------------------------------------------------------------------------- embeddings

const POOLING = { none: 0, mean: 1, cls: 2, last: 3 };
const EMBED_OPTIONS = new Set(
  ["prompt", "title", "promptText", "dim", "normalize", "truncate", "parseSpecial", "pooling"]);

// Reads `source` straight into a heap buffer (no second full copy for files and streams).
// Returns {ptr, size}; the caller hands `ptr` to the engine, which frees it.
async function loadIntoHeap(mod, source, onProgress) {
  if (source instanceof ArrayBuffer || ArrayBuffer.isView(source)) {
    const bytes = asBytes(source);
    const ptr = copyIn(mod, bytes);
    onProgress?.({ loaded: bytes.length, total: bytes.length });
    return { ptr, size: bytes.length };
  }
  if (typeof source === "string" && isNode && !/^[a-z][a-z0-9+.-]*:/i.test(source)) {
    return readFileIntoHeap(mod, source, onProgress);
  }
  if (source instanceof URL && source.protocol === "file:" && isNode) {
    return readFileIntoHeap(mod, source, onProgress);
  }
  if (typeof Blob !== "undefined" && source instanceof Blob) {
    return readStreamIntoHeap(mod, source.stream(), source.size, onProgress);
  }
  if (typeof source === "string" || source instanceof URL) {
    const response = await fetch(source);
    if (!response.ok) {
      throw new GgufembedError("io_error", `cannot fetch ${source}: HTTP ${response.status}`);
    }
    const total = Number(response.headers.get("content-length")) || undefined;
    return readStreamIntoHeap(mod, response.body, total, onProgress);
  }
  throw new GgufembedError("invalid_argument",
    "expected a path, URL, Blob, ArrayBuffer or typed array of GGUF bytes");
}

async function readFileIntoHeap(mod, path, onProgress) {
  const { open } = await import("node:fs/promises");
  let handle;
  try {
    handle = await open(path, "r");
  } catch (e) {
    throw new GgufembedError("io_error", `${path}: cannot open: ${e.message}`);
  }
  try {
    const size = (await handle.stat()).size;
    const ptr = mod._ggufembed_alloc(size) >>> 0;
    if (ptr === 0) throw new GgufembedError("out_of_memory", `${path}: cannot allocate ${size} bytes`);
    try {
      for (let done = 0; done < size;) {
        const n = Math.min(size - done, 1 << 24);
        const { bytesRead } = await handle.read(mod.HEAPU8, ptr + done, n, done);
        if (bytesRead === 0) throw new GgufembedError("io_error", `${path}: file shrank while reading`);
        done += bytesRead;
        onProgress?.({ loaded: done, total: size });
      }
    } catch (e) {
      mod._ggufembed_free(ptr);
      throw e;
    }
    return { ptr, size };
  } finally {
    await handle.close();
  }
}

async function readStreamIntoHeap(mod, stream, total, onProgress) {
  const chunks = [];
  let loaded = 0;
  for await (const chunk of stream) {
    chunks.push(chunk);
    loaded += chunk.length;
    onProgress?.({ loaded, total });
  }
  const ptr = mod._ggufembed_alloc(loaded) >>> 0;
  if (ptr === 0) throw new GgufembedError("out_of_memory", `cannot allocate ${loaded} bytes`);
  let at = ptr;
  for (const chunk of chunks) {
    mod.HEAPU8.set(chunk, at);
    at += chunk.length;
  }
  return { ptr, size: loaded };
}

// Allocations for one call, freed together.
class Scratch {
  #mod;
  #ptrs = [];
  constructor(mod) { this.#mod = mod; }
  alloc(size) {
    const ptr = this.#mod._ggufembed_alloc(size) >>> 0;
    if (ptr === 0) throw new GgufembedError("out_of_memory", `cannot allocate ${size} bytes`);
    this.#ptrs.push(ptr);
    return ptr;
  }
  bytes(data) {
    const ptr = this.alloc(data.length + 1);
    this.#mod.HEAPU8.set(data, ptr);
    this.#mod.HEAPU8[ptr + data.length] = 0;
    return ptr;
  }
  string(text) { return text == null ? 0 : this.bytes(new TextEncoder().encode(String(text))); }
  free() { for (const p of this.#ptrs) this.#mod._ggufembed_free(p); this.#ptrs = []; }
}

function checkEmbedOptions(options) {
  for (const key of Object.keys(options)) {
    if (!EMBED_OPTIONS.has(key)) {
      throw new GgufembedError("invalid_argument",
        `unknown option '${key}' (known: ${[...EMBED_OPTIONS].join(", ")})`);
    }
  }
  if (options.pooling !== undefined && !(options.pooling in POOLING)) {
    throw new GgufembedError("invalid_argument",
      `pooling '${options.pooling}' is not one of ${Object.keys(POOLING).join(", ")}`);
  }
  if (options.dim !== undefined && !Number.isInteger(options.dim)) {
    throw new GgufembedError("invalid_argument", `dim must be an integer, got ${options.dim}`);
  }
}

/** A loaded embedding model in the WebAssembly heap. */
class Embedder {
  #mod;
  #model;

  constructor(mod, model) {
    this.#mod = mod;
    this.#model = model;
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
  async embed(text, options = {}) {
    return (await this.embedBatch([text], options))[0];
  }

  /** Embeds several texts, each on its own; the results equal one-at-a-time calls. */
  async embedBatch(texts, options = {}) {
    const model = this.#live();
    if (!Array.isArray(texts)) {
      throw new GgufembedError("invalid_argument", "embedBatch expects an array of strings");
    }
    checkEmbedOptions(options);
    const mod = this.#mod;
    const scratch = new Scratch(mod);
    let result = 0;
    try {
      const n = texts.length;
      const textPtrs = scratch.alloc(4 * Math.max(n, 1));
      const lengths = scratch.alloc(4 * Math.max(n, 1));
      const encoder = new TextEncoder();
      for (let i = 0; i < n; i++) {
        if (typeof texts[i] !== "string") {
          throw new GgufembedError("invalid_argument", `text ${i} is not a string`);
        }
        const bytes = encoder.encode(texts[i]);
        mod.HEAPU32[(textPtrs >>> 2) + i] = scratch.bytes(bytes);
        mod.HEAP32[(lengths >>> 2) + i] = bytes.length;
      }
      const opts = scratch.alloc(32);
      mod._ggufembed_options_init(opts);
      const o = opts >>> 2;
      if (options.prompt != null) mod.HEAPU32[o + 0] = scratch.string(options.prompt);
      if (options.title != null) mod.HEAPU32[o + 1] = scratch.string(options.title);
      if (options.promptText != null) mod.HEAPU32[o + 2] = scratch.string(options.promptText);
      if (options.dim != null) mod.HEAP32[o + 3] = options.dim;
      if (options.normalize != null) mod.HEAP32[o + 4] = options.normalize ? 1 : 0;
      if (options.truncate != null) mod.HEAP32[o + 5] = options.truncate ? 1 : 0;
      if (options.parseSpecial != null) mod.HEAP32[o + 6] = options.parseSpecial ? 1 : 0;
      if (options.pooling != null) mod.HEAP32[o + 7] = POOLING[options.pooling];
      result = mod._ggufembed_embed(model, textPtrs, lengths, n, opts) >>> 0;
      if (result === 0) throw lastError(mod);
      const out = [];
      for (let i = 0; i < n; i++) {
        const rows = mod._ggufembed_result_rows(result, i);
        const dim = mod._ggufembed_result_dim(result, i);
        const values = mod._ggufembed_result_values(result, i) >>> 0;
        out.push({
          vector: new Float32Array(mod.HEAPF32.buffer, values, rows * dim).slice(),
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
  tokenize(text, { addSpecial = true, parseSpecial = true } = {}) {
    const model = this.#live();
    const mod = this.#mod;
    const scratch = new Scratch(mod);
    try {
      const bytes = new TextEncoder().encode(String(text));
      const textPtr = scratch.bytes(bytes);
      let capacity = bytes.length + 8;
      for (;;) {
        const out = scratch.alloc(4 * capacity);
        const n = mod._ggufembed_tokenize(model, textPtr, bytes.length, addSpecial ? 1 : 0,
                                          parseSpecial ? 1 : 0, out, capacity);
        if (n < 0) throw lastError(mod);
        if (n <= capacity) return new Int32Array(mod.HEAP32.buffer, out, n).slice();
        capacity = n;
      }
    } finally {
      scratch.free();
    }
  }

  /** Frees the model; the object is unusable afterwards. */
  dispose() {
    if (this.#model !== 0) this.#mod._ggufembed_model_free(this.#model);
    this.#model = 0;
  }
}

/**
 * Loads an embedding model: a file path (Node), a URL (fetched), a Blob/File, or GGUF bytes.
 * Options: `wasm` (the module's bytes or URL), `name` (for messages), `onProgress({loaded,
 * total})`, `quiet` (no console warning for notes such as missing dense layers).
 */
export async function loadEmbedder(source, options = {}) {
  const mod = await getModule(options);
  const name = options.name ?? (typeof source === "string" ? source
                              : source instanceof URL ? source.href
                              : typeof File !== "undefined" && source instanceof File ? source.name
                              : "model.gguf");
  const { ptr, size } = await loadIntoHeap(mod, source, options.onProgress);
  const model = withCString(mod, name, (namePtr) =>
    mod._ggufembed_model_load_buffer(ptr, size, namePtr));
  if (model === 0) throw lastError(mod);
  const embedder = new Embedder(mod, model);
  if (!options.quiet) for (const w of embedder.info.warnings) console.warn(`ggufembed: ${w}`);
  return embedder;
}

/** Cosine similarity of two vectors. */
export function cosineSimilarity(a, b) {
  if (a.length !== b.length) {
    throw new GgufembedError("invalid_argument", `vectors of length ${a.length} and ${b.length}`);
  }
  let ab = 0, aa = 0, bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  return aa > 0 && bb > 0 ? ab / Math.sqrt(aa * bb) : 0;
}
