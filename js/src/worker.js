// The worker side of remote.js: one model per worker; its calls run here and answer by message
// (results transferred, errors as {code, message}). Calls in flight take turns between the
// chunks of a batch; each C call runs whole.
import { GgufembedError, isNode } from "./errors.js";
import { loadEmbedderHere, reportProgressDuringCalls } from "./engine.js";

const port = isNode ? (await import("node:worker_threads")).parentPort : globalThis;
const post = (message, transfer = []) => port.postMessage(message, transfer);
const listen = (handle) => isNode ? port.on("message", handle)
                                  : port.addEventListener("message", (e) => handle(e.data));

let embedder = null;
const running = new Map();  // call id -> AbortController
const chunkWaiters = new Map();  // stream id -> resolve(next chunk message)

// A ReadableStream of what the caller's thread reads from stream `id`, pulled chunk by chunk.
// A chunk marked `recycle` is in the caller's pump buffer (remote.js, addStream), which goes back
// with the next request: by then the engine has copied the chunk into its heap, because it asks
// for a chunk only after it is done with the last (highWaterMark 0: nothing is read ahead), and
// it keeps none (readStreamIntoHeap has no model-cache writer for these sources).
function pulledStream(id) {
  let spare;
  return new ReadableStream({
    async pull(controller) {
      const m = await new Promise((resolve) => {
        chunkWaiters.set(id, resolve);
        post({ pull: id, buffer: spare }, spare ? [spare] : []);
        spare = undefined;
      });
      if (m.error !== undefined) controller.error(new Error(m.error));
      else if (m.done) controller.close();
      else {
        if (m.recycle) spare = m.value.buffer;
        controller.enqueue(m.value);
      }
    },
  }, { highWaterMark: 0 });
}

function sourceFromMessage(source) {
  if (typeof source !== "object" || source === null || !(typeof source.pumped === "string")) return source;
  const stream = source.stream == null ? null : pulledStream(source.stream);
  if (source.pumped === "response") {
    return new Response(stream, { status: source.status, headers: source.headers });
  }
  // A Blob's known size lets the heap buffer be allocated once.
  if (source.pumped === "blob") return new Response(stream, { headers: { "content-length": String(source.size) } });
  return stream;
}

// Progress messages at most every 30 ms, and always the last.
function throttledProgress(id, last) {
  let at = 0;
  return (p) => {
    const now = Date.now();
    if (now - at < 30 && !last(p)) return;
    at = now;
    post({ id, progress: p });
  };
}

async function run(m, signal) {
  if (m.op === "load") {
    const onProgress = m.progress ? throttledProgress(m.id, (p) => p.loaded === p.total) : undefined;
    embedder = await loadEmbedderHere(sourceFromMessage(m.source), { ...m.options, signal, onProgress });
    reportProgressDuringCalls(embedder);  // its batches' callback posts messages: see engine.js
    const { info, threads, build, relaxedInt32Dot, kept } = embedder;
    return { value: { info, threads, build, relaxedInt32Dot, kept } };
  }
  if (embedder === null) throw new GgufembedError("internal", "no model in this worker");
  if (m.op === "embed" || m.op === "embedBatch") {
    const onProgress = m.progress ? throttledProgress(m.id, (p) => p.done === p.total) : undefined;
    // Options that are not an object reach the engine as they are, to be refused as on a thread.
    const plain = m.options === undefined ||
                  typeof m.options === "object" && m.options !== null && !Array.isArray(m.options);
    const options = plain ? { ...m.options, signal, ...(onProgress && { onProgress }) } : m.options;
    const value = m.op === "embed" ? await embedder.embed(m.text, options)
                                   : await embedder.embedBatch(m.texts, options);
    const list = m.op === "embed" ? [value] : value;
    return { value, transfer: list.map((e) => e.vector.buffer) };
  }
  if (m.op === "tokenize") {
    const value = await embedder.tokenize(m.text, m.options);
    return { value, transfer: [value.buffer] };
  }
  throw new GgufembedError("internal", `unknown call ${m.op}`);
}

listen(async (m) => {
  if (m.op === "cancel") {
    running.get(m.target)?.abort(new Error("cancelled by the caller"));
    return;
  }
  if (m.op === "chunk") {
    const resolve = chunkWaiters.get(m.stream);
    chunkWaiters.delete(m.stream);
    resolve?.(m);
    return;
  }
  const controller = new AbortController();
  running.set(m.id, controller);
  try {
    const { value, transfer } = await run(m, controller.signal);
    post({ id: m.id, result: value }, transfer);
  } catch (e) {
    const known = e instanceof GgufembedError;
    post({ id: m.id, error: { code: known ? e.code : "internal", message: known ? e.message : String(e?.message ?? e) } });
  } finally {
    running.delete(m.id);
  }
});
