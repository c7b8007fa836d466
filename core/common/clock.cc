#include "core/common/clock.h"

#include <ctime>

namespace scaleout::core {

std::int64_t SystemClock::NowUnixMillis() const {
  return std::chrono::duration_cast<Millis>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::int64_t SystemClock::SteadyMillis() const {
  return std::chrono::duration_cast<Millis>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

bool SystemClock::SleepFor(Millis duration, const std::atomic<bool>& wake) {
  std::unique_lock lock(mutex_);
  return cv_.wait_for(lock, duration, [&] { return wake.load(); });
}

void SystemClock::WakeAll() {
  std::lock_guard lock(mutex_);
  cv_.notify_all();
}

SystemClock& SystemClock::Instance() {
  static SystemClock clock;
  return clock;
}

ManualClock::ManualClock(std::int64_t start_unix_millis)
    : now_(start_unix_millis), start_(start_unix_millis) {}

std::int64_t ManualClock::NowUnixMillis() const {
  std::lock_guard lock(mutex_);
  return now_;
}

std::int64_t ManualClock::SteadyMillis() const {
  std::lock_guard lock(mutex_);
  return now_ - start_;
}

bool ManualClock::SleepFor(Millis duration, const std::atomic<bool>& wake) {
  std::unique_lock lock(mutex_);
  const std::int64_t until = now_ + duration.count();
  ++sleepers_;
  cv_.notify_all();  // for WaitForSleepers
  cv_.wait(lock, [&] { return wake.load() || now_ >= until; });
  --sleepers_;
  return wake.load();
}

void ManualClock::WakeAll() {
  std::lock_guard lock(mutex_);
  cv_.notify_all();
}

void ManualClock::Advance(Millis delta) {
  {
    std::lock_guard lock(mutex_);
    now_ += delta.count();
  }
  cv_.notify_all();
}

void ManualClock::WaitForSleepers(int count) {
  std::unique_lock lock(mutex_);
  cv_.wait(lock, [&] { return sleepers_ >= count; });
}

std::string FormatUtc(std::int64_t unix_millis) {
  std::time_t seconds = static_cast<std::time_t>(unix_millis / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buffer[40];
  std::size_t n = std::strftime(buffer, sizeof(buffer), "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buffer + n, sizeof(buffer) - n, ".%03dZ", static_cast<int>(unix_millis % 1000));
  return buffer;
}

}  // namespace scaleout::core
