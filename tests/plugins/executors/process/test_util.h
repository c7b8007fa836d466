// Helpers for the executor/process tests: temp project dirs, scripts, an
// event recorder. Real files and real processes; nothing is simulated.
#ifndef SCALEOUT_TESTS_PLUGINS_EXECUTORS_PROCESS_TEST_UTIL_H_
#define SCALEOUT_TESTS_PLUGINS_EXECUTORS_PROCESS_TEST_UTIL_H_

#include <sys/stat.h>
#include <unistd.h>

#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "scaleout/sdk/executor.h"

namespace scaleout::testing {

// A fresh directory under $TMPDIR, removed at destruction.
class TempDir {
 public:
  TempDir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "scaleout-test-XXXXXX").string();
    char* made = ::mkdtemp(pattern.data());
    EXPECT_NE(made, nullptr);
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

inline void WriteFile(const std::string& path, const std::string& text, mode_t mode = 0644) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
  ::chmod(path.c_str(), mode);
}

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Records events; lets a test wait until a given message has arrived.
class RecordingSink final : public sdk::EventSink {
 public:
  void Emit(const sdk::Event& event) noexcept override {
    std::lock_guard lock(mutex_);
    events_.push_back(event);
    cv_.notify_all();
  }
  // Blocks until an event with exactly `message` was emitted.
  void WaitForMessage(const std::string& message) {
    std::unique_lock lock(mutex_);
    cv_.wait(lock, [&] {
      for (const auto& e : events_) {
        if (e.message == message) return true;
      }
      return false;
    });
  }
  std::vector<sdk::Event> events() const {
    std::lock_guard lock(mutex_);
    return events_;
  }
  // Every message of `source`, in order.
  std::vector<std::string> Messages(const std::string& source) const {
    std::vector<std::string> out;
    for (const auto& e : events()) {
      if (e.message_source == source) out.push_back(e.message);
    }
    return out;
  }
  bool AnyContains(const std::string& needle) const {
    for (const auto& e : events()) {
      if (e.message.find(needle) != std::string::npos) return true;
    }
    return false;
  }

 private:
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<sdk::Event> events_;
};

}  // namespace scaleout::testing

#endif  // SCALEOUT_TESTS_PLUGINS_EXECUTORS_PROCESS_TEST_UTIL_H_
