#include "core/taskhost/task_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "core/taskhost/launcher.h"

namespace scaleout::core::taskhost {

std::uint32_t TaskLogBitFor(sdk::MessageType type) {
  switch (type) {
    case sdk::MessageType::kDiagnostic: return kTaskLogVerbose;
    case sdk::MessageType::kInformation: return kTaskLogInformation;
    case sdk::MessageType::kWarning: return kTaskLogWarning;
    case sdk::MessageType::kError: return kTaskLogError;
    case sdk::MessageType::kTaskFailed: return kTaskLogCriticalError;
    case sdk::MessageType::kCustom: return kTaskLogInformation;
  }
  return kTaskLogInformation;
}

std::string MessageTypeName(sdk::MessageType type) {
  switch (type) {
    case sdk::MessageType::kDiagnostic: return "diagnostic";
    case sdk::MessageType::kInformation: return "information";
    case sdk::MessageType::kWarning: return "warning";
    case sdk::MessageType::kError: return "error";
    case sdk::MessageType::kTaskFailed: return "task_failed";
    case sdk::MessageType::kCustom: return "custom";
  }
  return "type " + std::to_string(static_cast<int>(type));
}

TaskLog::~TaskLog() {
  Release();
  if (fd_ >= 0) ::close(fd_);
}

sdk::Status TaskLog::Open(const std::string& path, std::uint32_t level) {
  std::lock_guard lock(mutex_);
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0640);
  if (fd < 0) {
    return sdk::Status::Unavailable("cannot open task log '" + path + "': " + std::strerror(errno));
  }
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
  level_ = level;
  return sdk::Status::Ok();
}

void TaskLog::WriteEvent(const sdk::Event& event) {
  if (fd_ < 0 || (TaskLogBitFor(event.message_type) & level_) == 0) return;
  Append(MessageTypeName(event.message_type) + " " + event.message_source + ": " + event.message);
}

void TaskLog::WriteLine(std::string_view text) { Append(std::string(text)); }

void TaskLog::Append(std::string line) {
  std::replace(line.begin(), line.end(), '\n', ' ');  // one line per entry
  line = FormatUtc(clock_.NowUnixMillis()) + " " + line + "\n";
  std::lock_guard lock(mutex_);
  if (fd_ < 0) return;
  WriteLocked(held_.Pass(line));
}

void TaskLog::Hold() {
  std::lock_guard lock(mutex_);
  held_.Hold();
}

void TaskLog::Release() {
  std::lock_guard lock(mutex_);
  const std::string_view held = held_.Release();
  if (fd_ >= 0) WriteLocked(held);
}

void TaskLog::WriteLocked(std::string_view rest) {
  while (!rest.empty()) {
    const ssize_t n = ::write(fd_, rest.data(), rest.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // a full disk must not fail the task; the events still ship
    rest.remove_prefix(static_cast<std::size_t>(n));
  }
}

SecretMasker::SecretMasker(const std::vector<sdk::ExecutionParameter>& parameters) {
  for (const sdk::ExecutionParameter& p : parameters) {
    if (p.sensitive && p.value.size() >= kMinMaskedLength) secrets_.push_back(p.value);
  }
  // Longest first, so a secret containing another is masked whole.
  std::sort(secrets_.begin(), secrets_.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
}

std::string SecretMasker::Mask(std::string_view text) const {
  std::string out(text);
  for (const std::string& secret : secrets_) {
    for (std::size_t pos = out.find(secret); pos != std::string::npos;
         pos = out.find(secret, pos + 3)) {
      out.replace(pos, secret.size(), "***");
    }
  }
  return out;
}

}  // namespace scaleout::core::taskhost
