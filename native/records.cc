// LineReader and ParseJsonlRecord (see records.h).
#include "records.h"

#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "util/json.h"

namespace ggufembed {

Result<bool> LineReader::Fill(bool wait) {
  if (eof_) return false;
  if (!wait) {
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, 0) <= 0) return true;  // nothing ready (or not pollable): try later
  }
  if (begin_ > 0) {  // keep the unconsumed tail only
    buffer_.erase(0, begin_);
    begin_ = 0;
  }
  const size_t old = buffer_.size();
  buffer_.resize(old + (size_t{1} << 16));
  ssize_t n;
  do {
    n = read(fd_, buffer_.data() + old, buffer_.size() - old);
  } while (n < 0 && errno == EINTR);
  buffer_.resize(old + static_cast<size_t>(std::max<ssize_t>(n, 0)));
  if (n < 0) return Error(StatusCode::kIoError, "cannot read the input: %s", std::strerror(errno));
  if (n == 0) eof_ = true;
  return !eof_;
}

Result<bool> LineReader::NextChunk(size_t max_lines, size_t max_bytes,
                                   std::vector<std::string>& lines,
                                   std::vector<uint64_t>& numbers) {
  size_t taken = 0, bytes = 0;
  while (taken < max_lines && bytes < max_bytes) {
    const size_t end = buffer_.find('\n', begin_);
    if (end != std::string::npos || (eof_ && begin_ < buffer_.size())) {
      const size_t stop = end != std::string::npos ? end : buffer_.size();
      std::string line = buffer_.substr(begin_, stop - begin_);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      bytes_read_ += stop - begin_ + (end != std::string::npos ? 1 : 0);
      begin_ = end != std::string::npos ? end + 1 : buffer_.size();
      bytes += line.size();
      lines.push_back(std::move(line));
      numbers.push_back(++line_);
      ++taken;
      continue;
    }
    if (eof_) break;
    // No whole line buffered: wait for input if the chunk is empty, else take only what is
    // ready now.
    const size_t before = buffer_.size() - begin_;
    GGUFEMBED_ASSIGN_OR_RETURN(const bool more, Fill(taken == 0));
    (void)more;
    if (taken > 0 && buffer_.size() - begin_ == before && !eof_) break;
  }
  return taken > 0;
}

Status ParseJsonlRecord(std::string_view line, JsonlRecord* record) {
  *record = JsonlRecord{};
  GGUFEMBED_ASSIGN_OR_RETURN(const JsonValue v, ParseJson(line));
  if (!v.is_object()) {
    return Error(StatusCode::kInvalidArgument, "the record is a JSON %s, not an object",
                 JsonValue::KindName(v.kind()));
  }
  if (const std::optional<JsonValue> id = v.Find("id")) {
    record->id_json.clear();
    AppendJsonValue(record->id_json, *id);
  }
  auto string_member = [&](const char* key, bool required, std::string* out) -> Status {
    const std::optional<JsonValue> m = v.Find(key);
    if (!m) {
      if (required) return Error(StatusCode::kInvalidArgument, "the record has no \"%s\"", key);
      return OkStatus();
    }
    if (!m->is_string()) {
      return Error(StatusCode::kInvalidArgument, "\"%s\" is a JSON %s, not a string", key,
                   JsonValue::KindName(m->kind()));
    }
    out->assign(m->AsString());
    return OkStatus();
  };
  GGUFEMBED_RETURN_IF_ERROR(string_member("text", true, &record->text));
  GGUFEMBED_RETURN_IF_ERROR(string_member("prompt", false, &record->prompt));
  return string_member("title", false, &record->title);
}

}  // namespace ggufembed
