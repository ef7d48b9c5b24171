// CapacityBytes: the heap bytes a vector or string holds (its capacity, not its size): how the
// scratch structs report what they keep between calls (Embedder::workspace_bytes).
#ifndef GGUFEMBED_UTIL_CAPACITY_H_
#define GGUFEMBED_UTIL_CAPACITY_H_

#include <cstddef>

namespace ggufembed {

template <class Container>
size_t CapacityBytes(const Container& c) {
  return c.capacity() * sizeof(typename Container::value_type);
}

}  // namespace ggufembed

#endif  // GGUFEMBED_UTIL_CAPACITY_H_
