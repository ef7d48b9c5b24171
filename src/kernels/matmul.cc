// The matrix products, compiled once per target: the drivers that pick a kernel for the weight
// type and target, walk a matrix tile by tile and hand each tile's results to an epilogue (plain
// store, or GeGLU fused over the gate and up products) — MatMul, MatMulGeGLU and
// PrepareMatMulInput as matmul-inl.h declares them — and MatMulRows behind one dynamic dispatch
// for code that is not compiled per target (the output head's projections).
//
// Most kernels put tokens in the vector lanes: activations are stored transposed (matmul.h), a
// few weight values are broadcast, and each lane accumulates one token's sum; a tile is
// kTileRows weight rows × V vectors of tokens. The AVX2 Q8_0 kernel puts weight rows in the lanes
// instead (tiles transposed when prepared) and broadcasts each token's values, as does the AVX2
// bf16 one for inputs of up to 64 tokens. Either way weight rows are prepared once per tile of
// rows and reused for every run of tokens.
#include "kernels/matmul.h"

#include <algorithm>
#include <cstring>

#include "gguf/ggml_type.h"
#include "kernels/activation_quant.h"
#include "kernels/gelu.h"
#include "kernels/matrix.h"
#include "util/check.h"
#include "util/error.h"

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/matmul.cc"
#include "hwy/foreach_target.h"  // must come before highway.h
#include "hwy/highway.h"
#include "kernels/bf16_x86-inl.h"
#include "kernels/float_tile-inl.h"
#include "kernels/int8_relaxed-inl.h"
#include "kernels/int8_tile-inl.h"
#include "kernels/int8_x86-inl.h"
#include "kernels/kquant_tile-inl.h"
#include "kernels/matmul-inl.h"
#include "kernels/matmul_input-inl.h"
#include "kernels/vec_math-inl.h"

HWY_BEFORE_NAMESPACE();
namespace ggufembed {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// Lanes (tokens) per vector of `kernel`.
inline int KernelLanes(Int8Kernel kernel) {
  switch (kernel) {
    case Int8Kernel::kAvx2:
      return 8;
    case Int8Kernel::kVnni:
      return 16;
    case Int8Kernel::kRelaxed:
      return 4;
    default:
      return static_cast<int>(Int8Lanes());
  }
}

// Runs `kernel` on one tile of V vectors of tokens.
template <int V>
HWY_INLINE void RunInt8Tile(Int8Kernel kernel, const Int8Tile& w, const MatMulInput& in, int t0,
                            float* out) {
  switch (kernel) {
#if GGUFEMBED_X86_INT8
    case Int8Kernel::kAvx2:
      return Int8TileAvx2ForType<V>(w, in, t0, out);
#endif
#if HWY_TARGET == HWY_AVX3_DL
    case Int8Kernel::kVnni:
      return Int8TileVnni<V>(w, in, t0, out);
#endif
#if GGUFEMBED_RELAXED_INT8
    case Int8Kernel::kRelaxed:
      return Int8TileRelaxedForType<V>(w, in, t0, out);
#endif
    default:
      return Int8TilePortable<V>(w, in, t0, out);
  }
}

// ------------------------------------------------------------------------ drivers

// Bytes of one prepared weight tile of any kind, for `cols`-value rows.
inline size_t MatMulTileBytes(int cols) {
  size_t tile =
      std::max({Int8TileScratchBytes(cols), FloatTileScratchBytes(cols), KTileScratchBytes(cols)});
#if GGUFEMBED_X86_INT8
  tile = std::max(tile, RowLanesTileBytes(cols));  // a bf16 one takes less: 8 rows of 2·cols bytes
#endif
  return tile;
}

#if GGUFEMBED_X86_INT8
static_assert(kRowLanes * kRowLanes <= kTileOutputFloats, "rows-in-lanes results fit a tile's");
static_assert(kGroupRows % kRowLanes == 0, "a group is whole rows-in-lanes tiles");
#endif

void CarveMatMulScratch(Arena& arena, int max_tokens, int max_cols, MatMulScratch* s) {
  for (int i = 0; i < 2; ++i) {
    s->tile[i] = arena.Alloc<uint8_t>(MatMulTileBytes(max_cols));
    s->out[i] = arena.Alloc<float>(kTileOutputFloats);
  }
  s->stage = arena.Alloc<float>(uint64_t(PaddedTokens(max_tokens)) * kGroupRows);
}

// Copies the staged rows [n0g, n0g + rows) of tokens [t0, t1) into y.
HWY_INLINE void FlushGroup(const MatMulScratch& s, int t0, int t1, int64_t n0g, int rows, float* y,
                           size_t ldy) {
  for (int t = t0; t < t1; ++t) {
    std::copy_n(s.stage + size_t(t) * kGroupRows, rows, y + size_t(t) * ldy + n0g);
  }
}

// Prepared weight rows of one tile: int8 blocks, K-quant or float.
struct WeightTile {
  Int8Tile int8;
  KTile k;
  const float* rows[kTileRows];
  const uint8_t* half_rows[kTileRows];  // bf16: the rows as stored (VDPBF16PS)
  bool tame;                            // bf16: every weight of the tile is Bf16Tame
};

// Runs the K-quant kernel for `kernel`'s layout on one tile of V vectors of tokens.
template <int V>
HWY_INLINE void RunKTile(Int8Kernel kernel, const KTile& w, const MatMulInput& in, int t0,
                         float* out) {
  switch (kernel) {
#if GGUFEMBED_X86_INT8
    case Int8Kernel::kAvx2:
      return KTileX86<V>(w, in, t0, out);
#endif
#if HWY_TARGET == HWY_AVX3_DL
    case Int8Kernel::kVnni:
      return KTileVnni<V>(w, in, t0, out);
#endif
#if GGUFEMBED_RELAXED_INT8
    case Int8Kernel::kRelaxed:
      return KTileRelaxed<V>(w, in, t0, out);
#endif
    default:
      return KTilePortable<V>(w, in, t0, out);
  }
}

// A matrix's weights, tile by tile, for one kernel.
class TileSource {
 public:
  TileSource(const Matrix& w, const MatMulInput& in, Int8Kernel kernel, uint8_t* scratch)
      : w_(w),
        kernel_(kernel),
        scratch_(scratch),
        int8_(HasInt8Blocks(w.type)),
        kquant_(IsKQuant(w.type)),
        bf16_range_(w.type != GgmlType::kBF16 ? Bf16Range::kWild
                    : w.bf16_range            ? w.bf16_range->load(std::memory_order_relaxed)
                                              : Bf16Range::kUnknown),
        // VDPBF16PS for bf16 weights where the CPU has it (the kVnni target's float kernel),
        // on even rows of tame activations (and tiles of tame weights).
        bf16_dp_(GGUFEMBED_BF16_X86 && w.type == GgmlType::kBF16 && kernel == Int8Kernel::kVnni &&
                 w.cols % 2 == 0 && in.tame && CpuHasBf16Dp()),
        // Whether bf16 weights must be checked: for VDPBF16PS, which flushes subnormals, and
        // where MulAdd is a product and an add. With a fused MulAdd the float kernel is
        // DotBf16Pairs itself, whatever the values.
        bf16_check_(w.type == GgmlType::kBF16 && (bf16_dp_ || !HWY_NATIVE_FMA)) {}

  // Keeps in the matrix what this product found of its bf16 values, once it has prepared every
  // row (the products after it then skip the check).
  void KeepBf16Range() const {
    if (bf16_check_ && w_.bf16_range && bf16_range_ == Bf16Range::kUnknown && checked_) {
      w_.bf16_range->store(all_tame_ ? Bf16Range::kTame : Bf16Range::kWild,
                           std::memory_order_relaxed);
    }
  }

  // Whether the weights run on integer kernels (int8 activations, 1 byte per value).
  bool integer() const { return int8_ || kquant_; }

  // Prepares rows [n0, n0 + rows).
  void Prepare(int64_t n0, int rows, WeightTile* tile) const {
    if (kquant_) {
      PrepareKTile(w_, n0, rows, kernel_ == Int8Kernel::kPortable, scratch_, &tile->k);
      return;
    }
    if (int8_) {
      const UnsignedWeights uform = kernel_ == Int8Kernel::kAvx2 || kernel_ == Int8Kernel::kVnni
                                        ? X86UnsignedWeights(kernel_ == Int8Kernel::kVnni, w_.type)
                                    : kernel_ == Int8Kernel::kRelaxed
                                        ? RelaxedUnsignedWeights(w_.type)
                                        : UnsignedWeights::kNone;
      PrepareInt8Tile(w_, n0, rows, uform, kernel_ == Int8Kernel::kPortable, scratch_, &tile->int8);
      return;
    }
    const int cols = static_cast<int>(w_.cols);
    if (bf16_check_) {
      tile->tame = bf16_range_ == Bf16Range::kTame;
      if (bf16_range_ == Bf16Range::kUnknown) {
        tile->tame = true;
        for (int r = 0; r < rows; ++r) tile->tame &= Bf16RowTame(w_.Row(n0 + r), cols);
        all_tame_ &= tile->tame;
        checked_ = true;
      }
      for (int r = 0; r < kTileRows; ++r) tile->half_rows[r] = w_.Row(n0 + std::min(r, rows - 1));
      if (bf16_dp_ && tile->tame) return;  // VDPBF16PS reads the rows as they are
    }
    float* f = reinterpret_cast<float*>(scratch_);
    for (int r = 0; r < kTileRows; ++r) {
      if (r >= rows) {
      } else if (w_.type == GgmlType::kF16 || w_.type == GgmlType::kBF16) {
        WidenHalfRow(w_.type == GgmlType::kF16, w_.Row(n0 + r), f + size_t(r) * cols, cols);
      } else {
        GGUFEMBED_DCHECK_OK(DequantizeRow(w_.type, w_.Row(n0 + r), f + size_t(r) * cols, cols));
      }
      tile->rows[r] = f + size_t(std::min(r, rows - 1)) * cols;
    }
  }

  // out [kTileRows][V·L] for V vectors of tokens from t0.
  template <int V>
  void Run(const WeightTile& tile, const MatMulInput& in, int t0, float* out) const {
    if (kquant_) {
      RunKTile<V>(kernel_, tile.k, in, t0, out);
    } else if (int8_) {
      RunInt8Tile<V>(kernel_, tile.int8, in, t0, out);
    } else if (w_.type == GgmlType::kBF16) {
#if GGUFEMBED_BF16_X86
      if (bf16_dp_ && tile.tame) return Bf16TileDp<V>(tile.half_rows, in, t0, out);
#endif
      if (HWY_NATIVE_FMA || (tile.tame && in.tame)) {
        FloatTile<V, true, true>(tile.rows, in, t0, out);
      } else {
        Bf16TileExact<V>(tile.rows, in, t0, out);
      }
    } else if (ExactProducts(w_.type)) {
      FloatTile<V, true>(tile.rows, in, t0, out);
    } else {
      FloatTile<V, false>(tile.rows, in, t0, out);
    }
  }

  // Tokens per vector.
  int lanes() const {
    return integer() ? KernelLanes(kernel_) : static_cast<int>(hn::Lanes(hn::ScalableTag<float>()));
  }

 private:
  const Matrix& w_;
  Int8Kernel kernel_;
  uint8_t* scratch_;
  bool int8_, kquant_;
  Bf16Range bf16_range_;  // bf16: as the matrix held it when this product began
  bool bf16_dp_, bf16_check_;
  mutable bool all_tame_ = true;  // bf16, range unknown: every tile prepared so far was tame
  mutable bool checked_ = false;  // and some tile was (none for no tokens)
};

// Tokens per sweep over a matrix's rows, a multiple of `align`: a chunk's prepared activations
// (`token_bytes` each) stay in L2 while every tile of rows runs over them — a 2048-wide input of
// 500 tokens would otherwise come from L3 for each tile. Weights are prepared again per chunk.
inline int ChunkTokens(size_t token_bytes, int align) {
  constexpr size_t kBudget = size_t{256} << 10;
  return std::max(align, static_cast<int>(kBudget / token_bytes) / align * align);
}

// y[t·ldy + n] for every row n of `first` and token t of `in`: runs `first` on each tile of rows
// and tokens (and `second`, if not null, on the same rows and tokens of its matrix), calls
// finish(first_out, second_out, n) on each row's n results (in place in first_out), and writes
// them to y through the group stage.
template <class Finish>
HWY_INLINE void ForEachTile(const TileSource& first, const TileSource* second, int64_t n_rows,
                            const MatMulInput& in, const MatMulScratch& s, float* y, size_t ldy,
                            Finish&& finish) {
  const int L = first.lanes(), T = in.n_tokens;
  const int chunk = ChunkTokens(size_t(in.cols) * (first.integer() ? 1 : 4), 2 * L);
  WeightTile tiles[2];
  for (int c0 = 0; c0 < T; c0 += chunk) {
    const int c1 = std::min(T, c0 + chunk);
    for (int64_t n0g = 0; n0g < n_rows; n0g += kGroupRows) {
      const int group = static_cast<int>(std::min<int64_t>(kGroupRows, n_rows - n0g));
      for (int64_t n0 = n0g; n0 < n0g + group; n0 += kTileRows) {
        const int rows = static_cast<int>(std::min<int64_t>(kTileRows, n0g + group - n0));
        first.Prepare(n0, rows, &tiles[0]);
        if (second) second->Prepare(n0, rows, &tiles[1]);
        for (int t0 = c0; t0 < c1; t0 += 2 * L) {
          const bool two = c1 - t0 > L;  // two vectors of tokens, or the last one
          for (int i = 0; i < (second ? 2 : 1); ++i) {
            const TileSource& source = i == 0 ? first : *second;
            if (two) {
              source.Run<2>(tiles[i], in, t0, s.out[i]);
            } else {
              source.Run<1>(tiles[i], in, t0, s.out[i]);
            }
          }
          const int tokens = std::min(2 * L, c1 - t0), stride = two ? 2 * L : L;
          for (int r = 0; r < rows; ++r) {
            float* out = s.out[0] + r * stride;
            finish(out, s.out[1] + r * stride, stride);
            float* stage = s.stage + size_t(t0) * kGroupRows + (n0 - n0g) + r;
            for (int l = 0; l < tokens; ++l) stage[size_t(l) * kGroupRows] = out[l];
          }
        }
      }
      FlushGroup(s, c0, c1, n0g, group, y, ldy);
    }
  }
}

#if GGUFEMBED_X86_INT8
// Whether a product takes a rows-in-lanes path (AVX2 kernel: Q8_0 weights, or bf16 ones of a
// short input).
HWY_INLINE bool UseRowLanes(const Matrix& w, const MatMulInput& in, Int8Kernel kernel) {
  return (kernel == Int8Kernel::kAvx2 && w.type == GgmlType::kQ8_0) ||
         UseBf16RowLanes(w, in, kernel);
}

// A matrix on a rows-in-lanes kernel: its tile of kRowLanes rows, prepared, run on a few tokens.
class RowLanesSource {
 public:
  RowLanesSource(const Matrix& w, uint8_t* scratch)
      : w_(w), scratch_(scratch), bf16_(w.type == GgmlType::kBF16) {}

  // Tokens per run, at most.
  int max_run() const { return bf16_ ? kBf16RowLanesRun : kRowLanes; }

  // Tokens per sweep over the rows, of the input's T (ChunkTokens). bf16 inputs are short
  // (kBf16RowLanesMaxTokens): one sweep, so that 13 tokens of 3072 values do not split 12 + 1.
  int chunk(int T) const {
    return bf16_ ? std::max(T, 1) : ChunkTokens(size_t(w_.cols), kRowLanes);
  }

  // Prepares rows [n0, n0 + rows).
  void Prepare(int64_t n0, int rows) {
    if (bf16_) return PrepareBf16RowLanesTile(w_, n0, rows, scratch_, &bf16_tile_);
    PrepareRowLanesTile(w_, n0, rows, scratch_, &int8_tile_);
  }

  // out [n][kRowLanes] for tokens [t0, t0 + n).
  void Run(int n, const MatMulInput& in, int t0, float* out) const {
    if (bf16_) return RunBf16RowLanes(n, bf16_tile_, in, t0, out);
    RunRowLanes(n, int8_tile_, in, t0, out);
  }

 private:
  const Matrix& w_;
  uint8_t* scratch_;
  bool bf16_;
  RowLanesTile int8_tile_;
  Bf16RowLanesTile bf16_tile_;
};

static_assert(kRowLanes * kBf16RowLanesRun <= kTileOutputFloats, "a run's results fit a tile's");

// ForEachTile for the rows-in-lanes kernels: tiles of kRowLanes rows and runs of tokens of
// nearly equal length (13 tokens are 7 and 6 rather than 8 and 5: the shorter run has chains
// enough to hide the adds' latency), whose results s.out[i] hold as [token][kRowLanes rows];
// finish(first_out, second_out, kRowLanes·n) on each run.
template <class Finish>
HWY_INLINE void ForEachRowLanesTile(const Matrix& first, const Matrix* second,
                                    const MatMulInput& in, const MatMulScratch& s, float* y,
                                    size_t ldy, Finish&& finish) {
  RowLanesSource sources[2] = {{first, s.tile[0]}, {second ? *second : first, s.tile[1]}};
  const int T = in.n_tokens, max_run = sources[0].max_run(), chunk = sources[0].chunk(T);
  for (int c0 = 0; c0 < T; c0 += chunk) {
    const int c1 = std::min(T, c0 + chunk);
    for (int64_t n0g = 0; n0g < first.rows; n0g += kGroupRows) {
      const int group = static_cast<int>(std::min<int64_t>(kGroupRows, first.rows - n0g));
      for (int64_t n0 = n0g; n0 < n0g + group; n0 += kRowLanes) {
        const int rows = static_cast<int>(std::min<int64_t>(kRowLanes, n0g + group - n0));
        sources[0].Prepare(n0, rows);
        if (second) sources[1].Prepare(n0, rows);
        for (int t0 = c0; t0 < c1;) {
          const int left = c1 - t0, runs = (left + max_run - 1) / max_run;
          const int n = (left + runs - 1) / runs;
          sources[0].Run(n, in, t0, s.out[0]);
          if (second) sources[1].Run(n, in, t0, s.out[1]);
          finish(s.out[0], s.out[1], kRowLanes * n);
          for (int l = 0; l < n; ++l) {
            std::copy_n(s.out[0] + kRowLanes * l, rows,
                        s.stage + size_t(t0 + l) * kGroupRows + (n0 - n0g));
          }
          t0 += n;
        }
      }
      FlushGroup(s, c0, c1, n0g, group, y, ldy);
    }
  }
}
#endif

// ------------------------------------------------------------------------ entry points

void PrepareMatMulInput(GgmlType weight_type, const float* x, MatMulInput* in) {
  in->type = ActivationType(weight_type);
  in->padded_tokens = PaddedTokens(in->n_tokens);
  in->tame = true;
  if (HasInt8Blocks(weight_type) || IsKQuant(weight_type)) {
    in->layout = InputLayout(in->carved_layout, weight_type);
    QuantizeToInput(x, in);
    return;
  }
  const int T = in->n_tokens, P = in->padded_tokens, cols = in->cols;
  std::memset(in->xt, 0, sizeof(float) * size_t(cols) * P);
  // Runs of 16 tokens, so that each run writes whole cache lines (as QuantizeToInput does).
  for (int t0 = 0; t0 < T; t0 += 16) {
    const int t1 = std::min(T, t0 + 16);
    for (int i = 0; i < cols; ++i) {
      for (int t = t0; t < t1; ++t) in->xt[size_t(i) * P + t] = x[size_t(t) * cols + i];
    }
  }
  if (in->type == GgmlType::kF16) {
    const hn::ScalableTag<float> df;
    const size_t n = size_t(cols) * P, lanes = hn::Lanes(df);
    for (size_t i = 0; i < n; i += lanes) {  // P is a multiple of the lanes
      hn::Store(RoundToF16(df, hn::Load(df, in->xt + i)), df, in->xt + i);
    }
  } else if (in->type == GgmlType::kBF16) {
    // bf16 rounds whole rows of a token: do it before transposing.
    const bool pairs = cols % 2 == 0;
    uint16_t* halves = static_cast<uint16_t*>(in->q);  // bf16 pairs: [cols/2][P][2]
    if (pairs) std::memset(halves, 0, sizeof(uint16_t) * size_t(cols) * P);
    HWY_ALIGN float row[4096];
    for (int t = 0; t < T; ++t) {
      for (int c0 = 0; c0 < cols; c0 += 4096) {  // c0 is even
        const int n = std::min(4096, cols - c0);
        for (int i = 0; i < n; ++i) row[i] = x[size_t(t) * cols + c0 + i];
        RoundThroughActivationType(in->type, row, n);
        for (int i = 0; i < n; ++i) in->xt[size_t(c0 + i) * P + t] = row[i];
        for (int i = 0; i < n; ++i) {
          uint32_t bits;
          std::memcpy(&bits, &row[i], 4);
          const uint16_t half = static_cast<uint16_t>(bits >> 16);  // exact: rounded to bf16
          in->tame &= Bf16Tame(half);
          if (pairs) halves[(size_t((c0 + i) / 2) * P + t) * 2 + i % 2] = half;
        }
      }
    }
  }
}

void MatMul(const Matrix& w, const MatMulInput& in, const MatMulScratch& s, float* y, size_t ldy,
            Int8Kernel kernel) {
  kernel = KernelForLayout(kernel, in.layout);
  const auto as_is = [](float*, const float*, int) {};
#if GGUFEMBED_X86_INT8
  if (UseRowLanes(w, in, kernel)) return ForEachRowLanesTile(w, nullptr, in, s, y, ldy, as_is);
#endif
  const TileSource source(w, in, kernel, s.tile[0]);
  ForEachTile(source, nullptr, w.rows, in, s, y, ldy, as_is);
  source.KeepBf16Range();
}

void MatMulGeGLU(const Matrix& gate, const Matrix& up, const MatMulInput& in,
                 const MatMulScratch& s, float* g, size_t ldg, Int8Kernel kernel) {
  kernel = KernelForLayout(kernel, in.layout);
  const float* table = GeluTable();
  // GeluF16(gate)·up over `n` results, in place in the gate's results.
  const auto geglu = [table](float* gate_out, const float* up_out, int n) {
    GeGluInPlace(gate_out, up_out, static_cast<size_t>(n), table);
  };
#if GGUFEMBED_X86_INT8
  // Both matrices on one rows-in-lanes kernel (its runs of tokens are the gate's).
  if (gate.type == up.type && UseRowLanes(gate, in, kernel) && UseRowLanes(up, in, kernel)) {
    return ForEachRowLanesTile(gate, &up, in, s, g, ldg, geglu);
  }
#endif
  const TileSource gate_source(gate, in, kernel, s.tile[0]);
  const TileSource up_source(up, in, kernel, s.tile[1]);
  ForEachTile(gate_source, &up_source, gate.rows, in, s, g, ldg, geglu);
  gate_source.KeepBf16Range();
  up_source.KeepBf16Range();
}

Status MatMulRowsImpl(const Matrix& w, const float* x, int n_tokens, float* y, Arena& arena) {
  const int cols = static_cast<int>(w.cols);
  MatMulInput in;
  MatMulScratch scratch;
  GGUFEMBED_RETURN_IF_ERROR(arena.Carve([&](Arena& a) {
    CarveMatMulInput(a, n_tokens, cols, LayoutOf(NativeInt8Kernel()), &in);
    CarveMatMulScratch(a, n_tokens, cols, &scratch);
  }));
  in.n_tokens = n_tokens;
  in.cols = cols;
  PrepareMatMulInput(w.type, x, &in);
  MatMul(w, in, scratch, y, static_cast<size_t>(w.rows));
  return OkStatus();
}

}  // namespace HWY_NAMESPACE
}  // namespace ggufembed
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace ggufembed {

HWY_EXPORT(MatMulRowsImpl);

Status MatMulRows(const Matrix& w, const float* x, int n_tokens, float* y, Arena& arena) {
  return HWY_DYNAMIC_DISPATCH(MatMulRowsImpl)(w, x, n_tokens, y, arena);
}

}  // namespace ggufembed
#endif  // HWY_ONCE
