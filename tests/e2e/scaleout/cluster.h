// Cluster: a real master and real workers as child processes on 127.0.0.1,
// for end-to-end tests and the dispatch benchmark.
//
// Everything is real: certificates made by `scaleout cert create`, a SQLite
// catalog file, the https transport with mutual TLS, `scaleout manage` for
// every administrative step, task-host child processes on the workers. The
// cluster lives in a temporary folder and kills every process it started
// when it is destroyed.
//
// Not thread-safe: drive it from the test's thread.
#ifndef SCALEOUT_TESTS_E2E_SCALEOUT_CLUSTER_H_
#define SCALEOUT_TESTS_E2E_SCALEOUT_CLUSTER_H_

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
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

struct ClusterOptions {
  std::string transport = "https";
  std::string storage = "sqlite";
  // Extra `--set Key=Value` for the master (short sweep intervals by default).
  std::vector<std::string> master_settings = {"DealWithExpiredTasksIntervalInMs=500",
                                              "WorkerOfflineTimeoutInMs=6000",
                                              "MasterHeartbeatIntervalInMs=1000",
                                              "RestartGracePeriodInMs=3000",
                                              "LeaseIntervalInMs=3000",
                                              "MaxLongPollInMs=5000"};
};

struct WorkerOptions {
  int max_task_count = 10;
  bool enable = true;  // enable it after it registered
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

  // Creates the master's certificate and settings on first use, initialises
  // the catalog and the first admin, starts `scaleout master` and waits until
  // it listens. Restarting keeps the catalog and the port.
  void StartMaster();
  void StopMaster(int signal_number);  // and wait for it to end
  std::string master_url() const;
  const std::string& master_thumbprint() const { return master_sha256_; }
  std::filesystem::path master_log() const;

  // Creates a worker's certificate and settings, trusts it with `scaleout
  // manage worker add`, starts `scaleout worker`, waits until it registered
  // and (by default) enables it. Returns its agent id.
  std::string AddWorker(const std::string& name, WorkerOptions options = {});
  void StartWorker(const std::string& name);
  void StopWorker(const std::string& name, int signal_number);
  const std::string& agent_id(const std::string& name) const;
  std::filesystem::path worker_dir(const std::string& name) const;

  // Runs `scaleout manage ARGS` against the master as the admin.
  ProcessResult Manage(const std::vector<std::string>& args) const;
  // Same with --json; fails the test unless it exits 0; returns the parsed output.
  nlohmann::json ManageJson(const std::vector<std::string>& args) const;

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
  struct Worker {
    std::filesystem::path dir;
    std::string agent_id;
    std::unique_ptr<ChildProcess> process;
  };

  void WriteMasterSettings();
  void CreateCertificate(const std::string& cn, const std::filesystem::path& cert,
                         const std::filesystem::path& key, std::string* sha256) const;

  ClusterOptions options_;
  TempDir dir_;
  int port_ = 0;
  std::string master_sha256_;
  std::string admin_token_;
  std::unique_ptr<ChildProcess> master_;
  std::map<std::string, Worker> workers_;
};

// True for the SSIS terminal statuses (3 canceled, 4 failed, 6 ended unexpectedly, 7 succeeded, 9
// completed).
bool IsTerminalStatus(int status);

}  // namespace scaleout::test

#endif  // SCALEOUT_TESTS_E2E_SCALEOUT_CLUSTER_H_
