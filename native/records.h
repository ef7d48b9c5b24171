// The input of `embed`: lines read in chunks from a file or a pipe, and JSONL records parsed from
// them ({"id": …, "text": …, "title": …, "prompt": …}).
#ifndef GGUFEMBED_NATIVE_RECORDS_H_
#define GGUFEMBED_NATIVE_RECORDS_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ggufembed/status.h"

namespace ggufembed {

// The longest input line (one text or JSONL record) `embed` reads by default: 8 MiB. A longer
// line is never held in memory: it is read past and becomes an error of its own. 8 MiB is 1,000
// times what EmbeddingGemma's context of 2,048 tokens holds, room for a book's text with
// --truncate; tokenizing costs about 50 bytes of memory per byte of text, so one record is held
// to about 0.4 GB.
inline constexpr uint64_t kDefaultMaxLineBytes = uint64_t{8} << 20;

// How much of a line over the limit NextChunk keeps (to find its id).
inline constexpr size_t kOverlongHeadBytes = 4096;

// Reads lines from a file descriptor in chunks. A chunk ends at `max_lines` lines or
// `max_bytes` bytes, or — once it holds a line — when no more input is ready right now, so a
// program that writes a few records into a pipe and waits for their vectors gets them.
// Memory is bounded by `max_line_bytes`: a line longer than that (its "\n" and a "\r" before it
// not counted) is read past without being kept.
class LineReader {
 public:
  // `name`: how read errors refer to the input. `skip_blank`: lines of spaces, tabs and "\r"
  // alone, however long, are passed over (JSONL, where they are not records; their numbers are
  // still counted).
  explicit LineReader(int fd, uint64_t max_line_bytes = kDefaultMaxLineBytes,
                      std::string name = "the input", bool skip_blank = false)
      : fd_(fd), max_line_bytes_(max_line_bytes), name_(std::move(name)), skip_blank_(skip_blank) {}

  // Appends the next lines (without their "\n" or "\r\n"; the first without a UTF-8 byte-order
  // mark) to `lines` and their 1-based numbers to `numbers`; returns false at the end of the
  // input (nothing appended). kIoError on a read error. A line over the limit is appended as its
  // first kOverlongHeadBytes, with its length in `overlong` (which gets one entry per line, 0 for
  // the others); without `overlong` it is a kInvalidArgument error naming the line, its length and
  // the limit.
  Result<bool> NextChunk(size_t max_lines, size_t max_bytes, std::vector<std::string>& lines,
                         std::vector<uint64_t>& numbers, std::vector<uint64_t>* overlong = nullptr);
  uint64_t max_line_bytes() const { return max_line_bytes_; }

 private:
  // Reads more input into the buffer; false at the end. `wait`: block until some arrives.
  Result<bool> Fill(bool wait);

  int fd_;
  uint64_t max_line_bytes_;
  std::string name_;
  bool skip_blank_;
  std::string buffer_;
  size_t begin_ = 0;    // first unconsumed byte of buffer_
  size_t scanned_ = 0;  // buffer_[begin_, scanned_) holds no "\n"
  bool eof_ = false;
  bool at_start_ = true;        // nothing taken yet: a byte-order mark may still be skipped
  bool skipping_ = false;       // inside a line over the limit, whose bytes are dropped
  uint64_t skipped_ = 0;        // its length so far
  bool skipped_blank_ = false;  // and whether it was all blank so far
  std::string skipped_head_;
  uint64_t line_ = 0;
};

// kInputTooLong: "the line is B bytes long, more than the limit of L bytes (8 MiB); it was not
// read (--max-line-bytes)".
Status OverlongLineError(uint64_t length, uint64_t limit);

// One JSONL input record. `id_json` is the record's "id" written back as JSON ("null" when it
// has none); `prompt` and `title` are empty when absent.
struct JsonlRecord {
  std::string id_json = "null";
  std::string text, prompt, title;
};

// The "id" of a record from the beginning of its line, when it is the first member and a string,
// number, bool or null (a line over the limit is not parsed whole); "null" otherwise.
std::string IdOfLineHead(std::string_view head);

// Parses one JSONL line: an object with a string "text", optionally "id" (any JSON value),
// "prompt" and "title" (strings); other members are ignored. Errors are kInvalidArgument and
// say what is wrong ("JSON: at byte offset …", "no \"text\" string", …); `record->id_json` is
// set as soon as the id is known, so an error can still name the record.
Status ParseJsonlRecord(std::string_view line, JsonlRecord* record);

}  // namespace ggufembed

#endif  // GGUFEMBED_NATIVE_RECORDS_H_
