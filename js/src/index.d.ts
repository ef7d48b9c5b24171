// Type declarations for the ggufembed npm package.

/** Error codes, the same as the C API's (`GGUFEMBED_*`). */
export type GgufembedErrorCode =
  | "invalid_argument"
  | "invalid_file"
  | "unsupported"
  | "io_error"
  | "input_too_long"
  | "out_of_memory"
  | "internal"
  | "not_finite"
  /** A call cancelled through its AbortSignal. */
  | "aborted";

/** Every failure of the engine: a code and a message naming the file, item and offset or limit. */
export class GgufembedError extends Error {
  constructor(code: GgufembedErrorCode, message: string);
  readonly code: GgufembedErrorCode;
}

/** Bytes of a GGUF file. */
export type GgufSource = ArrayBuffer | ArrayBufferView;

export interface GgufOpenOptions {
  /** How error messages refer to the file (default "model.gguf"). */
  name?: string | null;
  /** The module that parses it, as `loadEmbedder`'s option (the same results). */
  simd?: "auto" | "relaxed" | "simd128" | null;
}

/**
 * A metadata value: numbers (64-bit integers beyond 2^53 lose precision; a float that is NaN or
 * infinite is that JS number), bools, strings.
 */
export type GgufValue = number | boolean | string;

/** GGUF metadata type names of scalars (arrays are "arr"). */
export type GgufScalarType =
  | "u8" | "i8" | "u16" | "i16" | "u32" | "i32" | "u64" | "i64" | "f32" | "f64" | "bool" | "str";

/** GGUF metadata type names of numbers. */
export type GgufNumberType = "u8" | "i8" | "u16" | "i16" | "u32" | "i32" | "u64" | "i64" | "f32" | "f64";

/**
 * A scalar metadata entry; `type` narrows `value`: strings, booleans, or numbers (NaN, Infinity
 * and -Infinity as JS numbers, where the CLI's `info --json` spells them as strings).
 */
export type GgufScalarEntry =
  | { key: string; type: "str"; value: string }
  | { key: string; type: "bool"; value: boolean }
  | { key: string; type: GgufNumberType; value: number };

/** An array metadata entry: `count` elements, of which `values` holds the first `maxArrayItems`. */
export interface GgufArrayEntry {
  key: string;
  type: "arr";
  /** Type name of the elements (arrays do not nest). */
  elementType: GgufScalarType;
  count: number;
  values: GgufValue[];
}

/** One metadata entry: a scalar `value`, or an array summarized by its first `values`. */
export type GgufMetadataEntry = GgufScalarEntry | GgufArrayEntry;

export interface GgufTensorEntry {
  name: string;
  /** ggml type name, e.g. "Q8_0", "F16", "F32". */
  type: string;
  /** Dimensions in ggml order: shape[0] is contiguous. */
  shape: number[];
  /** Byte offset in the data section. */
  offset: number;
  bytes: number;
}

/** The header, metadata and tensor table (the CLI's `info --json`, with camelCase names). */
export interface GgufInfo {
  /** The `name` given to openGguf. */
  file: string;
  /** GGUF version (2 or 3). */
  version: number;
  fileSize: number;
  /** Alignment of the tensor data (general.alignment, 32 by default). */
  alignment: number;
  /** Byte offset of the data section in the file. */
  dataOffset: number;
  metadata: GgufMetadataEntry[];
  tensors: GgufTensorEntry[];
}

/** A parsed GGUF file living in the WebAssembly heap. */
export interface GgufFile {
  /** Header, metadata and tensor table; arrays cut to `maxArrayItems` elements (default 8, 0 = all). */
  info(options?: { maxArrayItems?: number | null }): GgufInfo;
  /** Row `row` of tensor `name`, dequantized to f32. */
  dequantizeRow(name: string, row?: number): Float32Array;
  /** Frees the file's memory; the object is unusable afterwards. */
  close(): void;
}

export interface ModuleOptions {
  /**
   * A single-threaded module's .wasm bytes or URL, instead of the package's own (chosen by `simd`
   * and, with more than one thread, the threads build): `loadEmbedder`'s `threads` other than 1
   * is then refused.
   */
  wasm?: ArrayBuffer | ArrayBufferView | string | URL | null;
}

/** Parses GGUF bytes (copied into the WebAssembly heap). Throws `GgufembedError` on bad input. */
export function openGguf(source: GgufSource, options?: GgufOpenOptions & ModuleOptions): Promise<GgufFile>;

/** EmbeddingGemma task prompts, prepended as plain text. */
export type PromptName =
  | "query"
  | "document"
  | "question-answering"
  | "fact-checking"
  | "classification"
  | "clustering"
  | "sentence-similarity"
  | "code-retrieval";

export type Pooling = "mean" | "cls" | "last" | "none";

export interface EmbedOptions {
  /** Cancels the call: it rejects with a GgufembedError of code "aborted". */
  signal?: AbortSignal | null;
  /** Task prompt to prepend (EmbeddingGemma's model card prompts). Default: none (raw text). */
  prompt?: PromptName | null;
  /** Title for the "document" prompt ("none" when absent). */
  title?: string | null;
  /** A custom prefix instead of a named prompt. */
  promptText?: string | null;
  /**
   * Matryoshka size: keep the first `dim` components (512, 256, 128 or any size up to the full
   * one; 0 is the full size).
   */
  dim?: number | null;
  /** L2-normalize (after truncation to `dim`). Default true. */
  normalize?: boolean | null;
  /**
   * Cut inputs longer than the context instead of throwing `input_too_long` (a text over 16 MiB
   * is refused all the same). Default false.
   */
  truncate?: boolean | null;
  /** Text like "<eos>" becomes that special token. Default true. */
  parseSpecial?: boolean | null;
  /** Overrides the file's pooling. */
  pooling?: Pooling | null;
  /**
   * Texts embedded at once, one per thread, by the threads build (Node; browsers when the page
   * is cross-origin isolated): default the whole pool
   * of `loadEmbedder`; 0 also means all. The single-threaded build uses one. Same vectors.
   */
  threads?: number | null;
}

export interface BatchOptions extends EmbedOptions {
  /**
   * Called as texts are done, in input order (`done` of `total`): in a worker as the engine's
   * forward passes end (the threads build: those of the worker's thread; at most every 30 ms,
   * and the last), on the calling thread per chunk of about half a second's work.
   */
  onProgress?: ((progress: { done: number; total: number }) => void) | null;
}

export interface Embedding {
  /** `rows` × `dim` values (one row unless pooling is "none"). */
  vector: Float32Array;
  rows: number;
  dim: number;
  /** Tokens embedded, BOS/EOS and prompt included. */
  tokens: number;
  /** Tokens before truncation. */
  inputTokens: number;
  truncated: boolean;
}

/** What the file holds (a frozen object). */
export interface ModelInfo {
  readonly architecture: string;
  readonly name: string;
  /** Full output size. */
  readonly dim: number;
  /** Longest input, in tokens. */
  readonly contextLength: number;
  readonly vocabSize: number;
  /** The file's pooling. */
  readonly pooling: Pooling;
  /** The sentence-transformers dense projections are present. */
  readonly hasDense: boolean;
  readonly prompts: readonly PromptName[];
  /** Notes about the file (e.g. missing dense projections), also printed once at load. */
  readonly warnings: readonly string[];
}

export interface Embedder {
  readonly info: ModelInfo;
  /** Threads `embedBatch` may use: the threads build's pool, else 1. */
  readonly threads: number;
  /** Where the engine runs: a worker (Web Worker or worker_threads) or the calling thread. */
  readonly runsIn: "worker" | "thread";
  /**
   * A copy of the model is in the browser's model cache after this load: it was read from there,
   * or this load kept it (`cache`). False when nothing was to be kept (Node, `cache: false`, a
   * source that is not a URL or Blob) and when keeping failed — a private window's or a full
   * storage quota, say: the load succeeds all the same, and the next one downloads again.
   */
  readonly kept: boolean;
  /** The WebAssembly build in use (the threads build in SIMD128 or relaxed SIMD). */
  readonly build: "simd128" | "relaxed-simd" | "threads" | "relaxed-simd-threads";
  /**
   * Whether the relaxed build's kernels on its int32 dot product run (relaxed-simd builds: forced
   * with `simd: "relaxed"`, or where this runtime's relaxed dot product timed faster than
   * SIMD128's at load): Q8_0 weights take the relaxed-SIMD kernel (otherwise the SIMD128 one) and
   * the 4- to 6-bit types (Q4_0 … Q6_K) their int32 form (otherwise their int16 one). The same
   * vectors either way.
   */
  readonly relaxedInt32Dot: boolean;
  embed(text: string, options?: EmbedOptions): Promise<Embedding>;
  /**
   * Results equal one-at-a-time `embed` calls: short texts share forward passes, and the threads
   * build embeds `options.threads` texts at once.
   */
  embedBatch(texts: readonly string[], options?: BatchOptions): Promise<Embedding[]>;
  /** Token ids, BOS/EOS included unless `addSpecial` is false. */
  tokenize(text: string, options?: TokenizeOptions): Promise<Int32Array>;
  /** Frees the model (and ends its worker); calls after this reject. */
  dispose(): void;
}

export interface TokenizeOptions {
  /** BOS/EOS per the model's flags. Default true. */
  addSpecial?: boolean | null;
  /** Text like "<eos>" becomes that special token. Default true. */
  parseSpecial?: boolean | null;
}

export interface LoadOptions extends ModuleOptions {
  /**
   * Run the engine in a worker so that no call blocks this thread: a module Web Worker (default in
   * browsers) or a worker_threads Worker (Node, default false). The API is the same.
   */
  worker?: boolean | null;
  /**
   * Browsers: keep the model in the Cache API and use the kept copy next time without a
   * download — for http(s) URLs (default true) and Blobs/Files (default false; kept under
   * `cacheKey(file)`). Ignored in Node.
   */
  cache?: boolean | null;
  /**
   * The SIMD build, single-threaded or threads: "auto" (default: relaxed SIMD where the runtime
   * computes it as specified, else SIMD128; the kernels on its int32 dot product — Q8_0's, the
   * 4- to 6-bit types' int32 form — only where that is faster, `relaxedInt32Dot`), or forced
   * ("relaxed": every relaxed kernel, Q8_0's from 24 tokens on; one thread where the package has
   * no relaxed threads module).
   */
  simd?: "auto" | "relaxed" | "simd128" | null;
  /** Cancels the load: it rejects with a GgufembedError of code "aborted". */
  signal?: AbortSignal | null;
  /** How error messages refer to the model (default: the path, URL or file name). */
  name?: string | null;
  /** Called as bytes arrive (`total` is undefined when unknown; `cached`: read from the cache). */
  onProgress?: ((progress: { loaded: number; total?: number; cached: boolean }) => void) | null;
  /** Do not print the model's notes with console.warn. */
  quiet?: boolean | null;
  /**
   * The worker pool of the threads build (pthreads over one shared heap, one copy of the
   * weights), default the available cores (`navigator.hardwareConcurrency` in browsers); 1 loads
   * the single-threaded build. Node always has the threads build; a browser page has it when it
   * is cross-origin isolated (and serves the package's `dist/threads/` from its own origin), else
   * it gets the single-threaded build and `threads` is 1. 0 (the cores) to 256.
   */
  threads?: number | null;
}

/**
 * Where a model comes from: a file path (Node), a URL (fetched, or read when file: in Node), a Blob
 * or File, a fetch Response, a stream of Uint8Array chunks, or the bytes. A path, a Blob or File
 * and a copy in the model cache keep the token embedding table in the file: the embedder reads
 * the rows of tokens it has not met yet from there (a path through the file handle it keeps
 * open until `dispose()`), so a picked file must stay as it was and a path's file must not be
 * rewritten in place (either fails those reads with `io_error`; a path renamed over or deleted
 * is still read).
 */
export type ModelSource =
  | string
  | URL
  | Blob
  | Response
  | ReadableStream<Uint8Array>
  | ArrayBuffer
  | ArrayBufferView;

/**
 * Loads a gemma-embedding GGUF into the WebAssembly heap, read straight into one buffer there.
 * Throws `GgufembedError`: `out_of_memory` (before anything is read) for a model larger than the
 * heap can take (about 3.75 GiB), `io_error` for unreadable sources, `invalid_file` or
 * `unsupported` for malformed or unsupported models.
 */
export function loadEmbedder(source: ModelSource, options?: LoadOptions): Promise<Embedder>;

/** A model kept in the browser's cache. */
export interface CachedModel {
  /** The URL it was loaded from (or `cacheKey(file)`); `loadEmbedder(url)` uses the kept copy. */
  url: string;
  /** The file name. */
  name: string;
  /** Bytes. */
  size: number;
  /** When it was kept (ISO 8601). */
  cachedAt: string;
}

/** The models kept in the browser's cache (an empty list where there is no Cache API). */
export function listCachedModels(): Promise<CachedModel[]>;

/** Removes a kept model; resolves to whether there was one. */
export function deleteCachedModel(url: string | URL): Promise<boolean>;

/**
 * The cache key of a Blob or File loaded with `cache: true` (its name, size and date); `name` as
 * given to `loadEmbedder` (default: the File's name).
 */
export function cacheKey(file: Blob, name?: string | null): string;

/** Cosine similarity of two equal-length vectors. */
export function cosineSimilarity(a: ArrayLike<number>, b: ArrayLike<number>): number;
