// Robustness: truncate valid files at every byte offset and corrupt every header field; the reader
// must return an error or a file whose every tensor lies inside the bytes, and never crash.
#include <catch2/catch.hpp>
#include <cstring>
#include <random>

#include "gguf/gguf.h"
#include "gguf_bytes.h"
#include "synth/synth_model.h"
#include "test_util.h"

namespace ggufembed {
namespace {

using testing::GgufBytes;

// What must hold for any file Parse accepts, checked from first principles.
void CheckInvariants(const GgufFile& f) {
  const uint8_t* begin = f.bytes().data();
  const uint8_t* end = begin + f.bytes().size();
  for (const GgufKv& kv : f.kvs()) {
    CHECK(kv.key.data() >= reinterpret_cast<const char*>(begin));
    CHECK(kv.key.data() + kv.key.size() <= reinterpret_cast<const char*>(end));
  }
  for (const GgufTensorInfo& t : f.tensors()) {
    CHECK(t.data >= begin);
    CHECK(t.n_bytes <= static_cast<uint64_t>(end - t.data));
    CHECK(t.ne[0] > 0);
    CHECK(t.offset % f.alignment() == 0);
  }
}

// The end of the last tensor's data: truncating at or after it loses only alignment padding.
size_t DataEnd(const GgufFile& f) {
  size_t end = f.data_offset();
  for (const GgufTensorInfo& t : f.tensors()) {
    end = std::max<size_t>(end, t.data - f.bytes().data() + t.n_bytes);
  }
  return end;
}

void CheckEveryTruncation(const std::vector<uint8_t>& bytes, size_t stride) {
  Result<GgufFile> whole = GgufFile::Parse(FileBytes::Copy(bytes.data(), bytes.size()), "t.gguf");
  REQUIRE(whole.ok());
  const size_t data_end = DataEnd(*whole);
  for (size_t n = 0; n < bytes.size(); n += (n < 4096 ? 1 : stride)) {
    Result<GgufFile> f = GgufFile::Parse(FileBytes::Copy(bytes.data(), n), "t.gguf");
    INFO("truncated to " << n << " of " << bytes.size() << " bytes");
    if (n < data_end) {
      REQUIRE(!f.ok());
      CHECK(f.status().code() == StatusCode::kInvalidFile);
      CHECK(f.status().message().rfind("t.gguf: ", 0) == 0);
    } else {
      // Only the zero padding after the last tensor is missing; llama.cpp accepts this too.
      REQUIRE(f.ok());
      CheckInvariants(*f);
    }
  }
}

TEST_CASE("truncation at every byte offset of a small file", "[gguf][fuzz]") {
  CheckEveryTruncation(testing::SmallValidFile().bytes(), 1);
}

TEST_CASE("truncation of a synthetic model at every header byte then strided", "[gguf][fuzz]") {
  SynthOptions options;
  options.preset = "tiny";
  const std::string path = testing::TempPath("fuzz-tiny.gguf");
  REQUIRE(WriteSynthModel(options, path).ok());
  Result<GgufFile> f = GgufFile::Open(path);
  REQUIRE(f.ok());
  const std::vector<uint8_t> bytes(f->bytes().data(), f->bytes().data() + f->bytes().size());
  CheckEveryTruncation(bytes, 997);
}

// Byte offsets of every fixed-size header field of SmallValidFile (see gguf_reader_test.cc).
struct Field {
  size_t offset;
  size_t size;
  const char* what;
};
constexpr Field kSmallFileFields[] = {
    {0, 4, "magic"},
    {4, 4, "version"},
    {8, 8, "n_tensors"},
    {16, 8, "n_kv"},
    {24, 8, "key 1 length"},
    {52, 4, "value 1 type"},
    {56, 8, "value 1 length"},
    {68, 8, "key 2 length"},
    {86, 4, "value 2 type"},
    {90, 4, "value 2"},
    {94, 8, "tensor a name length"},
    {103, 4, "tensor a n_dims"},
    {107, 8, "tensor a ne[0]"},
    {115, 4, "tensor a type"},
    {119, 8, "tensor a offset"},
    {127, 8, "tensor b name length"},
    {136, 4, "tensor b n_dims"},
    {140, 8, "tensor b ne[0]"},
    {148, 8, "tensor b ne[1]"},
    {156, 4, "tensor b type"},
    {160, 8, "tensor b offset"},
};

TEST_CASE("corrupting each header field", "[gguf][fuzz]") {
  const std::vector<uint8_t> good = testing::SmallValidFile().bytes();
  const uint64_t patterns[] = {0,
                               1,
                               2,
                               3,
                               4,
                               5,
                               7,
                               8,
                               9,
                               13,
                               31,
                               32,
                               33,
                               64,
                               255,
                               256,
                               0x7FFFFFFF,
                               0x80000000,
                               0xFFFFFFFF,
                               0x100000000ull,
                               1ull << 62,
                               0x7FFFFFFFFFFFFFFFull,
                               0x8000000000000000ull,
                               ~uint64_t{0},
                               ~uint64_t{31}};
  size_t accepted = 0, rejected = 0;
  for (const Field& field : kSmallFileFields) {
    for (uint64_t pattern : patterns) {
      std::vector<uint8_t> bytes = good;
      std::memcpy(bytes.data() + field.offset, &pattern, field.size);
      Result<GgufFile> f = GgufFile::Parse(FileBytes::Copy(bytes.data(), bytes.size()), "c.gguf");
      INFO(field.what << " = " << pattern);
      if (f.ok()) {
        ++accepted;
        CheckInvariants(*f);
      } else {
        ++rejected;
        CHECK(f.status().code() == StatusCode::kInvalidFile);
        CHECK(f.status().message().rfind("c.gguf: ", 0) == 0);
      }
    }
  }
  // Most corruptions must be caught; a few (a different but valid value type or offset) parse.
  CHECK(rejected > 3 * accepted);
}

TEST_CASE("random byte corruption never crashes", "[gguf][fuzz]") {
  const std::vector<uint8_t> good = testing::SmallValidFile().bytes();
  std::mt19937 rng(12345);
  for (int iter = 0; iter < 20000; ++iter) {
    std::vector<uint8_t> bytes = good;
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int k = 0; k < flips; ++k) {
      bytes[rng() % 192] = static_cast<uint8_t>(rng());  // only the header part
    }
    Result<GgufFile> f = GgufFile::Parse(FileBytes::Copy(bytes.data(), bytes.size()), "r.gguf");
    if (f.ok()) CheckInvariants(*f);
  }
}

}  // namespace
}  // namespace ggufembed
