// ggufembed measurement driver for the native llama.cpp build of scripts/llama-eg2/build.sh:
// raw mean-pooled llama.cpp embeddings, one thread, CPU only.
//
//   build/llama-eg2/embed BACKEND_DIR MODEL.gguf < texts
//
// BACKEND_DIR holds node-llama-cpp's prebuilt CPU backends (libggml-cpu-*.so); ggml loads the
// best one for this CPU (node_modules/@node-llama-cpp/linux-x64/bins/linux-x64), or the only one
// when the directory holds a single variant.
// Input: the texts on standard input, each terminated by a NUL byte (a last text without one is
// taken too; bytes are passed to the tokenizer as they are, so any UTF-8, newlines included).
// Output: one JSON line per text, in order: {"tokens": N, "embedding": [...]} — N token ids
// (BOS/EOS as the file's tokenizer adds them, special tokens in the text parsed, as
// llama-embedding does) and the mean-pooled, NOT normalized vector of n_embd_out floats (%.9g,
// round-trip exact; a non-finite value is written as null).
// Context: n_ctx = n_batch = n_ubatch = the longest text (at least 512), one sequence, so every
// text is one ubatch (a non-causal model needs that). Flash attention: llama.cpp's default
// (auto); LLAMA_EG2_FA=0 turns it off, 1 on.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iterator>
#include <iostream>
#include <string>
#include <vector>

#include "ggml-backend.h"
#include "llama.h"

namespace {

std::vector<std::string> ReadTexts() {
  std::string all((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
  std::vector<std::string> texts;
  size_t start = 0;
  for (size_t i = 0; i < all.size(); ++i) {
    if (all[i] == '\0') {
      texts.emplace_back(all, start, i - start);
      start = i + 1;
    }
  }
  if (start < all.size()) texts.emplace_back(all, start, std::string::npos);
  return texts;
}

std::vector<llama_token> Tokenize(const llama_vocab* vocab, const std::string& text) {
  std::vector<llama_token> ids(text.size() + 8);
  int n = llama_tokenize(vocab, text.data(), static_cast<int32_t>(text.size()), ids.data(),
                         static_cast<int32_t>(ids.size()), /*add_special=*/true, /*parse_special=*/true);
  if (n < 0) {
    ids.resize(static_cast<size_t>(-n));
    n = llama_tokenize(vocab, text.data(), static_cast<int32_t>(text.size()), ids.data(),
                       static_cast<int32_t>(ids.size()), true, true);
  }
  if (n < 0) {
    fprintf(stderr, "embed: tokenization failed\n");
    exit(1);
  }
  ids.resize(static_cast<size_t>(n));
  return ids;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: embed BACKEND_DIR MODEL.gguf < NUL-terminated texts\n");
    return 2;
  }
  llama_log_set([](ggml_log_level level, const char* text, void*) {
    if (level >= GGML_LOG_LEVEL_WARN) fputs(text, stderr);
  }, nullptr);
  ggml_backend_load_all_from_path(argv[1]);
  if (ggml_backend_dev_count() == 0) {
    fprintf(stderr, "embed: no ggml backend in %s\n", argv[1]);
    return 1;
  }
  llama_backend_init();

  llama_model_params mp = llama_model_default_params();
  mp.n_gpu_layers = 0;
  mp.progress_callback = [](float, void*) { return true; };  // no progress dots
  llama_model* model = llama_model_load_from_file(argv[2], mp);
  if (model == nullptr) {
    fprintf(stderr, "embed: cannot load %s\n", argv[2]);
    return 1;
  }
  const llama_vocab* vocab = llama_model_get_vocab(model);

  const std::vector<std::string> texts = ReadTexts();
  std::vector<std::vector<llama_token>> ids;
  size_t longest = 512;
  for (const std::string& t : texts) {
    ids.push_back(Tokenize(vocab, t));
    longest = std::max(longest, ids.back().size());
  }

  llama_context_params cp = llama_context_default_params();
  cp.n_ctx = cp.n_batch = cp.n_ubatch = static_cast<uint32_t>(longest);
  cp.n_seq_max = 1;
  cp.n_threads = cp.n_threads_batch = 1;
  cp.embeddings = true;
  cp.pooling_type = LLAMA_POOLING_TYPE_MEAN;
  if (const char* fa = getenv("LLAMA_EG2_FA"); fa != nullptr && *fa != '\0') {
    cp.flash_attn_type = atoi(fa) ? LLAMA_FLASH_ATTN_TYPE_ENABLED : LLAMA_FLASH_ATTN_TYPE_DISABLED;
  }
  llama_context* ctx = llama_init_from_model(model, cp);
  if (ctx == nullptr) {
    fprintf(stderr, "embed: cannot create a context of %zu tokens\n", longest);
    return 1;
  }
  const int n_out = llama_model_n_embd_out(model);

  std::string line;
  for (const std::vector<llama_token>& t : ids) {
    const int n = static_cast<int>(t.size());
    line = "{\"tokens\":" + std::to_string(n) + ",\"embedding\":[";
    if (n > 0) {
      llama_batch b = llama_batch_init(n, 0, 1);
      for (int i = 0; i < n; ++i) {
        b.token[i] = t[i];
        b.pos[i] = i;
        b.n_seq_id[i] = 1;
        b.seq_id[i][0] = 0;
        b.logits[i] = 1;
      }
      b.n_tokens = n;
      if (llama_memory_t mem = llama_get_memory(ctx)) llama_memory_clear(mem, true);
      if (llama_encode(ctx, b) != 0) {
        fprintf(stderr, "embed: llama_encode failed (%d tokens)\n", n);
        return 1;
      }
      const float* e = llama_get_embeddings_seq(ctx, 0);
      if (e == nullptr) {
        fprintf(stderr, "embed: no pooled embedding\n");
        return 1;
      }
      char buf[32];
      for (int i = 0; i < n_out; ++i) {
        if (std::isfinite(e[i])) snprintf(buf, sizeof buf, "%s%.9g", i ? "," : "", e[i]);
        else snprintf(buf, sizeof buf, "%snull", i ? "," : "");
        line += buf;
      }
      llama_batch_free(b);
    }
    line += "]}\n";
    fputs(line.c_str(), stdout);
  }
  fflush(stdout);
  llama_free(ctx);
  llama_model_free(model);
  llama_backend_free();
  return 0;
}
