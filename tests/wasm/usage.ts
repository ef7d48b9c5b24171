// Type-checked, never run: every export of js/src/index.d.ts used as the README shows, plus misuses
// the declarations must reject (each `@ts-expect-error` fails the check if the line compiles).
// CTest runs `tsc --noEmit --strict` on this file ("node: wasm types").
import {
  GgufembedError,
  cacheKey,
  cosineSimilarity,
  deleteCachedModel,
  listCachedModels,
  loadEmbedder,
  openGguf,
  type CachedModel,
  type Embedder,
  type EmbedOptions,
  type Embedding,
  type GgufArrayEntry,
  type GgufembedErrorCode,
  type GgufFile,
  type GgufInfo,
  type GgufMetadataEntry,
  type GgufOpenOptions,
  type GgufScalarEntry,
  type GgufScalarType,
  type GgufSource,
  type GgufTensorEntry,
  type GgufValue,
  type LoadOptions,
  type ModelInfo,
  type ModelSource,
  type ModuleOptions,
  type Pooling,
  type PromptName,
} from "../../js/src/index.js";

export async function embedding(): Promise<number> {
  const options: LoadOptions = {
    name: "model.gguf",
    quiet: true,
    wasm: new URL("https://example.com/ggufembed.wasm"),
    onProgress: ({ loaded, total }) => {
      const fraction: number | undefined = total === undefined ? undefined : loaded / total;
      void fraction;
    },
  };
  const sources: ModelSource[] = [
    "embeddinggemma-300M-Q8_0.gguf",
    new URL("https://example.com/m.gguf"),
    new Blob([new Uint8Array(4)]),
    new File([new Uint8Array(4)], "m.gguf"),
    new Response(new Uint8Array(4)),
    new ReadableStream<Uint8Array>(),
    new ArrayBuffer(4),
    new Uint8Array(4),
    new DataView(new ArrayBuffer(4)),
  ];
  const embedder: Embedder = await loadEmbedder(sources[0], options);
  await loadEmbedder(await fetch("https://example.com/m.gguf"));

  const info: ModelInfo = embedder.info;
  const fields: [string, string, number, number, number, Pooling, boolean] = [
    info.architecture, info.name, info.dim, info.contextLength, info.vocabSize, info.pooling,
    info.hasDense];
  const prompts: readonly PromptName[] = info.prompts;
  const warnings: readonly string[] = info.warnings;
  // @ts-expect-error: ModelInfo is camelCase
  info.context_length;
  // @ts-expect-error: read-only
  info.prompts.push("query");
  // @ts-expect-error: read-only (the object is frozen)
  info.dim = 64;

  const all: EmbedOptions = {
    prompt: "document", title: "Mars", promptText: "custom: ", dim: 256, normalize: false,
    truncate: true, parseSpecial: false, pooling: "none",
  };
  const one: Embedding = await embedder.embed("Which planet is red?", { prompt: "query" });
  // An option set to null takes its default.
  await embedder.embedBatch(["x"], { dim: null, signal: null, onProgress: null });
  const many: Embedding[] = await embedder.embedBatch(["Mars is red.", "Venus is hot."], all);
  const vector: Float32Array = one.vector;
  const shape: number[] = [one.rows, one.dim, one.tokens, one.inputTokens];
  const truncated: boolean = many[0].truncated;
  const similarity: number = cosineSimilarity(vector, many[0].vector) + cosineSimilarity([1, 2], [3, 4]);
  const ids: Int32Array = await embedder.tokenize("hello", { addSpecial: false, parseSpecial: true });
  const frozen: readonly string[] = Object.freeze(["a", "b"]);
  const controller = new AbortController();
  const progress: Embedding[] = await embedder.embedBatch(frozen, {
    signal: controller.signal, onProgress: ({ done, total }) => void (done / total) });
  const where: "worker" | "thread" = embedder.runsIn;
  const build: "simd128" | "relaxed-simd" | "threads" | "relaxed-simd-threads" = embedder.build;
  const relaxedInt32Dot: boolean = embedder.relaxedInt32Dot;
  const kept: boolean = embedder.kept;
  // @ts-expect-error: tokenize options are checked too
  await embedder.tokenize("x", { addSpecials: true });
  embedder.dispose();

  const cached: CachedModel[] = await listCachedModels();
  const removed: boolean = await deleteCachedModel(cached[0]?.url ?? "https://example.com/m.gguf");
  const key: string = cacheKey(new Blob([]), "m.gguf");
  const defaultKey: string = cacheKey(new Blob([]), null);  // null: the default name
  const inWorker: Embedder = await loadEmbedder(key, {
    worker: true, cache: true, simd: "relaxed", signal: controller.signal,
    onProgress: ({ loaded, total, cached }) => void [loaded, total, cached] });
  // @ts-expect-error: not a SIMD build name
  await loadEmbedder("m.gguf", { simd: "sse2" });
  void [progress, where, build, relaxedInt32Dot, kept, removed, inWorker];

  // @ts-expect-error: unknown option
  await embedder.embed("x", { dims: 64 });
  // @ts-expect-error: not a prompt name
  await embedder.embed("x", { prompt: "search" });
  // @ts-expect-error: not a pooling
  await embedder.embed("x", { pooling: "max" });
  // @ts-expect-error: embedBatch takes an array
  await embedder.embedBatch("x");
  // @ts-expect-error: embed takes one string
  await embedder.embed(["x"]);
  // @ts-expect-error: not a model source
  await loadEmbedder(42);
  // @ts-expect-error: the vector is not writable to another type
  const wrong: number[] = one.vector;

  void [fields, prompts, warnings, shape, truncated, ids, wrong];
  return similarity;
}

export async function gguf(bytes: Uint8Array): Promise<string> {
  const source: GgufSource = bytes;
  const openOptions: GgufOpenOptions & ModuleOptions = { name: "m.gguf", wasm: new Uint8Array(8), simd: "simd128" };
  const viewOptions: ModuleOptions = { wasm: new DataView(new ArrayBuffer(8)) };  // any view of the bytes
  const file: GgufFile = await openGguf(source, openOptions);
  const info: GgufInfo = file.info({ maxArrayItems: 0 });
  const header: [string, number, number, number, number] = [
    info.file, info.version, info.fileSize, info.alignment, info.dataOffset];
  // @ts-expect-error: GgufInfo is camelCase
  info.file_size;
  const names: string[] = [];
  for (const entry of info.metadata as GgufMetadataEntry[]) {
    if (entry.type === "arr") {
      const array: GgufArrayEntry = entry;  // narrowed by the type name
      const element: GgufScalarType = array.elementType;
      const first: GgufValue | undefined = array.values[0];
      names.push(`${array.key}: ${array.count} × ${element} ${String(first)}`);
      // @ts-expect-error: camelCase
      array.element_type;
    } else if (entry.type === "str") {
      const text: string = entry.value;  // narrowed: a string entry holds a string
      names.push(`${entry.key} = ${text.toUpperCase()}`);
    } else if (entry.type === "bool") {
      const flag: boolean = entry.value;
      names.push(`${entry.key} = ${flag}`);
    } else {
      const scalar: GgufScalarEntry = entry;
      const n: number = entry.value;  // numbers, NaN and infinities too
      names.push(n.toFixed(3));
      // @ts-expect-error: a number entry's value is not a string
      const notText: string = entry.value;
      names.push(`${scalar.key} (${scalar.type}) = ${String(n)} ${notText}`);
    }
  }
  const tensor: GgufTensorEntry = info.tensors[0];
  const row: Float32Array = file.dequantizeRow(tensor.name, 0);
  const t: [string, string, number[], number, number] = [
    tensor.name, tensor.type, tensor.shape, tensor.offset, tensor.bytes];
  file.close();
  // @ts-expect-error: openGguf takes bytes, not a path
  await openGguf("m.gguf");
  void [header, row, t];
  // @ts-expect-error: not a GGUF type name
  const badType: GgufScalarType = "float";
  void badType;
  return names.join("\n");
}

export function errors(e: unknown): GgufembedErrorCode | undefined {
  if (e instanceof GgufembedError) {
    const code: GgufembedErrorCode = e.code;
    const message: string = e.message;
    // @ts-expect-error: not an error code
    const bad: GgufembedErrorCode = "oom";
    // @ts-expect-error: read-only
    e.code = "internal";
    const own = new GgufembedError("invalid_argument", "a caller's own error");
    // @ts-expect-error: the code comes first
    const misused = new GgufembedError("boom");
    void [message, bad, own, misused];
    return code;
  }
  return undefined;
}
