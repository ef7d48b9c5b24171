// Formats GGUF metadata and tensor tables as text or JSON.
#include "gguf/gguf_info.h"

#include <algorithm>
#include <cinttypes>
#include <cstring>

#include "ggufembed/status.h"
#include "util/error.h"
#include "util/json.h"

namespace ggufembed {
namespace {

// Appends one scalar (or array element) value as text (`json` false) or JSON.
void AppendScalar(std::string& out, const GgufValue& v, bool json) {
  switch (v.element_type) {
    case GgufType::kF32:
      if (json) {
        AppendJsonNamedNumber(out, v.AsDouble(), 9);
      } else {
        out += StrFormat("%.9g", v.AsDouble());
      }
      break;
    case GgufType::kF64:
      if (json) {
        AppendJsonNamedNumber(out, v.AsDouble(), 17);
      } else {
        out += StrFormat("%.17g", v.AsDouble());
      }
      break;
    case GgufType::kBool:
      out += v.AsBool() ? "true" : "false";
      break;
    case GgufType::kString:
      // Text output quotes with JSON escaping too, so control characters stay visible.
      AppendJsonString(out, v.AsString());
      break;
    case GgufType::kU64:
      out += StrFormat("%" PRIu64, v.AsUint());
      break;
    default:
      out += StrFormat("%" PRId64, v.AsInt());
      break;
  }
}

// Iterates over the first `limit` elements of an array value.
template <typename Fn>
void ForEachElement(const GgufValue& array, uint64_t limit, Fn fn) {
  const uint8_t* p = array.data;
  for (uint64_t i = 0; i < limit; ++i) {
    GgufValue e{array.element_type, array.element_type, 1, p, array.offset + (p - array.data)};
    fn(e);
    if (array.element_type == GgufType::kString) {
      uint64_t len;
      std::memcpy(&len, p, 8);
      p += 8 + len;
    } else {
      p += GgufTypeSize(array.element_type);
    }
  }
}

// Hands `out` to options.write once it holds a megabyte.
void Spill(std::string& out, const InfoOptions& options) {
  if (!options.write || out.size() < (size_t{1} << 20)) return;
  options.write(out);
  out.clear();
}

uint64_t ShownCount(const GgufValue& v, const InfoOptions& options) {
  return options.max_array_items == 0 ? v.count : std::min(v.count, options.max_array_items);
}

// At least one dimension: a scalar tensor (n_dims 0) shows as [1].
std::string ShapeText(const GgufTensorInfo& t) {
  return ggufembed::ShapeText(t.ne, static_cast<int>(std::max(t.n_dims, 1u)));
}

}  // namespace

std::string FormatInfoText(const GgufFile& file, const InfoOptions& options) {
  std::string out = StrFormat(
      "%s: GGUF v%u, %" PRIu64 " bytes, alignment %" PRIu64 ", tensor data at offset %" PRIu64 "\n",
      file.name().c_str(), file.version(), file.file_size(), file.alignment(), file.data_offset());
  out += StrFormat("%zu key/value pairs:\n", file.kvs().size());
  size_t i = 0;
  for (const GgufKv& kv : file.kvs()) {
    const GgufValue& v = kv.value;
    const std::string type = v.is_array() ? StrFormat("[%s]", GgufTypeName(v.element_type))
                                          : std::string(GgufTypeName(v.type));
    out += StrFormat("%6zu: %-6s %8" PRIu64 " | %s = ", ++i, type.c_str(), v.count,
                     PrintableText(kv.key).c_str());
    if (v.is_array()) {
      out += "[";
      const uint64_t shown = ShownCount(v, options);
      uint64_t k = 0;
      ForEachElement(v, shown, [&](const GgufValue& e) {
        if (k++) out += ", ";
        AppendScalar(out, e, /*json=*/false);
        Spill(out, options);
      });
      if (shown < v.count) out += StrFormat(", ... %" PRIu64 " more", v.count - shown);
      out += "]";
    } else {
      AppendScalar(out, v, /*json=*/false);
    }
    out += "\n";
  }
  out += StrFormat("%zu tensors%s\n", file.tensors().size(), file.tensors().empty() ? "" : ":");
  if (file.tensors().empty()) return out;
  out += StrFormat("%6s  %-36s %-7s %-20s %12s %12s\n", "", "name", "type", "shape", "offset",
                   "bytes");
  i = 0;
  for (const GgufTensorInfo& t : file.tensors()) {
    out += StrFormat("%6zu: %-36s %-7s %-20s %12" PRIu64 " %12" PRIu64 "\n", ++i,
                     PrintableText(t.name).c_str(), GgmlTypeName(static_cast<uint32_t>(t.type)),
                     ShapeText(t).c_str(), t.offset, t.n_bytes);
  }
  return out;
}

std::string FormatInfoJson(const GgufFile& file, const InfoOptions& options) {
  std::string out = "{\"file\":";
  AppendJsonString(out, file.name());
  out += StrFormat(",\"version\":%u,\"file_size\":%" PRIu64 ",\"alignment\":%" PRIu64
                   ",\"data_offset\":%" PRIu64 ",\"metadata\":[",
                   file.version(), file.file_size(), file.alignment(), file.data_offset());
  bool first = true;
  for (const GgufKv& kv : file.kvs()) {
    const GgufValue& v = kv.value;
    out += first ? "{\"key\":" : ",{\"key\":";
    first = false;
    AppendJsonString(out, kv.key);
    out += StrFormat(",\"type\":\"%s\"", GgufTypeName(v.type));
    if (v.is_array()) {
      out += StrFormat(",\"element_type\":\"%s\",\"count\":%" PRIu64 ",\"values\":[",
                       GgufTypeName(v.element_type), v.count);
      uint64_t k = 0;
      ForEachElement(v, ShownCount(v, options), [&](const GgufValue& e) {
        if (k++) out += ",";
        AppendScalar(out, e, /*json=*/true);
        Spill(out, options);
      });
      out += "]}";
    } else {
      out += ",\"value\":";
      AppendScalar(out, v, /*json=*/true);
      out += "}";
    }
  }
  out += "],\"tensors\":[";
  first = true;
  for (const GgufTensorInfo& t : file.tensors()) {
    out += first ? "{\"name\":" : ",{\"name\":";
    first = false;
    AppendJsonString(out, t.name);
    out += StrFormat(",\"type\":\"%s\",\"shape\":", GgmlTypeName(static_cast<uint32_t>(t.type)));
    out += ShapeText(t);
    out += StrFormat(",\"offset\":%" PRIu64 ",\"bytes\":%" PRIu64 "}", t.offset, t.n_bytes);
  }
  out += "]}";
  return out;
}

}  // namespace ggufembed
