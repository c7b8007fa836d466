// TaskLog: the per-task log file (TasksRootFolder/<task id>/task.log).
//
// One line per event the TaskLogLevel bitmask lets through, plus a header
// and the outcome, which are always written:
//   2026-11-21T23:54:05.123Z information stdout: loading 42 rows
// Messages reach this class already masked (see SecretMasker).
//
// Thread-safety: Write* may be called from any thread (one mutex).
#ifndef SCALEOUT_CORE_TASKHOST_TASK_LOG_H_
#define SCALEOUT_CORE_TASKHOST_TASK_LOG_H_

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/common/clock.h"
#include "core/taskhost/held_bytes.h"
#include "scaleout/sdk/executor.h"
#include "scaleout/sdk/status.h"

namespace scaleout::core::taskhost {

// The TaskLogLevel bit an SSIS message type belongs to (launcher.h has the bits).
std::uint32_t TaskLogBitFor(sdk::MessageType type);
// "information", "warning", ... ("type 42" for others).
std::string MessageTypeName(sdk::MessageType type);

// Most bytes of lines a TaskLog holds back (see TaskLog::Hold()).
inline constexpr std::size_t kMaxHeldLogBytes = 64u << 10;

class TaskLog {
 public:
  explicit TaskLog(Clock& clock) : clock_(clock) {}
  ~TaskLog();
  TaskLog(const TaskLog&) = delete;
  TaskLog& operator=(const TaskLog&) = delete;

  // Opens (appends to, or creates with mode 0640) `path`. kUnavailable naming it.
  sdk::Status Open(const std::string& path, std::uint32_t level);
  bool is_open() const { return fd_ >= 0; }

  void WriteEvent(const sdk::Event& event);  // if its bit is in the level
  void WriteLine(std::string_view text);     // always (header, outcome)

  // Lines written after Hold() stay in memory until Release(), which writes
  // them in one write() and goes back to writing each line at once: a short
  // task's header, events and outcome cost one write, not one each.
  void Hold();
  void Release();

 private:
  void Append(std::string line);
  void WriteLocked(std::string_view text);  // REQUIRES: mutex_ held

  Clock& clock_;
  std::mutex mutex_;
  int fd_ = -1;
  std::uint32_t level_ = 0;
  HeldBytes held_{kMaxHeldLogBytes};  // guarded by mutex_
};

// Replaces each sensitive parameter value found in a text by "***", as
// Airflow masks secrets wherever the value appears. Values shorter than
// kMinMaskedLength are not masked: they would make every log unreadable and
// are not secrets worth the name. Thread-safety: immutable after construction.
class SecretMasker {
 public:
  static constexpr std::size_t kMinMaskedLength = 4;
  explicit SecretMasker(const std::vector<sdk::ExecutionParameter>& parameters);
  std::string Mask(std::string_view text) const;

 private:
  std::vector<std::string> secrets_;  // longest first
};

}  // namespace scaleout::core::taskhost

#endif  // SCALEOUT_CORE_TASKHOST_TASK_LOG_H_
