#include "core/common/logging.h"

#include <spdlog/sinks/rotating_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <vector>

namespace scaleout::core {
namespace {

spdlog::level::level_enum ToSpdlog(sdk::LogLevel level) {
  switch (level) {
    case sdk::LogLevel::kTrace: return spdlog::level::trace;
    case sdk::LogLevel::kDebug: return spdlog::level::debug;
    case sdk::LogLevel::kInfo: return spdlog::level::info;
    case sdk::LogLevel::kWarn: return spdlog::level::warn;
    case sdk::LogLevel::kError: return spdlog::level::err;
    case sdk::LogLevel::kCritical: return spdlog::level::critical;
  }
  return spdlog::level::info;
}

}  // namespace

bool InitLogging(const LoggingOptions& options, std::string* error) {
  auto level = spdlog::level::from_str(options.level);
  if (level == spdlog::level::off && options.level != "off") {
    if (error)
      *error = "unknown log level '" + options.level +
               "' (use trace, debug, info, warn, error, critical or off)";
    return false;
  }
  std::vector<spdlog::sink_ptr> sinks;
  if (options.to_stderr) sinks.push_back(std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
  if (!options.file.empty()) {
    try {
      sinks.push_back(std::make_shared<spdlog::sinks::rotating_file_sink_mt>(
          options.file, options.max_file_bytes, options.max_files));
    } catch (const spdlog::spdlog_ex& e) {
      if (error) *error = "cannot open log file '" + options.file + "': " + e.what();
      return false;
    }
  }
  auto logger = std::make_shared<spdlog::logger>(options.name, sinks.begin(), sinks.end());
  logger->set_level(level);
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e%z [%n] %^%l%$ %v");
  logger->flush_on(spdlog::level::warn);
  spdlog::set_default_logger(std::move(logger));
  return true;
}

SpdlogBridge::SpdlogBridge(std::shared_ptr<spdlog::logger> logger, std::string prefix)
    : logger_(std::move(logger)), prefix_(std::move(prefix)) {}

void SpdlogBridge::Log(sdk::LogLevel level, std::string_view message) noexcept {
  try {
    logger_->log(ToSpdlog(level), "{}{}", prefix_, message);
  } catch (...) {
    // Logging must never take the caller down.
  }
}

bool SpdlogBridge::Enabled(sdk::LogLevel level) const noexcept {
  return logger_->should_log(ToSpdlog(level));
}

}  // namespace scaleout::core
