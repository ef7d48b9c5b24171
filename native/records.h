// The input of `embed`: lines read in chunks from a file or a pipe, and JSONL records parsed from
// them ({"id": …, "text": …, "title": …, "prompt": …}).
#ifndef GGUFEMBED_NATIVE_RECORDS_H_
#define GGUFEMBED_NATIVE_RECORDS_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ggufembed/status.h"

namespace ggufembed {

// Reads lines from a file descriptor in chunks. A chunk ends at `max_lines` lines or
// `max_bytes` bytes, or — once it holds a line — when no more input is ready right now, so a
// program that writes a few records into a pipe and waits for their vectors gets them.
class LineReader {
 public:
  explicit LineReader(int fd) : fd_(fd) {}

  // Appends the next lines (without their "\n" or "\r\n") to `lines` and their 1-based numbers
  // to `numbers`; returns false at the end of the input (nothing appended). kIoError on a read
  // error.
  Result<bool> NextChunk(size_t max_lines, size_t max_bytes, std::vector<std::string>& lines,
                         std::vector<uint64_t>& numbers);
  // Bytes consumed so far (for progress against a file's size).
  uint64_t bytes_read() const { return bytes_read_; }

 private:
  // Reads more input into the buffer; false at the end. `wait`: block until some arrives.
  Result<bool> Fill(bool wait);

  int fd_;
  std::string buffer_;
  size_t begin_ = 0;  // first unconsumed byte of buffer_
  bool eof_ = false;
  uint64_t line_ = 0, bytes_read_ = 0;
};

// One JSONL input record. `id_json` is the record's "id" written back as JSON ("null" when it
// has none); `prompt` and `title` are empty when absent.
struct JsonlRecord {
  std::string id_json = "null";
  std::string text, prompt, title;
};

// Parses one JSONL line: an object with a string "text", optionally "id" (any JSON value),
// "prompt" and "title" (strings); other members are ignored. Errors are kInvalidArgument and
// say what is wrong ("JSON: at byte offset …", "no \"text\" string", …); `record->id_json` is
// set as soon as the id is known, so an error can still name the record.
Status ParseJsonlRecord(std::string_view line, JsonlRecord* record);

}  // namespace ggufembed

#endif  // GGUFEMBED_NATIVE_RECORDS_H_
