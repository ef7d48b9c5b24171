// llama.cpp as a reference peer, through node-llama-cpp's prebuilt binaries: offline, CPU only.
import { join } from "node:path";
import { pathToFileURL } from "node:url";

process.env.NODE_LLAMA_CPP_SKIP_DOWNLOAD ??= "true";
process.env.NODE_LLAMA_CPP_GPU ??= "false";

const llamas = new Map();  // package directory ("" = the project's own) -> Promise of the instance

/**
 * The llama.cpp instance (loaded once per package): no GPU, never builds from source, quiet logs.
 * `packageDir` is a directory whose node_modules holds another copy of node-llama-cpp and its
 * binaries (the benchmark's single-CPU-variant copies); by default the project's own.
 */
export function loadLlama(packageDir = "") {
  if (!llamas.has(packageDir)) {
    const entry = packageDir
      ? pathToFileURL(join(packageDir, "node_modules", "node-llama-cpp", "dist", "index.js")).href
      : "node-llama-cpp";
    llamas.set(packageDir, import(entry).then(({ getLlama, LlamaLogLevel }) =>
      getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error })));
  }
  return llamas.get(packageDir);
}

/**
 * Opens `modelPath` in llama.cpp with a single-threaded embedding context whose batch holds a
 * whole 2048-token input (the model is non-causal: one sequence must fit in one ubatch).
 * Returns {embed(text) -> Float32Array (raw pooled vector), tokenize(text) -> ids (no BOS/EOS),
 * tokenizeText(text) -> ids without special-token parsing,
 * inputLength(text) -> tokens embedded (BOS/EOS included), bos, eos (llama.cpp's ids of them),
 * llama, dispose()}.
 */
export async function openLlamaCppModel(modelPath,
                                        { threads = 1, contextSize = 2048, packageDir = "" } = {}) {
  const llama = await loadLlama(packageDir);
  const model = await llama.loadModel({ modelPath });
  const context = await model.createEmbeddingContext({
    threads, contextSize, batchSize: contextSize,
  });
  return {
    async embed(text) {
      return Float32Array.from((await context.getEmbeddingFor(text)).vector);
    },
    tokenize(text) {
      return Array.from(model.tokenize(text, true));
    },
    /** The ids of `text` with special-token text left as text (no BOS/EOS either). */
    tokenizeText(text) {
      return Array.from(model.tokenize(text, false));
    },
    inputLength(text) {
      return context.calculateInputLength(text);
    },
    bos: model.tokens.bos,
    eos: model.tokens.eos,
    llama,
    async dispose() {
      await context.dispose();
      await model.dispose();
    },
  };
}
