#!/usr/bin/env node
// Makes the relaxed-SIMD module from a linked SIMD128 one: every call of the stand-ins
// ggufembed_relaxed_dot_i8x16_i7x16_add and ggufembed_relaxed_dot_i8x16_i7x16
// (src/kernels/relaxed_dot.h) becomes the instruction i32x4.relaxed_dot_i8x16_i7x16_add_s or
// i16x8.relaxed_dot_i8x16_i7x16_s, with npm's binaryen (a dev dependency).
//
//   node wasm/relaxed_simd.mjs IN.wasm OUT.wasm [IN.js OUT.js]
//
// Why a rewrite after linking: Debian's emscripten 3.1.6 (clang 14) has no intrinsic for the
// instructions, and the modules Debian's clang 19 and 22 emit with them do not validate in V8 (a
// stray `drop` after its first operand). The stand-ins are exported, so they survive linking
// whole; emscripten minifies export names, so each is found as the one exported function of its
// type: (v128, v128, v128) -> v128 and (v128, v128) -> v128. The rewrite goes through binaryen's
// text form, where each call is one folded expression `(call $f a b [c])` whose operands stay in
// place. With IN.js/OUT.js, emscripten's loader is copied with the .wasm file name it asks for
// changed to OUT.wasm's.
import { readFileSync, writeFileSync } from "node:fs";
import { basename } from "node:path";

import binaryen from "binaryen";

// Each stand-in by its number of v128 operands, and its instruction.
const STAND_INS = [
  { name: "ggufembed_relaxed_dot_i8x16_i7x16_add", operands: 3,
    instruction: "i32x4.relaxed_dot_i8x16_i7x16_add_s" },
  { name: "ggufembed_relaxed_dot_i8x16_i7x16", operands: 2,
    instruction: "i16x8.relaxed_dot_i8x16_i7x16_s" },
];

function fail(message) {
  process.stderr.write(`relaxed_simd: ${message}\n`);
  process.exit(1);
}

const [inWasm, outWasm, inJs, outJs] = process.argv.slice(2);
if (!inWasm || !outWasm || (inJs && !outJs)) fail("usage: relaxed_simd.mjs IN.wasm OUT.wasm [IN.js OUT.js]");

// What emscripten 3.1.6 emits (SIMD128, exception handling in the single-threaded build; atomics
// and bulk memory in the threads build) plus the relaxed instructions: a module using anything
// else fails validation here instead of loading somewhere with features it never asked for.
// binaryen counts memory.copy and memory.fill apart (BulkMemoryOpt) and asserts that bulk memory
// includes them.
const FEATURES = binaryen.Features.MVP | binaryen.Features.SIMD128 | binaryen.Features.SignExt |
    binaryen.Features.MutableGlobals | binaryen.Features.BulkMemory | binaryen.Features.BulkMemoryOpt |
    binaryen.Features.Atomics | binaryen.Features.NontrappingFPToInt | binaryen.Features.RelaxedSIMD |
    binaryen.Features.ExceptionHandling;

const input = binaryen.readBinary(readFileSync(inWasm));
input.setFeatures(FEATURES);
// The number of v128 operands of a function (v128, ...) -> v128, else 0.
const v128Operands = (name) => {
  const f = binaryen.getFunctionInfo(input.getFunction(name));
  const params = binaryen.expandType(f.params), results = binaryen.expandType(f.results);
  const allV128 = params.every((t) => t === binaryen.v128);
  return allV128 && results.length === 1 && results[0] === binaryen.v128 ? params.length : 0;
};
const exported = [];
for (let i = 0; i < input.getNumExports(); i++) {
  const e = binaryen.getExportInfo(input.getExportByIndex(i));
  if (e.kind === binaryen.ExternalFunction) exported.push(e.value);
}
let text = input.emitText();
const counts = [];
for (const s of STAND_INS) {
  const candidates = new Set(exported.filter((f) => v128Operands(f) === s.operands));
  if (candidates.size !== 1) {
    fail(`${inWasm} exports ${candidates.size} functions of type (${Array(s.operands).fill("v128").join(", ")}) ` +
         `-> v128, not one (link ${s.name} in EXPORTED_FUNCTIONS)`);
  }
  const [standIn] = candidates;
  const callee = new RegExp(`\\(call \\$${standIn.replace(/[^A-Za-z0-9_]/g, "\\$&")}(?=\\s)`, "g");
  let calls = 0;
  text = text.replace(callee, () => {
    calls++;
    return `(${s.instruction}`;
  });
  if (calls === 0) fail(`no call of ${s.name} in ${inWasm} (inlined or unused?)`);
  counts.push(`${calls} calls of ${s.name} replaced by ${s.instruction}`);
}
input.dispose();

const output = binaryen.parseText(text);
output.setFeatures(FEATURES);
if (!output.validate()) fail(`the rewritten ${inWasm} does not validate`);
writeFileSync(outWasm, output.emitBinary());
output.dispose();

if (inJs) {
  const from = basename(inWasm), to = basename(outWasm);
  const js = readFileSync(inJs, "utf8");
  if (!js.includes(`"${from}"`)) fail(`${inJs} does not name "${from}"`);
  writeFileSync(outJs, js.replaceAll(`"${from}"`, `"${to}"`));
}
process.stdout.write(`relaxed_simd: ${basename(outWasm)}: ${counts.join("; ")}\n`);
