#!/usr/bin/env node
// The corpus benchmark: a mixed corpus (mostly 10–40-token sentences, some 100–500-token
// paragraphs) embedded end to end, as texts/s and tokens/s, side by side in one run:
//   ours, 1 thread, every text alone (the engine before packing)
//   ours, 1 thread, packed; ours, N threads, packed          (ggufembed embed --input-format jsonl)
//   llama.cpp (node-llama-cpp 3.22.1), 1 and N threads       (its embedding context, one text
//                                                             per decode: it has no batch call)
//   ours wasm (Node), 1 and N threads, packed                 (the npm package's embedBatch:
//                                                             its single and threads builds)
// plus the short sentences alone, unpacked against packed at several token budgets.
//
//   node bench/corpus.mjs [--model M.gguf] [--texts 2000] [--threads N] [--skip llama.cpp,wasm]
//                         [--out results.json]
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

import { loadEmbedder } from "../js/dist/index.js";
import { openLlamaCppModel } from "../tests/node/llama_cpp.mjs";
import { makeCorpus } from "./corpus_texts.mjs";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const { values: opts } = parseArgs({
  options: {
    model: { type: "string", default: join(ROOT, "build", "models", "300m-q8_0.gguf") },
    texts: { type: "string", default: "2000" },
    threads: { type: "string", default: String(cpus().length) },
    skip: { type: "string", default: "" },
    cli: { type: "string", default: join(ROOT, "build", "ggufembed") },
    out: { type: "string" },
  },
});
const N = Number(opts.threads), COUNT = Number(opts.texts);
const skip = new Set(opts.skip.split(",").filter(Boolean));
const dir = mkdtempSync(join(tmpdir(), "ggufembed-corpus-bench-"));
process.on("exit", () => rmSync(dir, { recursive: true, force: true }));

// Runs the CLI under /usr/bin/time for its peak RSS (the mapped model's touched pages included).
function runCli(args, input) {
  const t0 = performance.now();
  const r = spawnSync("/usr/bin/time", ["-f", "peak_rss_kb=%M", opts.cli, ...args],
                      { maxBuffer: 1 << 30, encoding: "utf8", input });
  const seconds = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`${args.join(" ")}: ${r.stderr}`);
  const lines = r.stdout.trim().split("\n").map((l) => JSON.parse(l));
  const rss = Number(/peak_rss_kb=(\d+)/.exec(r.stderr)[1]) / 1024;
  return { seconds, tokens: lines.reduce((s, l) => s + l.tokens, 0), vectors: lines,
           peak_rss_mb: +rss.toFixed(1) };
}

const rows = [];
function record(label, texts, seconds, tokens, extra = {}) {
  const row = { label, texts: texts.length, seconds, texts_per_s: texts.length / seconds,
                tokens, tokens_per_s: tokens / seconds, ...extra };
  rows.push(row);
  process.stderr.write(`corpus: ${label}: ${row.texts_per_s.toFixed(1)} texts/s ` +
                       `(${seconds.toFixed(1)} s, load ${loadavg()[0].toFixed(2)})\n`);
  return row;
}

const corpus = makeCorpus(COUNT);
const short = corpus.filter((t) => !t.paragraph);
const jsonl = (texts) => texts.map((t) => JSON.stringify({ id: t.id, text: t.text })).join("\n");
const loadBefore = loadavg();
const ours = (texts, threads, pack) => runCli(
  ["embed", "-q", "-m", opts.model, "--input-format", "jsonl", "--threads", String(threads),
   "--pack-tokens", String(pack)], jsonl(texts));

// The short sentences: unpacked against packed budgets (1 thread).
const shortAlone = ours(short, 1, 0);
record("short sentences: ours, 1 thread, alone", short, shortAlone.seconds, shortAlone.tokens,
       { peak_rss_mb: shortAlone.peak_rss_mb });
for (const pack of [64, 128, 256, 512, 1024]) {
  const r = ours(short, 1, pack);
  record(`short sentences: ours, 1 thread, packed ≤ ${pack}`, short, r.seconds, r.tokens,
         { pack, peak_rss_mb: r.peak_rss_mb });
}

// The whole corpus.
const alone = ours(corpus, 1, 0);
record("corpus: ours, 1 thread, alone", corpus, alone.seconds, alone.tokens,
       { peak_rss_mb: alone.peak_rss_mb });
const packed = ours(corpus, 1, 256);
record("corpus: ours, 1 thread, packed", corpus, packed.seconds, packed.tokens,
       { peak_rss_mb: packed.peak_rss_mb });
const threaded = ours(corpus, N, 256);
record(`corpus: ours, ${N} threads, packed`, corpus, threaded.seconds, threaded.tokens,
       { peak_rss_mb: threaded.peak_rss_mb });
for (let i = 0; i < corpus.length; i++) {  // packing and threads change no bit
  if (JSON.stringify(threaded.vectors[i]) !== JSON.stringify(alone.vectors[i])) {
    throw new Error(`record ${i}: packed/threaded vector differs from alone`);
  }
}

if (!skip.has("llama.cpp")) {
  for (const threads of [1, N]) {
    const model = await openLlamaCppModel(opts.model, { threads });
    const t0 = performance.now();
    let tokens = 0;
    for (const t of corpus) {
      await model.embed(t.text);
      tokens += model.inputLength(t.text);
    }
    record(`corpus: llama.cpp, ${threads} thread${threads > 1 ? "s" : ""}`, corpus,
           (performance.now() - t0) / 1000, tokens);
    await model.dispose();
  }
}

if (!skip.has("wasm")) {
  for (const threads of [1, N]) {  // the single-threaded build, then the threads build
    const embedder = await loadEmbedder(opts.model, { quiet: true, threads });
    const t0 = performance.now();
    const results = await embedder.embedBatch(corpus.map((t) => t.text));
    record(`corpus: ours wasm (Node), ${threads} thread${threads > 1 ? "s" : ""}, packed`, corpus,
           (performance.now() - t0) / 1000, results.reduce((s, r) => s + r.tokens, 0));
    embedder.dispose();
  }
}

const commit = spawnSync("git", ["rev-parse", "--short", "HEAD"], { cwd: ROOT, encoding: "utf8" })
  .stdout.trim();
const get = (label) => rows.find((r) => r.label === label);
const bestShort = rows.filter((r) => r.pack).sort((a, b) => b.texts_per_s - a.texts_per_s)[0];
const ratios = {
  packing_short: bestShort.texts_per_s / get("short sentences: ours, 1 thread, alone").texts_per_s,
  packing_256_short: get("short sentences: ours, 1 thread, packed ≤ 256").texts_per_s /
                     get("short sentences: ours, 1 thread, alone").texts_per_s,
  threads: get(`corpus: ours, ${N} threads, packed`).texts_per_s /
           get("corpus: ours, 1 thread, packed").texts_per_s,
};
const llamaN = get(`corpus: llama.cpp, ${N} threads`);
if (llamaN) ratios.ours_vs_llama_cpp = get(`corpus: ours, ${N} threads, packed`).texts_per_s / llamaN.texts_per_s;
const report = {
  model: opts.model, file_mb: +(statSync(opts.model).size / 1e6).toFixed(1), commit,
  date: new Date().toISOString(), cpu: cpus()[0].model, cores: cpus().length, threads: N,
  node: process.version, loadavg_before: loadBefore, loadavg_after: loadavg(),
  corpus: { texts: corpus.length, short: short.length, tokens: alone.tokens,
            short_tokens: shortAlone.tokens },
  rows, ratios,
};
if (opts.out) writeFileSync(opts.out, JSON.stringify(report, null, 1) + "\n");

const f = (x, d = 1) => x.toFixed(d);
console.log(`Corpus: ${corpus.length} texts (${short.length} sentences, ${corpus.length - short.length} paragraphs), ` +
            `${alone.tokens} tokens; model ${opts.model} (${report.file_mb} MB); commit ${commit}; ` +
            `${report.cpu}, ${report.cores} cores; Node ${process.version}; load average ` +
            `${loadBefore.map((x) => f(x, 2)).join(" ")} before, ${report.loadavg_after.map((x) => f(x, 2)).join(" ")} after\n`);
console.log("| run | texts | seconds | texts/s | tokens/s | peak RSS MB |\n|---|---:|---:|---:|---:|---:|");
for (const r of rows) {
  console.log(`| ${r.label} | ${r.texts} | ${f(r.seconds)} | ${f(r.texts_per_s)} | ` +
              `${f(r.tokens_per_s, 0)} | ${r.peak_rss_mb ?? ""} |`);
}
console.log(`\n- packing, short sentences: ${f(ratios.packing_short, 2)}× at the best budget ` +
            `(≤ ${bestShort.pack}), ${f(ratios.packing_256_short, 2)}× at the default 256 (target ≥ 1.5)`);
console.log(`- ${N} threads / 1 thread, packed: ${f(ratios.threads, 2)}× (target ≥ 1.8)`);
if (ratios.ours_vs_llama_cpp) {
  console.log(`- ours / llama.cpp at ${N} threads, texts/s: ${f(ratios.ours_vs_llama_cpp, 2)}× (target ≥ 2)`);
}
