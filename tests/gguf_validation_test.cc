// One malformed file per class of defect, each asserting the exact message: it must name the file,
// the byte offset and the item.
#include <catch2/catch.hpp>

#include "gguf/gguf.h"
#include "gguf_bytes.h"

namespace ggufembed {
namespace {

using testing::GgufBytes;

// Parses `g` and returns the error message (failing the test if parsing succeeds).
std::string ErrorOf(const GgufBytes& g) {
  Result<GgufFile> f = g.Parse();
  REQUIRE(!f.ok());
  CHECK(f.status().code() == StatusCode::kInvalidFile);
  return f.status().message();
}

TEST_CASE("bad magic", "[gguf][invalid]") {
  GgufBytes g;
  g.U32(0x4C4D4747).U32(3).I64(0).I64(0);  // "GGML"
  CHECK(ErrorOf(g) ==
        "test.gguf: not a GGUF file: offset 0: magic is 'GGML' (0x47474d4c), expected 'GGUF'");
}

TEST_CASE("empty and tiny files", "[gguf][invalid]") {
  CHECK(ErrorOf(GgufBytes()) == "test.gguf: not a GGUF file: it is 0 bytes long");
  GgufBytes g;
  g.U32(0x46554747).U32(3).U32(1);
  CHECK(ErrorOf(g) ==
        "test.gguf: offset 8: header: tensor count needs 8 bytes but the file ends 4 bytes later "
        "(file size 12)");
}

TEST_CASE("unsupported versions", "[gguf][invalid]") {
  GgufBytes v1;
  v1.Header(1, 0, 0);
  CHECK(ErrorOf(v1) ==
        "test.gguf: offset 4: header: GGUF version 1 is obsolete (32-bit lengths); convert the "
        "model again with a current llama.cpp");
  GgufBytes v4;
  v4.Header(4, 0, 0);
  CHECK(ErrorOf(v4) ==
        "test.gguf: offset 4: header: unsupported GGUF version 4 (supported: 2 and 3)");
  GgufBytes big_endian;
  big_endian.Header(0x03000000, 0, 0);
  CHECK(ErrorOf(big_endian) ==
        "test.gguf: offset 4: header: version field 0x03000000 looks byte-swapped: big-endian "
        "GGUF files are not supported");
}

TEST_CASE("counts larger than the file could hold", "[gguf][invalid]") {
  GgufBytes tensors;
  tensors.Header(3, 1000000000000, 0);
  CHECK(ErrorOf(tensors) ==
        "test.gguf: offset 8: header: tensor count 1000000000000 cannot fit in a 24-byte file");
  GgufBytes negative;
  negative.Header(3, -1, 0);
  CHECK(ErrorOf(negative) ==
        "test.gguf: offset 8: header: tensor count 18446744073709551615 cannot fit in a 24-byte "
        "file");
  GgufBytes kvs;
  kvs.Header(3, 0, 5).KvU32("a", 1);
  CHECK(ErrorOf(kvs) ==
        "test.gguf: offset 16: header: key/value count 5 cannot fit in a 41-byte file");
}

TEST_CASE("string lengths past the end", "[gguf][invalid]") {
  GgufBytes key;
  key.Header(3, 0, 1).U64(1000).Zeros(10);
  CHECK(ErrorOf(key) ==
        "test.gguf: offset 24: key/value 1 of 1: key length 1000 runs past the end of the file "
        "(10 bytes left)");
  GgufBytes value;
  value.Header(3, 0, 1).Str("k").U32(testing::kStr).U64(99).Zeros(3);
  CHECK(ErrorOf(value) ==
        "test.gguf: offset 37: key 'k': value length 99 runs past the end of the file (3 bytes "
        "left)");
}

TEST_CASE("array lengths past the end", "[gguf][invalid]") {
  GgufBytes g;
  g.Header(3, 0, 1).Str("k").U32(testing::kArr).U32(testing::kU32).U64(1ull << 40).Zeros(16);
  CHECK(ErrorOf(g) ==
        "test.gguf: offset 41: key 'k': array of 1099511627776 u32 elements cannot fit in the 16 "
        "bytes left in the file");
  GgufBytes strings;
  strings.Header(3, 0, 1).Str("k").U32(testing::kArr).U32(testing::kStr).U64(2).Str("ok").U64(50);
  CHECK(ErrorOf(strings) ==
        "test.gguf: offset 59: key 'k': array string length 50 runs past the end of the file (0 "
        "bytes left)");
}

TEST_CASE("unknown value types and nested arrays", "[gguf][invalid]") {
  GgufBytes g;
  g.Header(3, 0, 1).Str("k").U32(13).U32(0);
  CHECK(ErrorOf(g) == "test.gguf: offset 33: key 'k': unknown value type 13");
  // A key that would cut the message short (NUL) or break its line is shown escaped.
  GgufBytes odd;
  odd.Header(3, 0, 1).Str(std::string_view("a\nb\0c", 5)).U32(13).U32(0);
  CHECK(ErrorOf(odd) == "test.gguf: offset 37: key \"a\\nb\\u0000c\": unknown value type 13");
  // A long key is cut at 64 bytes, back to where a UTF-8 character starts.
  const std::string long_key = std::string(63, 'k') + "\xC3\xA9tail";
  GgufBytes cut;
  cut.Header(3, 0, 1).Str(long_key).U32(13).U32(0);
  CHECK(ErrorOf(cut) == "test.gguf: offset " + std::to_string(32 + long_key.size()) + ": key '" +
                            std::string(63, 'k') + "...': unknown value type 13");
  GgufBytes nested;
  nested.Header(3, 0, 1).Str("k").U32(testing::kArr).U32(testing::kArr).U64(0);
  CHECK(ErrorOf(nested) == "test.gguf: offset 37: key 'k': nested arrays are not supported");
  GgufBytes elem;
  elem.Header(3, 0, 1).Str("k").U32(testing::kArr).U32(77).U64(0);
  CHECK(ErrorOf(elem) == "test.gguf: offset 37: key 'k': unknown array element type 77");
}

TEST_CASE("bool values other than 0 and 1", "[gguf][invalid]") {
  GgufBytes g;
  g.Header(3, 0, 1).Str("flag").U32(testing::kBool).U8(2);
  CHECK(ErrorOf(g) == "test.gguf: offset 40: key 'flag': bool value 2 is neither 0 nor 1");
  GgufBytes arr;
  arr.Header(3, 0, 1).Str("flags").U32(testing::kArr).U32(testing::kBool).U64(3).U8(1).U8(0).U8(7);
  CHECK(ErrorOf(arr) == "test.gguf: offset 55: key 'flags': bool value 7 is neither 0 nor 1");
}

TEST_CASE("duplicate keys and tensor names", "[gguf][invalid]") {
  GgufBytes keys;
  keys.Header(3, 0, 2).KvU32("a", 1).KvU32("a", 2);
  CHECK(ErrorOf(keys) ==
        "test.gguf: offset 41: key 'a': duplicate key (first defined at offset 24)");
  GgufBytes tensors;
  tensors.Header(3, 2, 0)
      .TensorInfo("w", {32}, testing::kTypeF32, 0)
      .TensorInfo("w", {32}, testing::kTypeF32, 128)
      .PadTo(32)
      .Zeros(256);
  CHECK(ErrorOf(tensors) ==
        "test.gguf: offset 57: tensor 'w': duplicate tensor name (first defined at offset 24)");
}

TEST_CASE("general.alignment must be a power-of-two integer", "[gguf][invalid]") {
  GgufBytes odd;
  odd.Header(3, 0, 1).KvU32("general.alignment", 24);
  CHECK(ErrorOf(odd) ==
        "test.gguf: offset 53: key 'general.alignment': alignment 24 is not a positive power of "
        "two");
  GgufBytes zero;
  zero.Header(3, 0, 1).KvU32("general.alignment", 0);
  CHECK(ErrorOf(zero) ==
        "test.gguf: offset 53: key 'general.alignment': alignment 0 is not a positive power of "
        "two");
  GgufBytes text;
  text.Header(3, 0, 1).KvStr("general.alignment", "32");
  CHECK(ErrorOf(text) ==
        "test.gguf: offset 24: key 'general.alignment': has type str, expected an integer");
}

TEST_CASE("tensor dimensions", "[gguf][invalid]") {
  GgufBytes five;
  five.Header(3, 1, 0).TensorInfo("t", {1, 1, 1, 1, 1}, testing::kTypeF32, 0);
  CHECK(ErrorOf(five) == "test.gguf: offset 33: tensor 't': n_dims is 5, at most 4 are supported");
  GgufBytes zero;
  zero.Header(3, 1, 0).TensorInfo("t", {4, 0}, testing::kTypeF32, 0);
  CHECK(ErrorOf(zero) == "test.gguf: offset 45: tensor 't': dimension 1 is 0, must be positive");
  GgufBytes negative;
  negative.Header(3, 1, 0).TensorInfo("t", {-4}, testing::kTypeF32, 0);
  CHECK(ErrorOf(negative) ==
        "test.gguf: offset 37: tensor 't': dimension 0 is -4, must be positive");
  GgufBytes overflow;
  overflow.Header(3, 1, 0).TensorInfo("t", {1ll << 40, 1ll << 40}, testing::kTypeF32, 0);
  CHECK(ErrorOf(overflow) ==
        "test.gguf: offset 45: tensor 't': the element count overflows at dimension 1 "
        "(1099511627776)");
  // 32 × (2^57 + 2) elements fit in 63 bits, their 4-byte F32 values (2^64 + 256 bytes) do not:
  // the size wrapped to 256 before, and walking the 2^57 rows of the tensor never ended.
  GgufBytes bytes_overflow;
  bytes_overflow.Header(3, 1, 0).TensorInfo("t", {32, (1ll << 57) + 2}, testing::kTypeF32, 0);
  CHECK(ErrorOf(bytes_overflow) ==
        "test.gguf: offset 33: tensor 't': the size of 4611686018427387968 F32 elements "
        "overflows 64 bits");
}

TEST_CASE("tensor types and block sizes", "[gguf][invalid]") {
  GgufBytes unknown;
  unknown.Header(3, 1, 0).TensorInfo("t", {32}, 99, 0);
  CHECK(ErrorOf(unknown) == "test.gguf: offset 45: tensor 't': unknown tensor type id 99");
  GgufBytes removed;  // 4 was Q4_2, removed from ggml
  removed.Header(3, 1, 0).TensorInfo("t", {32}, 4, 0);
  CHECK(ErrorOf(removed) == "test.gguf: offset 45: tensor 't': unknown tensor type id 4");
  GgufBytes block;
  block.Header(3, 1, 0).TensorInfo("t", {33, 2}, testing::kTypeQ8_0, 0);
  CHECK(ErrorOf(block) ==
        "test.gguf: offset 33: tensor 't': ne[0] = 33 is not a multiple of the Q8_0 block size "
        "32");
}

TEST_CASE("tensor data outside the file or misaligned", "[gguf][invalid]") {
  GgufBytes outside;
  outside.Header(3, 1, 0).TensorInfo("t", {64}, testing::kTypeF32, 0).PadTo(32).Zeros(100);
  CHECK(ErrorOf(outside) ==
        "test.gguf: offset 24: tensor 't': data [64, +256) lies outside the file (164 bytes, "
        "data section at 64)");
  GgufBytes far;
  far.Header(3, 1, 0).TensorInfo("t", {8}, testing::kTypeF32, 1ull << 62).PadTo(32).Zeros(32);
  CHECK(ErrorOf(far) ==
        "test.gguf: offset 24: tensor 't': data [4611686018427387968, +32) lies outside the file "
        "(96 bytes, data section at 64)");
  GgufBytes wrap;  // data_offset + offset wraps around 2^64
  wrap.Header(3, 1, 0).TensorInfo("t", {8}, testing::kTypeF32, ~uint64_t{31}).PadTo(32).Zeros(32);
  CHECK(ErrorOf(wrap) ==
        "test.gguf: offset 24: tensor 't': data offset 18446744073709551584 past the data "
        "section at 64 overflows 64 bits");
  GgufBytes misaligned;
  misaligned.Header(3, 1, 0).TensorInfo("t", {8}, testing::kTypeF32, 16).PadTo(32).Zeros(64);
  CHECK(ErrorOf(misaligned) ==
        "test.gguf: offset 49: tensor 't': data offset 16 is not a multiple of the alignment 32");
}

TEST_CASE("tensors whose data overlap", "[gguf][invalid]") {
  // 'a' holds [0, 64) of the data section, 'b' starts inside it; 'c' right after 'a' is fine.
  const auto file = [](uint64_t b_offset) {
    GgufBytes g;
    g.Header(3, 3, 0)
        .TensorInfo("a", {16}, testing::kTypeF32, 0)
        .TensorInfo("c", {8}, testing::kTypeF32, 64)
        .TensorInfo("b", {8}, testing::kTypeF32, b_offset)
        .PadTo(32)
        .Zeros(128);
    return g;
  };
  CHECK(ErrorOf(file(32)) ==
        "test.gguf: offset 90: tensor 'b': data [160, +32) overlaps the data of tensor 'a' "
        "[128, +64)");
  CHECK(ErrorOf(file(64)) ==
        "test.gguf: offset 90: tensor 'b': data [192, +32) overlaps the data of tensor 'c' "
        "[192, +32)");
  CHECK(file(96).Parse().ok());
}

}  // namespace
}  // namespace ggufembed
