#!/usr/bin/env node
// A/B of two ways to run the npm package in one Node process: two builds of it (copies of
// js/dist), or one build with two `simd` options — both loaded side by side, calls alternated
// A, B, A, B on the same input, and the median of the per-pair time ratios reported, as
// bench/ab-chromium.mjs does in a page. Run it with a Node that computes relaxed SIMD (>= 22, e.g.
// node_modules/.bin/node) to compare the relaxed modules.
//
//   node bench/ab-node.mjs [--a DIST_A] [--b DIST_B] [--simd simd128|relaxed|auto]
//        [--simd-b simd128|relaxed|auto] [--threads 1] [--batch 1] [--model M.gguf] [--rounds 5]
//        [--text short|long|both]
//
// DIST_A and DIST_B default to js/dist. The texts are `ggufembed bench`'s short sentence and
// ~500-token passage (build/ggufembed); with --batch N each call is embedBatch of N copies of the
// text (the threads build spreads them over --threads threads), else embed.
import { spawnSync } from "node:child_process";
import { join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";

const root = fileURLToPath(new URL("..", import.meta.url));
const { values: opts } = parseArgs({
  options: {
    a: { type: "string", default: join(root, "js/dist") }, b: { type: "string", default: join(root, "js/dist") },
    model: { type: "string", default: join(root, "models/embeddinggemma-300m-synthetic-q8_0.gguf") },
    simd: { type: "string", default: "auto" }, "simd-b": { type: "string" },
    threads: { type: "string", default: "1" }, batch: { type: "string", default: "1" },
    rounds: { type: "string", default: "5" }, text: { type: "string", default: "both" },
    cli: { type: "string", default: join(root, "build/ggufembed") },
  },
});
const die = (m) => { process.stderr.write(`ab-node: ${m}\n`); process.exit(2); };
const simdB = opts["simd-b"] ?? opts.simd;
if (![opts.simd, simdB].every((s) => ["simd128", "relaxed", "auto"].includes(s))) {
  die("--simd and --simd-b must be simd128, relaxed or auto");
}
const [rounds, threads, batch] = [opts.rounds, opts.threads, opts.batch].map(Number);
for (const [name, n] of Object.entries({ rounds, threads, batch })) {
  if (!Number.isInteger(n) || n < 1) die(`--${name} must be a positive integer`);
}

const bench = spawnSync(opts.cli, ["bench", "-m", opts.model, "--json", "--runs", "1", "--warmup", "0"],
                        { encoding: "utf8" });
if (bench.status !== 0) die(`${opts.cli} bench failed: ${bench.stderr}`);
if (!["short", "long", "both"].includes(opts.text)) die("--text must be short, long or both");
const texts = JSON.parse(bench.stdout).texts.map((t) => [t.label, t.text])
    .filter(([label]) => opts.text === "both" || label === opts.text);

const load = async (dist, simd) => (await import(pathToFileURL(join(resolve(dist), "index.js")).href))
    .loadEmbedder(opts.model, { threads, simd, quiet: true });
const a = await load(opts.a, opts.simd), b = await load(opts.b, simdB);
const kernels = (e) => `${e.build}${e.relaxedInt32Dot ? " (int32 relaxed dot)" : ""}, ${e.threads} thread(s)`;
console.log(`Node ${process.version}; A: ${kernels(a)}; B: ${kernels(b)}; batch ${batch}`);
const call = async (e, text) => (batch > 1 ? (await e.embedBatch(Array(batch).fill(text)))[0] : await e.embed(text));
const median = (x) => { const s = [...x].sort((p, q) => p - q); return s[s.length >> 1]; };
for (const [label, text] of texts) {
  const va = (await call(a, text)).vector, vb = (await call(b, text)).vector;  // warm-up
  const same = va.length === vb.length && va.every((x, i) => Object.is(x, vb[i]));
  const ta = [], tb = [];
  for (let i = 0; i < rounds; i++) {
    let t = performance.now(); await call(a, text); ta.push(performance.now() - t);
    t = performance.now(); await call(b, text); tb.push(performance.now() - t);
  }
  const ratios = ta.map((x, i) => x / tb[i]);
  console.log(`${label}: A ${median(ta).toFixed(1)} ms, B ${median(tb).toFixed(1)} ms, ` +
              `median A/B ${median(ratios).toFixed(3)} [${ratios.map((r) => r.toFixed(2)).join(" ")}]` +
              `${same ? "" : "  (the vectors differ)"}`);
}
a.dispose();
b.dispose();
process.exit(0);  // the threads build's idle pool
