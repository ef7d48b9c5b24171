// RopeTables: filled with the reference's RopeCosSin, so the fast path rotates by the same values.
#include "kernels/rope_tables.h"

#include "kernels/reference.h"

namespace ggufembed {

RopeTables::Table RopeTables::Get(float base, int n_rot, int n_positions) {
  Entry* e = nullptr;
  for (Entry& entry : entries_) {
    if (entry.base == base && entry.n_rot == n_rot) e = &entry;
  }
  if (e == nullptr) {
    e = &entries_.emplace_back();
    e->base = base;
    e->n_rot = n_rot;
  }
  if (e->positions < n_positions) {
    const size_t half = static_cast<size_t>(n_rot / 2);
    e->cos.resize(size_t(n_positions) * half);
    e->sin.resize(size_t(n_positions) * half);
    // n_rot 0 (rope.dimension_count 0: nothing rotates) leaves the tables empty.
    for (int t = e->positions; half > 0 && t < n_positions; ++t) {
      RopeCosSin(base, n_rot, t, e->cos.data() + size_t(t) * half,
                 e->sin.data() + size_t(t) * half);
    }
    e->positions = n_positions;
  }
  return Table{e->cos.data(), e->sin.data()};
}

size_t RopeTables::bytes() const {
  size_t n = 0;
  for (const Entry& e : entries_) n += (e.cos.capacity() + e.sin.capacity()) * sizeof(float);
  return n;
}

}  // namespace ggufembed
