// Clock: the one source of time for every timer, lease and sweep in core.
//
// Production code uses SystemClock; tests use ManualClock and advance it, so
// hours of sweeps run in milliseconds. Times are UTC milliseconds since the
// Unix epoch (what the catalog stores).
#ifndef SCALEOUT_CORE_COMMON_CLOCK_H_
#define SCALEOUT_CORE_COMMON_CLOCK_H_

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>

namespace scaleout::core {

using Millis = std::chrono::milliseconds;

// Thread-safety: every implementation is safe to call from any thread.
class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock UTC time in ms since the epoch, as stored in the catalog.
  virtual std::int64_t NowUnixMillis() const = 0;
  // Monotonic time in ms, for measuring intervals and deadlines.
  virtual std::int64_t SteadyMillis() const = 0;
  // Sleeps up to `duration` in this clock's time, returning early (true)
  // when `wake` has been set. ManualClock wakes sleepers when advanced.
  virtual bool SleepFor(Millis duration, const std::atomic<bool>& wake) = 0;
  // Sleeps until SteadyMillis() reaches `steady_deadline`, returning early
  // (true) when `wake` has been set. Unlike SleepFor() with a duration the
  // caller worked out from an earlier SteadyMillis(), time that passes in
  // between is not slept again (a ManualClock advanced meanwhile would
  // otherwise push the wake-up past the deadline).
  virtual bool SleepUntil(std::int64_t steady_deadline, const std::atomic<bool>& wake) {
    const std::int64_t left = steady_deadline - SteadyMillis();
    return left > 0 ? SleepFor(Millis(left), wake) : wake.load();
  }
  // Wakes every SleepFor() now (used on shutdown).
  virtual void WakeAll() = 0;
  // Wakes the SleepFor() calls waiting on `wake`, which the caller has just
  // set; the others sleep on. A clock may wake more (the default wakes all),
  // never fewer.
  virtual void Wake(const std::atomic<bool>& wake) {
    (void)wake;
    WakeAll();
  }
};

class SystemClock final : public Clock {
 public:
  std::int64_t NowUnixMillis() const override;
  std::int64_t SteadyMillis() const override;
  bool SleepFor(Millis duration, const std::atomic<bool>& wake) override;
  void WakeAll() override;
  void Wake(const std::atomic<bool>& wake) override;

  // The process-wide instance; lives for the whole program.
  static SystemClock& Instance();

 private:
  // Sleepers wait on the bucket of their flag's address, so a Wake() wakes
  // only the few threads whose flags share a bucket, not every sleeper of
  // the process (each needless wake-up is a context switch).
  struct Bucket {
    std::mutex mutex;
    std::condition_variable cv;
  };
  static constexpr std::size_t kBuckets = 64;
  Bucket& BucketOf(const std::atomic<bool>& wake);
  std::array<Bucket, kBuckets> buckets_;
};

// A clock that moves only when told to. Starts at `start_unix_millis`.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(std::int64_t start_unix_millis = 1'700'000'000'000);
  std::int64_t NowUnixMillis() const override;
  std::int64_t SteadyMillis() const override;
  bool SleepFor(Millis duration, const std::atomic<bool>& wake) override;
  bool SleepUntil(std::int64_t steady_deadline, const std::atomic<bool>& wake) override;
  void WakeAll() override;

  void Advance(Millis delta);
  // Blocks until at least `count` threads are inside SleepFor(); lets tests
  // advance time only once the code under test is waiting on it.
  void WaitForSleepers(int count);

 private:
  // Sleeps until now_ reaches `until` (unix ms) or `wake` is set; `lock`
  // holds mutex_.
  bool SleepLocked(std::unique_lock<std::mutex>& lock, std::int64_t until,
                   const std::atomic<bool>& wake);

  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::int64_t now_;
  std::int64_t start_;
  int sleepers_ = 0;
};

// "2026-11-21T23:54:05.123Z" for a UTC ms timestamp.
std::string FormatUtc(std::int64_t unix_millis);

}  // namespace scaleout::core

#endif  // SCALEOUT_CORE_COMMON_CLOCK_H_
