// ServiceNotifier: tells the service manager (systemd, Type=notify) when the
// master or a worker is ready and when it is stopping, so that
// `systemctl start` returns once the master listens (and units ordered
// After= it start then), and `systemctl status` shows what it is doing.
//
// The protocol is one datagram of "KEY=VALUE" lines to the unix socket named
// by $NOTIFY_SOCKET (a path, or "@name" for the abstract namespace); with no
// such variable (not started by systemd) every call does nothing. The
// variable is taken out of the environment when read, so that task hosts and
// packages, which inherit it, never speak for the service.
//
// The watchdog (WatchdogSec= in the unit): systemd sets $WATCHDOG_USEC and
// $WATCHDOG_PID and expects "WATCHDOG=1" more often than that; those are
// taken out of the environment too. ServiceWatchdog (service_watchdog.h)
// sends the pings.
//
// Thread-safety: FromEnvironment() before any other thread starts (it
// changes the environment); Notify() from any thread.
#ifndef SCALEOUT_CORE_COMMON_SERVICE_NOTIFY_H_
#define SCALEOUT_CORE_COMMON_SERVICE_NOTIFY_H_

#include <chrono>
#include <string>
#include <string_view>

namespace scaleout::core {

class ServiceNotifier {
 public:
  // Reads $NOTIFY_SOCKET, $WATCHDOG_USEC and $WATCHDOG_PID and removes them
  // from the environment.
  static ServiceNotifier FromEnvironment();

  // Sends `state`, e.g. "READY=1\nSTATUS=listening on 0.0.0.0:8391". True
  // when it was sent, or when there is no service manager to send it to.
  bool Notify(std::string_view state) const;

  bool enabled() const { return !socket_.empty(); }

  // How often the service manager wants "WATCHDOG=1" at the latest; zero
  // when it wants none (no WatchdogSec=, no socket, or the variables were
  // meant for another process: $WATCHDOG_PID names a pid not ours).
  std::chrono::microseconds watchdog_interval() const { return watchdog_; }

 private:
  ServiceNotifier(std::string socket, std::chrono::microseconds watchdog)
      : socket_(std::move(socket)), watchdog_(watchdog) {}
  std::string socket_;  // "" when not under a service manager
  std::chrono::microseconds watchdog_{0};
};

}  // namespace scaleout::core

#endif  // SCALEOUT_CORE_COMMON_SERVICE_NOTIFY_H_
