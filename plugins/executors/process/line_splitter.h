// LineSplitter: turns a byte stream (a package's stdout or stderr) into lines.
//
// A line ends at '\n' (a trailing '\r' is dropped). A line longer than
// `max_line_bytes` keeps its first max_line_bytes bytes and gets the suffix
// " [truncated N bytes]"; only that much is ever buffered. Finish() returns
// a last line without a newline.
//
// Thread-safety: one thread.
#ifndef SCALEOUT_PLUGINS_EXECUTORS_PROCESS_LINE_SPLITTER_H_
#define SCALEOUT_PLUGINS_EXECUTORS_PROCESS_LINE_SPLITTER_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace scaleout::plugins::process {

class LineSplitter {
 public:
  explicit LineSplitter(std::size_t max_line_bytes) : max_(max_line_bytes) {}
  void Feed(std::string_view bytes, std::vector<std::string>* lines);
  void Finish(std::vector<std::string>* lines);

 private:
  void EmitLine(std::vector<std::string>* lines);

  std::size_t max_;
  std::string line_;
  std::size_t dropped_ = 0;
};

}  // namespace scaleout::plugins::process

#endif  // SCALEOUT_PLUGINS_EXECUTORS_PROCESS_LINE_SPLITTER_H_
