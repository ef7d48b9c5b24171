// The architecture seam from the outside: a toy architecture defined in this file alone is
// registered at run time and embeds through the public Embedder, tokenizer, output head and all,
// with nothing else in the engine changed for it.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "catch2/catch.hpp"
#include "gguf/gguf.h"
#include "ggufembed/embedder.h"
#include "model_util.h"
#include "models/hparams.h"
#include "models/model.h"
#include "models/tensor_binder.h"
#include "util/error.h"

namespace ggufembed {
namespace {

constexpr int kToyOut = 4;  // width of the toy's projection

// "toy-bag": each token's hidden state is its embedding row times (position + 1); one projection
// of its own after pooling.
class ToyBag final : public Model {
 public:
  ToyBag(ModelHead head, Matrix embd, TensorBinder::Kept kept)
      : Model(std::move(head)), embd_(embd), kept_(std::move(kept)) {}

  Status Forward(const PassTokens& tokens, ForwardWorkspace&, float* hidden,
                 OpProfile*) const override {
    const size_t d = static_cast<size_t>(embd_.cols);
    tokens.ForEachText([&](int first, int length) {
      ForwardReference(tokens.ids + first, length, hidden + first * d);
    });
    return OkStatus();
  }
  void ForwardReference(const int32_t* tokens, int n, float* hidden) const override {
    const int d = static_cast<int>(embd_.cols);
    for (int t = 0; t < n; ++t) {
      REQUIRE(DequantizeRow(embd_.type, embd_.Row(tokens[t]), hidden + size_t(t) * d, d).ok());
      for (int i = 0; i < d; ++i) hidden[size_t(t) * d + i] *= float(t + 1);
    }
  }
  double MultiplyAdds(int n) const override { return double(n) * embd_.cols; }

 private:
  Matrix embd_;
  TensorBinder::Kept kept_;
};

Result<std::unique_ptr<Model>> LoadToyBag(const GgufFile& f) {
  GGUFEMBED_ASSIGN_OR_RETURN(int n_ctx, GetSize(f, "toy-bag.context_length", 1, kMaxSize, true, 0));
  const GgufTensorInfo* t = f.FindTensor("token_embd.weight");
  if (t == nullptr || t->n_dims != 2) return Error(StatusCode::kInvalidFile, "no token_embd");
  const int d = static_cast<int>(t->ne[0]), n_vocab = static_cast<int>(t->ne[1]);
  TensorBinder::Kept kept;
  TensorBinder b(f, &kept);
  GGUFEMBED_ASSIGN_OR_RETURN(Matrix embd, b.BindMatrix("token_embd.weight", d, n_vocab));
  GGUFEMBED_ASSIGN_OR_RETURN(Matrix proj, b.BindMatrix("proj.weight", d, kToyOut));
  GGUFEMBED_RETURN_IF_ERROR(b.CheckAllUsed("toy-bag", {}));
  ModelHead head{"toy-bag", "", n_ctx, d, n_vocab, Pooling::kMean, {proj}, kToyOut, {}};
  return std::unique_ptr<Model>(new ToyBag(std::move(head), embd, std::move(kept)));
}

// The tiny synthetic model's vocabulary and token embeddings as a toy-bag file.
std::string ToyBagPath(std::vector<float>* proj_values) {
  Result<GgufFile> tiny = GgufFile::Open(testing::SynthModelPath("tiny"));
  REQUIRE(tiny.ok());
  proj_values->resize(size_t(kToyOut) * 128);
  for (size_t i = 0; i < proj_values->size(); ++i) {
    (*proj_values)[i] = float(int(i * 37 % 23) - 11) / 16.0f;
  }
  testing::Rewrite r;
  r.keep_kv = [](const GgufKv& kv) {
    return kv.key.rfind("tokenizer.", 0) == 0 || kv.key == "general.alignment";
  };
  r.keep_tensor = [](const GgufTensorInfo& t) { return t.name == "token_embd.weight"; };
  r.add = [&](GgufWriter& w) {
    w.SetString("general.architecture", "toy-bag");
    w.SetU32("toy-bag.context_length", 64);
    std::vector<uint8_t> bytes(proj_values->size() * 4);
    std::memcpy(bytes.data(), proj_values->data(), bytes.size());
    w.AddTensor("proj.weight", GgmlType::kF32, {128, kToyOut}, std::move(bytes));
  };
  Result<GgufFile> toy = testing::RewriteModel(*tiny, r, "toy-bag.gguf");
  REQUIRE(toy.ok());
  return std::string(toy->name());
}

TEST_CASE("a toy architecture registered at run time embeds through the seam", "[architecture]") {
  std::vector<float> proj;
  const std::string path = ToyBagPath(&proj);
  Result<std::unique_ptr<Embedder>> before = Embedder::Load(path);
  REQUIRE(before.status().code() == StatusCode::kUnsupported);
  CHECK(before.status().message().find("toy-bag") != std::string::npos);

  REQUIRE(RegisterArchitecture({"toy-bag", LoadToyBag}).ok());
  CHECK(RegisterArchitecture({"toy-bag", LoadToyBag}).code() == StatusCode::kInvalidArgument);
  CHECK(ArchitectureNames().find("gemma-embedding") != std::string::npos);
  Result<std::unique_ptr<Embedder>> toy = Embedder::Load(path);
  REQUIRE(toy.ok());
  const Embedder& e = **toy;
  CHECK(e.info().architecture == "toy-bag");
  CHECK(e.info().dim == kToyOut);
  CHECK(e.info().context_length == 64);
  CHECK(e.info().has_dense);

  // The expected vector, from the file's bytes with plain double arithmetic.
  const std::string text = "hello toy";
  Result<std::vector<int32_t>> ids = e.Tokenize(text, true, true);
  REQUIRE(ids.ok());
  Result<GgufFile> file = GgufFile::Open(path);
  REQUIRE(file.ok());
  const GgufTensorInfo* embd = file->FindTensor("token_embd.weight");
  const int T = static_cast<int>(ids->size());
  std::vector<double> mean(128, 0.0);
  std::vector<float> row(128);
  for (int t = 0; t < T; ++t) {
    REQUIRE(DequantizeTensorRow(*embd, (*ids)[t], row.data()).ok());
    for (int i = 0; i < 128; ++i) mean[i] += double(row[i]) * (t + 1) / T;
  }
  std::vector<double> want(kToyOut, 0.0);
  double norm = 0;
  for (int o = 0; o < kToyOut; ++o) {
    for (int i = 0; i < 128; ++i) want[o] += double(proj[size_t(o) * 128 + i]) * mean[i];
    norm += want[o] * want[o];
  }
  for (double& w : want) w /= std::sqrt(norm);

  for (bool reference : {false, true}) {
    EmbedOptions options;
    options.reference = reference;
    Result<std::vector<Embedding>> got = e.Embed({text}, options);
    REQUIRE(got.ok());
    REQUIRE(got->front().values.size() == size_t(kToyOut));
    for (int o = 0; o < kToyOut; ++o) {
      CHECK(got->front().values[o] == Approx(want[o]).margin(1e-5));
    }
  }
  // Matryoshka and the context limit come from the head, for any architecture.
  EmbedOptions cut;
  cut.dim = 2;
  REQUIRE(e.Embed({text}, cut)->front().values.size() == 2);
  CHECK(e.Embed({std::string(200, 'z')}, {}).status().code() == StatusCode::kInputTooLong);
}

TEST_CASE("an mmproj file (image, video or audio encoder) is refused as such", "[architecture]") {
  Result<GgufFile> tiny = GgufFile::Open(testing::SynthModelPath("tiny"));
  REQUIRE(tiny.ok());
  testing::Rewrite r;
  r.keep_kv = [](const GgufKv& kv) { return kv.key != "general.architecture"; };
  r.add = [](GgufWriter& w) { w.SetString("general.architecture", "clip"); };
  Result<GgufFile> mmproj = testing::RewriteModel(*tiny, r, "mmproj.gguf");
  REQUIRE(mmproj.ok());
  const Status s = Embedder::Load(std::string(mmproj->name())).status();
  CHECK(s.code() == StatusCode::kUnsupported);
  CHECK(s.message().find("multimodal projector (mmproj") != std::string::npos);
  CHECK(s.message().find("text GGUF") != std::string::npos);
}

}  // namespace
}  // namespace ggufembed
