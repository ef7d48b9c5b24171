// The engine in a worker: an Embedder whose calls are messages to worker.js, which runs the
// engine in a module Web Worker (browsers) or a worker_threads Worker (Node), one per model.
// Sources that only this thread can read (streams, Responses) are pumped over on demand.
import { GgufembedError, abortedError, checkAbort, copyTexts, isNode, readOptions, sourceUrl } from "./errors.js";

const WORKER_URL = new URL("./worker.js", import.meta.url);

// The buffer a browser's own stream is pumped in (Connection.addStream).
const PUMP_CHUNK_BYTES = 2 << 20;

// What the worker could not do because it never ran (a page that forbids workers, a missing
// worker.js): index.js then loads on this thread unless the caller asked for a worker.
export class WorkerUnavailable extends GgufembedError {
  constructor(message) {
    super("unsupported", message);
  }
}

// A worker as {post, terminate, ref, unref} that calls onMessage(data) and onFailure(error).
async function startWorker(onMessage, onFailure) {
  if (isNode) {
    const { Worker } = await import("node:worker_threads");
    const worker = new Worker(WORKER_URL);
    worker.on("message", onMessage);
    worker.on("error", onFailure);
    worker.on("exit", (code) => onFailure(new Error(`it exited with code ${code}`)));
    return {
      post: (message, transfer) => worker.postMessage(message, transfer),
      terminate: () => worker.terminate(),
      ref: () => worker.ref(),
      unref: () => worker.unref(),
    };
  }
  if (typeof Worker !== "function") throw new WorkerUnavailable("this runtime has no Worker");
  let worker;
  try {
    worker = new Worker(WORKER_URL, { type: "module", name: "ggufembed" });
  } catch (e) {
    throw new WorkerUnavailable(`cannot start a worker for ${WORKER_URL}: ${e.message}`);
  }
  worker.addEventListener("message", (e) => onMessage(e.data));
  worker.addEventListener("error", (e) => {
    e.preventDefault();
    onFailure(new Error(e.message || `${WORKER_URL} could not be loaded`));
  });
  return {
    post: (message, transfer) => worker.postMessage(message, transfer),
    terminate: () => worker.terminate(),
    ref() {},
    unref() {},
  };
}

// One worker and its calls in flight.
class Connection {
  #worker = null;
  #nextId = 1;
  #calls = new Map();    // id -> {resolve, reject, onProgress}
  #aborts = new Map();   // AbortSignal -> its calls' cancels (#onAbort)
  #streams = new Map();  // stream id -> reader of a source this thread pumps
  #failure = null;
  #started = false;      // the worker answered once: it runs

  async start() {
    this.#worker = await startWorker((m) => this.#receive(m), (e) => this.#fail(e));
    this.#worker.unref();
  }

  // Sends `op` with `args` (and `transfer`); resolves to the worker's result. `signal` cancels:
  // the promise rejects at once and the worker stops at its next turn.
  call(op, args, { onProgress, signal, transfer = [] } = {}) {
    if (this.#failure) return Promise.reject(this.#failure);
    const name = op === "load" ? "loadEmbedder" : op;  // the call as the caller made it
    try {
      checkAbort(signal, name);  // also refuses what is not an AbortSignal
    } catch (e) {
      return Promise.reject(e);
    }
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      const done = signal ? this.#onAbort(signal, id, () => {
        this.#settle(id);
        this.#worker.post({ op: "cancel", target: id });
        reject(abortedError(signal, name));
      }) : () => {};
      this.#calls.set(id, {
        onProgress,
        resolve: (v) => { done(); resolve(v); },
        reject: (e) => { done(); reject(e); },
      });
      this.#worker.ref();  // a call in flight keeps a Node process alive
      try {
        this.#worker.post({ id, op, ...args }, transfer);
      } catch (e) {  // an argument that cannot be cloned, e.g. a function as a text or option
        const options = args.options !== null && typeof args.options === "object" ? args.options : {};
        const key = Object.keys(options).find((k) => typeof options[k] === "function");
        // A text that is no string is refused as the engine refuses it (the clone's message
        // quoted the object, a function's source included).
        const message = "text" in args && typeof args.text !== "string"
          ? `${name} expects a string, got ${typeof args.text}`
          : key !== undefined ? `${name}: option '${key}' is a function, which cannot go to the worker`
          : `${name}: ${e.message}`;
        this.#settle(id)?.reject(new GgufembedError("invalid_argument", message));
      }
    });
  }

  // Runs cancel() when `signal` fires, until the returned function is called. Each signal gets
  // one listener for all of this worker's calls in flight that take it: a listener per call put
  // Node's MaxListenersExceededWarning on a caller's Promise.all of 11 embeds under one signal.
  #onAbort(signal, id, cancel) {
    let pending = this.#aborts.get(signal);
    if (pending === undefined) {
      pending = new Map();  // id -> cancel, in call order
      const listener = () => {
        this.#aborts.delete(signal);
        for (const cancelCall of pending.values()) cancelCall();
      };
      pending.listener = listener;
      this.#aborts.set(signal, pending);
      signal.addEventListener("abort", listener, { once: true });
    }
    pending.set(id, cancel);
    return () => {
      pending.delete(id);
      if (pending.size === 0 && this.#aborts.get(signal) === pending) {
        this.#aborts.delete(signal);
        signal.removeEventListener("abort", pending.listener);
      }
    };
  }

  // A stream this thread reads for the worker, chunk by chunk as it asks (flow-controlled).
  // `own`: the browser's own byte stream (a fetched Response's body), read with a BYOB reader into
  // the buffer the worker hands back with each request, so that no chunk needs a new ArrayBuffer
  // (whose pages the process would fault in: engine.js, chunkReader). Other streams are read with
  // a default reader and each chunk's buffer goes over — moved when the stream made it (a
  // fetch's body, a Blob's stream); `callers`: the caller's own stream, whose chunks may be views
  // of the caller's buffers, goes as copies (moving a buffer empties it for its owner).
  addStream(stream, own = false, callers = false) {
    const id = this.#nextId++;
    let byob;
    if (own && !isNode) {
      try {
        byob = stream.getReader({ mode: "byob" });
      } catch {
        byob = undefined;  // not a byte stream
      }
    }
    const reader = byob ?? stream.getReader();
    this.#streams.set(id, byob === undefined ? { reader, read: () => reader.read(), callers } : {
      reader,
      // The worker's buffer, or a new one while it has none to give back.
      read: (buffer) => byob.read(new Uint8Array(buffer ?? new ArrayBuffer(PUMP_CHUNK_BYTES))),
      recycle: true,
    });
    return id;
  }

  terminate() {
    this.#fail(new GgufembedError("invalid_argument", "this model was disposed"));
    this.#worker?.terminate();
  }

  #settle(id) {
    const call = this.#calls.get(id);
    this.#calls.delete(id);
    if (this.#calls.size === 0) this.#worker.unref();
    return call;
  }

  async #receive(m) {
    this.#started = true;
    if (m.pull !== undefined) {  // the worker wants the next chunk of stream m.pull
      const source = this.#streams.get(m.pull);
      let reply;
      try {
        const { done, value } = await source.read(m.buffer);
        reply = done ? { op: "chunk", stream: m.pull, done: true }
                     : { op: "chunk", stream: m.pull, value, recycle: source.recycle };
      } catch (e) {
        reply = { op: "chunk", stream: m.pull, error: e?.message ?? String(e) };
      }
      if (reply.done || reply.error) this.#streams.delete(m.pull);
      // A chunk's buffer moves to the worker when the stream's own chunk is all of it; the
      // caller's chunks and views of part of a buffer (whose other parts may be other chunks, as
      // in Node's pooled Buffers) go over as copies of their bytes. A chunk of another type goes
      // as it is, for the worker to refuse.
      const value = reply.value;
      let transfer = [];
      if (value instanceof Uint8Array && !source.recycle) {
        const whole = value.byteOffset === 0 && value.byteLength === value.buffer.byteLength &&
                      value.buffer instanceof ArrayBuffer;
        if (source.callers || !whole) {
          reply.value = new Uint8Array(value.buffer.slice(value.byteOffset, value.byteOffset + value.byteLength));
        }
        transfer = [reply.value.buffer];
      } else if (source.recycle && value?.buffer instanceof ArrayBuffer) {
        transfer = [value.buffer];  // the worker's own buffer, back to it
      }
      this.#worker.post(reply, transfer);
      return;
    }
    if (m.progress !== undefined) {
      const call = this.#calls.get(m.id);
      try {
        call?.onProgress?.(m.progress);
      } catch (e) {  // the caller's callback threw: its call fails with that, as on this thread
        this.#settle(m.id);
        this.#worker.post({ op: "cancel", target: m.id });
        call.reject(e);
      }
      return;
    }
    const call = this.#settle(m.id);
    if (call === undefined) return;  // cancelled meanwhile
    if (m.error) call.reject(new GgufembedError(m.error.code, m.error.message));
    else call.resolve(m.result);
  }

  #fail(e) {
    if (this.#failure) return;
    this.#failure = e instanceof GgufembedError ? e
      : this.#started ? new GgufembedError("internal", `the ggufembed worker failed: ${e.message}`)
      : new WorkerUnavailable(`the ggufembed worker did not start: ${e.message}`);
    for (const [id, call] of this.#calls) {
      this.#settle(id);
      call.reject(this.#failure);
    }
    for (const { reader } of this.#streams.values()) reader.cancel().catch(() => {});
    this.#streams.clear();
  }
}

// Options that are an object, read once here (readOptions: one that is not plain is refused, as
// the copy sent would keep only its own properties), to take the signal and progress callback out
// of; anything else as it is, for the worker to refuse as the engine does.
const ownOptions = (v, call) =>
  typeof v !== "object" || v === null || Array.isArray(v) ? v : readOptions(v, call);
const isObject = (v) => typeof v === "object" && v !== null && !Array.isArray(v);

/** An Embedder whose engine runs in a worker; the same API as engine.js's Embedder. */
class RemoteEmbedder {
  #connection;

  constructor(connection, loaded) {
    this.#connection = connection;
    // Frozen as the calling thread's embedder's is (the structured clone is not).
    this.info = Object.freeze({ ...loaded.info, prompts: Object.freeze(loaded.info.prompts),
                                warnings: Object.freeze(loaded.info.warnings) });
    this.threads = loaded.threads;
    this.build = loaded.build;
    this.relaxedInt32Dot = loaded.relaxedInt32Dot;
    this.runsIn = "worker";
    this.kept = loaded.kept;
  }

  // Options that are not an object go to the worker as they are, to be refused there like here.
  async embed(text, options) {
    options = ownOptions(options, "embed");
    if (!isObject(options)) return this.#connection.call("embed", { text, options });
    const { signal, ...rest } = options;
    return this.#connection.call("embed", { text, options: rest }, { signal: signal ?? undefined });
  }

  async embedBatch(texts, options) {
    options = ownOptions(options, "embedBatch");
    const object = isObject(options);
    const { signal, onProgress: given, ...rest } = object ? options : {};
    const onProgress = given ?? undefined;  // null, as left out: none
    if (onProgress !== undefined && typeof onProgress !== "function") {
      throw new GgufembedError("invalid_argument", "embedBatch: onProgress must be a function");
    }
    // A plain copy clones plainly (a frozen or proxied array); texts that are not an array of
    // strings are refused here, after the worker has checked the options with none, as the
    // engine checks them first.
    let list;
    try {
      list = copyTexts(texts, "embedBatch");
    } catch (e) {
      await this.#connection.call("embedBatch", { texts: [], options: object ? rest : options });
      throw e;
    }
    // The worker checks everything else.
    return this.#connection.call("embedBatch", { texts: list, options: object ? rest : options,
                                                 progress: onProgress !== undefined },
                                 { signal: signal ?? undefined, onProgress });
  }

  async tokenize(text, options) {
    options = ownOptions(options, "tokenize");
    return this.#connection.call("tokenize", { text, options });
  }

  dispose() {
    this.#connection.terminate();
  }
}

// A source as the worker can take it: URLs as absolute strings (the worker's base URL is not
// the page's), Blobs and bytes cloned, streams and Responses pumped from here (sent as
// {pumped, stream: id, ...}). `name` names a string that is no URL in the error.
function forWorker(connection, source, name) {
  if (typeof source === "string" && !isNode) return sourceUrl(source, name).href;
  if (source instanceof URL) return source.href;
  if (typeof Response !== "undefined" && source instanceof Response) {
    if (!source.ok) return { pumped: "response", status: source.status };
    const headers = Object.fromEntries(["content-length", "content-encoding", "x-ggufembed-size"]
      .map((h) => [h, source.headers.get(h)]).filter(([, v]) => v !== null));
    // A Response made by a constructor (type "default") may carry any stream of the caller's.
    return { pumped: "response", status: source.status, headers,
             stream: source.body && connection.addStream(source.body, source.type !== "default",
                                                         source.type === "default") };
  }
  if (typeof ReadableStream !== "undefined" && source instanceof ReadableStream) {
    return { pumped: "stream", stream: connection.addStream(source, false, true) };
  }
  // Node's worker_threads cannot clone a Blob: its bytes are pumped like a stream's.
  if (isNode && typeof Blob !== "undefined" && source instanceof Blob) {
    return { pumped: "blob", stream: connection.addStream(source.stream()), size: source.size };
  }
  return source;
}

/** Loads a model into a new worker; rejects with WorkerUnavailable when no worker can run. */
export async function loadInWorker(source, options) {
  const connection = new Connection();
  await connection.start();
  const { onProgress, signal, ...rest } = options;
  try {
    const loaded = await connection.call("load", { source: forWorker(connection, source, rest.name ?? source),
                                                   options: rest,
                                                   progress: onProgress !== undefined },
                                         { onProgress, signal });
    return new RemoteEmbedder(connection, loaded);
  } catch (e) {
    connection.terminate();
    throw e;
  }
}
