// LineReader and ParseJsonlRecord (see records.h).
#include "records.h"

#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cinttypes>
#include <cstring>

#include "util/error.h"
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
    scanned_ -= begin_;
    begin_ = 0;
  }
  const size_t old = buffer_.size();
  buffer_.resize(old + (size_t{1} << 16));
  ssize_t n;
  do {
    n = read(fd_, buffer_.data() + old, buffer_.size() - old);
  } while (n < 0 && errno == EINTR);
  buffer_.resize(old + static_cast<size_t>(std::max<ssize_t>(n, 0)));
  if (n < 0) {
    return Error(StatusCode::kIoError, "cannot read %s: %s", name_.c_str(), std::strerror(errno));
  }
  if (n == 0) eof_ = true;
  // A UTF-8 byte-order mark (Windows editors write one) is not text: skipped, at the very start of
  // the input only (nothing consumed yet: begin_ is 0).
  if (at_start_ && begin_ == 0 && (buffer_.size() >= 3 || eof_)) {
    at_start_ = false;
    if (buffer_.compare(0, 3, "\xEF\xBB\xBF") == 0) {
      buffer_.erase(0, 3);
      scanned_ = scanned_ > 3 ? scanned_ - 3 : 0;  // a mark split across reads was scanned in part
    }
  }
  return !eof_;
}

Status OverlongLineError(uint64_t length, uint64_t limit) {
  std::string mib;
  if (limit >= (1 << 20) && limit % (1 << 20) == 0) {
    mib = StrFormat(" (%" PRIu64 " MiB)", limit >> 20);
  }
  return Error(StatusCode::kInputTooLong,
               "the line is %" PRIu64 " bytes long, more than the limit of %" PRIu64
               " bytes%s; it was not read (--max-line-bytes)",
               length, limit, mib.c_str());
}

namespace {

bool IsBlank(std::string_view s) { return s.find_first_not_of(" \t\r") == std::string_view::npos; }

}  // namespace

Result<bool> LineReader::NextChunk(size_t max_lines, size_t max_bytes,
                                   std::vector<std::string>& lines, std::vector<uint64_t>& numbers,
                                   std::vector<uint64_t>* overlong) {
  size_t taken = 0, bytes = 0;
  // Appends line `line_` (over the limit when `length` > 0).
  auto append = [&](std::string text, uint64_t length) -> Status {
    if (length > 0 && overlong == nullptr) {
      const Status e = OverlongLineError(length, max_line_bytes_);
      return Error(e.code(), "line %" PRIu64 ": %s", line_, e.message().c_str());
    }
    bytes += text.size();
    lines.push_back(std::move(text));
    numbers.push_back(line_);
    if (overlong != nullptr) overlong->push_back(length);
    ++taken;
    return OkStatus();
  };
  while (taken < max_lines && bytes < max_bytes) {
    const size_t end = buffer_.find('\n', std::max(begin_, scanned_));
    const bool line_ends = end != std::string::npos || (eof_ && begin_ < buffer_.size());
    const size_t stop = end != std::string::npos ? end : buffer_.size();
    if (skipping_) {  // drop what arrived of the line over the limit
      const bool ends = end != std::string::npos || eof_;
      const bool cr = stop > begin_ && buffer_[stop - 1] == '\r';
      // A "\r" that arrived last may end the line: it stays until the next byte says (counted,
      // a "\r" that a later read's "\n" ended made the length one too long).
      const size_t dropped = cr && !ends ? stop - 1 : stop;
      skipped_ += dropped - begin_ - (cr && ends ? 1 : 0);
      skipped_blank_ =
          skipped_blank_ && IsBlank(std::string_view(buffer_).substr(begin_, dropped - begin_));
      begin_ = scanned_ = end != std::string::npos ? end + 1 : dropped;
      if (end != std::string::npos || eof_) {
        skipping_ = false;
        if (!(skip_blank_ && skipped_blank_)) {
          GGUFEMBED_RETURN_IF_ERROR(append(std::move(skipped_head_), skipped_));
        }
        skipped_head_.clear();
        continue;
      }
      if (skipped_ > 0 && buffer_.size() == begin_) {  // nothing kept
        buffer_.clear();
        begin_ = scanned_ = 0;
      }
    } else if (line_ends) {
      size_t length = stop - begin_;
      if (length > 0 && buffer_[stop - 1] == '\r') --length;
      const size_t first = begin_;
      begin_ = scanned_ = end != std::string::npos ? end + 1 : buffer_.size();
      ++line_;
      at_start_ = false;
      if (skip_blank_ && IsBlank(std::string_view(buffer_).substr(first, length))) continue;
      if (length > max_line_bytes_) {
        GGUFEMBED_RETURN_IF_ERROR(append(buffer_.substr(first, kOverlongHeadBytes), length));
      } else {
        GGUFEMBED_RETURN_IF_ERROR(append(buffer_.substr(first, length), 0));
      }
      continue;
    } else {
      scanned_ = buffer_.size();
      // The line so far (less a "\r" that may end it) is over the limit: drop it from now on.
      if (buffer_.size() - begin_ > max_line_bytes_ + 1) {
        skipping_ = true;
        ++line_;
        at_start_ = false;
        const bool cr = buffer_.back() == '\r';
        skipped_ = buffer_.size() - begin_ - (cr ? 1 : 0);
        skipped_blank_ = IsBlank(std::string_view(buffer_).substr(begin_, skipped_));
        skipped_head_ = buffer_.substr(begin_, kOverlongHeadBytes);
        buffer_.erase(begin_, skipped_);  // a "\r" at the end may still end the line
        buffer_.shrink_to_fit();
        scanned_ = begin_;
      }
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

std::string IdOfLineHead(std::string_view head) {
  // {"id": VALUE, ... with only whitespace between; VALUE a string, number, bool or null.
  size_t i = 0;
  auto skip_space = [&] {
    while (i < head.size() && (head[i] == ' ' || head[i] == '\t' || head[i] == '\r')) ++i;
  };
  auto expect = [&](std::string_view s) {
    skip_space();
    if (head.substr(i, s.size()) != s) return false;
    i += s.size();
    return true;
  };
  if (!expect("{") || !expect("\"id\"") || !expect(":")) return "null";
  skip_space();
  size_t end = i;
  if (end < head.size() && head[end] == '"') {
    for (++end; end < head.size() && head[end] != '"'; ++end) {
      if (head[end] == '\\') ++end;
    }
    if (end >= head.size()) return "null";
    ++end;
  } else {
    while (end < head.size() && head[end] != ',' && head[end] != '}' && head[end] != ' ') ++end;
    if (end >= head.size()) return "null";
  }
  const Result<JsonValue> v = ParseJson(head.substr(i, end - i));
  if (!v.ok() || v->is_object() || v->is_array()) return "null";
  std::string out;
  AppendJsonValue(out, *v);
  return out;
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
