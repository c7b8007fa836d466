#include "tests/support/test_util.h"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

extern char** environ;  // NOLINT: POSIX

namespace scaleout::test {

namespace fs = std::filesystem;

namespace {

fs::path MakeUniqueTempDir() {
  static std::atomic<int> counter{0};
  const fs::path base = fs::temp_directory_path();
  for (;;) {
    fs::path candidate = base / ("scaleout-test-" + std::to_string(::getpid()) + "-" +
                                 std::to_string(counter.fetch_add(1)));
    std::error_code ec;
    if (fs::create_directory(candidate, ec)) return candidate;
    if (ec) throw fs::filesystem_error("cannot create temp dir", candidate, ec);
  }
}

// Replaces or appends NAME=value entries.
std::vector<std::string> MergedEnvironment(const std::vector<std::string>& extra) {
  std::vector<std::string> merged;
  for (char** e = environ; *e != nullptr; ++e) merged.emplace_back(*e);
  for (const std::string& entry : extra) {
    const std::string key = entry.substr(0, entry.find('=') + 1);
    auto it = std::find_if(merged.begin(), merged.end(),
                           [&](const std::string& m) { return m.starts_with(key); });
    if (it != merged.end()) {
      *it = entry;
    } else {
      merged.push_back(entry);
    }
  }
  return merged;
}

}  // namespace

TempDir::TempDir() : path_(MakeUniqueTempDir()) {}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

void WriteFile(const fs::path& file, std::string_view contents) {
  std::error_code ec;
  if (file.has_parent_path()) fs::create_directories(file.parent_path(), ec);
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
  ASSERT_TRUE(out.good()) << "cannot write " << file;
}

std::string ReadFile(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

void CapturingLogger::Log(sdk::LogLevel level, std::string_view message) noexcept {
  std::lock_guard lock(mutex_);
  lines_.push_back({level, std::string(message)});
}

std::vector<CapturingLogger::Line> CapturingLogger::lines() const {
  std::lock_guard lock(mutex_);
  return lines_;
}

bool CapturingLogger::Contains(std::string_view text) const {
  std::lock_guard lock(mutex_);
  return std::any_of(lines_.begin(), lines_.end(), [&](const Line& line) {
    return line.message.find(text) != std::string::npos;
  });
}

void CollectingEventSink::Emit(const sdk::Event& event) noexcept {
  std::lock_guard lock(mutex_);
  events_.push_back(event);
}

std::vector<sdk::Event> CollectingEventSink::events() const {
  std::lock_guard lock(mutex_);
  return events_;
}

void SettableCancellationToken::Cancel() {
  {
    std::lock_guard lock(mutex_);
    cancelled_ = true;
  }
  cv_.notify_all();
}

bool SettableCancellationToken::IsCancelled() const noexcept { return cancelled_; }

bool SettableCancellationToken::WaitFor(std::chrono::milliseconds timeout) const noexcept {
  std::unique_lock lock(mutex_);
  return cv_.wait_for(lock, timeout, [this] { return cancelled_.load(); });
}

fs::path InTreePluginDir() { return fs::path(SCALEOUT_TEST_PLUGIN_DIR); }

fs::path InTreePluginFile(std::string_view full_name) {
  std::string file_name = "libscaleout_" + std::string(full_name) + ".so";
  std::replace(file_name.begin(), file_name.end(), '/', '_');
  return InTreePluginDir() / file_name;
}

sdk::Status LoadInTreePlugin(host::PluginLoader& loader, std::string_view full_name) {
  return loader.LoadFile(InTreePluginFile(full_name));
}

sdk::Result<host::PluginPtr<sdk::Storage>> StartSqliteStorage(host::PluginLoader& loader,
                                                              const fs::path& file) {
  SCALEOUT_RETURN_IF_ERROR(LoadInTreePlugin(loader, "storage/sqlite"));
  sdk::ConfigView::Map config;  // read when the storage is made
  config["path"] = file.string();
  SCALEOUT_ASSIGN_OR_RETURN(
      auto storage, loader.CreateStorage("storage/sqlite", sdk::ConfigView(config, "sqlite")));
  SCALEOUT_RETURN_IF_ERROR(storage->Start());
  return storage;
}

fs::path HostBinary() { return fs::path(SCALEOUT_TEST_HOST_BINARY); }

ProcessResult RunProcess(const fs::path& program, const std::vector<std::string>& args,
                         const std::vector<std::string>& env) {
  TempDir capture;
  const fs::path out_file = capture / "stdout";
  const fs::path err_file = capture / "stderr";
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out_file.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err_file.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0600);
  std::vector<std::string> argv_strings{program.string()};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  argv.reserve(argv_strings.size() + 1);
  for (std::string& a : argv_strings) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_strings = MergedEnvironment(env);
  std::vector<char*> envp;
  envp.reserve(env_strings.size() + 1);
  for (std::string& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);

  ProcessResult result;
  pid_t pid = 0;
  const int spawn_error =
      posix_spawn(&pid, program.c_str(), &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (spawn_error != 0) {
    result.err = "cannot start " + program.string() + ": " + std::strerror(spawn_error);
    return result;
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  result.out = ReadFile(out_file);
  result.err = ReadFile(err_file);
  return result;
}

std::string RandomJsonText(std::mt19937& random, int max_pieces) {
  static const std::vector<std::string> pieces = {"\"",
                                                  "\\",
                                                  "\b",
                                                  "\f",
                                                  "\n",
                                                  "\r",
                                                  "\t",
                                                  std::string(1, '\0'),
                                                  "\x1f",
                                                  "\x7f",
                                                  "a",
                                                  "/",
                                                  "\xc3\xa9",
                                                  "\xe2\x82\xac",
                                                  "\xf0\x9f\x98\x80",
                                                  "\xc0\xaf",
                                                  "\xed\xa0\x80",
                                                  "\xf4\x90\x80\x80",
                                                  "\xe2\x82",
                                                  "\x80",
                                                  "\xff",
                                                  "\xf5\x80\x80\x80",
                                                  "\xe0\x80\x80"};
  std::string text;
  const int n = static_cast<int>(random() % static_cast<unsigned>(max_pieces + 1));
  for (int i = 0; i < n; ++i) text += pieces[random() % pieces.size()];
  return text;
}

FakeServiceManager::FakeServiceManager(const std::string& name) {
  fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (fd_ < 0 || name.empty() || name.size() >= sizeof(address.sun_path)) return;
  std::memcpy(address.sun_path, name.data(), name.size());
  if (name[0] == '@') address.sun_path[0] = '\0';
  bound_ = ::bind(fd_, reinterpret_cast<const sockaddr*>(&address),
                  static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name.size())) == 0;
}

FakeServiceManager::~FakeServiceManager() {
  if (fd_ >= 0) ::close(fd_);
}

std::string FakeServiceManager::Receive(std::chrono::milliseconds timeout) {
  pollfd ready{fd_, POLLIN, 0};
  if (::poll(&ready, 1, static_cast<int>(timeout.count())) <= 0) return "";
  char buffer[4096];
  const ssize_t n = ::recv(fd_, buffer, sizeof(buffer), 0);
  return n > 0 ? std::string(buffer, static_cast<std::size_t>(n)) : std::string();
}

}  // namespace scaleout::test
