// The benchmark harness (bench/bench.mjs) on a tiny model with every runtime, Chromium ones
// included: it must run to the end, and the runtimes must agree on the texts (token counts) and
// the vectors, our wasm builds bit for bit in Node and in Chromium. Timings are printed, never
// asserted.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { test } from "node:test";

import { runCli } from "./gguf_util.mjs";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const dir = mkdtempSync(join(tmpdir(), "ggufembed-bench-"));
process.on("exit", () => rmSync(dir, { recursive: true, force: true }));

test("bench.mjs runs every runtime on the same texts and they agree", () => {
  const model = join(dir, "tiny.gguf");
  assert.equal(runCli(["synth", "--preset", "tiny", "-o", model]).status, 0);
  const out = join(dir, "results.json");
  const r = spawnSync(process.execPath, [
    join(root, "bench", "bench.mjs"), "--model", model, "--cli", process.env.GGUFEMBED_CLI,
    "--rounds", "1", "--runs", "1", "--warmup", "0", "--out", out,
  ], { encoding: "utf8", maxBuffer: 1 << 26 });
  assert.equal(r.status, 0, r.stderr);
  process.stdout.write(r.stdout.replace(/^/gm, "# "));
  const report = JSON.parse(readFileSync(out, "utf8"));
  // The default set: everything but the opt-in wllama-compat-chromium; only the relaxed-SIMD
  // runtimes may be left out (no js/dist/relaxed/, or no Node >= 22 for ours-relaxed).
  for (const name of Object.keys(report.not_run)) assert.match(name, /^ours-relaxed/);
  const names = ["ours", "ours-avx2", "llama.cpp", "llama.cpp-haswell", "ours-wasm", "ours-relaxed", "wllama",
                 "ours-wasm-chromium", "ours-relaxed-chromium", "ours-auto-chromium", "wllama-chromium"]
      .filter((name) => !(name in report.not_run));
  assert.deepEqual(Object.keys(report.runtimes), names);
  assert.equal(report.cosine_reference, "llama.cpp");
  // Token counts as the CLI's tokenizer gives them, which llama.cpp's must match.
  const tokens = report.texts.map((t) => JSON.parse(runCli(["tokenize", "-m", model, t]).stdout).length);
  assert.equal(tokens[1], 500);
  for (const name of names) {
    const row = report.runtimes[name];
    assert.deepEqual(row.texts.map((t) => t.tokens), tokens, name);
    for (const t of row.texts) assert.ok(t.median_ms > 0, `${name} ${t.label}`);
    for (const c of row.cosine) assert.ok(c > 0.999, `${name}: cosine ${c} against llama.cpp`);
  }
  assert.ok(report.runtimes["llama.cpp-haswell"].cpu_features.includes("AVX2"));
  assert.ok(!report.runtimes["llama.cpp-haswell"].cpu_features.includes("AVX512"));
  assert.equal(report.runtimes["ours-avx2"].target, "AVX2");
  assert.match(r.stdout, /ggufembed AVX2 \/ llama\.cpp haswell, time: short \d+\.\d+×, long \d+\.\d+×/);

  // Our wasm builds give the same bits in Node and in Chromium (and relaxed SIMD, where it ran).
  const wasm = report.runtimes["ours-wasm"];
  assert.equal(wasm.build, "simd128");
  for (const name of ["ours-relaxed", "ours-wasm-chromium", "ours-relaxed-chromium", "ours-auto-chromium"]
      .filter((n) => n in report.runtimes)) {
    assert.deepEqual(report.runtimes[name].vector_checksums, wasm.vector_checksums, name);
    assert.match(r.stdout, new RegExp(`^- ${name} vs ours-wasm: same bits`, "m"));
    // Chromium computes relaxed SIMD: auto takes it where the package has it.
    const relaxed = name.startsWith("ours-relaxed") ||
                    name === "ours-auto-chromium" && existsSync(join(root, "js/dist/relaxed/ggufembed-relaxed.wasm"));
    assert.equal(report.runtimes[name].build, relaxed ? "relaxed-simd" : "simd128", name);
  }
  // auto reports whether its int32-dot kernels run, as the page's timing found.
  assert.equal(typeof report.runtimes["ours-auto-chromium"].relaxed_int32_dot, "boolean");
  assert.match(report.runtimes["ours-auto-chromium"].detail, /^auto: relaxed-simd(, no int32 relaxed dot \(Q8_0 on SIMD128's kernel, 4- to 6-bit types' int16 form\))?, page thread$/);
  for (const name of ["ours-wasm-chromium", "wllama-chromium"]) {
    const row = report.runtimes[name];
    assert.match(row.browser, /^Chromium \d+/, name);
    assert.ok(row.peak_rss_mb === null || row.peak_rss_mb > 0, `${name}: peak ${row.peak_rss_mb}`);
    assert.ok(row.load_ms > 0, name);
  }
  // Chromium has JSPI and memory64: wllama's default build, as a browser user gets it.
  assert.equal(report.runtimes["wllama-chromium"].build, "default");
  assert.equal(report.runtimes["wllama-chromium"].detail, "default, 1 thread");
  assert.match(r.stdout, /wllama \/ ggufembed wasm SIMD128 in Chromium, time \(speed-up\): short \d+\.\d+×, long \d+\.\d+×/);
  assert.match(r.stdout, /\| ggufembed wasm \(Chromium\) \| SIMD128, page thread \|/);
});

test("a runtime asked for by name that cannot run here is an error naming the reason", () => {
  // Node 20 computes relaxed SIMD's dot product as an old draft did, so ours-relaxed needs a
  // Node >= 22; here it finds none. (Under Node >= 22 the runtime could run: this test is for the
  // Node CTest runs it with, 20, and says so rather than pass having checked nothing.)
  assert.ok(Number(process.versions.node.split(".")[0]) < 22,
            `run under Node 20 (CTest's), not ${process.version}: here ours-relaxed can run`);
  const r = spawnSync(process.execPath, [
    join(root, "bench", "bench.mjs"), "--cli", process.env.GGUFEMBED_CLI, "--runtimes", "ours-wasm,ours-relaxed",
  ], { encoding: "utf8", env: { ...process.env, GGUFEMBED_NODE22: join(dir, "no-such-node") } });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /bench: ours-relaxed is unavailable: (js\/dist\/relaxed\/ is not built|this Node)/);
});
