// The Node example and the README's JavaScript example run against the package as written.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
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

test("the README's JavaScript example runs as written", () => {
  const dir = mkdtempSync(join(tmpdir(), "ggufembed-readme-"));
  process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
  const model = join(dir, "tiny.gguf");
  assert.equal(runCli(["synth", "--preset", "tiny", "-o", model]).status, 0);
  const readme = readFileSync(fileURLToPath(new URL("../../README.md", import.meta.url)), "utf8");
  const block = readme.match(/This example is run\s+as a test[^]*?```js\n([^]*?)```/);
  assert.ok(block, "the README's npm example");
  // The package by its path instead of its name, the tiny model instead of the real file.
  const index = new URL("../../js/dist/index.js", import.meta.url).href;
  const code = block[1].replace('from "ggufembed"', `from ${JSON.stringify(index)}`)
                       .replace('"embeddinggemma-300M-Q8_0.gguf"', JSON.stringify(model));
  const script = join(dir, "readme.mjs");
  writeFileSync(script, code);
  const r = spawnSync(process.execPath, [script], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split("\n");
  const similarity = Number(lines[0]);
  assert.ok(similarity > -1 && similarity < 1, lines[0]);
  assert.match(r.stdout, /^input_too_long$/m);
  // And as TypeScript, strict, against the package's declarations (node:fs/promises declared
  // here: the project has no @types/node).
  writeFileSync(join(dir, "readme.mts"), code.replace(index, new URL("../../js/dist/index.js", import.meta.url).pathname));
  writeFileSync(join(dir, "node.d.ts"),
                'declare module "node:fs/promises" { export function readFile(path: string): Promise<Uint8Array>; }\n');
  const tsc = fileURLToPath(new URL("../../node_modules/typescript/bin/tsc", import.meta.url));
  const typed = spawnSync(process.execPath, [tsc, "--noEmit", "--strict", "--target", "es2022", "--module", "nodenext",
                                             "--lib", "es2022,dom", join(dir, "readme.mts"), join(dir, "node.d.ts")],
                          { encoding: "utf8" });
  assert.equal(typed.status, 0, typed.stdout + typed.stderr);
});
