// Small real helpers for tests: a temp folder, a logger that keeps lines, an
// event sink that keeps events, a cancellation token a test can set, running
// the `scaleout` binary as a child process, loading in-tree plugins, and a
// started SQLite storage.
//
// Thread-safety: CapturingLogger, CollectingEventSink and
// SettableCancellationToken are safe from any thread; the rest are for the
// test's own thread.
#ifndef SCALEOUT_TESTS_SUPPORT_TEST_UTIL_H_
#define SCALEOUT_TESTS_SUPPORT_TEST_UTIL_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "host/plugin_loader.h"
#include "scaleout/sdk/executor.h"
#include "scaleout/sdk/logger.h"
#include "scaleout/sdk/status.h"
#include "scaleout/sdk/storage.h"
#include "scaleout/sdk/transport.h"

namespace scaleout::test {

// A fresh folder under the system temp dir, removed (with its contents) on
// destruction. Unique per process and instance, so parallel tests never clash.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(std::string_view name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

// Writes `contents` to `file` (creating parent folders); fails the test on error.
void WriteFile(const std::filesystem::path& file, std::string_view contents);
// The whole file, or "" when it cannot be read.
std::string ReadFile(const std::filesystem::path& file);

// Random text for JSON writers' tests: up to `max_pieces` pieces drawn
// from quotes, backslashes, control characters (NUL included), multi-byte
// UTF-8 and invalid UTF-8 (overlong forms, surrogates, truncated sequences,
// stray continuation bytes). Deterministic for a given `random` state.
std::string RandomJsonText(std::mt19937& random, int max_pieces = 12);

// Keeps every line it is given, with its level.
class CapturingLogger final : public sdk::Logger {
 public:
  struct Line {
    sdk::LogLevel level;
    std::string message;
  };
  void Log(sdk::LogLevel level, std::string_view message) noexcept override;
  bool Enabled(sdk::LogLevel) const noexcept override { return true; }
  std::vector<Line> lines() const;
  // True when some line contains `text`.
  bool Contains(std::string_view text) const;

 private:
  mutable std::mutex mutex_;
  std::vector<Line> lines_;
};

class CollectingEventSink final : public sdk::EventSink {
 public:
  void Emit(const sdk::Event& event) noexcept override;
  std::vector<sdk::Event> events() const;

 private:
  mutable std::mutex mutex_;
  std::vector<sdk::Event> events_;
};

class SettableCancellationToken final : public sdk::CancellationToken {
 public:
  void Cancel();
  bool IsCancelled() const noexcept override;
  bool WaitFor(std::chrono::milliseconds timeout) const noexcept override;

 private:
  mutable std::mutex mutex_;
  mutable std::condition_variable cv_;
  std::atomic<bool> cancelled_{false};
};

// Admits every peer: for tests of a transport's plumbing, not of its trust.
class AdmitAll final : public sdk::PeerAuthenticator {
 public:
  sdk::Status Admit(const sdk::PeerIdentity&) const noexcept override { return sdk::Status::Ok(); }
};

// True when `text` contains `part`.
inline bool Contains(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

// The folder the build puts in-tree plugins in.
std::filesystem::path InTreePluginDir();
// The in-tree plugin file for "executor/noop" and the like.
std::filesystem::path InTreePluginFile(std::string_view full_name);
// Loads the in-tree plugin `full_name` ("transport/inproc") into `loader`.
sdk::Status LoadInTreePlugin(host::PluginLoader& loader, std::string_view full_name);
// Loads the in-tree "storage/sqlite" into `loader` (which must outlive the
// result) and returns it started on the database file `file`.
sdk::Result<host::PluginPtr<sdk::Storage>> StartSqliteStorage(host::PluginLoader& loader,
                                                              const std::filesystem::path& file);

// The built `scaleout` executable.
std::filesystem::path HostBinary();

struct ProcessResult {
  int exit_code = -1;  // -1 when it did not exit normally
  std::string out;     // stdout
  std::string err;     // stderr
};
// Runs `program` with `args` (no shell), waits for it, and captures its
// output. `env` entries ("NAME=value") are added to the environment.
ProcessResult RunProcess(const std::filesystem::path& program, const std::vector<std::string>& args,
                         const std::vector<std::string>& env = {});

// A unix datagram socket standing in for systemd's notification socket:
// bound at `name` (a path, or "@name" for the abstract namespace).
class FakeServiceManager {
 public:
  explicit FakeServiceManager(const std::string& name);
  ~FakeServiceManager();
  FakeServiceManager(const FakeServiceManager&) = delete;
  FakeServiceManager& operator=(const FakeServiceManager&) = delete;

  bool bound() const { return bound_; }
  // The next message, or "" when none came within `timeout`.
  std::string Receive(std::chrono::milliseconds timeout = std::chrono::seconds(5));

 private:
  int fd_ = -1;
  bool bound_ = false;
};

}  // namespace scaleout::test

#endif  // SCALEOUT_TESTS_SUPPORT_TEST_UTIL_H_
