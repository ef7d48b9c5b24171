// The engine compiled to WebAssembly reads GGUF bytes from a buffer exactly like the native build:
// same metadata and tensor table, same dequantized rows; bad input throws and the instance lives on.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";

import { GgufembedError, openGguf } from "../../js/dist/index.js";
import { runCli } from "../node/gguf_util.mjs";

const dir = mkdtempSync(join(tmpdir(), "ggufembed-wasm-"));
process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
const tiny = join(dir, "tiny.gguf");
const made = runCli(["synth", "--preset", "tiny", "-o", tiny]);
assert.equal(made.status, 0, made.stderr);
const bytes = readFileSync(tiny);

test("metadata and tensor table equal the native info --json", async () => {
  const gguf = await openGguf(bytes, { name: tiny });
  try {
    const native = JSON.parse(runCli(["info", "--json", tiny]).stdout);
    assert.deepEqual(gguf.info(), native);
    const nativeFull = JSON.parse(runCli(["info", "--json", "--full-arrays", tiny]).stdout);
    assert.deepEqual(gguf.info({ maxArrayItems: 0 }), nativeFull);
  } finally {
    gguf.close();
  }
});

test("dequantized rows equal the native ones bit for bit", async () => {
  const gguf = await openGguf(bytes, { name: tiny });
  try {
    for (const [name, row] of [["token_embd.weight", 3], ["blk.0.attn_q_norm.weight", 0],
                               ["dense_3.weight", 127], ["blk.6.ffn_down.weight", 5]]) {
      const native = JSON.parse(runCli(["tensor", tiny, name, "--row", String(row)]).stdout);
      const wasm = gguf.dequantizeRow(name, row);
      assert.ok(wasm instanceof Float32Array);
      assert.deepEqual(Array.from(wasm), native.map(Math.fround), `${name} row ${row}`);
    }
  } finally {
    gguf.close();
  }
});

test("bad input throws GgufembedError and the instance stays usable", async () => {
  await assert.rejects(openGguf(new TextEncoder().encode("GGML not a gguf"), { name: "x.gguf" }),
    (e) => e instanceof GgufembedError && e.code === "invalid_file" &&
      e.message === "x.gguf: not a GGUF file: offset 0: magic is 'GGML' (0x47474d4c), expected 'GGUF'");
  await assert.rejects(openGguf(bytes.subarray(0, 5000), { name: "cut.gguf" }),
    (e) => e.code === "invalid_file" && /^cut\.gguf: offset \d+: /.test(e.message));
  await assert.rejects(openGguf("not bytes"), (e) => e.code === "invalid_argument");
  const gguf = await openGguf(bytes, { name: tiny });
  assert.throws(() => gguf.dequantizeRow("token_embd.weight", 4096),
    (e) => e.code === "invalid_argument" &&
      e.message === "tensor 'token_embd.weight' has 4096 rows; row 4096 does not exist");
  assert.throws(() => gguf.dequantizeRow("nope"), (e) => e.code === "invalid_argument");
  // Numbers the wasm call would wrap to an int32 (2^32 + 1 -> row 1) are refused.
  assert.throws(() => gguf.dequantizeRow("token_embd.weight", 2 ** 32 + 1), (e) =>
    e.code === "invalid_argument" && e.message === "row must be a 32-bit integer, got 4294967297");
  assert.throws(() => gguf.info({ maxArrayItems: -1 }), (e) => e.code === "invalid_argument");
  assert.equal(gguf.dequantizeRow("token_embd.weight", 1).length, 128);
  gguf.close();
  assert.throws(() => gguf.info(), (e) => e.code === "invalid_argument");
});
