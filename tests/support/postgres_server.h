// PostgresServer: a real, private PostgreSQL server for tests.
//
// Start() makes a fresh cluster in a new temp folder, starts `postgres` on
// 127.0.0.1 at a free port (its Unix socket in the same folder, fsync on),
// waits until it accepts connections, and creates a login role with a
// password and a database it owns. ConnectionString() is what psqlODBC needs
// to reach it. Stop() is a fast shutdown; the destructor stops the server
// without a shutdown checkpoint (immediate) and removes the folder.
//
// PostgreSQL refuses to run as root, and tests often run as root: then the
// server and the admin tools run as an unprivileged account ("postgres" when
// it exists, else "nobody"), which owns the temp folder.
//
// initdb is the slow part (seconds), so the first Start() of a machine keeps
// an initialized, never-started cluster as a template in the temp dir, and
// every later Start() copies it. The template is keyed by the server
// binaries; a server never runs on the template itself.
//
// One server for a whole test run: the `scaleout_postgres_fixture` program
// (a CTest fixture, see tests/support/CMakeLists.txt) starts a server and
// writes its state file; with SCALEOUT_TEST_POSTGRES_STATE naming that
// file, Shared() attaches to that server instead of starting one per test
// process (a server's start is most of a short test's time). An attached
// server is not this process's to stop: Stop() does nothing, and the
// destructor drops the databases this process created.
//
// Thread-safety: Start() may run from any thread, but the server is tied to
// the thread that started it (it gets SIGINT if that thread ends, so no
// server outlives a crashed test); use a started server from any thread.
#ifndef SCALEOUT_TESTS_SUPPORT_POSTGRES_SERVER_H_
#define SCALEOUT_TESTS_SUPPORT_POSTGRES_SERVER_H_

#include <sys/types.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "scaleout/sdk/status.h"

namespace scaleout::test {

class PostgresServer {
 public:
  // The folder with initdb and postgres: /usr/lib/postgresql/<highest>/bin,
  // else `pg_config --bindir`. nullopt when PostgreSQL is not installed.
  static std::optional<std::filesystem::path> FindBinDir();

  // Starts a new server. Errors: kNotFound when the server binaries are not
  // installed (tests skip then), kUnavailable/kInternal with the server's
  // log when it would not start.
  static sdk::Result<std::unique_ptr<PostgresServer>> Start();

  // The server a state file written by WriteState() describes, as a
  // server this process does not own (see above). kNotFound when the file
  // is missing, kFailedPrecondition when it is malformed or the server is
  // gone.
  static sdk::Result<std::unique_ptr<PostgresServer>> Attach(const std::filesystem::path& state);

  // The number a state file holds under `key` ("keeper_pid", "port", ...),
  // or -1 when the file cannot be read or the value is missing or not a number.
  static long long StateNumber(const std::filesystem::path& state, const std::string& key);

  // The environment variable naming the state file Shared() attaches to.
  static constexpr const char* kStateVariable = "SCALEOUT_TEST_POSTGRES_STATE";

  // One server per test binary, started on first use and stopped when the
  // tests end (a gtest Environment); or, with kStateVariable set to a state
  // file that exists, the run's shared server. Errors as Start() and Attach().
  static sdk::Result<PostgresServer*> Shared();

  // Writes what Attach() needs to `state` (atomically: written aside, then
  // renamed), with `keeper` as the pid that stops the server.
  sdk::Status WriteState(const std::filesystem::path& state, pid_t keeper) const;

  ~PostgresServer();
  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  // Fast shutdown, waits for the server to exit. Idempotent. Does nothing
  // to an attached server.
  void Stop();

  int port() const noexcept { return port_; }
  const std::string& user() const noexcept { return user_; }
  const std::string& password() const noexcept { return password_; }
  const std::string& database() const noexcept { return database_; }
  bool running() const noexcept { return pid_ > 0; }
  bool attached() const noexcept { return !owned_; }

  // A psqlODBC connection string for `database` (default: database()) as
  // user() with password(); `extra` is appended (";Key=Value").
  std::string ConnectionString(std::string_view database = {}, std::string_view extra = {}) const;

  // Runs `sql` with psql as the superuser (over the Unix socket) in
  // `database` and returns its unaligned output. Errors carry psql's stderr.
  sdk::Result<std::string> Psql(std::string_view sql, std::string_view database = "postgres") const;

  // Creates a new, empty database owned by user(), named "<prefix>_<n>"
  // with n unique in this process ("<prefix>_<pid>_<n>" on an attached
  // server, which other processes share), and returns its name.
  sdk::Result<std::string> CreateDatabase(std::string_view prefix = "scaleout");

 private:
  PostgresServer() = default;

  static sdk::Result<std::unique_ptr<PostgresServer>> StartFrom(
      const std::filesystem::path& bin_dir, bool rebuild_template);

  sdk::Status Launch();
  // Sends `signal` to the server and waits for it to exit (SIGINT: fast
  // shutdown, SIGQUIT: immediate). Idempotent.
  void Signal(int signal);
  // Drops created_ (an attached server's); best effort.
  void DropCreatedDatabases();
  sdk::Status WaitReady();
  std::string LogTail() const;

  std::filesystem::path bin_dir_;
  std::filesystem::path root_;  // temp folder: data/, the socket, server.log
  uid_t run_uid_ = 0;
  gid_t run_gid_ = 0;
  bool switch_user_ = false;
  pid_t pid_ = -1;
  int port_ = 0;
  int next_database_ = 0;
  bool owned_ = true;                 // false: attached (see above)
  std::vector<std::string> created_;  // databases made here, on an attached server
  std::string user_ = "scaleout";
  std::string password_ = "scaleout-test-password";
  std::string database_ = "scaleout";
};

}  // namespace scaleout::test

#endif  // SCALEOUT_TESTS_SUPPORT_POSTGRES_SERVER_H_
