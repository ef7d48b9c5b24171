// GgufWriter: exact bytes of a small file, round trips through the reader, and input validation.
#include "synth/gguf_writer.h"

#include <catch2/catch.hpp>
#include <cstring>

#include "gguf/gguf.h"
#include "gguf_bytes.h"
#include "test_util.h"

namespace ggufembed {
namespace {

TEST_CASE("writer output equals the hand-laid-out file", "[writer]") {
  // The same content as testing::SmallValidFile, produced by the writer.
  GgufWriter w;
  w.SetString("general.architecture", "test");
  w.SetU32("test.count", 7);
  std::vector<uint8_t> a(16), b(24);
  const float av[4] = {1, 2, 3, 4};
  const float bv[6] = {10, 11, 12, 13, 14, 15};
  std::memcpy(a.data(), av, 16);
  std::memcpy(b.data(), bv, 24);
  w.AddTensor("a", GgmlType::kF32, {4}, a);
  w.AddTensor("b", GgmlType::kF32, {2, 3}, b);
  Result<std::vector<uint8_t>> bytes = w.WriteToBuffer();
  REQUIRE(bytes.ok());
  CHECK(*bytes == testing::SmallValidFile().bytes());
}

TEST_CASE("setting a key again replaces its value in place", "[writer]") {
  GgufWriter w;
  w.SetU32("x", 1);
  w.SetString("y", "first");
  w.SetU32("x", 2);
  Result<std::vector<uint8_t>> bytes = w.WriteToBuffer();
  REQUIRE(bytes.ok());
  Result<GgufFile> f = GgufFile::Parse(FileBytes::Copy(bytes->data(), bytes->size()), "w.gguf");
  REQUIRE(f.ok());
  REQUIRE(f->kvs().size() == 2);
  CHECK(f->kvs()[0].key == "x");
  CHECK(*f->GetUint("x") == 2);
}

TEST_CASE("every value type round-trips through a file", "[writer]") {
  GgufWriter w;
  w.SetU8("u8", 250);
  w.SetI8("i8", -5);
  w.SetU16("u16", 65535);
  w.SetI16("i16", -32768);
  w.SetU32("u32", 123456789);
  w.SetI32("i32", -123456789);
  w.SetU64("u64", 1ull << 60);
  w.SetI64("i64", -(1ll << 60));
  w.SetF32("f32", 1e-6f);
  w.SetF64("f64", 3.141592653589793);
  w.SetBool("bool", false);
  w.SetString("str", "tab\there");
  w.SetStringArray("strs", {"x", "", "\xE2\x96\x81hello"});
  w.SetF32Array("f32s", {0.5f, -0.25f});
  w.SetI32Array("i32s", {-1, 0, 1});
  w.SetU32Array("u32s", {4000000000u});
  w.set_alignment(64);
  w.AddTensor("q", GgmlType::kQ8_0, {64, 2}, std::vector<uint8_t>(4 * 34, 1));
  w.AddTensor("h", GgmlType::kF16, {3}, std::vector<uint8_t>{0, 0x3C, 0, 0xC0, 0, 0});
  const std::string path = testing::TempPath("writer-roundtrip.gguf");
  REQUIRE(w.WriteFile(path).ok());
  Result<GgufFile> f = GgufFile::Open(path);
  REQUIRE(f.ok());
  CHECK(*f->GetUint("u8") == 250);
  CHECK(*f->GetInt("i8") == -5);
  CHECK(*f->GetUint("u16") == 65535);
  CHECK(*f->GetInt("i16") == -32768);
  CHECK(*f->GetUint("u32") == 123456789);
  CHECK(*f->GetInt("i32") == -123456789);
  CHECK(*f->GetUint("u64") == (1ull << 60));
  CHECK(*f->GetInt("i64") == -(1ll << 60));
  CHECK(*f->GetFloat("f32") == 1e-6f);
  CHECK(*f->GetFloat("f64") == 3.141592653589793);
  CHECK(*f->GetBool("bool") == false);
  CHECK(*f->GetString("str") == "tab\there");
  CHECK(f->GetStringArray("strs")->at(2) == "\xE2\x96\x81hello");
  CHECK(*f->GetFloatArray("f32s") == std::vector<float>{0.5f, -0.25f});
  CHECK(*f->GetInt32Array("i32s") == std::vector<int32_t>{-1, 0, 1});
  CHECK(f->GetArray("u32s")->Element(0).AsUint() == 4000000000u);
  CHECK(f->alignment() == 64);
  CHECK(*f->GetUint("general.alignment") == 64);
  CHECK(f->data_offset() % 64 == 0);
  const GgufTensorInfo* q = f->FindTensor("q");
  const GgufTensorInfo* h = f->FindTensor("h");
  REQUIRE(q != nullptr);
  REQUIRE(h != nullptr);
  CHECK(q->offset == 0);
  CHECK(q->n_bytes == 136);
  CHECK(h->offset == 192);  // 136 padded to 64
  float row[3];
  REQUIRE(DequantizeTensorRow(*h, 0, row).ok());
  CHECK(row[0] == 1.0f);
  CHECK(row[1] == -2.0f);
  CHECK(row[2] == 0.0f);
  // The last tensor is padded too, as gguf-py does.
  CHECK(f->file_size() == f->data_offset() + 192 + 64);
}

TEST_CASE("writer rejects shapes the format cannot hold", "[writer]") {
  GgufWriter w;
  w.AddTensor("bad", GgmlType::kQ8_0, {40}, std::vector<uint8_t>(68));
  Result<std::vector<uint8_t>> bytes = w.WriteToBuffer();
  REQUIRE(!bytes.ok());
  CHECK(bytes.status().message() ==
        "tensor 'bad': ne[0] = 40 is not a multiple of the Q8_0 block size 32");
  GgufWriter v;
  v.AddTensor("five", GgmlType::kF32, {1, 1, 1, 1, 1}, std::vector<uint8_t>(4));
  CHECK(v.WriteToBuffer().status().message() == "tensor 'five': 5 dimensions (1 to 4 allowed)");
  GgufWriter u;
  u.set_alignment(48);
  CHECK(u.WriteToBuffer().status().message() == "alignment 48 is not a power of two");
  CHECK(GgufWriter().WriteFile("/nonexistent-dir/x.gguf").code() == StatusCode::kIoError);
}

}  // namespace
}  // namespace ggufembed
