// llama.cpp's own ggml as a test oracle: node-llama-cpp's prebuilt libraries (the npm dev
// dependency; llama.cpp release v0.5.0 of node-llama-cpp 3.22.1), loaded at run time, natively on
// x86-64 Linux only (GGUFEMBED_HAVE_GGML_ORACLE). A library that cannot be loaded is an error the
// tests report, never a skip.
#ifndef GGUFEMBED_TESTS_GGML_ORACLE_H_
#define GGUFEMBED_TESTS_GGML_ORACLE_H_

#if defined(__x86_64__) && defined(__linux__) && !defined(__EMSCRIPTEN__)
#include <dlfcn.h>

#include <catch2/catch.hpp>
#include <cctype>
#include <cstdint>
#include <string>

#include "gguf/ggml_type.h"

#define GGUFEMBED_HAVE_GGML_ORACLE 1

namespace ggufembed::testing {

// llama.cpp's ggml (node-llama-cpp's prebuilt libggml-base.so, llama.cpp release v0.5.0 of
// node-llama-cpp 3.22.1), loaded at run time. Its reference quantizers are plain C built without
// FMA, the same float operations in the same order as ours.
class Ggml {
 public:
  using QuantizeFn = void (*)(const float*, void*, int64_t);
  using DequantizeFn = void (*)(const void*, float*, int64_t);
  using ChunkFn = size_t (*)(int, const float*, void*, int64_t, int64_t, int64_t, const float*);
  using RowSizeFn = size_t (*)(int, int64_t);
  using ToHalfFn = void (*)(const float*, uint16_t*, int64_t);
  using FromHalfFn = void (*)(const uint16_t*, float*, int64_t);

  static const Ggml& Get() {
    static const Ggml* ggml = new Ggml();
    return *ggml;
  }
  bool ok() const { return handle_ != nullptr && error_.empty(); }
  const std::string& error() const { return error_; }

  template <typename Fn>
  Fn Symbol(const char* name) const {
    return reinterpret_cast<Fn>(dlsym(handle_, name));
  }
  // A function of the CPU backend (libggml-cpu-haswell.so: AVX2, which the project's machines
  // have), e.g. quantize_row_q8_K or ggml_vec_dot_q4_K_q8_K_generic.
  template <typename Fn>
  Fn CpuSymbol(const char* name) const {
    return reinterpret_cast<Fn>(dlsym(cpu_, name));
  }
  // quantize_row_<type>_ref and dequantize_row_<type>, by our type.
  QuantizeFn QuantizeRef(GgmlType t) const {
    return Symbol<QuantizeFn>(Name("quantize_row_", t, "_ref").c_str());
  }
  DequantizeFn DequantizeRow(GgmlType t) const {
    return Symbol<DequantizeFn>(Name("dequantize_row_", t, "").c_str());
  }

  ChunkFn quantize_chunk = nullptr;
  RowSizeFn row_size = nullptr;
  ToHalfFn fp32_to_fp16_row = nullptr;
  ToHalfFn fp32_to_bf16_row_ref = nullptr;
  FromHalfFn fp16_to_fp32_row = nullptr;
  FromHalfFn bf16_to_fp32_row = nullptr;

 private:
  Ggml() {
    handle_ = dlopen(GGUFEMBED_LLAMA_CPP_BINS "/libggml-base.so", RTLD_NOW | RTLD_LOCAL);
    if (handle_ == nullptr) {
      const char* e = dlerror();
      error_ =
          std::string("cannot load ggml (") + (e ? e : "?") +
          "); it comes with the npm dev dependency node-llama-cpp: run npm ci (scripts/setup.sh)";
      return;
    }
    cpu_ = dlopen(GGUFEMBED_LLAMA_CPP_BINS "/libggml-cpu-haswell.so", RTLD_NOW | RTLD_LOCAL);
    if (cpu_ == nullptr) {
      const char* e = dlerror();
      error_ = std::string("cannot load ggml's CPU backend (") + (e ? e : "?") + ")";
      return;
    }
    // Fills the backend's tables (f16 → f32 among them), as a ggml program does first.
    const auto cpu_init = CpuSymbol<void (*)()>("ggml_cpu_init");
    if (cpu_init == nullptr) {
      error_ = "libggml-cpu-haswell.so lacks ggml_cpu_init";
      return;
    }
    cpu_init();
    quantize_chunk = Symbol<ChunkFn>("ggml_quantize_chunk");
    row_size = Symbol<RowSizeFn>("ggml_row_size");
    fp32_to_fp16_row = Symbol<ToHalfFn>("ggml_fp32_to_fp16_row");
    fp32_to_bf16_row_ref = Symbol<ToHalfFn>("ggml_fp32_to_bf16_row_ref");
    fp16_to_fp32_row = Symbol<FromHalfFn>("ggml_fp16_to_fp32_row");
    bf16_to_fp32_row = Symbol<FromHalfFn>("ggml_bf16_to_fp32_row");
    if (!quantize_chunk || !row_size || !fp32_to_fp16_row || !fp32_to_bf16_row_ref ||
        !fp16_to_fp32_row || !bf16_to_fp32_row) {
      error_ = "libggml-base.so lacks an expected symbol";
    }
  }
  static std::string Name(const char* prefix, GgmlType t, const char* suffix) {
    std::string name = GgmlTypeName(static_cast<uint32_t>(t));
    for (char& c : name) {
      if (c != 'K') c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return prefix + name + suffix;
  }
  void* handle_ = nullptr;
  void* cpu_ = nullptr;
  std::string error_;
};

// The oracle, or the test fails with why it could not be loaded.
inline const Ggml& LoadGgml() {
  const Ggml& ggml = Ggml::Get();
  INFO(ggml.error());
  REQUIRE(ggml.ok());
  return ggml;
}

}  // namespace ggufembed::testing

#endif  // x86-64 Linux
#endif  // GGUFEMBED_TESTS_GGML_ORACLE_H_
