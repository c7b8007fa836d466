#include "core/taskhost/cancellation.h"

namespace scaleout::core::taskhost {

void CancellationSource::Cancel() noexcept {
  {
    std::lock_guard lock(mutex_);
    cancelled_.store(true);
  }
  cv_.notify_all();
}

bool CancellationSource::IsCancelled() const noexcept { return cancelled_.load(); }

bool CancellationSource::WaitFor(std::chrono::milliseconds timeout) const noexcept {
  std::unique_lock lock(mutex_);
  return cv_.wait_for(lock, timeout, [&] { return cancelled_.load(); });
}

}  // namespace scaleout::core::taskhost
