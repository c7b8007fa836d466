// ServiceWatchdog: sends the service manager's watchdog ping ("WATCHDOG=1")
// at half the interval it asks for (WatchdogSec= in the unit), but only
// while `healthy()` says the process still does its work. When it stops
// saying so, the pings stop, and systemd kills and restarts the service once
// the interval has passed: a master whose catalog writer hangs, or a worker
// whose lease fence stopped checking, is replaced instead of lingering.
//
// `healthy` runs on the watchdog's own thread, once per ping; it must not
// block (a check that waits for the thing it checks would stop the pings
// only by accident). Every wait reads the injected Clock.
//
// Thread-safety: Start() and Stop() from one thread; the destructor stops.
#ifndef SCALEOUT_CORE_COMMON_SERVICE_WATCHDOG_H_
#define SCALEOUT_CORE_COMMON_SERVICE_WATCHDOG_H_

#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <thread>

#include "core/common/clock.h"
#include "core/common/service_notify.h"

namespace scaleout::core {

class ServiceWatchdog {
 public:
  // `healthy` returns "" while healthy, else why not (logged through `warn`
  // once when it turns unhealthy, and `warn` again when it recovers).
  using HealthCheck = std::function<std::string()>;
  using Warn = std::function<void(const std::string&)>;

  // All references must outlive the watchdog. Does nothing when
  // notifier.watchdog_interval() is zero.
  ServiceWatchdog(const ServiceNotifier& notifier, HealthCheck healthy, Clock& clock, Warn warn);
  ~ServiceWatchdog();
  ServiceWatchdog(const ServiceWatchdog&) = delete;
  ServiceWatchdog& operator=(const ServiceWatchdog&) = delete;

  void Start();
  void Stop();  // idempotent

  // One round: checks, pings when healthy. Returns whether it pinged.
  // Public so tests can drive it without the thread.
  bool PingOnce();

  // The time between pings: half the manager's interval, at least 1 ms.
  std::chrono::milliseconds period() const;

 private:
  const ServiceNotifier& notifier_;
  HealthCheck healthy_;
  Clock& clock_;
  Warn warn_;
  bool unhealthy_ = false;  // only the pinging thread reads or writes it
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace scaleout::core

#endif  // SCALEOUT_CORE_COMMON_SERVICE_WATCHDOG_H_
