// The engine compiled to WebAssembly reads GGUF bytes from a buffer exactly like the native build:
// same metadata and tensor table, same dequantized rows; bad input throws and the instance lives on.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";

import { GgufembedError, openGguf } from "../../js/dist/index.js";
import { f32, f64, ggufHeader, runCli, str, u32, u64 } from "../node/gguf_util.mjs";

const dir = mkdtempSync(join(tmpdir(), "ggufembed-wasm-"));
process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
const tiny = join(dir, "tiny.gguf");
const made = runCli(["synth", "--preset", "tiny", "-o", tiny]);
assert.equal(made.status, 0, made.stderr);
const bytes = readFileSync(tiny);

// The CLI's snake_case JSON with every key renamed to camelCase (keys only, never values), the
// names the JS API uses.
function camelKeys(value) {
  if (Array.isArray(value)) return value.map(camelKeys);
  if (value === null || typeof value !== "object") return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) =>
    [k.replace(/_([a-z0-9])/g, (_, c) => c.toUpperCase()), camelKeys(v)]));
}

test("metadata and tensor table equal the native info --json, in camelCase", async () => {
  const gguf = await openGguf(bytes, { name: tiny });
  try {
    const native = JSON.parse(runCli(["info", "--json", tiny]).stdout);
    const info = gguf.info();
    assert.deepEqual(info, camelKeys(native));
    const nativeFull = JSON.parse(runCli(["info", "--json", "--full-arrays", tiny]).stdout);
    assert.deepEqual(gguf.info({ maxArrayItems: 0 }), camelKeys(nativeFull));
    // The renamed fields, with values computed here.
    assert.equal(info.fileSize, bytes.length);
    assert.equal(info.alignment, 32);
    // The data section starts aligned and its last tensor ends within the file's last alignment.
    const end = info.dataOffset + Math.max(...info.tensors.map((t) => t.offset + t.bytes));
    assert.equal(info.dataOffset % 32, 0);
    assert.ok(end <= bytes.length && bytes.length - end < 32, `${end} of ${bytes.length}`);
    const tokens = info.metadata.find((m) => m.key === "tokenizer.ggml.tokens");
    assert.deepEqual({ type: tokens.type, elementType: tokens.elementType, count: tokens.count,
                       values: tokens.values.length }, { type: "arr", elementType: "str", count: 4096, values: 8 });
    for (const entry of [info, ...info.metadata, ...info.tensors]) {
      assert.ok(Object.keys(entry).every((k) => !k.includes("_")), Object.keys(entry).join());
    }
  } finally {
    gguf.close();
  }
});

test("float metadata that is NaN or infinite is that JS number; a string that spells one stays a string", async () => {
  // A GGUF v3 file with no tensors, written here byte by byte.
  const spelled = Buffer.concat([
    ggufHeader(0, 5),
    str("x.nan32"), u32(6), f32(NaN),  // 6: f32
    str("x.inf64"), u32(12), f64(-Infinity),  // 12: f64
    str("x.arr"), u32(9), u32(6), u64(3), f32(Infinity), f32(1.5), f32(NaN),  // 9: array of f32
    str("x.str"), u32(8), str("NaN"),  // 8: string
    str("x.strs"), u32(9), u32(8), u64(1), str("-Infinity"),
  ]);
  const gguf = await openGguf(spelled, { name: "spelled.gguf" });
  try {
    const byKey = Object.fromEntries(gguf.info().metadata.map((m) => [m.key, m]));
    assert.ok(Number.isNaN(byKey["x.nan32"].value) && typeof byKey["x.nan32"].value === "number");
    assert.equal(byKey["x.inf64"].value, -Infinity);
    assert.deepEqual(byKey["x.arr"].values, [Infinity, 1.5, NaN]);
    assert.equal(byKey["x.str"].value, "NaN");
    assert.deepEqual(byKey["x.strs"].values, ["-Infinity"]);
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
