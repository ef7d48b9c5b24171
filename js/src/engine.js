// The engine on the calling thread: GGUF files and models in the module's heap, and the embedder
// whose calls run here (index.js decides between this and a worker; worker.js runs this inside
// one). module.js picks and instantiates the build, load.js reads a model's source into the heap,
// heap.js allocates there.
import { deleteCachedModel } from "./cache.js";
import { GgufembedError, checkAbort, checkBoolean, checkInt32, checkOptionNames, checkText, copyTexts,
  yieldToEventLoop } from "./errors.js";
import { Scratch, adoptBuffer, asBytes, copyIn, heap, heapAlloc, lastError, withCString } from "./heap.js";
import { OPTIONS_LAYOUT } from "./layout.js";
import { loadIntoHeap } from "./load.js";
import { checkSimd, getModule } from "./module.js";

// A float the C side's JSON spells as a string (JSON has no NaN or infinities) as the JS number.
const SPELLED_FLOATS = new Map([["NaN", NaN], ["Infinity", Infinity], ["-Infinity", -Infinity]]);
const floatOf = (type, value) =>
  (type === "f32" || type === "f64") && SPELLED_FLOATS.has(value) ? SPELLED_FLOATS.get(value) : value;

// The C side's info JSON (the CLI's `info --json`) with camelCase names, like the rest of the API.
function ggufInfoFromJson(raw) {
  return {
    file: raw.file,
    version: raw.version,
    fileSize: raw.file_size,
    alignment: raw.alignment,
    dataOffset: raw.data_offset,
    metadata: raw.metadata.map((m) => m.type === "arr"
      ? { key: m.key, type: m.type, elementType: m.element_type, count: m.count,
          values: m.values.map((v) => floatOf(m.element_type, v)) }
      : { key: m.key, type: m.type, value: floatOf(m.type, m.value) }),
    tensors: raw.tensors.map((t) =>
      ({ name: t.name, type: t.type, shape: t.shape, offset: t.offset, bytes: t.bytes })),
  };
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

  info(options) {
    const { maxArrayItems = 8 } = checkOptionNames(options, new Set(["maxArrayItems"]), "info");
    const handle = this.#live();
    if (!Number.isInteger(maxArrayItems) || maxArrayItems < 0 || maxArrayItems > 2 ** 32 - 1) {
      throw new GgufembedError("invalid_argument",
        `maxArrayItems must be an integer from 0 to 2^32-1, got ${maxArrayItems}`);
    }
    const json = this.#mod._ggufembed_gguf_info_json(handle, maxArrayItems) >>> 0;
    if (json === 0) throw lastError(this.#mod);
    return ggufInfoFromJson(JSON.parse(this.#mod.UTF8ToString(json)));
  }

  dequantizeRow(name, row = 0) {
    const handle = this.#live();
    const length = this.#rowLengths.get(name);
    if (length === undefined) {
      throw new GgufembedError("invalid_argument", `no tensor named '${name}'`);
    }
    checkInt32(row, "row");
    checkInt32(length, `the row length of '${name}'`);
    const mod = this.#mod;
    const out = heapAlloc(mod, length * 4, `a row of '${name}'`);
    try {
      const n = withCString(mod, name, (namePtr) =>
        mod._ggufembed_gguf_dequantize_row(handle, namePtr, row, out, length));
      if (n < 0) throw lastError(mod);
      return new Float32Array(heap(mod).HEAPF32.buffer, out, n).slice();
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
export async function openGguf(source, options) {
  options = checkOptionNames(options, new Set(["name", "wasm", "simd"]), "openGguf");
  if (options.name != null) checkText(options.name, "openGguf: name", true);  // a C string
  checkSimd(options.simd, "openGguf");
  const bytes = asBytes(source);
  const mod = await getModule({ ...options, threads: 1 });
  const name = options.name ?? "model.gguf";
  const ptr = copyIn(mod, bytes, `${name}: the file`);
  const handle = adoptBuffer(mod, ptr, bytes.length, name, mod._ggufembed_gguf_open_buffer);
  if (handle === 0) throw lastError(mod);
  return new Gguf(mod, handle);
}

// ---------------------------------------------------------------------------------- embeddings

const POOLING = { none: 0, mean: 1, cls: 2, last: 3 };
const EMBED_OPTIONS = new Set(OPTIONS_LAYOUT.fields.map((f) => f.option));

// Embedders dropped without dispose(): their model's heap memory and a path's file handle go back
// when the collector takes them (Node warns of a file handle it closes, and means to make that
// an error). No call can be running then: a call holds its embedder.
const droppedEmbedders = typeof FinalizationRegistry === "function"
  ? new FinalizationRegistry(({ mod, model, source }) => {
    try {
      source?.close();
      mod._ggufembed_model_free(model);
    } catch {
      // A module that has aborted cannot free anything: nothing to give back.
    }
  })
  : undefined;


// The options of embed/embedBatch: the C options (layout.js) and the JS call's own.
const CALL_OPTIONS = new Set(["signal"]);
const BATCH_OPTIONS = new Set(["signal", "onProgress"]);
const TOKENIZE_OPTIONS = new Set(["addSpecial", "parseSpecial"]);

// Checks the options of `call`; returns {embed: the C options, signal, onProgress, prefixBytes}.
function checkEmbedOptions(mod, options, call, own) {
  const known = new Set([...EMBED_OPTIONS, ...own]);
  const { signal, onProgress, ...embed } = checkOptionNames(options, known, call);
  if (embed.pooling != null && !Object.hasOwn(POOLING, embed.pooling)) {
    throw new GgufembedError("invalid_argument",
      `${call}: pooling '${embed.pooling}' is not one of ${Object.keys(POOLING).join(", ")}`);
  }
  if (embed.dim != null) checkInt32(embed.dim, `${call}: dim`);
  if (embed.threads != null) checkInt32(embed.threads, `${call}: threads`);
  for (const key of ["prompt", "title", "promptText"]) {
    if (embed[key] != null) checkText(embed[key], `${call}: ${key}`, true);  // C strings
  }
  for (const key of ["normalize", "truncate", "parseSpecial"]) checkBoolean(embed[key], key, call);
  // The prefix is tokenized with each text, so it counts toward the text's size.
  let prefixBytes = 0;
  for (const key of ["title", "promptText"]) {
    if (embed[key] == null) continue;
    prefixBytes += mod.lengthBytesUTF8(embed[key]);
    checkTextSize(mod, "", `${call}: ${key}`, undefined, prefixBytes);
  }
  if (onProgress !== undefined && typeof onProgress !== "function") {
    throw new GgufembedError("invalid_argument", `${call}: onProgress must be a function`);
  }
  checkAbort(signal, call);
  return { embed, signal, onProgress, prefixBytes };
}

// The most UTF-8 bytes one text may have here. Tokenizing takes up to 146 bytes of the heap per
// byte of text (16 MiB: 2.3 GiB; where the heap has no room, an out_of_memory error), and 16 MiB
// leaves room for the largest models beside it. `truncate` embeds a text's beginning, but
// tokenizes all of it first.
const MAX_TEXT_BYTES = 16 << 20;

// Refuses a text whose UTF-8 with `prefixBytes` of prompt or title is more than MAX_TEXT_BYTES,
// before anything is encoded or embedded (`call` names it, `index` in a batch; `mod` counts).
function checkTextSize(mod, text, call, index, prefixBytes = 0) {
  // UTF-8 takes at least one byte and at most three per UTF-16 unit: count only when it matters.
  if (text.length * 3 + prefixBytes <= MAX_TEXT_BYTES) return;
  const length = mod.lengthBytesUTF8(text) + prefixBytes;
  if (length > MAX_TEXT_BYTES) {
    const what = index !== undefined ? `text ${index}: the text` : /: /.test(call) ? call : "the text";
    throw new GgufembedError("input_too_long", `${what}${prefixBytes > 0 && text !== "" ? " with its prompt" : ""} ` +
      `is ${length} bytes long, more than the ${MAX_TEXT_BYTES} (16 MiB) a text may have in WebAssembly`);
  }
}

// Text bytes per call of the C API in embedBatch, per thread, at most: a few packed passes.
const BATCH_CHUNK_BYTES = 8192;
// What a text costs in a chunk beyond its bytes and its prompt's: BOS, EOS, a prompt name's
// tokens and its share of a pass, as bytes of text (without it 20,000 empty texts, or 3,000 short
// ones with a long prompt, were one call of seconds that no abort or rendering could interrupt).
const TEXT_COST_BYTES = 64;
// How long one call of the C API in embedBatch aims to take: a chunk holds what the embedder's
// last full chunk (one its budget cut) embedded a thread in that time (BATCH_CHUNK_BYTES at most), so that progress,
// cancellation and (on a page's thread) rendering get a turn about this often whatever the model
// (the 300M model took 7 s for 8 KiB of short texts). Before a chunk is timed,
// FIRST_CHUNK_BYTES a thread. Fewer texts share a pass in smaller chunks (README: chunks of
// 200 ms made a batch of short texts 0.93× as fast as 8 KiB ones, of 500 ms 0.975×).
const BATCH_CHUNK_MS = 500;
const FIRST_CHUNK_BYTES = 512;

// Where the chunk of an embedBatch call that starts at text `start` of `n` ends, and its bytes:
// texts while they come to under `budget` bytes, and at least `minTexts`, each counted with its
// UTF-8 bytes (`bytesOf(i)`, called once per text in order), `prefixBytes` and `textCost`
// (bench/probes/chunk_passes.mjs tries others).
export function chunkEnd(n, start, budget, minTexts, prefixBytes, bytesOf, textCost = TEXT_COST_BYTES) {
  let end = start, bytes = 0;
  while (end < n && (bytes < budget || end - start < minTexts)) {
    bytes += bytesOf(end++) + prefixBytes + textCost;
  }
  return { end, bytes };
}

// Token embedding rows read from a model's Blob (Embedder's #bringRows): rows at most ROW_GAP
// apart are one read (the rows between come along); ROW_READS_AT_ONCE reads are in flight; past
// WHOLE_TABLE_ROWS rows for one call the whole table is read.
const ROW_GAP = 8;
const ROW_READS_AT_ONCE = 64;
const WHOLE_TABLE_ROWS = 1024;

// Writes the options that are set into an initialized ggufembed_options at `opts`, by the one
// table of its fields (layout.js); the others keep ggufembed_options_init's defaults.
function writeOptions(mod, scratch, opts, options) {
  for (const { option, offset, kind } of OPTIONS_LAYOUT.fields) {
    const value = options[option];
    if (value == null) continue;
    const at = (opts + offset) >>> 2;
    // Allocate first, then take the heap's views: an allocation that grows the memory detaches
    // views taken before it (`heap(mod).HEAPU32[at] = scratch.string(value)` would take the view
    // first and write the pointer into the old buffer, losing the option).
    if (kind === "string") {
      const pointer = scratch.string(value);
      heap(mod).HEAPU32[at] = pointer;
    }
    else if (kind === "int") heap(mod).HEAP32[at] = value;
    else if (kind === "bool") heap(mod).HEAP32[at] = value ? 1 : 0;
    else if (kind === "pooling") heap(mod).HEAP32[at] = POOLING[value];
    else throw new GgufembedError("internal", `option ${option} has an unknown kind ${kind}`);
  }
}

// Embedders whose embedBatch reports progress inside each call of the engine too, as its forward
// passes end: those of the package's worker (worker.js), whose callback only posts a message. A
// caller's own callback hears after each chunk instead: it must not run inside a call of the
// module (it could call the module again), and on the caller's thread nothing would see it
// before the call returns anyway.
const progressDuringCalls = new WeakSet();

/** Makes `embedder`'s batches report progress during each call of the engine (worker.js). */
export function reportProgressDuringCalls(embedder) {
  progressDuringCalls.add(embedder);
}

/** A loaded embedding model in the WebAssembly heap, embedding on the calling thread. */
export class Embedder {
  #mod;
  #model;
  // The token embedding rows not yet in the heap, for a model read from a Blob or a Node path
  // (readAroundTable): {source, ptr, begin, end, rowBytes, name} (source: blobRows, fileRows);
  // undefined once every row is in.
  #rows;
  // Text bytes (as chunkEnd counts them) a thread embedded per millisecond in this embedder's last
  // full chunk; undefined before the first chunk.
  #bytesPerMs;

  constructor(mod, model, rows, kept = false) {
    this.#mod = mod;
    this.#model = model;
    this.#rows = rows;
    droppedEmbedders?.register(this, { mod, model, source: rows?.source }, this);
    /** Threads `embedBatch` may use: the threads build's pool, else 1. */
    this.threads = mod.ggufembedPool ?? 1;
    this.runsIn = "thread";
    /** A copy of the model is in the browser's model cache: read from it, or kept by this load. */
    this.kept = kept;
    this.build = mod.ggufembedBuild;
    this.relaxedInt32Dot = mod._ggufembed_relaxed_int32_dot() === 1;  // what the module will do
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
  async embed(text, options) {
    const { embed, signal, prefixBytes } = checkEmbedOptions(this.#mod, options, "embed", CALL_OPTIONS);
    if (typeof text !== "string") {
      throw new GgufembedError("invalid_argument", `embed expects a string, got ${typeof text}`);
    }
    checkText(text, "embed: the text");
    checkTextSize(this.#mod, text, "embed", undefined, prefixBytes);
    this.#checkOptions(embed, "embed");
    return (await this.#embedTexts([text], embed, signal, undefined, "embed", prefixBytes))[0];
  }

  /**
   * Embeds several texts; the results equal one-at-a-time calls. Short texts share forward
   * passes, and with the threads build `threads` passes run at once (default: the pool).
   */
  async embedBatch(texts, options) {
    const { embed, signal, onProgress, prefixBytes } = checkEmbedOptions(this.#mod, options, "embedBatch", BATCH_OPTIONS);
    const list = copyTexts(texts, "embedBatch");
    for (let i = 0; i < list.length; i++) {
      checkText(list[i], `embedBatch: text ${i}`);
      checkTextSize(this.#mod, list[i], "embedBatch", i, prefixBytes);
    }
    // The engine checks the options first (so an empty batch is checked too, and an error of a
    // later call is its texts').
    this.#checkOptions(this.#withThreads(embed), "embedBatch");
    if (list.length === 0) return [];
    return this.#embedTexts(list, embed, signal, onProgress, "embedBatch", prefixBytes);
  }

  // The engine's checks of `options` against this model (a prompt's name, dim, a prompt with a
  // title), by a call with no text: what it finds is the options', named with the call.
  #checkOptions(options, call) {
    this.#live();
    try {
      this.#embedChunk([], options);
    } catch (e) {
      if (e instanceof GgufembedError && !e.message.startsWith(`${call}: `)) e.message = `${call}: ${e.message}`;
      throw e;
    }
  }

  // `options` with the threads build's pool as the default of `threads`.
  #withThreads(options) {
    return options.threads == null && this.threads > 1 ? { ...options, threads: this.threads } : options;
  }

  // The texts in chunks of about BATCH_CHUNK_MS of work (chunkEnd), one C call each, with a turn
  // of the event loop between them. Chunks cut the batch between texts only, and a vector does not
  // depend on the texts it shares a pass with, so the results are those of one call. A text
  // counts with its prompt's `prefixBytes` and TEXT_COST_BYTES, which it costs however short.
  async #embedTexts(texts, options, signal, onProgress, call, prefixBytes) {
    this.#live();
    // The threads build embeds on its whole pool unless told otherwise.
    const threads = options.threads || this.threads;
    // Threads that work at once: the pool's at most (1 in the single-threaded build).
    const lanes = Math.min(threads, this.threads);
    options = this.#withThreads(options);
    const encoder = new TextEncoder();
    const out = [];
    let reported = 0;
    const report = onProgress && ((done) => {
      if (done > reported) onProgress({ done: (reported = done), total: texts.length });
    });
    for (let start = 0; start < texts.length;) {
      const chunk = [];
      const perThread = this.#bytesPerMs === undefined ? FIRST_CHUNK_BYTES : this.#bytesPerMs * BATCH_CHUNK_MS;
      const budget = Math.min(BATCH_CHUNK_BYTES, perThread) * lanes;
      const { bytes } = chunkEnd(texts.length, start, budget, lanes, prefixBytes, (i) => {
        chunk.push(encoder.encode(texts[i]));
        return chunk[chunk.length - 1].length;
      });
      let embedding = false;
      try {
        // Tokenizing to find the rows a model without them needs can run out of memory too.
        if (this.#rows !== undefined) await this.#bringRows(chunk, options, signal, call);
        embedding = true;
        const first = start;
        const during = report && progressDuringCalls.has(this) ? (done) => report(first + done) : undefined;
        const began = performance.now();
        out.push(...this.#embedChunk(chunk, options, during));
        // Timed when the budget cut the chunk (a batch's last texts, or one embed() call, can be
        // far fewer, and a call's own cost then weighs more), or for a first rate. A clock
        // coarsened by the browser may read 0: then twice this budget.
        if (bytes >= budget || this.#bytesPerMs === undefined) {
          const ms = performance.now() - began;
          this.#bytesPerMs = ms > 0 ? bytes / lanes / ms : 2 * Math.max(bytes, budget) / lanes / BATCH_CHUNK_MS;
        }
      } catch (e) {
        // The C API numbers the texts of its call when it has more than one; name them as the
        // caller's (embedBatch checked the options already: an error of a one-text call is its
        // text's, and so is memory running out while tokenizing it for its rows). Errors of
        // reading rows, an abort or a dispose are not a text's.
        if (e instanceof GgufembedError && call === "embedBatch") {
          if (/^text \d+:/.test(e.message)) {
            e.message = e.message.replace(/^text (\d+):/, (_, i) => `text ${Number(i) + start}:`);
          } else if (chunk.length === 1 && (embedding || e.code === "out_of_memory")) {
            e.message = `text ${start}: ${e.message}`;
          }
        }
        throw e;
      }
      start += chunk.length;
      report?.(start);
      if (start < texts.length) {
        await yieldToEventLoop();
        checkAbort(signal, call);
        this.#live();
      }
    }
    return out;
  }

  // The texts and options of a C call, written into `scratch`: {textPtrs, lengths, n, opts}.
  #callArguments(scratch, encoded, options) {
    const mod = this.#mod;
    const n = encoded.length;
    const textPtrs = scratch.alloc(4 * Math.max(n, 1), "the text pointers");
    const lengths = scratch.alloc(4 * Math.max(n, 1), "the text lengths");
    for (let i = 0; i < n; i++) {
      checkInt32(encoded[i].length, `the length of text ${i}`);
      const pointer = scratch.bytes(encoded[i]);  // may grow the memory: then the view
      heap(mod).HEAPU32[(textPtrs >>> 2) + i] = pointer;
      heap(mod).HEAP32[(lengths >>> 2) + i] = encoded[i].length;
    }
    const opts = scratch.alloc(OPTIONS_LAYOUT.size, "the options");
    mod._ggufembed_options_init(opts);
    writeOptions(mod, scratch, opts, options);
    return { textPtrs, lengths, n, opts };
  }

  // #readRows, failing as "this model was disposed" when it was disposed meanwhile (which closes
  // a path's file under the read).
  async #bringRows(encoded, options, signal, call) {
    try {
      await this.#readRows(encoded, options, signal, call);
    } catch (e) {
      this.#live();
      throw e;
    }
  }

  // Reads the token embedding rows these texts need and the heap lacks from the model's Blob,
  // writes them in place and marks them. Rows a few apart are read as one slice; past
  // WHOLE_TABLE_ROWS rows (a large batch) one pass over the whole table is cheaper (in Chromium
  // a slice read costs about 0.6 ms, the table about 2 ms per MB), and then no call asks again.
  async #readRows(encoded, options, signal, call) {
    const mod = this.#mod;
    let ids;
    const scratch = new Scratch(mod);
    try {
      const a = this.#callArguments(scratch, encoded, options);
      for (let capacity = 256; ids === undefined;) {
        const out = scratch.alloc(4 * capacity, "the token ids");
        const n = mod._ggufembed_model_absent_token_rows(this.#live(), a.textPtrs, a.lengths, a.n, a.opts, out, capacity);
        if (n < 0) throw lastError(mod);
        if (n <= capacity) ids = new Int32Array(heap(mod).HEAP32.buffer, out, n).slice();
        capacity = n;
      }
    } finally {
      scratch.free();
    }
    if (ids.length === 0) return;
    const rows = this.#rows;
    await rows.source.check();
    if (ids.length > WHOLE_TABLE_ROWS) {
      // Written as it comes in, each piece after checking that the model is still there.
      await rows.source.readInto(rows.begin, rows.end, () => { this.#live(); return rows.ptr; }, signal, call);
      const all = Int32Array.from({ length: (rows.end - rows.begin) / rows.rowBytes }, (_, i) => i);
      const marks = new Scratch(mod);
      try {
        const marked = marks.alloc(4 * all.length, "the token ids");
        heap(mod).HEAP32.set(all, marked >>> 2);
        if (mod._ggufembed_model_mark_token_rows(this.#live(), marked, all.length) < 0) throw lastError(mod);
      } finally {
        marks.free();
      }
      this.#rows = undefined;
      rows.source.close();
      return;
    }
    const spans = [];  // [first id, last id]
    for (const id of ids) {
      const last = spans[spans.length - 1];
      if (last !== undefined && id - last[1] <= ROW_GAP) last[1] = id;
      else spans.push([id, id]);
    }
    // Read first, write after: the model may be disposed (and its buffer freed) while we wait.
    const pieces = [];
    for (let k = 0; k < spans.length; k += ROW_READS_AT_ONCE) {
      pieces.push(...await Promise.all(spans.slice(k, k + ROW_READS_AT_ONCE).map(async ([first, last]) => {
        const from = rows.begin + first * rows.rowBytes, to = rows.begin + (last + 1) * rows.rowBytes;
        try {
          return [from, await rows.source.read(from, to)];
        } catch (e) {
          throw new GgufembedError("io_error", `${rows.name}: cannot read token embeddings [${from}, ${to}): ${e.message}`);
        }
      })));
      checkAbort(signal, call);
    }
    const model = this.#live();
    if (this.#rows === undefined) return;  // another call read the whole table meanwhile
    const marks = new Scratch(mod);
    try {
      let count = 0;
      for (const [from, bytes] of pieces) {
        if (bytes.length !== 0 && bytes.length % rows.rowBytes === 0) count += bytes.length / rows.rowBytes;
      }
      const marked = marks.alloc(4 * Math.max(count, 1), "the token ids");
      const view = heap(mod);
      let at = marked >>> 2;
      for (const [from, bytes] of pieces) {
        if (bytes.length === 0 || bytes.length % rows.rowBytes !== 0) {
          throw new GgufembedError("io_error", `${rows.name}: token embeddings at offset ${from} ended early (the file changed?)`);
        }
        view.HEAPU8.set(bytes, rows.ptr + from);
        const first = (from - rows.begin) / rows.rowBytes;
        for (let r = 0; r < bytes.length / rows.rowBytes; r++) view.HEAP32[at++] = first + r;
      }
      if (mod._ggufembed_model_mark_token_rows(model, marked, count) < 0) throw lastError(mod);
    } finally {
      marks.free();
    }
  }

  // Embeds the encoded texts in one call of the engine; `during(done)`, if given, hears inside the
  // call how many of them are done as its passes end (an error it throws fails the chunk after
  // the call: none may unwind through the module's frames).
  #embedChunk(encoded, options, during) {
    const model = this.#live();
    const mod = this.#mod;
    const scratch = new Scratch(mod);
    let result = 0;
    try {
      const { textPtrs, lengths, n, opts } = this.#callArguments(scratch, encoded, options);
      let thrown;
      const callback = during ? mod._ggufembed_wasm_progress_callback() : 0;
      mod.ggufembedProgress = during && ((done) => {
        try {
          if (thrown === undefined) during(done);
        } catch (e) {
          thrown = { e };
        }
      });
      try {
        result = mod._ggufembed_embed_with_progress(model, textPtrs, lengths, n, opts, callback, 0) >>> 0;
      } finally {
        mod.ggufembedProgress = undefined;
      }
      if (thrown !== undefined) throw thrown.e;
      if (result === 0) throw lastError(mod);
      const out = [];
      for (let i = 0; i < n; i++) {
        const rows = mod._ggufembed_result_rows(result, i);
        const dim = mod._ggufembed_result_dim(result, i);
        const values = mod._ggufembed_result_values(result, i) >>> 0;
        out.push({
          vector: new Float32Array(heap(mod).HEAPF32.buffer, values, rows * dim).slice(),
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
  async tokenize(text, options) {
    const checked = checkOptionNames(options, TOKENIZE_OPTIONS, "tokenize");
    for (const key of TOKENIZE_OPTIONS) checkBoolean(checked[key], key, "tokenize");
    // null is the default, as in embed.
    const addSpecial = checked.addSpecial ?? true, parseSpecial = checked.parseSpecial ?? true;
    if (typeof text !== "string") {
      throw new GgufembedError("invalid_argument", `tokenize expects a string, got ${typeof text}`);
    }
    checkText(text, "tokenize: the text");
    checkTextSize(this.#mod, text, "tokenize");
    const model = this.#live();
    const mod = this.#mod;
    const scratch = new Scratch(mod);
    try {
      const bytes = new TextEncoder().encode(text);
      const textPtr = scratch.bytes(bytes);
      let capacity = bytes.length + 8;
      for (;;) {
        const out = scratch.alloc(4 * capacity, "the token ids");
        const n = mod._ggufembed_tokenize(model, textPtr, bytes.length, addSpecial ? 1 : 0,
                                          parseSpecial ? 1 : 0, out, capacity);
        if (n < 0) throw lastError(mod);
        if (n <= capacity) return new Int32Array(heap(mod).HEAP32.buffer, out, n).slice();
        capacity = n;
      }
    } finally {
      scratch.free();
    }
  }

  /** Frees the model; the object is unusable afterwards. */
  dispose() {
    droppedEmbedders?.unregister(this);
    if (this.#model !== 0) this.#mod._ggufembed_model_free(this.#model);
    this.#model = 0;
    this.#rows?.source.close();
    this.#rows = undefined;
  }
}

// The loadEmbedder options this thread's engine reads (index.js checks them all).
export const LOAD_OPTIONS = new Set(["wasm", "name", "onProgress", "quiet", "threads", "simd",
                                     "cache", "signal", "worker"]);

/** Loads a model into this thread's engine (index.js's loadEmbedder documents the options). */
export async function loadEmbedderHere(source, options) {
  const mod = await getModule(options);
  const name = options.name ?? sourceName(source);
  const loaded = await loadIntoHeap(mod, source, name, options);
  const rows = loaded.rows;
  let model = 0;
  try {
    model = adoptBuffer(mod, loaded.ptr, loaded.size, name, rows === undefined
      ? mod._ggufembed_model_load_buffer
      : (ptr, size, namePtr) => mod._ggufembed_model_load_buffer_lazy(ptr, size, namePtr, rows.begin, rows.end));
  } finally {
    if (model === 0) rows?.source.close();
  }
  if (model === 0) {
    const error = lastError(mod);
    // A copy that is not a model is not kept: one written by this load whatever the failure, one
    // read back from the cache when its bytes are not a model (not when, say, memory ran out).
    if (loaded.keptAs && (!loaded.readBack || error.code === "invalid_file")) {
      await deleteCachedModel(loaded.keptAs).catch(() => {});
    }
    throw error;
  }
  const embedder = new Embedder(mod, model, rows, loaded.keptAs !== undefined);
  if (!options.quiet) for (const w of embedder.info.warnings) console.warn(`ggufembed: ${w}`);
  return embedder;
}

/** How messages name a model source by default. */
export function sourceName(source) {
  return typeof source === "string" ? source
       : source instanceof URL ? source.href
       : typeof File !== "undefined" && source instanceof File ? source.name
       : typeof Response !== "undefined" && source instanceof Response && source.url ? source.url
       : "model.gguf";
}

/** Cosine similarity of two vectors. */
export function cosineSimilarity(a, b) {
  for (const [v, which] of [[a, "a"], [b, "b"]]) {
    if (typeof v !== "object" || v === null || typeof v.length !== "number") {
      throw new GgufembedError("invalid_argument", `cosineSimilarity: ${which} must be an array of numbers`);
    }
  }
  if (a.length !== b.length) {
    throw new GgufembedError("invalid_argument", `vectors of length ${a.length} and ${b.length}`);
  }
  const sums = (scaleA, scaleB) => {
    let ab = 0, aa = 0, bb = 0;
    for (let i = 0; i < a.length; i++) {
      const x = a[i] / scaleA, y = b[i] / scaleB;
      ab += x * y;
      aa += x * x;
      bb += y * y;
    }
    return aa > 0 && bb > 0 ? ab / Math.sqrt(aa * bb) : 0;
  };
  let maxA = 0, maxB = 0;
  for (let i = 0; i < a.length; i++) {
    if (typeof a[i] !== "number" || typeof b[i] !== "number" || !Number.isFinite(a[i] + b[i])) {
      throw new GgufembedError("invalid_argument", `cosineSimilarity: value ${i} is not a finite number in both vectors`);
    }
    maxA = Math.max(maxA, Math.abs(a[i]));
    maxB = Math.max(maxB, Math.abs(b[i]));
  }
  const cosine = sums(1, 1);
  // Squares that overflow (1e200) or vanish (1e-200): again, divided by the largest magnitudes.
  return Number.isFinite(cosine) && (cosine !== 0 || maxA === 0 || maxB === 0) ? cosine : sums(maxA, maxB);
}
