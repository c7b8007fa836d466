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
// Thread-safety: FromEnvironment() before any other thread starts (it
// changes the environment); Notify() from any thread.
#ifndef SCALEOUT_CORE_COMMON_SERVICE_NOTIFY_H_
#define SCALEOUT_CORE_COMMON_SERVICE_NOTIFY_H_

#include <string>
#include <string_view>

namespace scaleout::core {

class ServiceNotifier {
 public:
  // Reads $NOTIFY_SOCKET and removes it from the environment.
  static ServiceNotifier FromEnvironment();

  // Sends `state`, e.g. "READY=1\nSTATUS=listening on 0.0.0.0:8391". True
  // when it was sent, or when there is no service manager to send it to.
  bool Notify(std::string_view state) const;

  bool enabled() const { return !socket_.empty(); }

 private:
  explicit ServiceNotifier(std::string socket) : socket_(std::move(socket)) {}
  std::string socket_;  // "" when not under a service manager
};

}  // namespace scaleout::core

#endif  // SCALEOUT_CORE_COMMON_SERVICE_NOTIFY_H_
