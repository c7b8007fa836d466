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
#include "tests/support/postgres_server.h"

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
  argv.reserve(strings.size() + 1);
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

// ---- test vocabulary ------------------------------------------------------------------

namespace e2e {

fs::path PackagesDir() {
  return fs::path(SCALEOUT_TEST_SOURCE_DIR) / "tests" / "e2e" / "scaleout" / "packages";
}

const json& ExecutionOf(const json& shown) {
  return shown.is_object() && shown.contains("execution") ? shown.at("execution") : shown;
}

int StatusOf(const json& shown) {
  const json& e = ExecutionOf(shown);
  return e.is_object() ? e.value("status", 0) : 0;
}

std::vector<json> AttemptsOf(const json& shown) {
  if (!shown.is_object() || !shown.contains("attempts")) return {};
  return shown.at("attempts").get<std::vector<json>>();
}

std::vector<LedgerLine> ReadLedger(const fs::path& file) {
  std::vector<LedgerLine> lines;
  std::ifstream in(file);
  LedgerLine l;
  while (in >> l.execution >> l.attempt >> l.what >> l.ns) lines.push_back(l);
  return lines;
}

void ExpectNoOverlappingAttempts(const std::vector<LedgerLine>& ledger) {
  std::map<std::int64_t, std::map<int, std::pair<std::int64_t, std::int64_t>>> by_execution;
  for (const auto& l : ledger) {
    auto& span = by_execution[l.execution][l.attempt];
    (l.what == "start" ? span.first : span.second) = l.ns;
  }
  for (const auto& [execution, attempts] : by_execution) {
    std::int64_t previous_end = 0;
    std::int64_t previous_start = 0;
    for (const auto& [attempt, span] : attempts) {
      if (previous_start != 0) {
        EXPECT_GT(span.first, previous_start)
            << "execution " << execution << " attempt " << attempt;
        if (previous_end != 0) {
          EXPECT_GT(span.first, previous_end)
              << "execution " << execution << ": attempt " << attempt
              << " started before the previous attempt ended";
        }
      }
      previous_start = span.first;
      previous_end = span.second;
    }
  }
}

}  // namespace e2e

// ---- Backend --------------------------------------------------------------------------

std::string Backend::StoragePlugin() const { return storage == "sqlite" ? "sqlite" : "odbc"; }

std::string Backend::Unavailable() const {
  const std::string plugin = "transport/" + transport;
  if (!fs::exists(InTreePluginFile(plugin))) {
    return plugin + " is not built into this tree's plugin folder (" + InTreePluginDir().string() +
           "), so the " + Name() + " combination cannot run";
  }
  if (StoragePlugin() == "odbc" && !fs::exists(InTreePluginFile("storage/odbc"))) {
    return "storage/odbc is not built (configure with unixODBC), so " + Name() + " cannot run";
  }
  if (storage == "odbc_postgresql" && !PostgresServer::FindBinDir()) {
    return "PostgreSQL is not installed (no initdb/postgres found), so " + Name() + " cannot run";
  }
  return "";
}

std::ostream& operator<<(std::ostream& out, const Backend& backend) {
  return out << backend.Name();
}

std::vector<Backend> AllBackends() {
  return {{"https", "sqlite"},
          {"https", "odbc_postgresql"},
          {"zmq", "sqlite"},
          {"zmq", "odbc_postgresql"}};
}

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
  for (auto& [index, m] : masters_) m.process.reset();
}

Cluster::Master& Cluster::master(int index) {
  Master& m = masters_[index];
  if (m.dir.empty())
    m.dir = dir() / (index == 0 ? std::string("master") : "master" + std::to_string(index));
  return m;
}

const Cluster::Master& Cluster::master(int index) const {
  static const Master kNone;
  auto it = masters_.find(index);
  return it == masters_.end() ? kNone : it->second;
}

Credential Cluster::CreateCredential(const std::string& cn, const fs::path& dir,
                                     const std::string& stem) const {
  Credential c;
  fs::create_directories(dir);
  if (options_.transport == "zmq") {
    // A CURVE key pair (<stem>.curve, <stem>.curve_secret); the id is the Z85
    // public key the other side pins or trusts.
    c.public_file = dir / (stem + ".curve");
    c.secret_file = dir / (stem + ".curve_secret");
    ProcessResult r = RunProcess(
        HostBinary(), {"cert", "curve", "create", "--name", stem, "--out-dir", dir.string()});
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    ProcessResult p = RunProcess(HostBinary(), {"cert", "curve", "public", c.public_file.string()});
    EXPECT_EQ(p.exit_code, 0) << p.out << p.err;
    // The key is the last word printed (40 Z85 characters, no spaces).
    std::string out = p.out;
    while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
    c.id =
        out.substr(out.find_last_of(" \n") == std::string::npos ? 0 : out.find_last_of(" \n") + 1);
    EXPECT_EQ(c.id.size(), 40u) << "not a Z85 public key: " << p.out;
    return c;
  }
  c.public_file = dir / (stem + ".crt");
  c.secret_file = dir / (stem + ".key");
  ProcessResult r =
      RunProcess(HostBinary(), {"cert", "create", "--cn", cn, "--ip", "127.0.0.1", "--dns",
                                "localhost", "--out-cert", c.public_file.string(), "--out-key",
                                c.secret_file.string(), "--force"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  ProcessResult t =
      RunProcess(HostBinary(), {"cert", "thumbprint", c.public_file.string(), "--json"});
  EXPECT_EQ(t.exit_code, 0) << t.out << t.err;
  json info = json::parse(t.out, nullptr, false);
  if (!info.is_discarded() && info.is_object()) c.id = info.value("sha256", "");
  EXPECT_FALSE(c.id.empty()) << "no sha256 in: " << t.out;
  return c;
}

std::string Cluster::Endpoint(int port) const {
  const std::string scheme = options_.transport == "zmq" ? "tcp" : options_.transport;
  return scheme + "://127.0.0.1:" + std::to_string(port);
}

std::string Cluster::master_url(int index) const { return Endpoint(master(index).port); }

const std::string& Cluster::master_thumbprint(int index) const {
  return master(index).credential.id;
}

fs::path Cluster::master_log(int index) const {
  const Master& m = master(index);
  return (m.dir.empty() ? dir() / "master" : m.dir) / "master.out";
}

bool Cluster::master_running(int index) const {
  auto it = masters_.find(index);
  return it != masters_.end() && it->second.process != nullptr && it->second.process->running();
}

json Cluster::StorageSettings() {
  if (!storage_settings_.is_null()) return storage_settings_;
  if (options_.storage == "sqlite") {
    // Relative to the first master's folder; only master 0 may use it.
    storage_settings_ = {
        {"storage.sqlite",
         {{"path", (dir() / "master" / "catalog.db").string()}, {"synchronous", "FULL"}}}};
  } else if (options_.storage == "odbc_sqlite") {
    storage_settings_ = {{"storage.odbc",
                          {{"connection_string", "Driver=SQLite3;Database=" +
                                                     (dir() / "master" / "catalog.db").string() +
                                                     ";Timeout=5000"}}}};
  } else if (options_.storage == "odbc_postgresql") {
    // A fresh database on this test binary's PostgreSQL server: every
    // cluster starts from an empty catalog, and masters share it.
    auto server = PostgresServer::Shared();
    EXPECT_TRUE(server.ok()) << server.status().ToString();
    if (!server.ok()) return json::object();
    auto database = (*server)->CreateDatabase("e2e");
    EXPECT_TRUE(database.ok()) << database.status().ToString();
    if (!database.ok()) return json::object();
    storage_settings_ = {
        {"storage.odbc", {{"connection_string", (*server)->ConnectionString(*database)}}}};
  } else {
    ADD_FAILURE() << "unknown storage '" << options_.storage
                  << "'; use sqlite, odbc_postgresql or odbc_sqlite";
    return json::object();
  }
  return storage_settings_;
}

void Cluster::WriteMasterSettings(const Master& m) {
  json settings = {
      {"PortNumber", m.port},
      {"BindAddress", "127.0.0.1"},
      {"SSLCertFile", m.credential.public_file.string()},
      {"SSLKeyFile", m.credential.secret_file.string()},
      {"Plugins",
       {{"Directory", InTreePluginDir().string()},
        {"Transport", options_.transport},
        {"Storage", options_.backend().StoragePlugin()}}},
      {"PluginSettings", StorageSettings()},
      // Every master of one catalog needs the key its sensitive values are
      // sealed with: the first master makes it, the others use that file.
      {"CatalogEncryptionKeyFile", (dir() / "master" / "catalog-encryption.key").string()},
  };
  WriteFile(m.dir / "master.json", settings.dump(2));
}

void Cluster::InitCatalog(const Master& m) {
  std::vector<std::string> init = {"master", "init", "--config", (m.dir / "master.json").string()};
  ProcessResult r = RunProcess(HostBinary(), init);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const std::string marker = "SCALEOUT_TOKEN=";
  const auto at = r.out.find(marker);
  ASSERT_NE(at, std::string::npos) << r.out;
  admin_token_ = r.out.substr(at + marker.size(), r.out.find('\n', at) - at - marker.size());
}

void Cluster::StartMaster(int index, const std::vector<std::string>& extra_settings) {
  if (index > 0) {
    ASSERT_TRUE(options_.backend().SharedCatalog())
        << "a second master needs a catalog it can share (odbc_postgresql), not "
        << options_.storage;
    ASSERT_FALSE(admin_token_.empty()) << "start master 0 first: it creates the catalog";
  }
  Master& m = master(index);
  const bool first_start = m.credential.id.empty();
  if (first_start) {
    fs::create_directories(m.dir);
    m.credential = CreateCredential("localhost", m.dir, "master");
    WriteMasterSettings(m);
    if (index == 0) InitCatalog(m);
  }
  const fs::path port_file = m.dir / "port";
  fs::remove(port_file);
  std::vector<std::string> args = {"master", "--config", (m.dir / "master.json").string(),
                                   "--port-file", port_file.string()};
  std::vector<std::string> settings = options_.master_settings;
  settings.insert(settings.end(), extra_settings.begin(), extra_settings.end());
  for (const auto& s : settings) {
    args.push_back("--set");
    args.push_back(s);
  }
  if (options_.master_command_prefix.empty()) {
    m.process = ChildProcess::Start(HostBinary(), args, m.dir / "master.out");
  } else {
    const std::vector<std::string>& prefix = options_.master_command_prefix;
    std::vector<std::string> wrapped(prefix.begin() + 1, prefix.end());
    wrapped.push_back(HostBinary().string());
    wrapped.insert(wrapped.end(), args.begin(), args.end());
    m.process = ChildProcess::Start(prefix.front(), wrapped, m.dir / "master.out");
  }
  ASSERT_NE(m.process, nullptr);
  ASSERT_TRUE(WaitUntil([&] { return fs::exists(port_file) && fs::file_size(port_file) > 0; },
                        std::chrono::seconds(60)))
      << "master " << index << " did not start; its log:\n"
      << ReadFile(m.dir / "master.out");
  const int port = std::stoi(ReadFile(port_file));
  if (m.port == 0) {
    m.port = port;
    WriteMasterSettings(m);  // keep the port across restarts: workers know it
    if (index == 0) {
      for (const auto& step : std::vector<std::vector<std::string>>{
               {"enable-scaleout"}, {"catalog", "set", "DEFAULT_EXECUTION_MODE", "ScaleOut"}}) {
        ProcessResult r = Manage(step);
        ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
      }
    }
  }
}

void Cluster::StopMaster(int signal_number, int index) {
  Master& m = master(index);
  ASSERT_NE(m.process, nullptr);
  m.process->Signal(signal_number);
  ASSERT_TRUE(m.process->WaitFor(std::chrono::seconds(60)).has_value());
  m.process.reset();
}

fs::path Cluster::worker_dir(const std::string& name) const { return dir() / "workers" / name; }

fs::path Cluster::worker_log(const std::string& name) const {
  return worker_dir(name) / "worker.out";
}

const std::string& Cluster::agent_id(const std::string& name) const {
  return workers_.at(name).agent_id;
}

const Credential& Cluster::worker_credential(const std::string& name) const {
  return workers_.at(name).credential;
}

json Cluster::WorkerSettings(const Credential& credential, const std::vector<int>& masters,
                             const std::string& agent_id) const {
  // MasterEndpoint takes a comma-separated list (failover in that order), and
  // MasterHttpsCertThumbprint every master's pin.
  std::string endpoints;
  std::string pins;
  for (int index : masters) {
    endpoints += (endpoints.empty() ? "" : ",") + master_url(index);
    pins += (pins.empty() ? "" : ",") + master_thumbprint(index);
  }
  json settings = {
      {"MasterEndpoint", endpoints},
      {"MasterHttpsCertThumbprint", pins},
      {"WorkerCertFile", credential.public_file.string()},
      {"WorkerKeyFile", credential.secret_file.string()},
      // The test machine is shared and busy; CPU gating is tested in the worker's unit tests.
      {"TaskRequestMaxCPU", 100.0},
      {"AgentHeartbeatInterval", "00:00:01"},
      {"TaskHeartbeatInterval", "00:00:00.500"},
      {"Plugins", {{"Directory", InTreePluginDir().string()}, {"Transport", options_.transport}}},
  };
  if (!agent_id.empty()) settings["AgentId"] = agent_id;
  return settings;
}

std::string Cluster::AddWorker(const std::string& name, WorkerOptions options) {
  Worker& w = workers_[name];
  w.dir = worker_dir(name);
  fs::create_directories(w.dir);
  w.credential = CreateCredential(name, w.dir, "worker");
  w.agent_id = core::NewGuid();
  json settings = WorkerSettings(w.credential, options.masters, w.agent_id);
  settings["MaxTaskCount"] = options.max_task_count;
  for (const auto& [key, value] : options.settings.items()) settings[key] = value;
  WriteFile(w.dir / "worker.json", settings.dump(2));
  // x509 workers are trusted by their certificate file, CURVE workers by their public key.
  std::vector<std::string> add = {"worker", "add"};
  if (options_.transport == "zmq") {
    add.insert(add.end(), {"--curve-key", w.credential.id});
  } else {
    add.insert(add.end(), {"--cert", w.credential.public_file.string()});
  }
  add.insert(add.end(), {"--agent-id", w.agent_id, "--display-name", name, "--yes"});
  // Trusted through the master the worker calls first: that master reloads
  // its trusted set at once, another one only at its next periodic reload.
  const int manage_master = manage_master_;
  if (!options.masters.empty()) manage_master_ = options.masters.front();
  ManageJson(add);
  manage_master_ = manage_master;
  StartWorker(name);
  std::string id = w.agent_id;
  EXPECT_TRUE(WaitUntil(
      [&] {
        ProcessResult r = Manage({"worker", "show", id, "--json"});
        if (r.exit_code != 0) return false;
        json shown = json::parse(r.out, nullptr, false);
        return !shown.is_discarded() && shown.value("machine_name", "") != "";
      },
      std::chrono::seconds(60)))
      << "worker " << name << " did not register; its log:\n"
      << ReadFile(worker_log(name));
  if (options.enable) ManageJson({"worker", "enable", id});
  return id;
}

void Cluster::StartWorker(const std::string& name) {
  Worker& w = workers_.at(name);
  w.process = ChildProcess::Start(
      HostBinary(), {"worker", "--config", (w.dir / "worker.json").string()}, worker_log(name));
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
      {"SCALEOUT_MASTER=" + master_url(manage_master_),
       "SCALEOUT_MASTER_THUMBPRINT=" + master_thumbprint(manage_master_),
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
  return run.is_object() ? run.value("execution_id", std::int64_t{0}) : 0;
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
      const int status = !s.is_object()            ? 0
                         : s.contains("execution") ? s["execution"].value("status", 0)
                                                   : s.value("status", 0);
      if (IsTerminalStatus(status) || std::chrono::steady_clock::now() >= deadline) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    shown.push_back(s);
  }
  return shown;
}

}  // namespace scaleout::test
