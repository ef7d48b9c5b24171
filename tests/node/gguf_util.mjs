// Test helpers for Node tests: running the native CLI and decoding GGUF bytes independently of the
// engine (header counts, f16, Q8_0 rows), so tests compare against values computed here.
import { spawnSync } from "node:child_process";
import { join } from "node:path";

/** Runs the native CLI; returns {status, stdout, stderr}. */
export function runCli(args, options = {}) {
  const cli = process.env.GGUFEMBED_CLI;
  if (!cli) throw new Error("GGUFEMBED_CLI is not set (the path of the native ggufembed binary)");
  const r = spawnSync(cli, args, { encoding: "utf8", maxBuffer: 1 << 28, ...options });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * Writes the tiny synthetic model of each architecture into `dir` with the native CLI: returns
 * {"gemma-embedding": path, "gemma-embedding2": path}.
 */
export function synthTinyModels(dir) {
  const models = { "gemma-embedding": join(dir, "tiny.gguf"), "gemma-embedding2": join(dir, "eg2-tiny.gguf") };
  for (const [arch, path] of Object.entries(models)) {
    const r = runCli(["synth", "--arch", arch, "--preset", "tiny", "-o", path]);
    if (r.status !== 0) throw new Error(`synth ${arch}: ${r.stderr}`);
  }
  return models;
}

// Little-endian GGUF fields, for files made by hand.
export const u32 = (v) => { const b = Buffer.alloc(4); b.writeUInt32LE(v); return b; };
export const u64 = (v) => { const b = Buffer.alloc(8); b.writeBigUInt64LE(BigInt(v)); return b; };
export const f32 = (v) => { const b = Buffer.alloc(4); b.writeFloatLE(v); return b; };
export const f64 = (v) => { const b = Buffer.alloc(8); b.writeDoubleLE(v); return b; };
/** A GGUF string: its u64 byte length, then its UTF-8 bytes. */
export const str = (s) => Buffer.concat([u64(Buffer.byteLength(s)), Buffer.from(s)]);
/** A GGUF v3 header of `tensors` tensors and `keys` metadata keys. */
export const ggufHeader = (tensors, keys) => Buffer.concat([Buffer.from("GGUF"), u32(3), u64(tensors), u64(keys)]);

/** IEEE half -> number. */
export function f16ToNumber(h) {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** The tensor and key/value counts from a GGUF header. */
export function headerCounts(bytes) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return {
    magic: view.getUint32(0, true),
    version: view.getUint32(4, true),
    nTensors: Number(view.getBigInt64(8, true)),
    nKv: Number(view.getBigInt64(16, true)),
  };
}

/** Row `row` of a Q8_0 tensor of row length `n` starting at `start`: q * d per 32-value block. */
export function dequantizeQ8_0Row(bytes, start, n, row) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const rowBytes = (n / 32) * 34;
  const out = [];
  for (let b = 0; b < n / 32; b++) {
    const at = start + row * rowBytes + b * 34;
    const d = f16ToNumber(view.getUint16(at, true));
    for (let j = 0; j < 32; j++) out.push(Math.fround(view.getInt8(at + 2 + j) * d));
  }
  return out;
}

/** Cosine of two equal-length vectors (computed here, independently of the engine). */
export function cosine(a, b) {
  let ab = 0, aa = 0, bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  return ab / Math.sqrt(aa * bb);
}
