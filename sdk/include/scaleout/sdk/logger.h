// The logging bridge: how a plugin writes to the host's log.
//
// The host owns the Logger and hands a pointer to every plugin at create();
// it outlives every plugin instance. Safe to call from any thread.
#ifndef SCALEOUT_SDK_LOGGER_H_
#define SCALEOUT_SDK_LOGGER_H_

#include <cstdint>
#include <string_view>

namespace scaleout::sdk {

enum class LogLevel : std::uint8_t { kTrace = 0, kDebug, kInfo, kWarn, kError, kCritical };

class Logger {
 public:
  virtual ~Logger() = default;
  // Writes one line. Never throws, never blocks on the network.
  virtual void Log(LogLevel level, std::string_view message) noexcept = 0;
  // True when a message at `level` would be written; lets callers skip formatting.
  virtual bool Enabled(LogLevel level) const noexcept = 0;

  void Trace(std::string_view m) noexcept { Log(LogLevel::kTrace, m); }
  void Debug(std::string_view m) noexcept { Log(LogLevel::kDebug, m); }
  void Info(std::string_view m) noexcept { Log(LogLevel::kInfo, m); }
  void Warn(std::string_view m) noexcept { Log(LogLevel::kWarn, m); }
  void Error(std::string_view m) noexcept { Log(LogLevel::kError, m); }
};

// A Logger that drops everything; for tests and tools that want silence.
class NullLogger final : public Logger {
 public:
  void Log(LogLevel, std::string_view) noexcept override {}
  bool Enabled(LogLevel) const noexcept override { return false; }
};

}  // namespace scaleout::sdk

#endif  // SCALEOUT_SDK_LOGGER_H_
