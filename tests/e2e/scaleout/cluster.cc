#include "tests/e2e/scaleout/cluster.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>

#include "core/common/ids.h"

extern char** environ;

namespace scaleout::test {
namespace fs = std::filesystem;
using nlohmann::json;

// ---- ChildProcess ----------------------------------------------------------------------

std::unique_ptr<ChildProcess> ChildProcess::Start(const fs::path& program,
                                                  const std::vector<std::string>& args,
                                                  const fs::path& log_file) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log_file.c_str(),
                                   O_WRONLY | O_CREAT | O_APPEND, 0600);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  std::vector<std::string> strings{program.string()};
  strings.insert(strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& s : strings) argv.push_back(s.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  const int error = posix_spawn(&pid, program.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (error != 0) {
    ADD_FAILURE() << "cannot start " << program << ": " << std::strerror(error);
    return nullptr;
  }
  return std::unique_ptr<ChildProcess>(new ChildProcess(pid));
}

ChildProcess::~ChildProcess() {
  if (!reaped_) {
    kill(pid_, SIGKILL);
    int status = 0;
    waitpid(pid_, &status, 0);
  }
}

void ChildProcess::Signal(int signal_number) {
  if (!reaped_) kill(pid_, signal_number);
}

std::optional<int> ChildProcess::WaitFor(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!reaped_) {
    int status = 0;
    const pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      reaped_ = true;
      return status;
    }
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return 0;
}

bool ChildProcess::running() { return !WaitFor(std::chrono::milliseconds(0)).has_value(); }

// ---- Cluster ---------------------------------------------------------------------------

bool IsTerminalStatus(int status) {
  return status == 3 || status == 4 || status == 6 || status == 7 || status == 9;
}

bool Cluster::WaitUntil(const std::function<bool()>& predicate, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (predicate()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

Cluster::Cluster(ClusterOptions options) : options_(std::move(options)) {}

Cluster::~Cluster() {
  for (auto& [name, worker] : workers_) worker.process.reset();
  master_.reset();
}

void Cluster::CreateCertificate(const std::string& cn, const fs::path& cert, const fs::path& key,
                                std::string* sha256) const {
  ProcessResult r = RunProcess(
      HostBinary(), {"cert", "create", "--cn", cn, "--ip", "127.0.0.1", "--dns", "localhost",
                     "--out-cert", cert.string(), "--out-key", key.string(), "--force"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  ProcessResult t = RunProcess(HostBinary(), {"cert", "thumbprint", cert.string(), "--json"});
  ASSERT_EQ(t.exit_code, 0) << t.out << t.err;
  json info = json::parse(t.out);
  *sha256 = info.at("sha256").get<std::string>();
}

std::string Cluster::master_url() const { return "https://127.0.0.1:" + std::to_string(port_); }

fs::path Cluster::master_log() const { return dir() / "master" / "master.out"; }

void Cluster::WriteMasterSettings() {
  const fs::path mdir = dir() / "master";
  json settings = {
      {"PortNumber", port_},
      {"BindAddress", "127.0.0.1"},
      {"SSLCertFile", "master.crt"},
      {"SSLKeyFile", "master.key"},
      {"Plugins",
       {{"Directory", InTreePluginDir().string()},
        {"Transport", options_.transport},
        {"Storage", options_.storage}}},
      {"PluginSettings", {{"storage.sqlite", {{"path", "catalog.db"}, {"synchronous", "FULL"}}}}},
  };
  WriteFile(mdir / "master.json", settings.dump(2));
}

void Cluster::StartMaster() {
  const fs::path mdir = dir() / "master";
  if (master_sha256_.empty()) {
    fs::create_directories(mdir);
    CreateCertificate("localhost", mdir / "master.crt", mdir / "master.key", &master_sha256_);
    WriteMasterSettings();
    std::vector<std::string> init = {"master", "init", "--config", (mdir / "master.json").string()};
    ProcessResult r = RunProcess(HostBinary(), init);
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    const std::string marker = "SCALEOUT_TOKEN=";
    const auto at = r.out.find(marker);
    ASSERT_NE(at, std::string::npos) << r.out;
    admin_token_ = r.out.substr(at + marker.size(), r.out.find('\n', at) - at - marker.size());
  }
  const fs::path port_file = mdir / "port";
  fs::remove(port_file);
  std::vector<std::string> args = {"master", "--config", (mdir / "master.json").string(),
                                   "--port-file", port_file.string()};
  for (const auto& s : options_.master_settings) {
    args.push_back("--set");
    args.push_back(s);
  }
  master_ = ChildProcess::Start(HostBinary(), args, master_log());
  ASSERT_NE(master_, nullptr);
  ASSERT_TRUE(WaitUntil([&] { return fs::exists(port_file) && fs::file_size(port_file) > 0; },
                        std::chrono::seconds(60)))
      << "the master did not start; its log:\n"
      << ReadFile(master_log());
  const int port = std::stoi(ReadFile(port_file));
  if (port_ == 0) {
    port_ = port;
    WriteMasterSettings();  // keep the port across restarts: workers know it
    for (const auto& step : std::vector<std::vector<std::string>>{
             {"enable-scaleout"}, {"catalog", "set", "DEFAULT_EXECUTION_MODE", "ScaleOut"}}) {
      ProcessResult r = Manage(step);
      ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    }
  }
}

void Cluster::StopMaster(int signal_number) {
  ASSERT_NE(master_, nullptr);
  master_->Signal(signal_number);
  ASSERT_TRUE(master_->WaitFor(std::chrono::seconds(60)).has_value());
  master_.reset();
}

fs::path Cluster::worker_dir(const std::string& name) const { return dir() / "workers" / name; }

const std::string& Cluster::agent_id(const std::string& name) const {
  return workers_.at(name).agent_id;
}

std::string Cluster::AddWorker(const std::string& name, WorkerOptions options) {
  Worker& w = workers_[name];
  w.dir = worker_dir(name);
  fs::create_directories(w.dir);
  std::string sha256;
  CreateCertificate(name, w.dir / "worker.crt", w.dir / "worker.key", &sha256);
  w.agent_id = core::NewGuid();
  json settings = {
      {"MasterEndpoint", master_url()},
      {"MasterHttpsCertThumbprint", master_sha256_},
      {"WorkerCertFile", "worker.crt"},
      {"WorkerKeyFile", "worker.key"},
      {"AgentId", w.agent_id},
      {"MaxTaskCount", options.max_task_count},
      // The test machine is shared and busy; CPU gating is tested in the worker's unit tests.
      {"TaskRequestMaxCPU", 100.0},
      {"AgentHeartbeatInterval", "00:00:01"},
      {"TaskHeartbeatInterval", "00:00:00.500"},
      {"Plugins", {{"Directory", InTreePluginDir().string()}, {"Transport", options_.transport}}},
  };
  for (const auto& [key, value] : options.settings.items()) settings[key] = value;
  WriteFile(w.dir / "worker.json", settings.dump(2));
  json added = ManageJson({"worker", "add", "--cert", (w.dir / "worker.crt").string(), "--agent-id",
                           w.agent_id, "--display-name", name, "--yes"});
  StartWorker(name);
  const std::string id = w.agent_id;
  EXPECT_TRUE(WaitUntil(
      [&] {
        ProcessResult r = Manage({"worker", "show", id, "--json"});
        if (r.exit_code != 0) return false;
        json shown = json::parse(r.out, nullptr, false);
        return !shown.is_discarded() && shown.value("machine_name", "") != "";
      },
      std::chrono::seconds(60)))
      << "worker " << name << " did not register; its log:\n"
      << ReadFile(w.dir / "worker.out");
  if (options.enable) ManageJson({"worker", "enable", id});
  return id;
}

void Cluster::StartWorker(const std::string& name) {
  Worker& w = workers_.at(name);
  w.process = ChildProcess::Start(
      HostBinary(), {"worker", "--config", (w.dir / "worker.json").string()}, w.dir / "worker.out");
  ASSERT_NE(w.process, nullptr);
}

void Cluster::StopWorker(const std::string& name, int signal_number) {
  Worker& w = workers_.at(name);
  ASSERT_NE(w.process, nullptr);
  w.process->Signal(signal_number);
  ASSERT_TRUE(w.process->WaitFor(std::chrono::seconds(60)).has_value());
  w.process.reset();
}

ProcessResult Cluster::Manage(const std::vector<std::string>& args) const {
  std::vector<std::string> full = {"manage"};
  full.insert(full.end(), args.begin(), args.end());
  return RunProcess(
      HostBinary(), full,
      {"SCALEOUT_MASTER=" + master_url(), "SCALEOUT_MASTER_THUMBPRINT=" + master_sha256_,
       "SCALEOUT_TOKEN=" + admin_token_, "SCALEOUT_PLUGIN_DIR=" + InTreePluginDir().string()});
}

json Cluster::ManageJson(const std::vector<std::string>& args) const {
  std::vector<std::string> full = args;
  full.push_back("--json");
  ProcessResult r = Manage(full);
  EXPECT_EQ(r.exit_code, 0) << "scaleout manage failed: " << r.out << r.err;
  json parsed = json::parse(r.out, nullptr, false);
  EXPECT_FALSE(parsed.is_discarded()) << "not JSON: " << r.out;
  return parsed;
}

void Cluster::Deploy(const std::string& folder, const std::string& project,
                     const fs::path& project_dir) {
  ManageJson({"deploy", "--folder", folder, "--project", project, project_dir.string()});
}

std::int64_t Cluster::Run(const std::string& folder, const std::string& project,
                          const std::string& package, const std::vector<std::string>& extra) {
  std::vector<std::string> args = {"exec",      "run",   "--folder",  folder,
                                   "--project", project, "--package", package};
  args.insert(args.end(), extra.begin(), extra.end());
  json run = ManageJson(args);
  return run.value("execution_id", std::int64_t{0});
}

json Cluster::Show(std::int64_t id) const {
  return ManageJson({"exec", "show", std::to_string(id)});
}

std::vector<json> Cluster::WaitAll(const std::vector<std::int64_t>& ids,
                                   std::chrono::seconds timeout) {
  std::vector<json> shown;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (std::int64_t id : ids) {
    json s;
    while (true) {
      s = Show(id);
      const int status =
          s.contains("execution") ? s["execution"].value("status", 0) : s.value("status", 0);
      if (IsTerminalStatus(status) || std::chrono::steady_clock::now() >= deadline) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    shown.push_back(s);
  }
  return shown;
}

}  // namespace scaleout::test
