#include "plugins/executors/process/line_splitter.h"

namespace scaleout::plugins::process {

void LineSplitter::Feed(std::string_view bytes, std::vector<std::string>* lines) {
  while (!bytes.empty()) {
    const std::size_t newline = bytes.find('\n');
    const std::string_view piece = bytes.substr(0, newline);
    const std::size_t room = max_ > line_.size() ? max_ - line_.size() : 0;
    line_.append(piece.substr(0, room));
    if (piece.size() > room) dropped_ += piece.size() - room;
    if (newline == std::string_view::npos) return;
    EmitLine(lines);
    bytes.remove_prefix(newline + 1);
  }
}

void LineSplitter::Finish(std::vector<std::string>* lines) {
  if (!line_.empty() || dropped_ > 0) EmitLine(lines);
}

void LineSplitter::EmitLine(std::vector<std::string>* lines) {
  if (dropped_ == 0 && !line_.empty() && line_.back() == '\r') line_.pop_back();
  if (dropped_ > 0) line_ += " [truncated " + std::to_string(dropped_) + " bytes]";
  lines->push_back(std::move(line_));
  line_.clear();
  dropped_ = 0;
}

}  // namespace scaleout::plugins::process
