// scaleout_postgres_fixture: one PostgreSQL server for a whole CTest run.
//
//   scaleout_postgres_fixture start STATE   starts a server and a keeper process
//                                           that owns it, writes STATE, returns
//   scaleout_postgres_fixture stop STATE    has the keeper stop the server and
//                                           waits until STATE is gone
//
// Tests that need PostgreSQL get STATE in PostgresServer::kStateVariable and
// attach to that server (tests/support/postgres_server.h): each test process
// creates its own databases on it instead of starting a server of its own.
//
// The keeper is a session of its own with its standard streams on
// /dev/null, so CTest does not wait for it. It stops the server (immediate
// shutdown, folder removed) and removes STATE when told to (SIGTERM, SIGINT,
// SIGHUP) or when the process that ran `start` (CTest) ends, so an
// interrupted run leaves no server behind. When PostgreSQL is not installed
// `start` writes no STATE and succeeds: the tests then skip as they would
// on their own.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <string>
#include <thread>

#include "tests/support/postgres_server.h"

namespace {

namespace fs = std::filesystem;
using scaleout::test::PostgresServer;

constexpr const char* kUsage =
    "Usage: scaleout_postgres_fixture start|stop STATE\n"
    "Starts (or stops) one PostgreSQL server for a test run; STATE is the file tests read\n"
    "through SCALEOUT_TEST_POSTGRES_STATE.\n";

volatile std::sig_atomic_t g_stop_requested = 0;

void RequestStop(int /*signo*/) { g_stop_requested = 1; }

void WriteAll(int fd, const std::string& text) {
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    done += static_cast<std::size_t>(n);
  }
}

// True while `pid` runs (a zombie counts as ended). `pid_fd` is its pidfd,
// or -1 (then the slower check by kill()).
bool StillRunning(pid_t pid, int pid_fd) {
  if (pid_fd >= 0) {
    pollfd p{pid_fd, POLLIN, 0};
    return ::poll(&p, 1, 0) == 0;
  }
  return ::kill(pid, 0) == 0 || errno == EPERM;
}

// The keeper: owns the server until told to stop or until `watched` ends.
// Reports "ok" or the error on `report_fd`, then closes it.
[[noreturn]] void Keep(const fs::path& state, pid_t watched, int report_fd) {
  ::setsid();
  const int null_fd = ::open("/dev/null", O_RDWR);
  for (int fd : {STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO}) ::dup2(null_fd, fd);
  struct sigaction action {};
  action.sa_handler = RequestStop;
  for (int signo : {SIGTERM, SIGINT, SIGHUP}) ::sigaction(signo, &action, nullptr);

  auto started = PostgresServer::Start();
  if (!started.ok()) {
    WriteAll(report_fd, "cannot start PostgreSQL: " + started.status().ToString());
    ::_exit(1);
  }
  std::unique_ptr<PostgresServer> server = std::move(started).value();
  if (auto written = server->WriteState(state, ::getpid()); !written.ok()) {
    WriteAll(report_fd, written.ToString());
    server.reset();
    ::_exit(1);
  }
  WriteAll(report_fd, "ok port " + std::to_string(server->port()) + ", keeper pid " +
                          std::to_string(::getpid()));
  ::close(report_fd);

  const int watched_fd = static_cast<int>(::syscall(SYS_pidfd_open, watched, 0));
  while (g_stop_requested == 0 && StillRunning(watched, watched_fd)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  server.reset();  // immediate shutdown; removes the server's folder
  std::error_code ec;
  fs::remove(state, ec);  // last: `stop` waits for this
  ::_exit(0);
}

int Start(const fs::path& state) {
  std::error_code ec;
  fs::remove(state, ec);  // a stale file from an interrupted run
  if (!PostgresServer::FindBinDir()) {
    std::cout << "PostgreSQL is not installed: no shared server; its tests skip\n";
    return 0;
  }
  int report[2];
  if (::pipe2(report, O_CLOEXEC) != 0) {
    std::cerr << "pipe2: " << std::strerror(errno) << "\n";
    return 1;
  }
  const pid_t watched = ::getppid();
  std::cout.flush();
  const pid_t keeper = ::fork();
  if (keeper < 0) {
    std::cerr << "fork: " << std::strerror(errno) << "\n";
    return 1;
  }
  if (keeper == 0) {
    ::close(report[0]);
    Keep(state, watched, report[1]);
  }
  ::close(report[1]);
  std::string message;
  char buffer[512];
  for (;;) {
    const ssize_t n = ::read(report[0], buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    message.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(report[0]);
  if (message.rfind("ok ", 0) != 0) {
    std::cerr << "scaleout_postgres_fixture: "
              << (message.empty() ? "the keeper ended without a word" : message) << "\n";
    return 1;
  }
  std::cout << "shared PostgreSQL server: " << message.substr(3) << "; state in " << state.string()
            << "\n";
  return 0;
}

int Stop(const fs::path& state) {
  if (!fs::exists(state)) {
    std::cout << "no shared PostgreSQL server to stop\n";
    return 0;
  }
  const auto keeper = static_cast<pid_t>(PostgresServer::StateNumber(state, "keeper_pid"));
  if (keeper <= 0 || ::kill(keeper, SIGTERM) != 0) {
    std::cerr << "scaleout_postgres_fixture: no keeper to stop in " << state.string()
              << "; removing it\n";
    std::error_code ec;
    fs::remove(state, ec);
    return 1;
  }
  // A bound on a hung shutdown, not a timing assertion.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (fs::exists(state)) {
    if (std::chrono::steady_clock::now() >= deadline) {
      std::cerr << "scaleout_postgres_fixture: the keeper (pid " << keeper
                << ") did not stop the server in 60 s\n";
      return 1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::cout << "shared PostgreSQL server stopped\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string action = argc == 3 ? argv[1] : "";
  if (action == "start") return Start(argv[2]);
  if (action == "stop") return Stop(argv[2]);
  std::cerr << kUsage;
  return argc == 2 && std::string(argv[1]) == "--help" ? 0 : 2;
}
