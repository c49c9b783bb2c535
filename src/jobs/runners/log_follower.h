// LogFollower: reads a job's log file while the program is still writing it, for
// `trainyard logs --follow` (the bytes, unchanged) and for metric extraction (whole lines).
//
// Lines end at '\n', at '\r' and at "\r\n" (one break, even when a read ends between the two).
// Keras's progress bar redraws its line with '\r', so each redraw is a line of its own and the
// metrics it shows are seen as they change; the bytes for display keep the '\r's, so a
// terminal shows the bar as Keras drew it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace trainyard::jobs {

struct LogChunk {
  std::string bytes;               // what was appended, byte for byte
  std::vector<std::string> lines;  // the lines completed by it, without their line breaks
};

struct LogFollowerOptions {
  // At most this many bytes per read() (default 1 MiB); call read() again for the rest.
  size_t max_read_bytes = size_t{1} << 20;
  // A longer line is cut to its first max_line_bytes bytes (default 64 KiB) for `lines`, so a
  // program that never writes a line break cannot make the follower hold its whole output.
  size_t max_line_bytes = size_t{64} << 10;
};

// Not thread-safe; one follower per reader. The file need not exist yet.
class LogFollower {
 public:
  // Follows `path` from byte `offset` (0: the beginning). An offset inside a line makes the
  // first line a partial one; line_offset() gives offsets that start a line.
  explicit LogFollower(std::filesystem::path path, uint64_t offset = 0,
                       LogFollowerOptions options = {});

  // What has been appended since the last read: nothing when the file is missing or has not
  // grown. If the file has become shorter than what was read (it was truncated or replaced),
  // following starts again from its beginning. Throws IOError naming the file if it exists but
  // cannot be read.
  LogChunk read();

  // The last line when the file does not end with a line break: to be called once the writer
  // has finished (the program has exited), after a final read(). Returns nullopt when there is
  // no such line; afterwards the partial line is gone.
  std::optional<std::string> finish();

  // The offset of the next byte to read.
  uint64_t offset() const { return offset_; }
  // The offset where the line not yet completed starts: following again from here yields the
  // same lines as carrying on with this follower.
  uint64_t line_offset() const { return offset_ - pending_bytes_; }

 private:
  void add_byte(char byte, std::vector<std::string>& lines);
  void end_line(std::vector<std::string>& lines);

  std::filesystem::path path_;
  LogFollowerOptions options_;
  uint64_t offset_ = 0;
  std::string pending_;                 // the current line so far, at most max_line_bytes
  uint64_t pending_bytes_ = 0;          // bytes of the current line read so far, cut ones included
  bool after_carriage_return_ = false;  // the last byte read was '\r'
  bool checked_previous_byte_ = false;  // whether the byte before the start offset was seen
};

}  // namespace trainyard::jobs
