// Errors and argument checks shared by the engine, the worker and the public API.

// Indexed by the C API's error codes (include/ggufembed/ggufembed_c.h); "aborted" is the JS API's.
export const ERROR_CODES = [
  "ok",
  "invalid_argument",
  "invalid_file",
  "unsupported",
  "io_error",
  "input_too_long",
  "out_of_memory",
  "internal",
  "not_finite",
];

/** Every failure of the engine: `code` names the class, `message` the file, item and offset. */
export class GgufembedError extends Error {
  constructor(code, message) {
    super(message);
    this.name = "GgufembedError";
    this.code = code;
  }
}

export const isNode = typeof process !== "undefined" && process.versions?.node != null;

// An int32 argument of the C API: anything else would be truncated by the wasm call.
export function checkInt32(value, what) {
  if (!Number.isInteger(value) || value < -(2 ** 31) || value > 2 ** 31 - 1) {
    throw new GgufembedError("invalid_argument", `${what} must be a 32-bit integer, got ${value}`);
  }
}

// `options` of `call` must be undefined or a plain object whose keys are all in `known`; returns
// them without those set to null.
export function checkOptionNames(options, known, call) {
  if (options === undefined) return {};
  if (options === null || typeof options !== "object" || Array.isArray(options)) {
    throw new GgufembedError("invalid_argument",
      `${call}: options must be an object, got ${options === null ? "null" : typeof options}`);
  }
  const read = readOptions(options, call);
  for (const key of Object.keys(read)) {
    if (!known.has(key)) {
      throw new GgufembedError("invalid_argument",
        `${call}: unknown option '${key}' (known: ${[...known].join(", ")})`);
    }
  }
  // An option set to null takes its default, as one left out does.
  return Object.fromEntries(Object.entries(read).filter(([, value]) => value !== null));
}

// The own options of the object `options`, refused unless plain (checkPlainObject), each read once
// into a copy without a prototype: a getter or Proxy trap that throws is the caller's error,
// named, and one whose value changes from read to read is seen once.
export function readOptions(options, call) {
  let key;
  try {
    checkPlainObject(options, call);
    const read = Object.create(null);
    for (key of Object.keys(options)) read[key] = options[key];
    return read;
  } catch (e) {
    if (e instanceof GgufembedError) throw e;
    let why;
    try {
      why = e instanceof Error ? e.message : String(e);
    } catch {
      why = "it threw";
    }
    throw new GgufembedError("invalid_argument",
      `${call}: ${key === undefined ? "the options" : `option '${key}'`} cannot be read: ${why}`);
  }
}

// Throws unless the object `options` is a plain one (`{…}`, of any realm, or without a prototype):
// only own properties are options, so a Map's entries or an inherited `dim` were silently ignored.
export function checkPlainObject(options, call) {
  const proto = Object.getPrototypeOf(options);
  if (proto !== null && Object.getPrototypeOf(proto) !== null) {
    // A class's or built-in's prototype owns its constructor; an object made a prototype does not.
    const name = Object.hasOwn(proto, "constructor") ? proto.constructor?.name : undefined;
    const kind = typeof name !== "string" || name === "" ? "an object that inherits from another"
                                                         : `${/^[AEIOU]/.test(name) ? "an" : "a"} ${name}`;
    throw new GgufembedError("invalid_argument", `${call}: options must be a plain object, got ${kind}`);
  }
}

// Throws the "aborted" error when `signal` (an AbortSignal or undefined) has fired.
export function checkAbort(signal, call) {
  if (signal === undefined) return;
  // What the calls use of it: `aborted`, `reason`, and a listener added and removed again.
  if (typeof signal?.aborted !== "boolean" || typeof signal.addEventListener !== "function" ||
      typeof signal.removeEventListener !== "function") {
    throw new GgufembedError("invalid_argument", `${call}: signal must be an AbortSignal`);
  }
  if (signal.aborted) throw abortedError(signal, call);
}

// The most texts one embedBatch call takes: past it an array (a sparse one of length 2^32 - 1, a
// Proxy's) would be walked for minutes before anything is said.
const MAX_BATCH_TEXTS = 1 << 24;

// The texts of `call` copied into a plain array (the caller's may change while the batch runs),
// each read once; throws at the first that is not a string (a hole reads as undefined).
export function copyTexts(texts, call) {
  if (!Array.isArray(texts)) {
    throw new GgufembedError("invalid_argument", `${call} expects an array of strings`);
  }
  const n = texts.length;
  if (n > MAX_BATCH_TEXTS) {
    throw new GgufembedError("invalid_argument",
      `${call}: ${n} texts, more than the ${MAX_BATCH_TEXTS} one call takes (split the batch)`);
  }
  const list = [];
  for (let i = 0; i < n; i++) {
    const text = texts[i];
    if (typeof text !== "string") {
      throw new GgufembedError("invalid_argument", `${call}: text ${i} is not a string`);
    }
    list.push(text);
  }
  return list;
}

// Throws unless `value` (option `key` of `call`) is a boolean, or null/undefined (the default).
export function checkBoolean(value, key, call) {
  if (value != null && typeof value !== "boolean") {
    throw new GgufembedError("invalid_argument", `${call}: ${key} must be a boolean, got ${typeof value}`);
  }
}

// Throws unless `text` is a string that UTF-8 can hold: a lone surrogate (half of a UTF-16 pair)
// has no UTF-8 form, and TextEncoder would silently turn it into U+FFFD. `cString`: it goes to C
// as a NUL-terminated string, so a NUL would silently end it early.
export function checkText(text, what, cString = false) {
  if (typeof text !== "string") {
    throw new GgufembedError("invalid_argument", `${what} must be a string, got ${typeofValue(text)}`);
  }
  const lone = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.exec(text);
  if (lone !== null) {
    throw new GgufembedError("invalid_argument",
      `${what} has a lone surrogate (U+${lone[0].charCodeAt(0).toString(16).toUpperCase()}) at index ` +
      `${lone.index}: not Unicode text, so it has no UTF-8 form`);
  }
  if (cString && text.includes("\0")) {
    throw new GgufembedError("invalid_argument", `${what} holds a NUL character at index ${text.indexOf("\0")}`);
  }
}

// Throws when `source` is a Response whose body was read or a stream something else is reading:
// loading it would fail later with a TypeError of the stream's.
export function checkUnread(source, call) {
  const isResponse = typeof Response !== "undefined" && source instanceof Response;
  if (isResponse && source.bodyUsed) {
    throw new GgufembedError("invalid_argument", `${call}: the Response's body was already read`);
  }
  const stream = isResponse ? source.body
    : typeof ReadableStream !== "undefined" && source instanceof ReadableStream ? source : null;
  if (stream?.locked) {
    throw new GgufembedError("invalid_argument",
      `${call}: the ${isResponse ? "Response's body" : "stream"} is locked (a reader of its own is reading it)`);
  }
}

// A model source given as a string or URL, resolved against the page (relative paths); `name`
// names it in the error when it is no URL at all ("http://", "//").
export function sourceUrl(source, name) {
  try {
    return new URL(source, globalThis.location?.href);
  } catch {
    throw new GgufembedError("invalid_argument", `${name}: not a path or URL`);
  }
}

export const typeofValue = (v) => v === null ? "null" : Array.isArray(v) ? "an array" : typeof v;

// The threads build's pool starts a worker per thread when the module loads (each a JavaScript
// realm and a stack): a limit, so that a wrong number is an error rather than gigabytes of workers.
export const MAX_THREADS = 256;

export function abortedError(signal, call) {
  const reason = signal?.reason;
  const why = reason instanceof Error ? reason.message : reason !== undefined ? String(reason) : "";
  const error = new GgufembedError("aborted", `${call} was aborted${why ? `: ${why}` : ""}`);
  if (reason !== undefined) error.cause = reason;
  return error;
}

// Lets the event loop run (messages such as a cancel, rendering, input) between pieces of work.
// A message round trip is a plain task: unlike setTimeout it has no 4 ms clamp when nested, and
// unlike scheduler.yield() it does not jump ahead of the messages already waiting.
export function yieldToEventLoop() {
  if (isNode) return new Promise((resolve) => setImmediate(resolve));
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();
      resolve();
    };
    channel.port2.postMessage(null);
  });
}
