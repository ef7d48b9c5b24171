// Reading one GGUF metadata value (see reader.h).
#include "gguf/reader.h"

#include "util/error.h"

namespace ggufembed {
namespace {

bool IsKnownType(uint32_t t) { return t <= static_cast<uint32_t>(GgufType::kF64); }

// Reads the payload of a value of type `type` (not an array), checking bools are 0 or 1.
Status ReadScalarPayload(GgufReader& r, GgufType type, const char* what) {
  if (type == GgufType::kString) {
    std::string_view s;
    return r.ReadString(&s, what);
  }
  const size_t size = GgufTypeSize(type);
  const uint64_t start = r.pos();
  GGUFEMBED_RETURN_IF_ERROR(r.Skip(size, what));
  if (type == GgufType::kBool && *r.at(start) > 1) {
    return r.Fail(start, "bool value %u is neither 0 nor 1", *r.at(start));
  }
  return OkStatus();
}

}  // namespace

Status ReadGgufValue(GgufReader& r, GgufValue* v) {
  uint32_t type;
  const uint64_t type_offset = r.pos();
  GGUFEMBED_RETURN_IF_ERROR(r.Read(&type, "value type"));
  if (!IsKnownType(type)) {
    return r.Fail(type_offset, "unknown value type %u", type);
  }
  v->type = static_cast<GgufType>(type);
  if (v->type != GgufType::kArray) {
    v->element_type = v->type;
    v->count = 1;
    v->offset = r.pos();
    v->data = r.at(r.pos());
    return ReadScalarPayload(r, v->type, "value");
  }
  uint32_t elem;
  const uint64_t elem_offset = r.pos();
  GGUFEMBED_RETURN_IF_ERROR(r.Read(&elem, "array element type"));
  if (!IsKnownType(elem)) {
    return r.Fail(elem_offset, "unknown array element type %u", elem);
  }
  if (static_cast<GgufType>(elem) == GgufType::kArray) {
    return r.Fail(elem_offset, "nested arrays are not supported");
  }
  v->element_type = static_cast<GgufType>(elem);
  uint64_t count;
  const uint64_t count_offset = r.pos();
  GGUFEMBED_RETURN_IF_ERROR(r.Read(&count, "array length"));
  // Every element takes at least its fixed size (8 bytes of length for strings).
  const uint64_t min_elem =
      v->element_type == GgufType::kString ? 8 : GgufTypeSize(v->element_type);
  if (count > r.remaining() / min_elem) {
    return r.Fail(count_offset,
                  "array of %" PRIu64 " %s elements cannot fit in the %" PRIu64
                  " bytes left in the file",
                  count, GgufTypeName(v->element_type), r.remaining());
  }
  v->count = count;
  v->offset = r.pos();
  v->data = r.at(r.pos());
  if (v->element_type == GgufType::kString) {
    for (uint64_t i = 0; i < count; ++i) {
      std::string_view s;
      GGUFEMBED_RETURN_IF_ERROR(r.ReadString(&s, "array string"));
    }
  } else if (v->element_type == GgufType::kBool) {
    for (uint64_t i = 0; i < count; ++i) {
      GGUFEMBED_RETURN_IF_ERROR(ReadScalarPayload(r, GgufType::kBool, "array bool"));
    }
  } else {
    GGUFEMBED_RETURN_IF_ERROR(r.Skip(count * min_elem, "array data"));
  }
  return OkStatus();
}

}  // namespace ggufembed
