// Feature detection for the package's WebAssembly builds: whether this runtime computes relaxed
// SIMD's i32x4.relaxed_dot_i8x16_i7x16_add_s and i16x8.relaxed_dot_i8x16_i7x16_s as the final
// specification defines them, so that the relaxed-SIMD build (dist/relaxed/) may run here and give
// the SIMD128 build's bits; and whether it runs the first faster than SIMD128's i32x4.dot_i16x8_s
// runs the same products.
//
// Validating a module that holds the instruction is not enough: Node 20's V8 accepts it behind
// --experimental-wasm-relaxed-simd but computes an older draft's result (twice the right sums).
// So a tiny module computes one known dot product with each instruction and compares them with
// the right answers.

// The probe's operands: a signed, b 7-bit ([0, 127], where the result is fully defined), c the
// int32 lanes added; extremes included (-128 and 127 in a, 127 in b).
const A = [-128, 127, -1, 5, 100, -100, 3, -7, 64, -64, 0, 1, -2, 33, -90, 77];
const B = [127, 127, 3, 0, 1, 126, 45, 99, 2, 64, 10, 127, 88, 7, 50, 120];
const C = [1000, -2000, 3, 40000];
// Lane i: C[i] + the sum of A[4i + k]·B[4i + k]: [870, -15058, -3838, 44795].
const WANT = C.map((c, i) => c + [0, 1, 2, 3].reduce((s, k) => s + A[4 * i + k] * B[4 * i + k], 0));
// The int16 form, lane i: A[2i]·B[2i] + A[2i + 1]·B[2i + 1].
const WANT16 = [0, 1, 2, 3, 4, 5, 6, 7].map((i) => A[2 * i] * B[2 * i] + A[2 * i + 1] * B[2 * i + 1]);

// (module (func (export "dot") (result i32)
//   (i32.and (i32x4.all_true (i32x4.eq (i32x4.relaxed_dot_i8x16_i7x16_add_s A B C) WANT))
//            (i16x8.all_true (i16x8.eq (i16x8.relaxed_dot_i8x16_i7x16_s A B) WANT16)))))
function probeModule() {
  const i8 = (values) => values.map((v) => v & 0xff);
  const i16 = (values) => values.flatMap((v) => [v & 0xff, (v >> 8) & 0xff]);
  const i32 = (values) => values.flatMap((v) => [v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, (v >>> 24) & 0xff]);
  const v128Const = (bytes) => [0xfd, 0x0c, ...bytes];
  const body = [
    0x00,  // no locals
    ...v128Const(i8(A)), ...v128Const(i8(B)), ...v128Const(i32(C)),
    0xfd, 0x93, 0x02,  // i32x4.relaxed_dot_i8x16_i7x16_add_s (0x113)
    ...v128Const(i32(WANT)),
    0xfd, 0x37,  // i32x4.eq
    0xfd, 0xa3, 0x01,  // i32x4.all_true
    ...v128Const(i8(A)), ...v128Const(i8(B)),
    0xfd, 0x92, 0x02,  // i16x8.relaxed_dot_i8x16_i7x16_s (0x112)
    ...v128Const(i16(WANT16)),
    0xfd, 0x2d,  // i16x8.eq
    0xfd, 0x83, 0x01,  // i16x8.all_true
    0x71,  // i32.and
    0x0b,  // end
  ];
  const size = (n) => (n < 128 ? [n] : [0x80 | (n & 0x7f), n >> 7]);  // LEB128, n < 16384
  const section = (id, bytes) => [id, ...size(bytes.length), ...bytes];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,  // "\0asm", version 1
    ...section(1, [1, 0x60, 0, 1, 0x7f]),  // one type: [] -> [i32]
    ...section(3, [1, 0]),  // one function of type 0
    ...section(7, [1, 3, 0x64, 0x6f, 0x74, 0x00, 0]),  // export "dot" = function 0
    ...section(10, [1, ...size(body.length), ...body]),  // its code
  ]);
}

let answer;

/**
 * Whether the relaxed-SIMD build runs correctly here (Node ≥ 22, Chrome ≥ 114; not Node 20, with
 * or without its flag, nor runtimes without relaxed SIMD). Computed once; never rejects.
 * @returns {Promise<boolean>}
 */
export async function relaxedSimdWorks() {
  answer ??= probe();
  return answer;
}

async function probe() {
  try {
    const bytes = probeModule();
    if (typeof WebAssembly !== "object" || !WebAssembly.validate(bytes)) return false;
    const { instance } = await WebAssembly.instantiate(bytes);
    return instance.exports.dot() === 1;
  } catch {
    return false;
  }
}

// ------------------------------------------------------------------------ speed

// How a runtime lowers the relaxed int32 dot product decides whether the relaxed build's kernels
// on it pay: Q8_0's, which also moves the weights' signs onto the tokens (one XOR per
// instruction), against the SIMD128 kernel, and the 4- to 6-bit types' int32 form against their
// int16 form (one multiply per 16 products everywhere). With AVX-VNNI's vpdpbusd (Chromium on CPUs
// that have it) 16 products take one multiply: Q8_0's kernel gained 1.14-1.18x on long texts, the
// int32 form 1.07-1.20x (q4_0, q6_k); lowered to pmaddubsw + pmaddwd (Node 22's V8, CPUs without
// AVX-VNNI) they take two, as with dot_i16x8_s, and Q8_0's lost (0.92). One timing serves both:
// it was tuned for Q8_0's XOR step; the int32 form's rival is cheaper, so near the ratio it may
// choose either way, at the same bits.
// JavaScript cannot see the lowering, so it is timed: two loops of the same 192 products per
// iteration, each step as the kernels take it — an XOR and relaxed_dot_i8x16_i7x16_add_s, or two
// dot_i16x8_s and adds. Without AVX-VNNI the relaxed loop ran 0.67-0.98x as fast as the other
// (Node 22, 20 runs; Chromium, 22; without the XOR up to 1.3x: one add fewer per 16 products), and
// an earlier loop of the instruction alone 1.8-3x where it is vpdpbusd; this one, on Zen 5 with
// AVX-VNNI, 88-106 against 32-48 G/s in Chromium 156 (37.0 against 37.5 in Node 22). 1.25x is
// about where the kernels break even, so a wrong call near it costs little.
const FAST_RATIO = 1.25;
const CHAINS = 12;  // independent sums per loop: enough to cover the multiplies' latency
const WARMUP_ITERATIONS = 1 << 16;
const FIRST_ITERATIONS = 1 << 19;  // a timed call: 2-4 ms at 25-50 G products/s
const MAX_ITERATIONS = 1 << 22;
const MIN_CALL_MS = 2;  // 20 ticks of Chromium's 0.1 ms timer; coarser timers get longer calls

// (func (export "relaxed"|"dot") (param $n i32) (result i32)
//   (local $b v128) (local $c0 v128) ... (local $c11 v128)
//   b = 7-bit constant; c_i = distinct constants
//   (loop
//     relaxed: c_i = i32x4.relaxed_dot_i8x16_i7x16_add_s(v128.xor(c_i, b), b, c_i)   each i
//     dot:     c_i = i32x4.add(c_i, i32x4.dot_i16x8_s(c_i, b))                twice for each i
//     (br_if 0 (local.tee $n (i32.sub $n 1))))
//   (i32x4.extract_lane 0 (c0 + ... + c11)))
// Each step reads its own sum, so no engine can fold or hoist a product. The XOR takes b as its
// mask (the kernels' sign masks are another loop-invariant value): one register fewer, for
// engines with 15 or 16 vector registers.
function speedFunction(kind) {
  const b = 1, c = (i) => 2 + i;
  const get = (i) => [0x20, i], set = (i) => [0x21, i];
  const v128Const = (f) => [0xfd, 0x0c, ...Array.from({ length: 16 }, (_, j) => f(j) & 0xff)];
  const body = [...v128Const((j) => (37 * j + 11) & 0x7f), ...set(b)];
  for (let i = 0; i < CHAINS; ++i) body.push(...v128Const((j) => 16 * i + 7 * j + 3), ...set(c(i)));
  body.push(0x03, 0x40);  // loop
  for (let i = 0; i < CHAINS; ++i) {
    if (kind === "relaxed") {
      body.push(...get(c(i)), ...get(b), 0xfd, 0x51,  // v128.xor
                ...get(b), ...get(c(i)), 0xfd, 0x93, 0x02, ...set(c(i)));  // 0x113
    } else {
      for (let twice = 0; twice < 2; ++twice) {  // i32x4.dot_i16x8_s (0xba), i32x4.add (0xae)
        body.push(...get(c(i)), ...get(c(i)), ...get(b), 0xfd, 0xba, 0x01, 0xfd, 0xae, 0x01, ...set(c(i)));
      }
    }
  }
  body.push(...get(0), 0x41, 1, 0x6b, 0x22, 0, 0x0d, 0, 0x0b);  // n -= 1; br_if 0 (n); end
  body.push(...get(c(0)));
  for (let i = 1; i < CHAINS; ++i) body.push(...get(c(i)), 0xfd, 0xae, 0x01);
  body.push(0xfd, 0x1b, 0, 0x0b);  // i32x4.extract_lane 0; end
  return [1, 1 + CHAINS, 0x7b, ...body];  // one run of 1 + CHAINS v128 locals
}

function speedModule() {
  const leb = (n) => (n < 128 ? [n] : [(n & 0x7f) | 0x80, ...leb(n >>> 7)]);
  const section = (id, bytes) => [id, ...leb(bytes.length), ...bytes];
  const sized = (bytes) => [...leb(bytes.length), ...bytes];
  const name = (text) => sized([...text].map((ch) => ch.charCodeAt(0)));
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [1, 0x60, 1, 0x7f, 1, 0x7f]),  // one type: [i32] -> [i32]
    ...section(3, [2, 0, 0]),  // two functions of type 0
    ...section(7, [2, ...name("relaxed"), 0, 0, ...name("dot"), 0, 1]),
    ...section(10, [2, ...sized(speedFunction("relaxed")), ...sized(speedFunction("dot"))]),
  ]);
}

let speed;

/**
 * Products per second (in billions) of the relaxed dot product and of dot_i16x8_s here, the
 * fastest of three timed calls each (alternating, at least MIN_CALL_MS each), after calls that let
 * the engine optimize both loops; null where relaxed SIMD does not run as specified. About 20-40 ms
 * with a 0.1 ms timer, once per JavaScript realm (each worker times again); never rejects.
 * @returns {Promise<{relaxed: number, dotI16x8: number} | null>}
 */
export async function relaxedDotSpeed() {
  speed ??= measureSpeed();
  return speed;
}

/**
 * Whether the relaxed dot product runs at least FAST_RATIO times as fast as dot_i16x8_s here:
 * whether the relaxed build's kernels on its int32 dot product pay (js/src/engine.js). False where
 * relaxed SIMD does not run as specified.
 * @returns {Promise<boolean>}
 */
export async function relaxedDotIsFast() {
  const s = await relaxedDotSpeed();
  return s !== null && s.relaxed >= FAST_RATIO * s.dotI16x8;
}

async function measureSpeed() {
  try {
    if (!(await relaxedSimdWorks())) return null;
    const { instance } = await WebAssembly.instantiate(speedModule());
    const loops = { relaxed: instance.exports.relaxed, dotI16x8: instance.exports.dot };
    const yieldToEvents = () => new Promise((resolve) => setTimeout(resolve, 0));
    // V8 runs a function's baseline code until it has run long enough, then its optimized code
    // from the next call on.
    for (let i = 0; i < 2; ++i) {
      for (const f of Object.values(loops)) f(WARMUP_ITERATIONS);
      await yieldToEvents();
    }
    const time = (f, n) => {
      const t0 = performance.now();
      f(n);
      return performance.now() - t0;
    };
    // Calls long enough for the timer: doubled while either loop's is under MIN_CALL_MS.
    let n = FIRST_ITERATIONS;
    while (n < MAX_ITERATIONS && Math.min(time(loops.relaxed, n), time(loops.dotI16x8, n)) < MIN_CALL_MS) {
      n *= 2;
    }
    const best = { relaxed: Infinity, dotI16x8: Infinity };
    for (let round = 0; round < 3; ++round) {
      const order = round % 2 === 0 ? ["relaxed", "dotI16x8"] : ["dotI16x8", "relaxed"];
      for (const kind of order) best[kind] = Math.min(best[kind], time(loops[kind], n));
      await yieldToEvents();
    }
    const products = n * CHAINS * 16;
    // Below one tick (a timer that does not move) both rates are the same: not fast.
    const rate = (ms) => products / Math.max(ms, 0.1) / 1e6;
    return { relaxed: rate(best.relaxed), dotI16x8: rate(best.dotI16x8) };
  } catch {
    return null;
  }
}
