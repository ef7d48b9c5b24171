// Feature detection for the package's WebAssembly builds: whether this runtime computes relaxed
// SIMD's i32x4.relaxed_dot_i8x16_i7x16_add_s as the final specification defines it, so that the
// relaxed-SIMD build (dist/relaxed/) may run here and give the SIMD128 build's bits.
//
// Validating a module that holds the instruction is not enough: Node 20's V8 accepts it behind
// --experimental-wasm-relaxed-simd but computes an older draft's result (twice the right sums).
// So a tiny module computes one known dot product and compares it with the right answer.

// The probe's operands: a signed, b 7-bit ([0, 127], where the result is fully defined), c the
// int32 lanes added; extremes included (-128 and 127 in a, 127 in b).
const A = [-128, 127, -1, 5, 100, -100, 3, -7, 64, -64, 0, 1, -2, 33, -90, 77];
const B = [127, 127, 3, 0, 1, 126, 45, 99, 2, 64, 10, 127, 88, 7, 50, 120];
const C = [1000, -2000, 3, 40000];
// Lane i: C[i] + the sum of A[4i + k]·B[4i + k]: [870, -15058, -3838, 44795].
const WANT = C.map((c, i) => c + [0, 1, 2, 3].reduce((s, k) => s + A[4 * i + k] * B[4 * i + k], 0));

// (module (func (export "dot") (result i32)
//   (i32x4.all_true (i32x4.eq (i32x4.relaxed_dot_i8x16_i7x16_add_s A B C) WANT))))
function probeModule() {
  const i8 = (values) => values.map((v) => v & 0xff);
  const i32 = (values) => values.flatMap((v) => [v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, (v >>> 24) & 0xff]);
  const v128Const = (bytes) => [0xfd, 0x0c, ...bytes];
  const body = [
    0x00,  // no locals
    ...v128Const(i8(A)), ...v128Const(i8(B)), ...v128Const(i32(C)),
    0xfd, 0x93, 0x02,  // i32x4.relaxed_dot_i8x16_i7x16_add_s (0x113)
    ...v128Const(i32(WANT)),
    0xfd, 0x37,  // i32x4.eq
    0xfd, 0xa3, 0x01,  // i32x4.all_true
    0x0b,  // end
  ];
  const section = (id, bytes) => [id, bytes.length, ...bytes];  // every size here is < 128
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,  // "\0asm", version 1
    ...section(1, [1, 0x60, 0, 1, 0x7f]),  // one type: [] -> [i32]
    ...section(3, [1, 0]),  // one function of type 0
    ...section(7, [1, 3, 0x64, 0x6f, 0x74, 0x00, 0]),  // export "dot" = function 0
    ...section(10, [1, body.length, ...body]),  // its code
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
