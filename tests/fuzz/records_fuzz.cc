// Fuzzes the JSONL record reader of `embed --input-format jsonl` (native/records.cc): the bytes as
// one record; when the first byte's top three bits are set, the rest is also split into lines by
// LineReader through a pipe (chunk limits from the first byte) and each line parsed. (LineReader
// zero-fills a 64 KiB buffer per read, slow under ASan: only one input in eight takes the pipe.)
#include <unistd.h>

#include <cstdint>
#include <string>
#include <vector>

#include "records.h"

using namespace ggufembed;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  JsonlRecord record;
  (void)ParseJsonlRecord(std::string_view(reinterpret_cast<const char*>(data), size), &record);
  // A pipe holds 64 KiB without a reader.
  if (size == 0 || (data[0] & 0xE0) != 0xE0 || size > 32768) return 0;
  int fds[2];
  if (pipe(fds) != 0) return 0;
  if (write(fds[1], data + 1, size - 1) != static_cast<ssize_t>(size - 1)) __builtin_trap();
  close(fds[1]);
  LineReader reader(fds[0]);
  std::vector<std::string> lines;
  std::vector<uint64_t> numbers;
  const size_t max_lines = 1 + (data[0] & 7), max_bytes = 1 + ((data[0] >> 3) & 3) * 64;
  size_t total = 0;
  for (;;) {
    Result<bool> more = reader.NextChunk(max_lines, max_bytes, lines, numbers);
    if (!more.ok() || !*more) break;
    for (const std::string& line : lines) {
      total += line.size();
      JsonlRecord r;
      (void)ParseJsonlRecord(line, &r);
    }
    if (lines.size() != numbers.size()) __builtin_trap();
    lines.clear();
    numbers.clear();
  }
  close(fds[0]);
  if (total > size) __builtin_trap();
  return 0;
}
