// RopeTables: cos and sin of the RoPE angles per position, computed once per (base, rotated
// dimensions) and extended when a longer input arrives, so warm passes allocate nothing.
#ifndef GGUFEMBED_KERNELS_ROPE_TABLES_H_
#define GGUFEMBED_KERNELS_ROPE_TABLES_H_

#include <cstddef>
#include <vector>

namespace ggufembed {

class RopeTables {
 public:
  struct Table {
    const float* cos;  // [positions × n_rot/2], RopeCosSin's values
    const float* sin;
  };

  // The table of `base` and `n_rot` covering positions [0, n_positions). Pointers stay valid
  // until a later call with the same base and n_rot asks for more positions.
  Table Get(float base, int n_rot, int n_positions);

  // Bytes held by the tables.
  size_t bytes() const;

 private:
  struct Entry {
    float base = 0.0f;
    int n_rot = 0;
    int positions = 0;
    std::vector<float> cos, sin;
  };
  std::vector<Entry> entries_;
};

}  // namespace ggufembed

#endif  // GGUFEMBED_KERNELS_ROPE_TABLES_H_
