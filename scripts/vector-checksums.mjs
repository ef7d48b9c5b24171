// Checksums of the vectors every synthetic model gives on every SIMD target, the scalar reference
// and WebAssembly: a refactoring that must not change a bit is checked by running this before
// and after (`--out before.json`, then `--check before.json`).
//
// Usage: node scripts/vector-checksums.mjs --cli build/ggufembed [--models DIR] [--out F.json]
//        [--check F.json] [--no-wasm]
// Models come from `ggufembed synth` (made in DIR when missing); the wasm rows need js/dist (the
// relaxed-SIMD row js/dist/relaxed/ and Node >= 22). About 16 minutes on 2 cores, most of it the
// scalar reference on the 300M files.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { join, resolve } from "node:path";
import { spawnSync } from "node:child_process";
import { parseArgs } from "node:util";

import { SHORT_TEXTS } from "../tests/node/corpus.mjs";

const { values: opt } = parseArgs({
  options: {
    cli: { type: "string", default: "build/ggufembed" },
    models: { type: "string", default: "build/checksum-models" },
    out: { type: "string" },
    check: { type: "string" },
    "no-wasm": { type: "boolean", default: false },
  },
});
const cli = resolve(opt.cli);
// Long texts cross the sliding window and the 64-token switch of the attention numerics.
const TEXTS = [...SHORT_TEXTS, "Embedding models map text to vectors. ".repeat(12),
  "Long documents bring their own questions. ".repeat(80)];
const MODELS = [];
for (const preset of ["tiny", "300m"]) {
  for (const wtype of ["q8_0", "f16"]) {
    MODELS.push({ name: `${preset}-${wtype}`, args: ["--preset", preset, "--wtype", wtype] });
    MODELS.push({ name: `${preset}-${wtype}-nodense`,
      args: ["--preset", preset, "--wtype", wtype, "--no-dense"] });
  }
}
for (const wtype of ["q8_0", "f16"]) {
  MODELS.push({ name: `eg2-tiny-${wtype}`,
    args: ["--arch", "gemma-embedding2", "--preset", "tiny", "--wtype", wtype] });
}
// Every weight type's kernels: the tiny model in each llama-quantize layout (its rows are too
// short for most K-quant blocks, which fall back to Q5_0/Q5_1/Q8_0), and the 300M in the layouts
// whose matrices are Q4_0, Q4_K and Q6_K.
for (const ftype of ["q4_0", "q4_1", "q5_0", "q5_1", "q4_k_m", "q5_k_m", "q6_k", "bf16", "f32"]) {
  MODELS.push({ name: `tiny-ftype-${ftype}`, args: ["--preset", "tiny", "--ftype", ftype] });
}
for (const ftype of ["q4_0", "q4_k_m", "q6_k"]) {
  MODELS.push({ name: `300m-ftype-${ftype}`, args: ["--preset", "300m", "--ftype", ftype] });
}
const TARGETS = ["best", "avx512vnni", "avx512", "avx2", "scalar", "reference"];

function run(args, env = {}) {
  const r = spawnSync(cli, args, { env: { ...process.env, ...env }, encoding: "utf8",
    maxBuffer: 1 << 30 });
  return r;
}

// sha256 of the vectors as little-endian float32, rows in text order.
function hashRows(rows) {
  const h = createHash("sha256");
  for (const row of rows) h.update(Buffer.from(Float32Array.from(row).buffer));
  return h.digest("hex").slice(0, 16);
}

mkdirSync(opt.models, { recursive: true });
const results = {};
for (const m of MODELS) {
  const path = join(opt.models, `${m.name}.gguf`);
  if (!existsSync(path)) {
    const r = run(["synth", ...m.args, "-o", path]);
    if (r.status !== 0) throw new Error(`synth ${m.name}: ${r.stderr}`);
  }
  results[m.name] = {};
  for (const target of TARGETS) {
    const args = ["embed", "-q", "--truncate", "-m", path, "-f", "raw"];
    const env = {};
    if (target === "reference") args.push("--reference");
    else env.GGUFEMBED_TARGET = target;
    const r = run([...args, "--", ...TEXTS], env);
    if (r.status !== 0) {
      results[m.name][target] = /not available|not compiled/.test(r.stderr) ? "n/a" : "ERROR";
      if (results[m.name][target] === "ERROR") console.error(r.stderr);
      continue;
    }
    const rows = r.stdout.trim().split("\n").map((l) => l.split(" ").map(Number));
    results[m.name][target] = hashRows(rows);
  }
  if (!opt["no-wasm"]) {
    const { loadEmbedder } = await import(resolve("js/dist/index.js"));
    const embedder = await loadEmbedder(path);
    const out = await embedder.embedBatch(TEXTS, { truncate: true });
    embedder.dispose();
    results[m.name].wasm = hashRows(out.map((e) => e.vector));
    // The relaxed-SIMD build where the runtime computes its instruction as specified (run the
    // script with Node >= 22, e.g. node_modules/.bin/node, for this row; Node 20 gives "n/a").
    try {
      const relaxed = await loadEmbedder(path, { simd: "relaxed" });
      const vectors = await relaxed.embedBatch(TEXTS, { truncate: true });
      relaxed.dispose();
      results[m.name]["wasm-relaxed"] = hashRows(vectors.map((e) => e.vector));
    } catch (e) {
      if (e.code !== "unsupported") throw e;
      results[m.name]["wasm-relaxed"] = "n/a";
    }
  }
  console.log(m.name.padEnd(20), Object.entries(results[m.name])
    .map(([k, v]) => `${k}=${v}`).join(" "));
}

const summary = { cpu: cpus()[0].model, texts: TEXTS.length, results };
if (opt.out) writeFileSync(opt.out, JSON.stringify(summary, null, 2) + "\n");
let failed = 0;
for (const [name, row] of Object.entries(results)) {
  const hashes = new Set(Object.values(row).filter((v) => v !== "n/a"));
  if (hashes.size !== 1) {
    console.error(`${name}: targets disagree: ${JSON.stringify(row)}`);
    failed++;
  }
}
if (opt.check) {
  const before = JSON.parse(readFileSync(opt.check, "utf8")).results;
  for (const [name, row] of Object.entries(results)) {
    for (const [target, hash] of Object.entries(row)) {
      const was = before[name]?.[target];
      if (was !== undefined && was !== hash) {
        console.error(`${name} ${target}: ${was} before, ${hash} now`);
        failed++;
      }
    }
  }
  if (!failed) console.log(`all checksums equal those in ${opt.check}`);
}
process.exit(failed ? 1 : 0);
