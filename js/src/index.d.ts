// Type declarations for the ggufembed npm package.

/** Error codes, the same as the C API's (`GGUFEMBED_*`). */
export type GgufembedErrorCode =
  | "invalid_argument"
  | "invalid_file"
  | "unsupported"
  | "io_error"
  | "input_too_long"
  | "out_of_memory"
  | "internal";

/** Every failure of the engine: a code and a message naming the file, item and offset or limit. */
export class GgufembedError extends Error {
  readonly code: GgufembedErrorCode;
}

/** Bytes of a GGUF file. */
export type GgufSource = ArrayBuffer | ArrayBufferView;

export interface GgufOpenOptions {
  /** How error messages refer to the file (default "model.gguf"). */
  name?: string;
}

/** One metadata entry: a scalar `value`, or an array summarized by its first `values`. */
export type GgufMetadataEntry =
  | { key: string; type: string; value: number | boolean | string | null }
  | { key: string; type: "arr"; element_type: string; count: number; values: Array<number | boolean | string | null> };

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

export interface GgufInfo {
  file: string;
  version: number;
  file_size: number;
  alignment: number;
  data_offset: number;
  metadata: GgufMetadataEntry[];
  tensors: GgufTensorEntry[];
}

/** A parsed GGUF file living in the WebAssembly heap. */
export interface GgufFile {
  /** Header, metadata and tensor table; arrays cut to `maxArrayItems` elements (default 8, 0 = all). */
  info(options?: { maxArrayItems?: number }): GgufInfo;
  /** Row `row` of tensor `name`, dequantized to f32. */
  dequantizeRow(name: string, row?: number): Float32Array;
  /** Frees the file's memory; the object is unusable afterwards. */
  close(): void;
}

export interface ModuleOptions {
  /** The module's .wasm bytes or URL (default: ggufembed.wasm next to this file). */
  wasm?: ArrayBuffer | Uint8Array | string | URL;
}

/** Parses GGUF bytes (copied into the WebAssembly heap). Throws `GgufembedError` on bad input. */
export function openGguf(source: GgufSource, options?: GgufOpenOptions & ModuleOptions): Promise<GgufFile>;
