// HeldBytes: output held back between Hold() and Release(), then written in
// one write() (a pooled task's record frames and its task-log lines: a
// short task's go out with its outcome). Past `limit` bytes the hold ends by
// itself, so a chatty task's output flows as it comes.
//
// Thread-safety: none; its owner locks around it.
#ifndef SCALEOUT_CORE_TASKHOST_HELD_BYTES_H_
#define SCALEOUT_CORE_TASKHOST_HELD_BYTES_H_

#include <cstddef>
#include <string>
#include <string_view>

namespace scaleout::core::taskhost {

class HeldBytes {
 public:
  explicit HeldBytes(std::size_t limit) : limit_(limit) {}

  void Hold() { holding_ = true; }

  // What to write now, in order, of `bytes`: all of them when not holding;
  // nothing while holding below the limit (they are kept); everything held
  // when they reach it (the hold then ends). The view is valid until the
  // next call.
  std::string_view Pass(std::string_view bytes) {
    if (!holding_) return bytes;
    held_.append(bytes);
    if (held_.size() < limit_) return {};
    return Release();
  }

  // Ends the hold and returns what was held (valid until the next call).
  std::string_view Release() {
    holding_ = false;
    out_.clear();
    out_.swap(held_);
    return out_;
  }

 private:
  const std::size_t limit_;
  bool holding_ = false;
  std::string held_;
  std::string out_;  // what the last Pass() or Release() handed out
};

}  // namespace scaleout::core::taskhost

#endif  // SCALEOUT_CORE_TASKHOST_HELD_BYTES_H_
