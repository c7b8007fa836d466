// Logging: spdlog behind the SDK's Logger bridge.
//
// Each process role (master, worker, task host, manage) calls InitLogging
// once at start; afterwards plugins log through a SpdlogBridge and core
// through spdlog directly. Files rotate (SSIS-like folders: .../Master,
// .../Agent, .../Tasks/<task id>).
#ifndef SCALEOUT_CORE_COMMON_LOGGING_H_
#define SCALEOUT_CORE_COMMON_LOGGING_H_

#include <memory>
#include <string>
#include <string_view>

#include <spdlog/logger.h>

#include "scaleout/sdk/logger.h"

namespace scaleout::core {

struct LoggingOptions {
  std::string name = "scaleout";  // logger name, shown in each line
  std::string file;               // rotating log file; empty for none
  bool to_stderr = true;
  std::string level = "info";  // trace, debug, info, warn, error, critical, off
  std::size_t max_file_bytes = 10u << 20;
  std::size_t max_files = 5;
};

// Sets the default spdlog logger. Returns false (and logs to stderr) when the
// level is unknown or the file cannot be opened. Call from one thread at start.
bool InitLogging(const LoggingOptions& options, std::string* error);

// Forwards SDK log calls to an spdlog logger. Thread-safe; owns a shared_ptr
// to the logger, so it stays valid for as long as plugins hold it.
class SpdlogBridge final : public sdk::Logger {
 public:
  explicit SpdlogBridge(std::shared_ptr<spdlog::logger> logger, std::string prefix = {});
  void Log(sdk::LogLevel level, std::string_view message) noexcept override;
  bool Enabled(sdk::LogLevel level) const noexcept override;

 private:
  std::shared_ptr<spdlog::logger> logger_;
  std::string prefix_;  // "[storage/sqlite] "
};

}  // namespace scaleout::core

#endif  // SCALEOUT_CORE_COMMON_LOGGING_H_
