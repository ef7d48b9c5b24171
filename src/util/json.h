// Minimal JSON output helpers: escaped strings and round-trippable numbers.
#ifndef GGUFEMBED_UTIL_JSON_H_
#define GGUFEMBED_UTIL_JSON_H_

#include <string>
#include <string_view>

namespace ggufembed {

// Appends `s` as a JSON string literal. Bytes that are not valid UTF-8 become U+FFFD.
void AppendJsonString(std::string& out, std::string_view s);

// Appends a float with 9 significant digits (enough to round-trip an f32); NaN and ±inf, which
// JSON cannot express, become null.
void AppendJsonFloat(std::string& out, float v);
// The same for doubles, with 17 significant digits.
void AppendJsonDouble(std::string& out, double v);

}  // namespace ggufembed

#endif  // GGUFEMBED_UTIL_JSON_H_
