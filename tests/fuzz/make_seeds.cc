// Writes the unminimized seeds of every harness into DIR/<harness>/ (scripts/fuzz.sh --seeds
// merges them into tests/fuzz/corpus/): micro models for gguf and model, texts with option bytes
// for embed and tokenizer, JSONL lines for records, argv vectors for args.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "fuzz_models.h"
#include "synth/gguf_writer.h"
#include "synth/synth_fill.h"

using namespace ggufembed;

namespace {
std::filesystem::path out_dir;
int counter = 0;

void Write(const std::string& harness, const std::string& bytes) {
  const std::filesystem::path dir = out_dir / harness;
  std::filesystem::create_directories(dir);
  std::ofstream(dir / ("seed-" + std::to_string(counter++)), std::ios::binary) << bytes;
}
void Write(const std::string& harness, const std::vector<uint8_t>& bytes) {
  Write(harness, std::string(bytes.begin(), bytes.end()));
}
}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: fuzz_make_seeds DIR\n");
    return 2;
  }
  out_dir = argv[1];
  // Micro models without byte tokens (12-24 KB): Q8_0 with SentencePiece, Q8_0 with gemma4 BPE
  // and dense layers, F16 (the other float types differ only in the dequantizer).
  const struct {
    GgmlType type;
    const char* tokenizer;
    bool dense;
  } variants[] = {{GgmlType::kQ8_0, "llama", false},
                  {GgmlType::kQ8_0, "gemma4", true},
                  {GgmlType::kF16, "llama", false}};
  for (const auto& variant : variants) {
    fuzz::MicroOptions o;
    o.weight_type = variant.type;
    o.tokenizer = variant.tokenizer;
    o.dense = variant.dense;
    o.byte_tokens = false;
    const std::vector<uint8_t> bytes = fuzz::MicroModelBytes(o);
    Write("model", bytes);
  }
  // gemma-embedding2's micro preset (49 KB in Q8_0, 80 KB in F16): per-layer inputs, a sliding
  // and a global layer with their own head sizes, the output projection.
  for (const GgmlType type : {GgmlType::kQ8_0, GgmlType::kF16}) {
    SynthOptions o;
    o.arch = "gemma-embedding2";
    o.preset = "micro";
    o.weight_type = type;
    Write("model", fuzz::SynthModelBytes(o));
  }
  // gguf: small files with every metadata type, scalar and array, a ten-token vocabulary, and
  // one or two rows of every dequantizable tensor type (random bytes), at two alignments.
  for (const uint32_t alignment : {32u, 64u}) {
    GgufWriter w;
    w.set_alignment(alignment);
    w.SetString("general.architecture", "gemma-embedding");
    w.SetU8("u8", 1);
    w.SetI8("i8", -1);
    w.SetU16("u16", 2);
    w.SetI16("i16", -2);
    w.SetU32("gemma-embedding.block_count", 1);
    w.SetI32("i32", -3);
    w.SetU64("u64", 4);
    w.SetI64("i64", -4);
    w.SetF32("f32", 0.5f);
    w.SetF64("f64", 0.25);
    w.SetBool("bool", true);
    w.SetF32Array("f32s", {1, 2, 3});
    w.SetI32Array("i32s", {-1, 0, 1});
    w.SetU32Array("u32s", {1, 2});
    w.SetString("tokenizer.ggml.model", alignment == 32 ? "llama" : "gemma4");
    w.SetStringArray("tokenizer.ggml.tokens", {"<pad>", "<eos>", "<bos>", "<unk>", "a", "b", "ab",
                                               "\xe2\x96\x81", "<0x41>", "c"});
    w.SetF32Array("tokenizer.ggml.scores", {0, 0, 0, 0, -1, -2, -3, -4, 0, -5});
    w.SetI32Array("tokenizer.ggml.token_type", {3, 3, 3, 2, 1, 1, 1, 1, 6, 1});
    w.SetStringArray("tokenizer.ggml.merges", {"a b"});
    w.SetU32("tokenizer.ggml.bos_token_id", 2);
    w.SetBool("tokenizer.ggml.add_bos_token", true);
    Rng rng(alignment);
    auto random = [&](uint8_t* data, uint64_t n) {
      for (uint64_t i = 0; i < n; ++i) data[i] = static_cast<uint8_t>(rng.Next());
    };
    for (const GgmlType t : {GgmlType::kF32, GgmlType::kF16, GgmlType::kBF16, GgmlType::kQ8_0,
                             GgmlType::kQ4_0, GgmlType::kQ4_1, GgmlType::kQ5_0, GgmlType::kQ5_1,
                             GgmlType::kQ4_K, GgmlType::kQ5_K, GgmlType::kQ6_K}) {
      const int64_t block = GetGgmlType(t).block_size;
      w.AddTensor(std::string("t.") + GetGgmlType(t).name, t, {block, alignment == 32 ? 1 : 2},
                  random);
    }
    Result<std::vector<uint8_t>> bytes = w.WriteToBuffer();
    if (!bytes.ok()) {
      std::fprintf(stderr, "%s\n", bytes.status().message().c_str());
      return 1;
    }
    Write("gguf", *bytes);
  }
  const std::vector<std::string> texts = {
      "",
      "hello world",
      "The quick brown fox jumps over the lazy dog.",
      "<bos><eos><start_of_turn>user\n<mask><code>x</code><end_of_turn>",
      "  leading  and\ttrailing \n\n\r\n spaces  ",
      "ünïcödé Ελληνικά Русский עברית العربية हिन्दी カタカナ 日本語 한국어 "
      "🙂👍",
      std::string("\xff\xfe invalid \xc3 utf-8 \xe2\x82", 17),
      "1234567890 3.14159 $5 #tag @user http://example.com/a?b=c",
      std::string(300, 'a') + " " + std::string(200, 'b'),
  };
  for (size_t i = 0; i < texts.size(); ++i) {
    Write("tokenizer", std::string(1, static_cast<char>(i)) + texts[i]);
    // embed: flags, prompt, dim, pooling, [title NUL], [prompt text NUL], text
    std::string opts = {static_cast<char>(i * 29 + 7), static_cast<char>(i % 10),
                        static_cast<char>(i * 4), static_cast<char>(i)};
    if (opts[0] & 8) opts += "A title" + std::string(1, '\0');
    if (opts[0] & 16) opts += "query: " + std::string(1, '\0');
    Write("embed", opts + texts[i]);
  }
  for (const char* line :
       {R"({"id": 1, "text": "hello"})",
        R"({"id": "a\u00e9\ud83d\ude00", "text": "x\n\"y\"", "title": "t", "prompt": "document"})",
        R"({"id": [1, {"k": null}], "text": "t", "extra": [true, false, 1e308, -0.5e-3]})",
        R"({"text": 5})", R"({"id": null})", R"([1, 2])",
        "\xE3{\"text\": \"a\"}\r\n{\"text\": \"b\"}\n",
        "\xF7{\"text\":\"a\"}\n\n{\"text\":\"b\",\"id\":2}\r\nnot json\n{\"te"}) {
    Write("records", std::string(line));
  }
  // argv words separated by NUL ("\0" followed by a digit would be an octal escape: "\0" "2").
  auto words = [](const auto& literal) { return std::string(literal, sizeof(literal) - 1); };
  for (const std::string& argv_bytes :
       {words("embed\0-m\0model.gguf\0--dim=64\0hello\0world"),
        words("embed\0--prompt\0query\0--title\0T\0--pooling\0mean\0-t\0"
              "2\0--truncate"),
        words("embed\0-f\0jsonl\0--input-format=jsonl\0-i\0in\0-o\0out\0--on-error\0record"),
        words("embed\0--pack-tokens\0-5\0--dim\0x\0--help\0--\0-q"),
        words("embed\0--no-normalize\0--no-parse-special\0--reference\0--check-tensors\0"
              "--ids\0ids.jsonl\0-d\0"
              "9999999999999999999")}) {
    Write("args", argv_bytes);
  }
  std::printf("seeds written to %s\n", out_dir.c_str());
  return 0;
}
