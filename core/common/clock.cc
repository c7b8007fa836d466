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

SystemClock::Bucket& SystemClock::BucketOf(const std::atomic<bool>& wake) {
  // Fibonacci hashing: neighbouring flags (members of one object) spread out.
  const auto address = reinterpret_cast<std::uintptr_t>(&wake);
  static_assert(kBuckets == 64, "the shift below picks 6 bits");
  return buckets_[(static_cast<std::uint64_t>(address) * 0x9E3779B97F4A7C15ULL) >> 58];
}

bool SystemClock::SleepFor(Millis duration, const std::atomic<bool>& wake) {
  Bucket& bucket = BucketOf(wake);
  std::unique_lock lock(bucket.mutex);
  return bucket.cv.wait_for(lock, duration, [&] { return wake.load(); });
}

void SystemClock::Wake(const std::atomic<bool>& wake) {
  Bucket& bucket = BucketOf(wake);
  // Taking the lock orders this wake after a sleeper's check of the flag.
  { std::lock_guard lock(bucket.mutex); }
  bucket.cv.notify_all();
}

void SystemClock::WakeAll() {
  for (Bucket& bucket : buckets_) {
    { std::lock_guard lock(bucket.mutex); }
    bucket.cv.notify_all();
  }
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
  return SleepLocked(lock, now_ + duration.count(), wake);
}

bool ManualClock::SleepUntil(std::int64_t steady_deadline, const std::atomic<bool>& wake) {
  std::unique_lock lock(mutex_);
  return SleepLocked(lock, start_ + steady_deadline, wake);
}

bool ManualClock::SleepLocked(std::unique_lock<std::mutex>& lock, std::int64_t until,
                              const std::atomic<bool>& wake) {
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
