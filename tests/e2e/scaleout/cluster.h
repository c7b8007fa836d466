// Cluster: real masters and real workers as child processes on 127.0.0.1,
// for end-to-end tests and the dispatch benchmark.
//
// Everything is real: credentials made by `scaleout cert` (x509 certificates
// for transport/https, CURVE key pairs for transport/zmq), a catalog in a
// SQLite file or in a fresh database on a real PostgreSQL server (through
// storage/odbc), `scaleout manage` for every administrative step, task-host
// child processes on the workers. The cluster lives in a temporary folder and
// kills every process it started when it is destroyed.
//
// Backends: ClusterOptions names the transport and the storage, so one test
// body runs on every combination (see Backend, AllBackends()). Several
// masters may share one catalog when the storage is PostgreSQL (StartMaster
// with an index > 0); workers then list the masters they know.
//
// Not thread-safe: drive it from the test's thread.
#ifndef SCALEOUT_TESTS_E2E_SCALEOUT_CLUSTER_H_
#define SCALEOUT_TESTS_E2E_SCALEOUT_CLUSTER_H_

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/support/test_util.h"

namespace scaleout::test {

// A child process started in the background; killed (SIGKILL) and reaped on
// destruction if still running.
class ChildProcess {
 public:
  // Starts `program args...` with stdout and stderr appended to `log_file`.
  static std::unique_ptr<ChildProcess> Start(const std::filesystem::path& program,
                                             const std::vector<std::string>& args,
                                             const std::filesystem::path& log_file);
  ~ChildProcess();

  pid_t pid() const { return pid_; }
  void Signal(int signal_number);
  // Waits up to `timeout`; the exit status (as from waitpid) once it ended.
  std::optional<int> WaitFor(std::chrono::milliseconds timeout);
  bool running();

 private:
  explicit ChildProcess(pid_t pid) : pid_(pid) {}
  pid_t pid_;
  bool reaped_ = false;
};

// One combination of backends: the transport plugin between masters and
// workers, and the storage of the catalog.
struct Backend {
  std::string transport = "https";  // "https" (x509 certificates) or "zmq" (CURVE keys)
  std::string storage = "sqlite";   // "sqlite", "odbc_postgresql" or "odbc_sqlite"

  // "https_sqlite": a GoogleTest parameter name.
  std::string Name() const { return transport + "_" + storage; }
  // Why this combination cannot run in this build or on this machine (the
  // transport plugin is not built, PostgreSQL is not installed), or "" when
  // it can. Tests GTEST_SKIP with this text.
  std::string Unavailable() const;
  // The storage plugin's name ("sqlite" or "odbc").
  std::string StoragePlugin() const;
  bool SharedCatalog() const { return storage == "odbc_postgresql"; }
};
std::ostream& operator<<(std::ostream& out, const Backend& backend);

// The end-to-end matrix: {https, zmq} x {sqlite, odbc_postgresql}.
std::vector<Backend> AllBackends();

// A credential made by `scaleout cert`: for x509 a certificate and its key
// (id: the SHA-256 thumbprint), for CURVE a public and a secret key file
// (id: the Z85 public key). Masters and workers both have one.
struct Credential {
  std::filesystem::path public_file;  // certificate / public key
  std::filesystem::path secret_file;  // private key / secret key
  std::string id;                     // what the other side pins or trusts
};

struct ClusterOptions {
  // Kept as two strings so that a default-constructed cluster is https + sqlite.
  std::string transport = "https";
  std::string storage = "sqlite";
  // Extra `--set Key=Value` for every master (short sweep intervals by default).
  std::vector<std::string> master_settings = {"DealWithExpiredTasksIntervalInMs=500",
                                              "WorkerOfflineTimeoutInMs=6000",
                                              "MasterHeartbeatIntervalInMs=1000",
                                              "RestartGracePeriodInMs=3000",
                                              "LeaseIntervalInMs=3000",
                                              "MaxLongPollInMs=5000"};

  // A command the masters run under, e.g. {"/usr/bin/prlimit", "--nofile=512:512"}.
  std::vector<std::string> master_command_prefix;

  static ClusterOptions For(const Backend& backend) {
    ClusterOptions options;
    options.transport = backend.transport;
    options.storage = backend.storage;
    return options;
  }
  Backend backend() const { return Backend{transport, storage}; }
};

struct WorkerOptions {
  int max_task_count = 10;
  bool enable = true;  // enable it after it registered
  // The masters (indexes) the worker lists in MasterEndpoint, in order; it
  // fails over from one to the next. Every listed master must be started.
  std::vector<int> masters = {0};
  // Extra settings written into the worker's settings file (JSON values).
  nlohmann::json settings = nlohmann::json::object();
};

class Cluster {
 public:
  explicit Cluster(ClusterOptions options = {});
  ~Cluster();
  Cluster(const Cluster&) = delete;
  Cluster& operator=(const Cluster&) = delete;

  const std::filesystem::path& dir() const { return dir_.path(); }
  const ClusterOptions& options() const { return options_; }

  // Creates master `index`'s credential and settings on first use, starts
  // `scaleout master` and waits until it listens. The first start of master
  // 0 also creates the catalog (`master init`), its first admin, and turns
  // Scale Out on. Masters above 0 share master 0's catalog, so they need a
  // shared catalog (PostgreSQL). Restarting keeps the catalog and the port.
  // `extra_settings` are more `--set Key=Value` for this start only.
  void StartMaster(int index = 0, const std::vector<std::string>& extra_settings = {});
  void StopMaster(int signal_number, int index = 0);  // and wait for it to end
  bool master_running(int index = 0) const;
  std::string master_url(int index = 0) const;
  // What workers pin: the SHA-256 thumbprint (https) or the CURVE public key (zmq).
  const std::string& master_thumbprint(int index = 0) const;
  std::filesystem::path master_log(int index = 0) const;

  // Makes a credential for the cluster's transport in `dir` (worker.crt and
  // worker.key, or their CURVE counterparts).
  Credential CreateCredential(const std::string& cn, const std::filesystem::path& dir,
                              const std::string& stem) const;

  // Creates a worker's credential and settings, trusts it with `scaleout
  // manage worker add`, starts `scaleout worker`, waits until it registered
  // and (by default) enables it. Returns its agent id.
  std::string AddWorker(const std::string& name, WorkerOptions options = {});
  void StartWorker(const std::string& name);
  void StopWorker(const std::string& name, int signal_number);
  const std::string& agent_id(const std::string& name) const;
  const Credential& worker_credential(const std::string& name) const;
  std::filesystem::path worker_dir(const std::string& name) const;
  std::filesystem::path worker_log(const std::string& name) const;
  // The worker's settings as it reads them (a JSON object): for tests that
  // start a worker of their own with a variation.
  nlohmann::json WorkerSettings(const Credential& credential, const std::vector<int>& masters,
                                const std::string& agent_id) const;

  // Runs `scaleout manage ARGS` as the admin against the management master
  // (master 0 unless set_manage_master() chose another).
  ProcessResult Manage(const std::vector<std::string>& args) const;
  // Same with --json; fails the test unless it exits 0; returns the parsed output.
  nlohmann::json ManageJson(const std::vector<std::string>& args) const;
  // Management calls go to master `index` from now on.
  void set_manage_master(int index) { manage_master_ = index; }

  // Deploys `project_dir` as folder/project (creating the folder).
  void Deploy(const std::string& folder, const std::string& project,
              const std::filesystem::path& project_dir);
  // `exec run` and returns the execution id.
  std::int64_t Run(const std::string& folder, const std::string& project,
                   const std::string& package, const std::vector<std::string>& extra = {});
  // Waits until every execution is in a terminal state; returns `exec show` of each.
  std::vector<nlohmann::json> WaitAll(const std::vector<std::int64_t>& ids,
                                      std::chrono::seconds timeout);
  nlohmann::json Show(std::int64_t id) const;

  // Polls `predicate` every 50 ms until true or `timeout`; returns its last value.
  static bool WaitUntil(const std::function<bool()>& predicate, std::chrono::milliseconds timeout);

 private:
  struct Master {
    std::filesystem::path dir;
    Credential credential;
    int port = 0;
    std::unique_ptr<ChildProcess> process;
  };
  struct Worker {
    std::filesystem::path dir;
    Credential credential;
    std::string agent_id;
    std::unique_ptr<ChildProcess> process;
  };

  Master& master(int index);
  const Master& master(int index) const;
  void WriteMasterSettings(const Master& m);
  // The storage section of the masters' settings; makes the catalog database on first use.
  nlohmann::json StorageSettings();
  void InitCatalog(const Master& m);
  std::string Endpoint(int port) const;

  ClusterOptions options_;
  TempDir dir_;
  nlohmann::json storage_settings_;  // null until made
  std::string admin_token_;
  int manage_master_ = 0;
  std::map<int, Master> masters_;
  std::map<std::string, Worker> workers_;
};

// The vocabulary of the end-to-end test bodies (in a namespace of its own so
// that a test file's local helpers never clash with it).
namespace e2e {

// tests/e2e/scaleout/packages: the project every end-to-end test deploys.
std::filesystem::path PackagesDir();

// `exec show --json` has the execution and its attempts.
const nlohmann::json& ExecutionOf(const nlohmann::json& shown);
int StatusOf(const nlohmann::json& shown);
std::vector<nlohmann::json> AttemptsOf(const nlohmann::json& shown);

// One line of the ledger that packages/ledger.sh appends to.
struct LedgerLine {
  std::int64_t execution = 0;
  int attempt = 0;
  std::string what;  // "start" or "end"
  std::int64_t ns = 0;
};
std::vector<LedgerLine> ReadLedger(const std::filesystem::path& file);

// For every execution: each attempt's start comes after the previous
// attempt's end, and an attempt without an end never ends later (it was
// killed). Reports failures with EXPECT.
void ExpectNoOverlappingAttempts(const std::vector<LedgerLine>& ledger);

}  // namespace e2e

// True for the SSIS terminal statuses (3 canceled, 4 failed, 6 ended unexpectedly, 7 succeeded, 9
// completed).
bool IsTerminalStatus(int status);

}  // namespace scaleout::test

#endif  // SCALEOUT_TESTS_E2E_SCALEOUT_CLUSTER_H_
