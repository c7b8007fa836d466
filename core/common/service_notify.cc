#include "core/common/service_notify.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <charconv>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>

namespace scaleout::core {

namespace {

// The variable's value, taken out of the environment; "" when unset.
std::string TakeEnvironment(const char* name) {
  const char* value = std::getenv(name);
  std::string text = value != nullptr ? value : "";
  ::unsetenv(name);
  return text;
}

// A whole positive decimal number, or 0.
std::uint64_t PositiveNumber(const std::string& text) {
  std::uint64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  return error == std::errc() && end == text.data() + text.size() ? value : 0;
}

}  // namespace

ServiceNotifier ServiceNotifier::FromEnvironment() {
  std::string path = TakeEnvironment("NOTIFY_SOCKET");
  const std::uint64_t usec = PositiveNumber(TakeEnvironment("WATCHDOG_USEC"));
  const std::string pid = TakeEnvironment("WATCHDOG_PID");
  const bool ours = pid.empty() || PositiveNumber(pid) == static_cast<std::uint64_t>(::getpid());
  const std::chrono::microseconds watchdog{!path.empty() && ours ? usec : 0};
  return ServiceNotifier(std::move(path), watchdog);
}

bool ServiceNotifier::Notify(std::string_view state) const {
  if (socket_.empty()) return true;
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (socket_.size() >= sizeof(address.sun_path)) return false;
  std::memcpy(address.sun_path, socket_.data(), socket_.size());
  if (socket_[0] == '@') address.sun_path[0] = '\0';  // the abstract namespace
  const auto length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + socket_.size());
  const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  const ssize_t sent = ::sendto(fd, state.data(), state.size(), MSG_NOSIGNAL,
                                reinterpret_cast<const sockaddr*>(&address), length);
  ::close(fd);
  return sent == static_cast<ssize_t>(state.size());
}

}  // namespace scaleout::core
