// The benchmark harness (bench/bench.mjs) on a tiny model with every runtime: it must run to the
// end, and the runtimes must agree on the texts (token counts) and the vectors. Timings are
// printed, never asserted.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
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
  const names = ["ours", "ours-avx2", "llama.cpp", "llama.cpp-haswell", "ours-wasm", "wllama"];
  assert.deepEqual(Object.keys(report.runtimes), names);
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
});
