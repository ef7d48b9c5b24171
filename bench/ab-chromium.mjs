#!/usr/bin/env node
// A/B of two builds of the npm package in one page of headless Chromium: both loaded side by
// side (engine on the page's thread, one thread), calls alternated A, B, A, B on the same text,
// and the median of the per-pair time ratios reported — so a noisy minute hits both alike. On a
// shared machine whose bench rounds disagree by a third, this resolves changes of a few per cent.
//
//   node bench/ab-chromium.mjs --a DIST_A --b DIST_B [--model M.gguf] [--simd simd128|relaxed|auto]
//        [--simd-b simd128|relaxed|auto] [--rounds 7]
//
// DIST_A and DIST_B are copies of js/dist (e.g. `cp -r js/dist /tmp/before`, change, rebuild
// with `cmake --build build-wasm` — all of it: the target js_package alone leaves dist/relaxed/
// as it was — then --a /tmp/before --b js/dist). The
// texts are `ggufembed bench`'s short sentence and ~500-token passage (build/ggufembed). With
// --simd-b, B loads that module instead of --simd's: `--a js/dist --b js/dist --simd simd128
// --simd-b relaxed` compares the two modules of one build (`--simd relaxed --simd-b auto`: the
// relaxed module with and without its int32-dot kernels, on a machine where auto's timing drops them).
import { spawnSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { parseArgs } from "node:util";

import { launchChromium, root, serve } from "../tests/browser/browser_util.mjs";

const { values: opts } = parseArgs({
  options: {
    a: { type: "string" }, b: { type: "string" },
    model: { type: "string", default: join(root, "build/models/300m-q8_0.gguf") },
    simd: { type: "string", default: "simd128" }, "simd-b": { type: "string" },
    rounds: { type: "string", default: "7" },
    cli: { type: "string", default: join(root, "build/ggufembed") },
  },
});
const die = (m) => { process.stderr.write(`ab-chromium: ${m}\n`); process.exit(2); };
if (!opts.a || !opts.b) die("--a DIST_A and --b DIST_B are required (copies of js/dist)");
const simdB = opts["simd-b"] ?? opts.simd;
if (![opts.simd, simdB].every((s) => ["simd128", "relaxed", "auto"].includes(s))) {
  die("--simd and --simd-b must be simd128, relaxed or auto");
}
const rounds = Number(opts.rounds);
if (!Number.isInteger(rounds) || rounds < 1) die("--rounds must be a positive integer");

// Every file of a dist directory under a URL prefix (serve() maps exact paths).
function mapDir(dir, prefix, into, top = dir) {
  for (const name of readdirSync(dir)) {
    const file = join(dir, name);
    if (statSync(file).isDirectory()) mapDir(file, prefix, into, top);
    else into[`${prefix}/${relative(top, file)}`] = file;
  }
  return into;
}
const extra = { "/ab-model.gguf": opts.model,
                "/ab.html": { body: "<!doctype html><title>ab</title>", type: "text/html" } };
mapDir(resolve(opts.a), "/ab-a", extra);
mapDir(resolve(opts.b), "/ab-b", extra);

const bench = spawnSync(opts.cli, ["bench", "-m", opts.model, "--json", "--runs", "1", "--warmup", "0"],
                        { encoding: "utf8" });
if (bench.status !== 0) die(`${opts.cli} bench failed: ${bench.stderr}`);
const texts = JSON.parse(bench.stdout).texts.map((t) => [t.label, t.text]);

const { server, base } = await serve({ extra });
const browser = await launchChromium();
try {
  const page = await browser.newPage();
  await page.goto(`${base}/ab.html`);
  const result = await page.evaluate(async ({ url, simd, simdB, texts, rounds }) => {
    const load = async (d, s) => (await import(`${d}/index.js`)).loadEmbedder(
        url, { worker: false, threads: 1, cache: false, simd: s, quiet: true });
    const a = await load("/ab-a", simd), b = await load("/ab-b", simdB);
    const out = [];
    for (const [label, text] of texts) {
      const va = (await a.embed(text)).vector, vb = (await b.embed(text)).vector;  // warm-up
      const same = va.length === vb.length && va.every((x, i) => Object.is(x, vb[i]));
      const ta = [], tb = [];
      for (let i = 0; i < rounds; i++) {
        let t = performance.now(); await a.embed(text); ta.push(performance.now() - t);
        t = performance.now(); await b.embed(text); tb.push(performance.now() - t);
      }
      out.push({ label, same, ta, tb });
    }
    const kernels = (e) => `${e.build}${e.relaxedInt32Dot ? " (int32 relaxed dot)" : ""}`;
    return { out, builds: `A: ${kernels(a)}, B: ${kernels(b)}` };
  }, { url: `${base}/ab-model.gguf`, simd: opts.simd, simdB, texts, rounds });
  const median = (x) => { const s = [...x].sort((p, q) => p - q); return s[s.length >> 1]; };
  console.log(result.builds);
  for (const { label, same, ta, tb } of result.out) {
    const ratios = ta.map((x, i) => x / tb[i]);
    const which = simdB === opts.simd ? opts.simd : `${opts.simd} vs ${simdB}`;
    console.log(`${which} ${label}: A ${median(ta).toFixed(1)} ms, B ${median(tb).toFixed(1)} ms, ` +
                `median A/B ${median(ratios).toFixed(3)} [${ratios.map((r) => r.toFixed(2)).join(" ")}]` +
                `${same ? "" : "  (the vectors differ)"}`);
  }
} finally {
  await browser.close();
  server.close();
}
