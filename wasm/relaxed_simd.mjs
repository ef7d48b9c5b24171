#!/usr/bin/env node
// Makes the relaxed-SIMD module from a linked SIMD128 one: every call of the stand-in
// ggufembed_relaxed_dot_i8x16_i7x16_add (src/kernels/relaxed_dot.h) becomes the instruction
// i32x4.relaxed_dot_i8x16_i7x16_add_s, with npm's binaryen (a dev dependency).
//
//   node wasm/relaxed_simd.mjs IN.wasm OUT.wasm [IN.js OUT.js]
//
// Why a rewrite after linking: Debian's emscripten 3.1.6 (clang 14) has no intrinsic for the
// instruction, and the modules Debian's clang 19 and 22 emit with it do not validate in V8 (a
// stray `drop` after its first operand). The stand-in is exported, so it survives linking
// whole; emscripten minifies export names, so it is found as the one exported function of type
// (v128, v128, v128) -> v128. The rewrite goes through binaryen's text form, where each call is
// one folded expression `(call $f a b c)` whose operands stay in place. With IN.js/OUT.js, emscripten's loader is
// copied with the .wasm file name it asks for changed to OUT.wasm's.
import { readFileSync, writeFileSync } from "node:fs";
import { basename } from "node:path";

import binaryen from "binaryen";

const STAND_IN = "ggufembed_relaxed_dot_i8x16_i7x16_add";
const INSTRUCTION = "i32x4.relaxed_dot_i8x16_i7x16_add_s";

function fail(message) {
  process.stderr.write(`relaxed_simd: ${message}\n`);
  process.exit(1);
}

const [inWasm, outWasm, inJs, outJs] = process.argv.slice(2);
if (!inWasm || !outWasm || (inJs && !outJs)) fail("usage: relaxed_simd.mjs IN.wasm OUT.wasm [IN.js OUT.js]");

// What emscripten 3.1.6 emits (SIMD128; atomics and bulk memory in the threads build) plus the
// relaxed instructions: a module using anything else fails validation here instead of loading
// somewhere with features it never asked for. binaryen counts memory.copy and memory.fill apart
// (BulkMemoryOpt) and asserts that bulk memory includes them.
const FEATURES = binaryen.Features.MVP | binaryen.Features.SIMD128 | binaryen.Features.SignExt |
    binaryen.Features.MutableGlobals | binaryen.Features.BulkMemory | binaryen.Features.BulkMemoryOpt |
    binaryen.Features.Atomics | binaryen.Features.NontrappingFPToInt | binaryen.Features.RelaxedSIMD;

const input = binaryen.readBinary(readFileSync(inWasm));
input.setFeatures(FEATURES);
const isStandIn = (name) => {
  const f = binaryen.getFunctionInfo(input.getFunction(name));
  const v128 = (type) => binaryen.expandType(type).map((t) => t === binaryen.v128);
  return v128(f.params).length === 3 && v128(f.params).every(Boolean) &&
         v128(f.results).length === 1 && v128(f.results)[0];
};
const candidates = new Set();
for (let i = 0; i < input.getNumExports(); i++) {
  const e = binaryen.getExportInfo(input.getExportByIndex(i));
  if (e.kind === binaryen.ExternalFunction && isStandIn(e.value)) candidates.add(e.value);
}
if (candidates.size !== 1) {
  fail(`${inWasm} exports ${candidates.size} functions of type (v128, v128, v128) -> v128, ` +
       `not one (link ${STAND_IN} in EXPORTED_FUNCTIONS)`);
}
const [standIn] = candidates;
const callee = new RegExp(`\\(call \\$${standIn.replace(/[^A-Za-z0-9_]/g, "\\$&")}(?=\\s)`, "g");
let calls = 0;
const text = input.emitText().replace(callee, () => {
  calls++;
  return `(${INSTRUCTION}`;
});
input.dispose();
if (calls === 0) fail(`no call of ${STAND_IN} in ${inWasm} (inlined or unused?)`);

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
process.stdout.write(`relaxed_simd: ${basename(outWasm)}: ${calls} calls of ${STAND_IN} replaced by ${INSTRUCTION}\n`);
