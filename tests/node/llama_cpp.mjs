// llama.cpp as a reference peer, through node-llama-cpp's prebuilt binaries: offline, CPU only.
import { getLlama, LlamaLogLevel } from "node-llama-cpp";

process.env.NODE_LLAMA_CPP_SKIP_DOWNLOAD ??= "true";
process.env.NODE_LLAMA_CPP_GPU ??= "false";

let llamaPromise;
/** The llama.cpp instance (loaded once): no GPU, never builds from source, quiet logs. */
export function loadLlama() {
  llamaPromise ??= getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error });
  return llamaPromise;
}

/**
 * Opens `modelPath` in llama.cpp with a single-threaded embedding context whose batch holds a
 * whole 2048-token input (the model is non-causal: one sequence must fit in one ubatch).
 * Returns {embed(text) -> Float32Array (raw pooled vector), tokenize(text) -> ids, dispose()}.
 */
export async function openLlamaCppModel(modelPath, { threads = 1, contextSize = 2048 } = {}) {
  const llama = await loadLlama();
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
    async dispose() {
      await context.dispose();
      await model.dispose();
    },
  };
}
