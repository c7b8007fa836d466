// management_bench: executions created and started per second through the
// management API of a real `scaleout master` process.
//
// Sets up a temp folder with a self-signed certificate, a SQLite catalog at
// synchronous=FULL (every commit is an fsync), starts `scaleout master`, reads
// the first admin's token from its first-start notice, deploys a one-package
// project with `scaleout manage deploy`, then for each client count runs that
// many client threads, each with its own HTTPS connection, calling
// create_execution then start_execution as fast as the answers come back,
// through the JSON API (POST /api/v1/...) or the msgpack route (/v1/manage).
//
// Then reads_beside_writes: 16 writers alone and beside 4 readers that
// scan the executions (list_executions by a status none has), back to back.
//
// Prints one JSON document on stdout (progress on stderr). It does not fail on
// rates (machines differ), only on errors.
//
//   management_bench [--quick] [--seconds S] [--clients 1,16,128] [--api json|msgpack|both]
//                    [--scaleout BIN --plugin-dir DIR]   (another build's master to compare)
//                    [--master-set KEY=VALUE]...         (a master setting to compare)
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <iterator>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>

#include "core/protocol/codec.h"
#include "core/protocol/messages.h"
#include "core/security/certificates.h"
#include "host/plugin_loader.h"
#include "scaleout/sdk/config.h"
#include "scaleout/sdk/logger.h"
#include "scaleout/sdk/transport.h"

namespace scaleout::bench {
namespace {

namespace fs = std::filesystem;
namespace po = boost::program_options;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

struct Settings {
  bool quick = false;
  double seconds = 4.0;  // per configuration
  std::vector<int> clients = {1, 16, 128};
  std::string api = "both";
  fs::path host_binary = SCALEOUT_BENCH_HOST_BINARY;
  fs::path plugin_dir = SCALEOUT_BENCH_PLUGIN_DIR;  // the master's and `manage`'s
  // The benchmark's own client loads the https plugin of its own build (a
  // plugin must match the host that loads it).
  fs::path client_plugin_dir = SCALEOUT_BENCH_PLUGIN_DIR;
  // Extra `scaleout master --set KEY=VALUE` overrides (--master-set).
  std::vector<std::string> master_overrides;
};

class StderrLogger final : public sdk::Logger {
 public:
  void Log(sdk::LogLevel level, std::string_view message) noexcept override {
    if (Enabled(level)) std::cerr << message << "\n";
  }
  bool Enabled(sdk::LogLevel level) const noexcept override {
    return level >= sdk::LogLevel::kWarn;
  }
};

[[noreturn]] void Fail(const std::string& message) {
  std::cerr << "management_bench: " << message << "\n";
  std::exit(1);
}

std::string ReadText(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// A child process with stdout and stderr going to `log`.
pid_t Spawn(const std::vector<std::string>& args, const fs::path& log,
            const std::vector<std::string>& env = {}) {
  const pid_t pid = fork();
  if (pid == 0) {
    const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    dup2(fd, 1);
    dup2(fd, 2);
    for (const std::string& e : env) putenv(const_cast<char*>(e.c_str()));
    std::vector<char*> argv;
    argv.reserve(args.size() + 1);
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  return pid;
}

// The master, its folder and its admin token. Stops the master on destruction.
class Master {
 public:
  Master(const Settings& settings) : settings_(settings) {
    char pattern[] = "/tmp/management_bench.XXXXXX";
    if (mkdtemp(pattern) == nullptr) Fail("cannot create a temp folder");
    dir_ = pattern;
    core::security::CertificateRequest request;
    request.common_name = "localhost";
    request.dns_names = {"localhost"};
    request.ip_addresses = {"127.0.0.1"};
    request.cert_file = (dir_ / "master.crt").string();
    request.key_file = (dir_ / "master.key").string();
    auto info = core::security::CreateSelfSignedCertificate(request);
    if (!info.ok()) Fail(info.status().ToString());
    thumbprint_ = info->sha256_thumbprint;
    const json master_settings = {
        {"BindAddress", "127.0.0.1"},
        // The master's own task host would run the started executions in
        // the master process; this measures the API, so it stays off.
        {"ServerMaxTaskCount", 0},
        {"SSLCertFile", request.cert_file},
        {"SSLKeyFile", request.key_file},
        {"Plugins",
         {{"Directory", settings.plugin_dir.string()},
          {"Transport", "https"},
          {"Storage", "sqlite"}}},
        {"PluginSettings",
         {{"storage.sqlite",
           {{"path", (dir_ / "catalog.db").string()}, {"synchronous", "FULL"}}}}}};
    std::ofstream(dir_ / "master.json") << master_settings.dump(2);
    const fs::path port_file = dir_ / "port";
    std::vector<std::string> argv = {settings.host_binary.string(),
                                     "master",
                                     "--config",
                                     (dir_ / "master.json").string(),
                                     "--set",
                                     "PortNumber=0",
                                     "--port-file",
                                     port_file.string()};
    for (const std::string& assignment : settings.master_overrides) {
      argv.insert(argv.end(), {"--set", assignment});
    }
    pid_ = Spawn(argv, dir_ / "master.out");
    for (int i = 0; i < 6000 && port_ == 0; ++i) {
      std::ifstream in(port_file);
      if (!(in >> port_)) port_ = 0;
      if (port_ == 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (port_ == 0) Fail("the master did not start:\n" + ReadText(dir_ / "master.out"));
    const std::string out = ReadText(dir_ / "master.out");
    const std::string marker = "SCALEOUT_TOKEN=";
    const auto at = out.find(marker);
    if (at == std::string::npos) Fail("no admin token in the master's output:\n" + out);
    token_ = out.substr(at + marker.size(), out.find('\n', at) - at - marker.size());
  }

  ~Master() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      int status = 0;
      waitpid(pid_, &status, 0);
    }
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }

  // `scaleout manage ARGS` as the admin; fails the benchmark unless it exits 0.
  void Manage(const std::vector<std::string>& args) const {
    std::vector<std::string> full = {settings_.host_binary.string(), "manage"};
    full.insert(full.end(), args.begin(), args.end());
    const std::vector<std::string> env = {
        "SCALEOUT_MASTER=" + url(), "SCALEOUT_MASTER_THUMBPRINT=" + thumbprint_,
        "SCALEOUT_PLUGIN_DIR=" + settings_.plugin_dir.string(), "SCALEOUT_TOKEN=" + token_};
    const fs::path log = dir_ / "manage.out";
    const pid_t pid = Spawn(full, log, env);
    int status = 0;
    waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      Fail("scaleout manage failed:\n" + ReadText(log));
    }
  }

  // CPU seconds (user + system) the master process has used so far.
  double CpuSeconds() const {
    std::ifstream in("/proc/" + std::to_string(pid_) + "/stat");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    // Fields after the command name (which may hold spaces) start at ")".
    const auto close = text.rfind(')');
    if (close == std::string::npos) return 0;
    std::istringstream fields(text.substr(close + 2));
    std::string field;
    double ticks = 0;
    for (int i = 3; i <= 15 && fields >> field; ++i) {
      if (i == 14 || i == 15) ticks += std::stod(field);  // utime, stime
    }
    return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
  }

  std::string url() const { return "https://127.0.0.1:" + std::to_string(port_); }
  const fs::path& dir() const { return dir_; }
  const std::string& thumbprint() const { return thumbprint_; }
  const std::string& token() const { return token_; }

 private:
  const Settings& settings_;
  fs::path dir_;
  pid_t pid_ = -1;
  int port_ = 0;
  std::string thumbprint_;
  std::string token_;
};

// One management call over `client`; returns the result document.
sdk::Result<json> CallJson(sdk::Client& client, const std::string& token,
                           const std::string& operation, const json& args) {
  sdk::ClientRequest request;
  request.target = "/api/v1/" + operation;
  request.content_type = "application/json";
  request.authorization = "Bearer " + token;
  const std::string body = args.dump();
  request.body = body;
  SCALEOUT_ASSIGN_OR_RETURN(sdk::Response response, client.Call(request));
  json doc = json::parse(response.body, nullptr, false);
  if (response.status != 200 || doc.is_discarded() || !doc.contains("result")) {
    return sdk::Status::Internal(operation + " answered " + std::to_string(response.status) + ": " +
                                 response.body);
  }
  return doc["result"];
}

sdk::Result<json> CallMsgpack(sdk::Client& client, const std::string& token,
                              const std::string& operation, const json& args) {
  core::protocol::ManageRequest message;
  message.operation = operation;
  for (const auto& [key, value] : args.items()) {
    message.args[key] = value.is_string() ? value.get<std::string>() : value.dump();
  }
  sdk::ClientRequest request;
  request.target = "/v1/manage";
  request.authorization = "Bearer " + token;
  const std::string body = core::protocol::Encode(message);
  request.body = body;
  SCALEOUT_ASSIGN_OR_RETURN(sdk::Response response, client.Call(request));
  core::protocol::ManageReply reply;
  SCALEOUT_RETURN_IF_ERROR(core::protocol::Decode(response.body, &reply));
  if (reply.code != sdk::StatusCode::kOk) return sdk::Status(reply.code, reply.message);
  json doc = json::parse(reply.json, nullptr, false);
  if (doc.is_discarded()) return sdk::Status::Internal(operation + ": the reply is not JSON");
  return doc;
}

struct Measurement {
  std::string api;
  int clients = 0;
  std::uint64_t executions = 0;  // created and started
  std::uint64_t errors = 0;
  std::string first_error;
  double seconds = 0;
  std::vector<double> latencies_ms;  // one per create+start pair
  // Readers beside the writers (reads_beside_writes): their calls.
  std::uint64_t reads = 0;
  std::vector<double> read_latencies_ms;
};

// What the readers call: All Executions filtered by a status no execution
// has, which walks every execution (the heaviest read a dashboard makes).
const json kHeavyRead = {{"status", "failed"}, {"limit", 50}};

// What one client thread did.
struct ClientTally {
  std::uint64_t errors = 0;
  std::string first_error;
  std::vector<double> latencies_ms;  // one per successful unit of work
};

// One client thread: its own connection; once `go`, runs `work` (one unit:
// a create+start pair, or a read) until `stop`, timing each unit.
ClientTally RunClient(sdk::Transport& transport, const Master& master, const std::atomic<bool>& go,
                      const std::atomic<bool>& stop,
                      const std::function<sdk::Status(sdk::Client&)>& work) {
  ClientTally tally;
  sdk::ClientOptions options;
  options.endpoint = master.url();
  options.pinned_server_ids = {master.thumbprint()};
  auto client = transport.Connect(options);
  while (!go.load()) std::this_thread::yield();
  while (client.ok() && !stop.load()) {
    const auto begin = Clock::now();
    if (sdk::Status status = work(**client); !status.ok()) {
      if (tally.first_error.empty()) tally.first_error = status.ToString();
      ++tally.errors;
      continue;
    }
    tally.latencies_ms.push_back(
        std::chrono::duration<double, std::milli>(Clock::now() - begin).count());
  }
  if (!client.ok()) {
    ++tally.errors;
    tally.first_error = client.status().ToString();
  }
  return tally;
}

// `readers` more threads call list_executions (kHeavyRead) meanwhile.
Measurement Run(sdk::Transport& transport, const Master& master, const std::string& api,
                int clients, double seconds, int readers = 0) {
  Measurement m;
  m.api = api;
  m.clients = clients;
  std::atomic<bool> go{false};
  std::atomic<bool> stop{false};
  std::mutex mutex;  // guards m's totals while the threads merge them
  auto merge = [&](const ClientTally& tally, std::vector<double>& latencies) {
    std::lock_guard<std::mutex> lock(mutex);
    m.errors += tally.errors;
    if (m.first_error.empty()) m.first_error = tally.first_error;
    latencies.insert(latencies.end(), tally.latencies_ms.begin(), tally.latencies_ms.end());
  };
  auto create_and_start = [&](sdk::Client& client) -> sdk::Status {
    auto call = [&](const std::string& op, const json& args) {
      return api == "json" ? CallJson(client, master.token(), op, args)
                           : CallMsgpack(client, master.token(), op, args);
    };
    auto created = call("create_execution",
                        {{"folder_name", "F"}, {"project_name", "P"}, {"package_name", "p.sh"}});
    if (!created.ok()) return created.status();
    return call("start_execution", {{"execution_id", (*created)["execution_id"]}}).status();
  };
  auto heavy_read = [&](sdk::Client& client) -> sdk::Status {
    return CallJson(client, master.token(), "list_executions", kHeavyRead).status();
  };
  std::vector<std::thread> threads;
  threads.reserve(static_cast<std::size_t>(clients) + static_cast<std::size_t>(readers));
  for (int t = 0; t < clients; ++t) {
    threads.emplace_back(
        [&] { merge(RunClient(transport, master, go, stop, create_and_start), m.latencies_ms); });
  }
  for (int r = 0; r < readers; ++r) {
    threads.emplace_back(
        [&] { merge(RunClient(transport, master, go, stop, heavy_read), m.read_latencies_ms); });
  }
  // Let every thread connect before the clock starts.
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const auto begin = Clock::now();
  go = true;
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (std::thread& t : threads) t.join();
  m.seconds = std::chrono::duration<double>(Clock::now() - begin).count();
  m.executions = m.latencies_ms.size();
  m.reads = m.read_latencies_ms.size();
  return m;
}

double Percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const auto index = static_cast<std::size_t>(p * static_cast<double>(values.size() - 1));
  return values[index];
}

// The same writers alone and then beside readers that scan the executions
// (kHeavyRead), back to back: what the reads cost the writes. The master
// runs reads on connections of their own, off its catalog writer, so the
// writes lose only the CPU the reads take (two cores here, shared with the
// clients).
json ReadsBesideWrites(sdk::Transport& transport, const Master& master, const Settings& settings) {
  const int clients = settings.quick ? 4 : 16;
  const int readers = settings.quick ? 2 : 4;
  std::cerr << "management_bench: " << clients << " writers alone, then beside " << readers
            << " readers...\n";
  const Measurement alone = Run(transport, master, "json", clients, settings.seconds);
  const Measurement beside = Run(transport, master, "json", clients, settings.seconds, readers);
  const double rate_alone = static_cast<double>(alone.executions) / alone.seconds;
  const double rate_beside = static_cast<double>(beside.executions) / beside.seconds;
  const double p99_alone = Percentile(alone.latencies_ms, 0.99);
  const double p99_beside = Percentile(beside.latencies_ms, 0.99);
  return {{"clients", clients},
          {"readers", readers},
          {"read", "list_executions status=failed limit=50 (no execution failed: a full walk)"},
          {"executions_per_second_alone", rate_alone},
          {"executions_per_second_beside_reads", rate_beside},
          {"throughput_ratio", rate_alone > 0 ? rate_beside / rate_alone : 0.0},
          {"latency_ms_p99_alone", p99_alone},
          {"latency_ms_p99_beside_reads", p99_beside},
          {"latency_p99_ratio", p99_alone > 0 ? p99_beside / p99_alone : 0.0},
          {"reads", beside.reads},
          {"reads_per_second", static_cast<double>(beside.reads) / beside.seconds},
          {"read_latency_ms_p50", Percentile(beside.read_latencies_ms, 0.50)},
          {"read_latency_ms_p99", Percentile(beside.read_latencies_ms, 0.99)},
          {"errors", alone.errors + beside.errors},
          {"first_error", alone.first_error.empty() ? beside.first_error : alone.first_error}};
}

Settings ParseArgs(int argc, char** argv) {
  Settings s;
  std::string clients;
  std::string host_binary;
  std::string plugin_dir;
  po::options_description desc("management_bench options");
  desc.add_options()("help", "show this help")("quick", po::bool_switch(&s.quick),
                                               "a short smoke run")(
      "seconds", po::value(&s.seconds), "seconds per configuration (default 4)")(
      "clients", po::value(&clients), "comma-separated client counts (default 1,16,128)")(
      "api", po::value(&s.api), "json, msgpack or both (default both)")(
      "scaleout", po::value(&host_binary), "the scaleout executable to measure")(
      "plugin-dir", po::value(&plugin_dir), "that executable's plugin folder")(
      "master-set", po::value(&s.master_overrides),
      "KEY=VALUE passed to the master as --set (repeatable), e.g. "
      "PluginSettings.transport.https.threads=1");
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, desc), vm);
    po::notify(vm);
  } catch (const std::exception& e) {
    std::cerr << e.what() << "\n" << desc;
    std::exit(2);
  }
  if (vm.count("help")) {
    std::cout << desc;
    std::exit(0);
  }
  if (!clients.empty()) {
    s.clients.clear();
    std::stringstream in(clients);
    for (std::string item; std::getline(in, item, ',');) s.clients.push_back(std::stoi(item));
  }
  if (!host_binary.empty()) s.host_binary = host_binary;
  if (!plugin_dir.empty()) s.plugin_dir = plugin_dir;
  if (s.api != "json" && s.api != "msgpack" && s.api != "both") {
    std::cerr << "--api must be json, msgpack or both\n";
    std::exit(2);
  }
  if (s.quick) {
    s.seconds = std::min(s.seconds, 1.0);
    s.clients = {1, 16};
  }
  return s;
}

int Main(int argc, char** argv) {
  const Settings settings = ParseArgs(argc, argv);
  Master master(settings);
  fs::create_directories(master.dir() / "project");
  std::ofstream(master.dir() / "project" / "p.sh") << "#!/bin/sh\nexit 0\n";
  master.Manage({"deploy", "--folder", "F", "--project", "P", (master.dir() / "project").string()});

  StderrLogger logger;
  host::PluginLoader loader(logger);
  if (sdk::Status s =
          loader.LoadFile(settings.client_plugin_dir / "libscaleout_transport_https.so");
      !s.ok()) {
    Fail(s.ToString());
  }
  static const sdk::ConfigView::Map kEmpty;
  auto transport = loader.CreateTransport("https", sdk::ConfigView(kEmpty, "transport.https"));
  if (!transport.ok()) Fail(transport.status().ToString());
  if (sdk::Status s = (*transport)->Start(); !s.ok()) Fail(s.ToString());

  std::vector<std::string> apis = {settings.api};
  if (settings.api == "both") apis = {"json", "msgpack"};
  json configs = json::array();
  for (const std::string& api : apis) {
    for (int clients : settings.clients) {
      std::cerr << "management_bench: " << api << " API, " << clients << " clients...\n";
      const double cpu_before = master.CpuSeconds();
      const Measurement m = Run(**transport, master, api, clients, settings.seconds);
      const double cpu = master.CpuSeconds() - cpu_before;
      configs.push_back(
          {{"api", api},
           {"clients", m.clients},
           {"executions", m.executions},
           {"seconds", m.seconds},
           {"executions_per_second", static_cast<double>(m.executions) / m.seconds},
           {"api_calls_per_second", 2.0 * static_cast<double>(m.executions) / m.seconds},
           {"latency_ms_p50", Percentile(m.latencies_ms, 0.50)},
           {"latency_ms_p99", Percentile(m.latencies_ms, 0.99)},
           // The master's CPU (all threads, user + system) per execution and
           // on average: what the request path costs, less sensitive than
           // the rate to a machine shared with the clients.
           {"master_cpu_ms_per_execution",
            m.executions == 0 ? 0.0 : 1000.0 * cpu / static_cast<double>(m.executions)},
           {"master_cpu_cores", cpu / m.seconds},
           {"errors", m.errors},
           {"first_error", m.first_error}});
    }
  }
  const json beside = ReadsBesideWrites(**transport, master, settings);
  (*transport)->Stop();
  const json report = {{"benchmark", "management_bench"},
                       {"operation", "create_execution + start_execution"},
                       {"storage", "sqlite synchronous=FULL"},
                       {"transport", "https"},
                       {"configs", configs},
                       {"reads_beside_writes", beside}};
  std::cout << report.dump(2) << "\n";
  for (const json& c : configs) {
    if (c["errors"].get<std::uint64_t>() > 0 || c["executions"].get<std::uint64_t>() == 0) return 1;
  }
  if (beside["errors"].get<std::uint64_t>() > 0 || beside["reads"].get<std::uint64_t>() == 0) {
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace scaleout::bench

int main(int argc, char** argv) { return scaleout::bench::Main(argc, argv); }
