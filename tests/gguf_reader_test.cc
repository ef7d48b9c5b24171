// GgufFile on well-formed files: layout arithmetic, every value type, typed accessors, and
// llama.cpp's own vocabulary files.
#include <catch2/catch.hpp>
#include <cmath>

#include "gguf/gguf.h"
#include "gguf_bytes.h"
#include "test_util.h"

namespace ggufembed {
namespace {

using testing::GgufBytes;

TEST_CASE("small file header and layout and tensor data", "[gguf]") {
  Result<GgufFile> f = testing::SmallValidFile().Parse();
  REQUIRE(f.ok());
  CHECK(f->version() == 3);
  CHECK(f->alignment() == 32);
  // 24-byte header; "general.architecture" kv: 8+20 + 4 + 8+4 = 44; "test.count": 8+10 + 4 + 4 =
  // 26; tensor a: 8+1 + 4 + 8 + 4 + 8 = 33; tensor b: 8+1 + 4 + 16 + 4 + 8 = 41. 24+44+26+33+41 =
  // 168, padded to 192.
  CHECK(f->data_offset() == 192);
  REQUIRE(f->kvs().size() == 2);
  CHECK(f->kvs()[0].key == "general.architecture");
  CHECK(f->kvs()[0].offset == 24);
  CHECK(f->kvs()[1].offset == 68);
  REQUIRE(f->tensors().size() == 2);
  const GgufTensorInfo* a = f->FindTensor("a");
  const GgufTensorInfo* b = f->FindTensor("b");
  REQUIRE(a != nullptr);
  REQUIRE(b != nullptr);
  CHECK(f->FindTensor("c") == nullptr);
  CHECK(a->type == GgmlType::kF32);
  CHECK(a->n_dims == 1);
  CHECK(a->ne[0] == 4);
  CHECK(a->ne[1] == 1);
  CHECK(a->n_bytes == 16);
  CHECK(a->info_offset == 94);
  CHECK(a->data == f->bytes().data() + 192);
  CHECK(b->n_dims == 2);
  CHECK(b->ne[0] == 2);
  CHECK(b->ne[1] == 3);
  CHECK(b->n_rows() == 3);
  CHECK(b->row_bytes() == 8);
  CHECK(b->data == f->bytes().data() + 224);
  float row[2];
  REQUIRE(DequantizeTensorRow(*b, 2, row).ok());
  CHECK(row[0] == 14.0f);
  CHECK(row[1] == 15.0f);
  const Status bad_row = DequantizeTensorRow(*b, 3, row);
  CHECK(bad_row.code() == StatusCode::kInvalidArgument);
  CHECK(bad_row.message() == "tensor 'b' has 3 rows; row 3 does not exist");
}

TEST_CASE("version 2 files are read like version 3", "[gguf]") {
  GgufBytes g = testing::SmallValidFile();
  g.bytes()[4] = 2;
  Result<GgufFile> f = g.Parse();
  REQUIRE(f.ok());
  CHECK(f->version() == 2);
}

// One key of every scalar type, then arrays of several element types.
GgufBytes AllTypesFile() {
  GgufBytes g;
  g.Header(3, 0, 19);
  g.Str("u8").U32(testing::kU8).U8(200);
  g.Str("i8").U32(testing::kI8).Put<int8_t>(-100);
  g.Str("u16").U32(testing::kU16).Put<uint16_t>(60000);
  g.Str("i16").U32(testing::kI16).Put<int16_t>(-30000);
  g.Str("u32").U32(testing::kU32).U32(4000000000u);
  g.Str("i32").U32(testing::kI32).Put<int32_t>(-2000000000);
  g.Str("f32").U32(testing::kF32).F32(0.25f);
  g.Str("bool").U32(testing::kBool).U8(1);
  g.Str("str").U32(testing::kStr).Str("héllo");
  g.Str("u64").U32(testing::kU64).U64(18000000000000000000ull);
  g.Str("i64").U32(testing::kI64).I64(-9000000000000000000ll);
  g.Str("f64").U32(testing::kF64).Put<double>(-1.5e300);
  g.Str("arr.str").U32(testing::kArr).U32(testing::kStr).U64(3).Str("a").Str("").Str("ccc");
  g.Str("arr.f32").U32(testing::kArr).U32(testing::kF32).U64(2).F32(1.5f).F32(-2.0f);
  g.Str("arr.i32").U32(testing::kArr).U32(testing::kI32).U64(2).Put<int32_t>(-7).Put<int32_t>(9);
  g.Str("arr.u8").U32(testing::kArr).U32(testing::kU8).U64(3).U8(1).U8(2).U8(255);
  g.Str("arr.bool").U32(testing::kArr).U32(testing::kBool).U64(2).U8(0).U8(1);
  g.Str("arr.empty").U32(testing::kArr).U32(testing::kU32).U64(0);
  g.Str("neg").U32(testing::kI32).Put<int32_t>(-1);
  return g;
}

TEST_CASE("every metadata value type", "[gguf]") {
  Result<GgufFile> f = AllTypesFile().Parse();
  REQUIRE(f.ok());
  REQUIRE(f->kvs().size() == 19);
  CHECK(*f->GetUint("u8") == 200);
  CHECK(*f->GetInt("i8") == -100);
  CHECK(*f->GetUint("u16") == 60000);
  CHECK(*f->GetInt("i16") == -30000);
  CHECK(*f->GetUint("u32") == 4000000000u);
  CHECK(*f->GetInt("i32") == -2000000000);
  CHECK(*f->GetFloat("f32") == 0.25);
  CHECK(*f->GetBool("bool") == true);
  CHECK(*f->GetString("str") == "h\xC3\xA9llo");
  CHECK(*f->GetUint("u64") == 18000000000000000000ull);
  CHECK(*f->GetInt("i64") == -9000000000000000000ll);
  CHECK(*f->GetFloat("f64") == -1.5e300);
  Result<std::vector<std::string_view>> strs = f->GetStringArray("arr.str");
  REQUIRE(strs.ok());
  REQUIRE(strs->size() == 3);
  CHECK((*strs)[0] == "a");
  CHECK((*strs)[1] == "");
  CHECK((*strs)[2] == "ccc");
  CHECK(*f->GetFloatArray("arr.f32") == std::vector<float>{1.5f, -2.0f});
  CHECK(*f->GetInt32Array("arr.i32") == std::vector<int32_t>{-7, 9});
  CHECK(*f->GetInt32Array("arr.u8") == std::vector<int32_t>{1, 2, 255});
  CHECK(*f->GetFloatArray("arr.i32") == std::vector<float>{-7.0f, 9.0f});
  Result<GgufValue> bools = f->GetArray("arr.bool");
  REQUIRE(bools.ok());
  CHECK(bools->count == 2);
  CHECK(bools->Element(0).AsBool() == false);
  CHECK(bools->Element(1).AsBool() == true);
  CHECK(f->GetArray("arr.empty")->count == 0);
  // The value offset of "u8": header 24 + key 8+2 + type 4 = 38.
  CHECK(f->FindKv("u8")->value.offset == 38);
}

TEST_CASE("typed accessors name the key and both types", "[gguf]") {
  Result<GgufFile> f = AllTypesFile().Parse();
  REQUIRE(f.ok());
  CHECK(f->GetUint("f32").status().message() ==
        "test.gguf: key 'f32' has type f32, expected an integer");
  CHECK(f->GetFloat("u32").status().message() ==
        "test.gguf: key 'u32' has type u32, expected a float");
  CHECK(f->GetString("arr.str").status().message() ==
        "test.gguf: key 'arr.str' has type str[], expected a string");
  CHECK(f->GetBool("u8").status().message() == "test.gguf: key 'u8' has type u8, expected a bool");
  CHECK(f->GetStringArray("arr.f32").status().message() ==
        "test.gguf: key 'arr.f32' has type f32[], expected a string array");
  CHECK(f->GetArray("str").status().message() ==
        "test.gguf: key 'str' has type str, expected an array");
  CHECK(f->GetUint("missing").status().message() == "test.gguf: required key 'missing' is missing");
  CHECK(f->GetUint("neg").status().message() ==
        "test.gguf: key 'neg' is -1, expected a non-negative integer");
  CHECK(f->GetInt("u64").status().message() ==
        "test.gguf: key 'u64' is 18000000000000000000, too large");
  CHECK(f->GetUint("missing").status().code() == StatusCode::kInvalidFile);
  // Optional getters: absent keys give the fallback, present ones are still type-checked.
  CHECK(*f->GetUintOr("absent", 6) == 6);
  CHECK(*f->GetUintOr("u16", 6) == 60000);
  CHECK(!f->GetUintOr("f32", 6).ok());
  CHECK(*f->GetFloatOr("absent", 0.5) == 0.5);
  CHECK(*f->GetBoolOr("absent", true) == true);
  CHECK(*f->GetBoolOr("bool", false) == true);
}

TEST_CASE("custom general.alignment moves the data section", "[gguf]") {
  GgufBytes g;
  g.Header(3, 1, 1);
  g.KvU32("general.alignment", 64);
  g.TensorInfo("t", {8}, testing::kTypeF32, 0);
  // 24 + (8+17+4+4) + (8+1+4+8+4+8) = 90 -> 128.
  g.PadTo(64);
  for (int i = 0; i < 8; ++i) g.F32(static_cast<float>(i));
  Result<GgufFile> f = g.Parse();
  REQUIRE(f.ok());
  CHECK(f->alignment() == 64);
  CHECK(f->data_offset() == 128);
  CHECK(f->FindTensor("t")->data == f->bytes().data() + 128);
}

TEST_CASE("llama.cpp's SentencePiece vocabulary file", "[gguf]") {
  Result<GgufFile> f =
      GgufFile::Open(testing::DataPath("llama.cpp-vocab/ggml-vocab-llama-spm.gguf"));
  REQUIRE(f.ok());
  CHECK(f->version() == 3);
  CHECK(f->tensors().empty());
  CHECK(*f->GetString("general.architecture") == "llama");
  CHECK(*f->GetString("tokenizer.ggml.model") == "llama");
  // LLaMA's SentencePiece model: 32000 pieces, <unk> <s> </s> then the 256 byte pieces.
  Result<std::vector<std::string_view>> tokens = f->GetStringArray("tokenizer.ggml.tokens");
  REQUIRE(tokens.ok());
  REQUIRE(tokens->size() == 32000);
  CHECK((*tokens)[0] == "<unk>");
  CHECK((*tokens)[1] == "<s>");
  CHECK((*tokens)[2] == "</s>");
  CHECK((*tokens)[3] == "<0x00>");
  CHECK((*tokens)[258] == "<0xFF>");
  Result<std::vector<int32_t>> types = f->GetInt32Array("tokenizer.ggml.token_type");
  REQUIRE(types.ok());
  CHECK((*types)[0] == 2);    // UNKNOWN
  CHECK((*types)[1] == 3);    // CONTROL
  CHECK((*types)[3] == 6);    // BYTE
  CHECK((*types)[259] == 1);  // NORMAL
  CHECK(f->GetFloatArray("tokenizer.ggml.scores")->size() == 32000);
  CHECK(*f->GetUint("tokenizer.ggml.bos_token_id") == 1);
  CHECK(*f->GetUint("tokenizer.ggml.eos_token_id") == 2);
  CHECK(*f->GetBool("tokenizer.ggml.add_bos_token") == true);
  CHECK(*f->GetBool("tokenizer.ggml.add_eos_token") == false);
  CHECK(*f->GetUint("llama.context_length") == 4096);
  CHECK(*f->GetFloat("llama.attention.layer_norm_rms_epsilon") == Approx(1e-5));
}

TEST_CASE("llama.cpp's WordPiece vocabulary file", "[gguf]") {
  Result<GgufFile> f =
      GgufFile::Open(testing::DataPath("llama.cpp-vocab/ggml-vocab-bert-bge.gguf"));
  REQUIRE(f.ok());
  CHECK(*f->GetString("general.architecture") == "bert");
  Result<std::vector<std::string_view>> tokens = f->GetStringArray("tokenizer.ggml.tokens");
  REQUIRE(tokens.ok());
  CHECK(tokens->size() == 30522);  // bert-base-uncased
  CHECK((*tokens)[0] == "[PAD]");
  CHECK(*f->GetUint("tokenizer.ggml.seperator_token_id") == 102);
  CHECK(*f->GetUint("tokenizer.ggml.cls_token_id") == 101);
  CHECK(f->FindKv("tokenizer.ggml.scores") == nullptr);
}

TEST_CASE("a missing file is an I/O error naming the path", "[gguf]") {
  Result<GgufFile> f = GgufFile::Open("/nonexistent/model.gguf");
  REQUIRE(!f.ok());
  CHECK(f.status().code() == StatusCode::kIoError);
  CHECK(f.status().message() == "/nonexistent/model.gguf: cannot open: No such file or directory");
}

}  // namespace
}  // namespace ggufembed
