// CancellationSource: the task host's sdk::CancellationToken.
//
// Set once (by the SIGTERM watcher, or when the launcher has gone); the
// executor polls IsCancelled() or blocks in WaitFor(). WaitFor measures real
// time because the SDK interface is defined in std::chrono durations.
//
// Thread-safety: every member is safe from any thread.
#ifndef SCALEOUT_CORE_TASKHOST_CANCELLATION_H_
#define SCALEOUT_CORE_TASKHOST_CANCELLATION_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>

#include "scaleout/sdk/executor.h"

namespace scaleout::core::taskhost {

class CancellationSource final : public sdk::CancellationToken {
 public:
  void Cancel() noexcept;
  bool IsCancelled() const noexcept override;
  bool WaitFor(std::chrono::milliseconds timeout) const noexcept override;

 private:
  mutable std::mutex mutex_;
  mutable std::condition_variable cv_;
  std::atomic<bool> cancelled_{false};
};

}  // namespace scaleout::core::taskhost

#endif  // SCALEOUT_CORE_TASKHOST_CANCELLATION_H_
