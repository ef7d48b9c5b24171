// JSON string escaping and number formatting.
#include "util/json.h"

#include <cmath>
#include <cstdio>

#include "util/utf8.h"

namespace ggufembed {

void AppendJsonString(std::string& out, std::string_view s) {
  out += '"';
  size_t i = 0;
  while (i < s.size()) {
    const size_t bad = FindInvalidUtf8(s.substr(i));
    const std::string_view valid = s.substr(i, bad == std::string_view::npos ? s.size() - i : bad);
    for (char ch : valid) {
      const unsigned char c = static_cast<unsigned char>(ch);
      switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
          if (c < 0x20) {
            char buf[8];
            std::snprintf(buf, sizeof(buf), "\\u%04x", c);
            out += buf;
          } else {
            out += ch;
          }
      }
    }
    i += valid.size();
    if (i < s.size()) {  // one invalid byte
      out += "\xEF\xBF\xBD";
      ++i;
    }
  }
  out += '"';
}

void AppendJsonFloat(std::string& out, float v) {
  if (!std::isfinite(v)) {
    out += "null";
    return;
  }
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.9g", static_cast<double>(v));
  out += buf;
}

void AppendJsonDouble(std::string& out, double v) {
  if (!std::isfinite(v)) {
    out += "null";
    return;
  }
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.17g", v);
  out += buf;
}

}  // namespace ggufembed
