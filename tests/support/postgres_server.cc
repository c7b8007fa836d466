#include "tests/support/postgres_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>
#include <vector>

#include "tests/support/test_util.h"

extern char** environ;

namespace scaleout::test {
namespace fs = std::filesystem;
using sdk::Result;
using sdk::Status;

namespace {

// Who runs the server and its tools.
struct Account {
  bool switch_user = false;  // only when we are root
  uid_t uid = 0;
  gid_t gid = 0;
};

Account PickAccount() {
  Account account;
  if (geteuid() != 0) return account;
  for (const char* name : {"postgres", "nobody"}) {
    if (const passwd* pw = getpwnam(name)) {
      account.switch_user = true;
      account.uid = pw->pw_uid;
      account.gid = pw->pw_gid;
      return account;
    }
  }
  return account;
}

std::string ReadAll(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string Tail(const std::string& text, std::size_t max = 2000) {
  return text.size() <= max ? text : "..." + text.substr(text.size() - max);
}

void GiveTo(const fs::path& path, const Account& account) {
  if (account.switch_user && chown(path.c_str(), account.uid, account.gid) != 0) {
    ADD_FAILURE() << "chown " << path << ": " << std::strerror(errno);
  }
}

// Starts `argv` as `account` with stdout to `out` and stderr to `err`
// (files, created). With `tie_to_thread`, the child gets SIGINT when the
// calling thread ends. Everything the child needs is built before fork(), so
// the child only makes async-signal-safe calls.
Result<pid_t> Spawn(const std::vector<std::string>& args, const Account& account,
                    const fs::path& out, const fs::path& err, const fs::path& cwd,
                    bool tie_to_thread) {
  std::vector<char*> argv;
  argv.reserve(args.size() + 1);
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string_view entry(*e);
    if (entry.starts_with("LC_ALL=") || entry.starts_with("PGDATA=") ||
        entry.starts_with("PGHOST=") || entry.starts_with("PGPORT=")) {
      continue;
    }
    env_strings.emplace_back(entry);
  }
  env_strings.emplace_back("LC_ALL=C");
  std::vector<char*> envp;
  envp.reserve(env_strings.size() + 1);
  for (std::string& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);

  const int out_fd = open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  const int err_fd = open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (out_fd < 0 || err_fd < 0) {
    if (out_fd >= 0) close(out_fd);
    if (err_fd >= 0) close(err_fd);
    return Status::Internal("cannot create " + out.string() + ": " + std::strerror(errno));
  }
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) {
    close(out_fd);
    close(err_fd);
    return Status::Internal(std::string("fork failed: ") + std::strerror(errno));
  }
  if (pid == 0) {
    dup2(out_fd, STDOUT_FILENO);
    dup2(err_fd, STDERR_FILENO);
    const int null_fd = open("/dev/null", O_RDONLY);
    if (null_fd >= 0) dup2(null_fd, STDIN_FILENO);
    if (account.switch_user) {
      if (setgroups(0, nullptr) != 0 || setgid(account.gid) != 0 || setuid(account.uid) != 0) {
        _exit(126);
      }
    }
    // After setuid: changing credentials clears the parent-death signal.
    if (tie_to_thread) {
      prctl(PR_SET_PDEATHSIG, SIGINT);
      if (getppid() != parent) _exit(125);
    }
    if (chdir(cwd.c_str()) != 0) _exit(124);
    execve(argv[0], argv.data(), envp.data());
    _exit(127);
  }
  close(out_fd);
  close(err_fd);
  return pid;
}

int WaitExit(pid_t pid) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// Runs a tool to completion; its output is in `log`.out and `log`.err.
Status RunTool(const std::vector<std::string>& args, const Account& account, const fs::path& log,
               const fs::path& cwd) {
  const fs::path out = log.string() + ".out";
  const fs::path err = log.string() + ".err";
  SCALEOUT_ASSIGN_OR_RETURN(pid_t pid, Spawn(args, account, out, err, cwd, false));
  const int code = WaitExit(pid);
  if (code == 0) return Status::Ok();
  return Status::Internal(fs::path(args[0]).filename().string() + " exited with " +
                          std::to_string(code) + ": " + Tail(ReadAll(err) + ReadAll(out)));
}

Result<int> FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return Status::Internal(std::string("socket: ") + std::strerror(errno));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof address;
  if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    const std::string error = std::strerror(errno);
    close(fd);
    return Status::Internal("cannot find a free port: " + error);
  }
  close(fd);
  return static_cast<int>(ntohs(address.sin_port));
}

Result<fs::path> MakeTempDir(const std::string& prefix, const Account& account) {
  std::string pattern = (fs::temp_directory_path() / (prefix + "XXXXXX")).string();
  if (mkdtemp(pattern.data()) == nullptr) {
    return Status::Internal(std::string("mkdtemp failed: ") + std::strerror(errno));
  }
  GiveTo(pattern, account);
  return fs::path(pattern);
}

// The initialized cluster every server starts from (see the header).
// With `rebuild`, a template that exists is moved aside and made again (a
// temp-dir cleaner may have removed files from it).
Result<fs::path> TemplateCluster(const fs::path& bin_dir, const Account& account, bool rebuild) {
  std::error_code ec;
  const fs::path postgres = bin_dir / "postgres";
  const auto stamp = fs::last_write_time(postgres, ec).time_since_epoch().count();
  const std::size_t key = std::hash<std::string>{}(
      bin_dir.string() + "|" + std::to_string(stamp) + "|" +
      std::to_string(fs::file_size(postgres, ec)) + "|" + std::to_string(account.uid));
  std::ostringstream name;
  name << "scaleout-pg-template-" << std::hex << key;
  const fs::path dir = fs::temp_directory_path() / name.str();
  if (rebuild && fs::exists(dir, ec)) {
    const fs::path aside = dir.string() + ".stale-" + std::to_string(getpid());
    fs::rename(dir, aside, ec);
    fs::remove_all(aside, ec);
  }
  if (fs::exists(dir / "data" / "PG_VERSION", ec)) return dir / "data";

  // Made aside and renamed into place, so parallel test processes never see
  // half a template; the loser of a race keeps the winner's.
  SCALEOUT_ASSIGN_OR_RETURN(fs::path staging, MakeTempDir(name.str() + ".tmp-", account));
  Status made = RunTool(
      {(bin_dir / "initdb").string(), "-D", (staging / "data").string(), "-U", "postgres",
       "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C", "--no-sync"},
      account, staging / "initdb", staging);
  if (!made.ok()) {
    fs::remove_all(staging, ec);
    return made.WithContext("initdb");
  }
  fs::remove(staging / "initdb.out", ec);
  fs::remove(staging / "initdb.err", ec);
  fs::rename(staging, dir, ec);
  if (ec) fs::remove_all(staging, ec);
  if (!fs::exists(dir / "data" / "PG_VERSION", ec)) {
    return Status::Internal("the PostgreSQL template cluster " + dir.string() + " is incomplete");
  }
  return dir / "data";
}

std::mutex& ServerMutex() {
  static std::mutex mutex;
  return mutex;
}

// The shared server's slot; filled on first use, emptied at the end of the tests.
struct SharedSlot {
  std::unique_ptr<PostgresServer> server;
  std::optional<Status> failure;
  bool tried = false;
};

SharedSlot& Slot() {
  static SharedSlot slot;
  return slot;
}

class SharedServerEnvironment final : public ::testing::Environment {
 public:
  void TearDown() override {
    std::lock_guard<std::mutex> lock(ServerMutex());
    Slot().server.reset();
  }
};

[[maybe_unused]] ::testing::Environment* const kSharedServerEnvironment =
    ::testing::AddGlobalTestEnvironment(new SharedServerEnvironment);

}  // namespace

std::optional<fs::path> PostgresServer::FindBinDir() {
  std::error_code ec;
  std::vector<std::pair<int, fs::path>> found;
  for (const auto& entry : fs::directory_iterator("/usr/lib/postgresql", ec)) {
    const fs::path bin = entry.path() / "bin";
    if (!fs::exists(bin / "initdb", ec) || !fs::exists(bin / "postgres", ec)) continue;
    found.emplace_back(std::atoi(entry.path().filename().c_str()), bin);
  }
  if (!found.empty()) return std::max_element(found.begin(), found.end())->second;
  if (FILE* pipe = popen("pg_config --bindir 2>/dev/null", "r")) {
    char line[512] = {};
    const bool read = fgets(line, sizeof line, pipe) != nullptr;
    pclose(pipe);
    std::string dir = read ? line : "";
    while (!dir.empty() && (dir.back() == '\n' || dir.back() == ' ')) dir.pop_back();
    if (!dir.empty() && fs::exists(fs::path(dir) / "initdb", ec) &&
        fs::exists(fs::path(dir) / "postgres", ec)) {
      return fs::path(dir);
    }
  }
  return std::nullopt;
}

Result<std::unique_ptr<PostgresServer>> PostgresServer::Start() {
  std::optional<fs::path> bin_dir = FindBinDir();
  if (!bin_dir) {
    return Status::NotFound(
        "PostgreSQL server binaries (initdb, postgres) are not installed; install postgresql "
        "(scripts/setup-debian.sh does)");
  }
  // A kept template that no longer starts is made again, once.
  Result<std::unique_ptr<PostgresServer>> started = StartFrom(*bin_dir, false);
  if (!started.ok()) started = StartFrom(*bin_dir, true);
  return started;
}

Result<std::unique_ptr<PostgresServer>> PostgresServer::StartFrom(const fs::path& bin_dir,
                                                                  bool rebuild_template) {
  std::unique_ptr<PostgresServer> server(new PostgresServer());
  server->bin_dir_ = bin_dir;
  const Account account = PickAccount();
  server->switch_user_ = account.switch_user;
  server->run_uid_ = account.uid;
  server->run_gid_ = account.gid;
  SCALEOUT_ASSIGN_OR_RETURN(fs::path template_data,
                            TemplateCluster(bin_dir, account, rebuild_template));
  SCALEOUT_ASSIGN_OR_RETURN(server->root_, MakeTempDir("scaleout-pg-", account));
  SCALEOUT_RETURN_IF_ERROR(
      RunTool({"/bin/cp", "-a", template_data.string(), (server->root_ / "data").string()}, account,
              server->root_ / "copy", server->root_)
          .WithContext("copying the template cluster"));
  // Another process can take the port between our probe and the server's
  // bind; then the server exits at once and we try another.
  Status launched;
  for (int attempt = 0; attempt < 3; ++attempt) {
    launched = server->Launch();
    if (launched.ok()) break;
  }
  SCALEOUT_RETURN_IF_ERROR(launched);
  SCALEOUT_RETURN_IF_ERROR(
      server->Psql("CREATE ROLE " + server->user_ + " LOGIN PASSWORD '" + server->password_ + "'")
          .status());
  SCALEOUT_RETURN_IF_ERROR(
      server->Psql("CREATE DATABASE " + server->database_ + " OWNER " + server->user_).status());
  return server;
}

Status PostgresServer::Launch() {
  SCALEOUT_ASSIGN_OR_RETURN(port_, FreePort());
  const Account account{switch_user_, run_uid_, run_gid_};
  SCALEOUT_ASSIGN_OR_RETURN(
      pid_, Spawn({(bin_dir_ / "postgres").string(), "-D", (root_ / "data").string(), "-p",
                   std::to_string(port_), "-c", "listen_addresses=127.0.0.1", "-c",
                   "unix_socket_directories=" + root_.string(), "-c", "fsync=on", "-c",
                   "shared_buffers=16MB", "-c", "max_connections=200"},
                  account, root_ / "server.out", root_ / "server.log", root_, true));
  Status ready = WaitReady();
  if (!ready.ok()) Stop();
  return ready;
}

Status PostgresServer::WaitReady() {
  using Clock = std::chrono::steady_clock;
  // A bound on a hung start, not a timing assertion: a loaded machine takes
  // a second or two, a broken install never gets there.
  const auto deadline = Clock::now() + std::chrono::seconds(120);
  const fs::path pid_file = root_ / "data" / "postmaster.pid";
  while (Clock::now() < deadline) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return Status::Unavailable("postgres exited while starting: " + LogTail());
    }
    // Line 8 of postmaster.pid is the server's state; "ready" means it
    // accepts connections (what pg_ctl -w waits for).
    std::istringstream lines(ReadAll(pid_file));
    std::string line;
    for (int i = 1; i <= 8 && std::getline(lines, line); ++i) {
      if (i == 8 && line.find("ready") != std::string::npos) return Status::Ok();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return Status::DeadlineExceeded("postgres did not become ready in 120 s: " + LogTail());
}

std::string PostgresServer::LogTail() const { return Tail(ReadAll(root_ / "server.log")); }

PostgresServer::~PostgresServer() {
  if (!owned_) {
    DropCreatedDatabases();
    return;
  }
  // The data is thrown away, so skip the shutdown checkpoint (seconds of
  // fsync on a busy disk): immediate shutdown.
  Signal(SIGQUIT);
  std::error_code ec;
  if (!root_.empty()) fs::remove_all(root_, ec);
}

void PostgresServer::Stop() { Signal(SIGINT); }  // fast shutdown: ends sessions, checkpoints

void PostgresServer::DropCreatedDatabases() {
  if (created_.empty() || pid_ <= 0) return;
  // One psql for all: each -c runs on its own (DROP DATABASE refuses a
  // transaction block); FORCE ends sessions a test left open.
  std::vector<std::string> args = {
      (bin_dir_ / "psql").string(), "-X", "-q",       "-h", root_.string(), "-p",
      std::to_string(port_),        "-U", "postgres", "-d", "postgres"};
  for (const std::string& name : created_) {
    args.push_back("-c");
    args.push_back("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
  }
  created_.clear();
  const Account account{switch_user_, run_uid_, run_gid_};
  TempDir logs;
  GiveTo(logs.path(), account);
  // Best effort: the run's server removes every database when it stops.
  (void)RunTool(args, account, logs.path() / "drop", logs.path());
}

void PostgresServer::Signal(int signal) {
  if (pid_ <= 0 || !owned_) return;
  kill(pid_, signal);
  WaitExit(pid_);
  pid_ = -1;
}

std::string PostgresServer::ConnectionString(std::string_view database,
                                             std::string_view extra) const {
  return "Driver={PostgreSQL Unicode};Server=127.0.0.1;Port=" + std::to_string(port_) +
         ";Database=" + std::string(database.empty() ? std::string_view(database_) : database) +
         ";Uid=" + user_ + ";Pwd=" + password_ + std::string(extra);
}

Result<std::string> PostgresServer::Psql(std::string_view sql, std::string_view database) const {
  if (pid_ <= 0) return Status::FailedPrecondition("the PostgreSQL test server is not running");
  static std::atomic<int> counter{0};
  // The pid too: the processes of a test run share an attached server's folder.
  const fs::path log =
      root_ / ("psql-" + std::to_string(getpid()) + "-" + std::to_string(++counter));
  const Account account{switch_user_, run_uid_, run_gid_};
  Status ran = RunTool({(bin_dir_ / "psql").string(), "-X", "-q", "-A", "-t", "-v",
                        "ON_ERROR_STOP=1", "-h", root_.string(), "-p", std::to_string(port_), "-U",
                        "postgres", "-d", std::string(database), "-c", std::string(sql)},
                       account, log, root_);
  std::string out = ReadAll(log.string() + ".out");
  std::error_code ec;
  fs::remove(log.string() + ".out", ec);
  fs::remove(log.string() + ".err", ec);
  if (!ran.ok()) return ran.WithContext("psql -c '" + std::string(sql.substr(0, 200)) + "'");
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

Result<std::string> PostgresServer::CreateDatabase(std::string_view prefix) {
  std::string name = std::string(prefix) + "_";
  if (!owned_) name += std::to_string(getpid()) + "_";
  name += std::to_string(++next_database_);
  SCALEOUT_RETURN_IF_ERROR(Psql("CREATE DATABASE " + name + " OWNER " + user_).status());
  if (!owned_) created_.push_back(name);
  return name;
}

Status PostgresServer::WriteState(const fs::path& state, pid_t keeper) const {
  if (pid_ <= 0) return Status::FailedPrecondition("the PostgreSQL test server is not running");
  const fs::path aside = state.string() + ".tmp-" + std::to_string(getpid());
  {
    std::ofstream out(aside, std::ios::trunc);
    out << "bin_dir=" << bin_dir_.string() << "\nroot=" << root_.string() << "\nport=" << port_
        << "\nserver_pid=" << pid_ << "\nkeeper_pid=" << keeper
        << "\nswitch_user=" << (switch_user_ ? 1 : 0) << "\nuid=" << run_uid_
        << "\ngid=" << run_gid_ << "\n";
    if (!out.flush()) return Status::Internal("cannot write " + aside.string());
  }
  std::error_code ec;
  fs::rename(aside, state, ec);
  if (ec) return Status::Internal("cannot rename " + aside.string() + ": " + ec.message());
  return Status::Ok();
}

namespace {

// A state file's "key=value" lines; nullopt when it cannot be read.
std::optional<std::map<std::string, std::string>> ReadStateFile(const fs::path& state) {
  std::ifstream in(state);
  if (!in) return std::nullopt;
  std::map<std::string, std::string> values;
  for (std::string line; std::getline(in, line);) {
    const std::size_t equals = line.find('=');
    if (equals != std::string::npos) values[line.substr(0, equals)] = line.substr(equals + 1);
  }
  return values;
}

// The whole value of `key` as a number, or -1 (missing or not a number).
long long NumberIn(const std::map<std::string, std::string>& values, const std::string& key) {
  const auto found = values.find(key);
  if (found == values.end() || found->second.empty()) return -1;
  char* end = nullptr;
  const long long value = std::strtoll(found->second.c_str(), &end, 10);
  return *end != '\0' ? -1 : value;
}

}  // namespace

long long PostgresServer::StateNumber(const fs::path& state, const std::string& key) {
  const auto values = ReadStateFile(state);
  return values ? NumberIn(*values, key) : -1;
}

Result<std::unique_ptr<PostgresServer>> PostgresServer::Attach(const fs::path& state) {
  auto read = ReadStateFile(state);
  if (!read) return Status::NotFound("no PostgreSQL state file " + state.string());
  std::map<std::string, std::string>& values = *read;
  auto number = [&values](const std::string& key) { return NumberIn(values, key); };
  std::unique_ptr<PostgresServer> server(new PostgresServer());
  server->owned_ = false;
  server->bin_dir_ = values["bin_dir"];
  server->root_ = values["root"];
  server->port_ = static_cast<int>(number("port"));
  server->pid_ = static_cast<pid_t>(number("server_pid"));
  server->switch_user_ = number("switch_user") == 1;
  server->run_uid_ = static_cast<uid_t>(number("uid"));
  server->run_gid_ = static_cast<gid_t>(number("gid"));
  if (server->bin_dir_.empty() || server->root_.empty() || server->port_ <= 0 ||
      server->pid_ <= 0 || number("uid") < 0 || number("gid") < 0) {
    return Status::FailedPrecondition("PostgreSQL state file " + state.string() + " is incomplete");
  }
  if (kill(server->pid_, 0) != 0) {
    return Status::FailedPrecondition("the PostgreSQL server of " + state.string() + " (pid " +
                                      std::to_string(server->pid_) + ") is gone");
  }
  return server;
}

Result<PostgresServer*> PostgresServer::Shared() {
  std::lock_guard<std::mutex> lock(ServerMutex());
  SharedSlot& slot = Slot();
  if (!slot.tried) {
    slot.tried = true;
    const char* state = std::getenv(kStateVariable);
    const bool shared_run = state != nullptr && *state != '\0' && fs::exists(state);
    Result<std::unique_ptr<PostgresServer>> started = shared_run ? Attach(state) : Start();
    if (started.ok()) {
      slot.server = std::move(started).value();
    } else {
      slot.failure = started.status();
    }
  }
  if (slot.server) return slot.server.get();
  if (slot.failure) return *slot.failure;
  return Status::FailedPrecondition("the shared PostgreSQL test server was already stopped");
}

}  // namespace scaleout::test
