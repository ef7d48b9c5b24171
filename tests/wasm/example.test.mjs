// The Node example runs against the package and ranks the documents.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

import { runCli } from "../node/gguf_util.mjs";

test("examples/node/embed.mjs", () => {
  const dir = mkdtempSync(join(tmpdir(), "ggufembed-example-"));
  process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
  const model = join(dir, "tiny.gguf");
  assert.equal(runCli(["synth", "-o", model]).status, 0);
  const script = fileURLToPath(new URL("../../examples/node/embed.mjs", import.meta.url));
  const r = spawnSync(process.execPath, [script, model], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split("\n");
  assert.equal(lines[0], "Synthetic EmbeddingGemma tiny: 128 dimensions, 2048-token context");
  const scores = lines.slice(1, 4).map((l) => Number(l.split("  ")[0]));
  assert.deepEqual([...scores].sort((a, b) => b - a), scores);  // ranked
  assert.match(lines[4], /^dim 64: 64 values, \d+ tokens$/);
  const usage = spawnSync(process.execPath, [script], { encoding: "utf8" });
  assert.equal(usage.status, 2);
});
