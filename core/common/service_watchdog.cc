#include "core/common/service_watchdog.h"

#include <algorithm>
#include <utility>

namespace scaleout::core {

ServiceWatchdog::ServiceWatchdog(const ServiceNotifier& notifier, HealthCheck healthy, Clock& clock,
                                 Warn warn)
    : notifier_(notifier), healthy_(std::move(healthy)), clock_(clock), warn_(std::move(warn)) {}

ServiceWatchdog::~ServiceWatchdog() { Stop(); }

std::chrono::milliseconds ServiceWatchdog::period() const {
  const auto half =
      std::chrono::duration_cast<std::chrono::milliseconds>(notifier_.watchdog_interval() / 2);
  return std::max(half, std::chrono::milliseconds(1));
}

bool ServiceWatchdog::PingOnce() {
  const std::string problem = healthy_();
  if (!problem.empty()) {
    if (!unhealthy_) {
      warn_(
          "withholding the service watchdog's ping, so the service manager restarts this "
          "process unless it recovers: " +
          problem);
    }
    unhealthy_ = true;
    return false;
  }
  if (unhealthy_) warn_("healthy again; the service watchdog's pings resume");
  unhealthy_ = false;
  return notifier_.Notify("WATCHDOG=1");
}

void ServiceWatchdog::Start() {
  if (notifier_.watchdog_interval().count() == 0 || thread_.joinable()) return;
  stopping_.store(false);
  thread_ = std::thread([this] {
    while (!stopping_.load()) {
      PingOnce();
      clock_.SleepFor(period(), stopping_);
    }
  });
}

void ServiceWatchdog::Stop() {
  if (!thread_.joinable()) return;
  stopping_.store(true);
  clock_.Wake(stopping_);
  thread_.join();
}

}  // namespace scaleout::core
