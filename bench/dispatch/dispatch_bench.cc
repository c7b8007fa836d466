// dispatch_bench: end-to-end dispatch through a real cluster — a `scaleout
// master` (catalog at synchronous=FULL) and two `scaleout worker` processes on
// 127.0.0.1 with real credentials (tests/e2e/scaleout/cluster.h) — driven
// through the management API by concurrent clients inside this process.
//
// Measures (see ../README.md, "dispatch_bench"):
//   warm-up     one 300 ms execution per task slot, all at once, not measured
//               (each worker's pool starts a task host per slot)
//   noop        N executions of executor/noop created and started, until all
//               are terminal: executions/s; submitted by run_executions calls
//               of 100 (--submit batch, the default), then again with one
//               run_execution call each (noop_one_call_each)
//   latency     start_execution → the attempt's start time in the catalog (the
//               worker's claim), on idle workers, sequential samples: p50/p99
//   process     N executions of executor/process running /bin/true, and a
//               bare posix_spawn+waitpid loop of /bin/true on two threads: ratio;
//               and a floor loop: the bare loop plus the work every worker
//               must do per task (task folder and log, pipes, process group)
//   master_rss  the master's peak RSS (VmHWM)
//
// Prints one JSON document on stdout (progress on stderr). Fails only when the
// cluster cannot be set up or an execution cannot be created or started, never
// on a target.
//
// With more than one combination of backends (`--matrix`, or `all` for the
// transport or the storage) it runs the whole benchmark on each combination
// in turn, each on a cluster of its own, and prints the reports side by side
// with a comparison of every figure against https + sqlite.
//
//   dispatch_bench [--quick] [-n N] [--process-n N] [--latency-samples S] [--clients C]
//                  [--worker-tasks T] [--submit batch|run|create-start] [--batch B]
//                  [--transport https|zmq|all] [--storage sqlite|odbc_postgresql|all]
//                  [--matrix]
#include <fcntl.h>
#include <linux/fs.h>
#include <poll.h>
#include <spawn.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>

#include "core/management/operations.h"
#include "host/commands/manage_client.h"
#include "tests/e2e/scaleout/cluster.h"
#include "tests/support/test_util.h"

extern char** environ;

namespace scaleout::bench {
namespace {

namespace fs = std::filesystem;
namespace po = boost::program_options;
using nlohmann::json;
using SteadyClock = std::chrono::steady_clock;

constexpr char kFolder[] = "Bench";
constexpr char kProject[] = "Dispatch";
constexpr char kNoopPackage[] = "throughput.noop";
constexpr char kLatencyPackage[] = "latency.noop";
constexpr char kWarmupPackage[] = "warmup.noop";
constexpr char kPerCallPackage[] = "per-call.noop";
constexpr char kProcessPackage[] = "true.cmd.json";
constexpr char kProcessWarmupPackage[] = "warmup.cmd.json";

// Targets of issue 4 ("Benchmark and targets").
constexpr double kTargetNoopPerSecond = 5000;
constexpr double kTargetLatencyP50Ms = 1;
constexpr double kTargetLatencyP99Ms = 5;
constexpr double kTargetProcessRatio = 0.75;

struct Settings {
  bool quick = false;
  int noop_n = 10000;
  int process_n = 2000;
  int latency_samples = 200;
  int clients = 32;
  // MaxTaskCount of each worker. A slot sits idle from its task's end until
  // the next request for work comes back (a round trip and a commit of the
  // catalog, an fsync), and the tasks one commit hands out are what the
  // cluster runs per commit: with tasks that take no time, 16 slots per
  // worker left the two cores idle a fifth of the time, and 64 ran 1.1 to
  // 1.9 times the noop executions/s of 32 in alternating runs (the process
  // ratio 0.56 - 0.59 against 0.43 - 0.54; bench/README.md, "Slots").
  int worker_tasks = 64;
  std::string transport = "https";  // or "all"
  std::string storage = "sqlite";   // or "all"
  // How the throughput phases submit each execution: "run" = one
  // run_execution call (create and start in one request and one catalog
  // transaction, what `scaleout manage exec run` does); "create-start" =
  // create_execution then start_execution, the two SSIS procedures;
  // "batch" = run_executions calls of `batch` executions each (a job array).
  std::string submit = "batch";
  int batch = 100;
};

// The combinations the settings name, in the order of test::AllBackends().
std::vector<test::Backend> Combinations(const Settings& s) {
  std::vector<test::Backend> combinations;
  for (const test::Backend& backend : test::AllBackends()) {
    if ((s.transport == "all" || s.transport == backend.transport) &&
        (s.storage == "all" || s.storage == backend.storage)) {
      combinations.push_back(backend);
    }
  }
  return combinations;
}

[[noreturn]] void Fail(const std::string& message) {
  std::cerr << "dispatch_bench: " << message << "\n";
  std::exit(1);
}

void Progress(const std::string& message) { std::cerr << "dispatch_bench: " << message << "\n"; }

// The cluster harness reports setup failures as GoogleTest failures; outside a
// test they only reach the listeners, so count them here and stop the run.
class FailureCounter : public ::testing::EmptyTestEventListener {
 public:
  void OnTestPartResult(const ::testing::TestPartResult& result) override {
    if (!result.failed()) return;
    std::lock_guard<std::mutex> lock(mutex_);
    if (first_.empty()) first_ = result.message();
    ++count_;
  }
  void CheckNone(const std::string& step) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (count_ > 0) Fail(step + " failed: " + first_);
  }

 private:
  std::mutex mutex_;
  int count_ = 0;
  std::string first_;
};

// "2026-11-21T23:54:05.123Z" → Unix milliseconds; nullopt for anything else.
std::optional<std::int64_t> ParseUtcMillis(const json& value) {
  if (!value.is_string()) return std::nullopt;
  std::tm tm{};
  int millis = 0;
  if (std::sscanf(value.get<std::string>().c_str(), "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ", &tm.tm_year,
                  &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &millis) != 7) {
    return std::nullopt;
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return static_cast<std::int64_t>(timegm(&tm)) * 1000 + millis;
}

double NowUnixMillis() {
  return std::chrono::duration<double, std::milli>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

double SecondsSince(SteadyClock::time_point begin) {
  return std::chrono::duration<double>(SteadyClock::now() - begin).count();
}

double Percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  return values[static_cast<std::size_t>(p * static_cast<double>(values.size() - 1))];
}

struct ProcStat {
  pid_t ppid = 0;
  double own = 0;       // utime + stime, s
  double children = 0;  // cutime + cstime (reaped children), s
};

// /proc/<pid>/stat; false when the process has gone.
bool ReadProcStat(const std::string& pid, ProcStat* out) {
  std::ifstream file("/proc/" + pid + "/stat");
  std::string text((std::istreambuf_iterator<char>(file)), {});
  const auto paren = text.rfind(')');
  if (paren == std::string::npos) return false;
  std::istringstream fields(text.substr(paren + 2));
  std::vector<std::string> f;
  for (std::string field; fields >> field && f.size() < 15;) f.push_back(field);
  if (f.size() < 15) return false;
  const double tick = static_cast<double>(::sysconf(_SC_CLK_TCK));
  out->ppid = static_cast<pid_t>(std::stol(f[1]));
  out->own = (std::stod(f[11]) + std::stod(f[12])) / tick;
  out->children = (std::stod(f[13]) + std::stod(f[14])) / tick;
  return true;
}

// The master is this process's child `scaleout master --config <dir>/...`:
// the harness does not hand out its pid, /proc does.
pid_t FindMasterPid(const fs::path& cluster_dir) {
  const pid_t self = ::getpid();
  for (const auto& entry : fs::directory_iterator("/proc")) {
    const std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    ProcStat stat;
    if (!ReadProcStat(name, &stat) || stat.ppid != self) continue;
    std::ifstream cmdline_file(entry.path() / "cmdline");
    std::string cmdline((std::istreambuf_iterator<char>(cmdline_file)), {});
    std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
    if (cmdline.find(" master --config " + (cluster_dir / "master").string()) !=
        std::string::npos) {
      return static_cast<pid_t>(std::stol(name));
    }
  }
  return -1;
}

// "VmHWM:    12345 kB" → 12345; -1 when not found.
std::int64_t StatusKb(pid_t pid, const std::string& key) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind(key + ":", 0) == 0) return std::stoll(line.substr(key.size() + 1));
  }
  return -1;
}

// Management clients of the admin principal; one per thread (ManageClient is
// single-threaded).
class Api {
 public:
  Api(const test::Cluster& cluster, std::string token) {
    settings_.master = cluster.master_url();
    settings_.master_thumbprint = cluster.master_thumbprint();
    settings_.token = std::move(token);
    settings_.plugin_dir = test::InTreePluginDir().string();
  }
  std::unique_ptr<host::ManageClient> Connect() const {
    auto client = host::ManageClient::Create(settings_);
    if (!client.ok()) Fail("cannot make a management client: " + client.status().ToString());
    return std::move(*client);
  }

 private:
  host::ConnectionSettings settings_;
};

json CallOrFail(host::ManageClient& client, const std::string& operation, const json& args) {
  auto result = client.Call(operation, args);
  if (!result.ok()) Fail(operation + ": " + result.status().ToString());
  return *result;
}

// Creates the execution of `package`; returns its id.
std::int64_t Create(host::ManageClient& client, const std::string& package) {
  const json created =
      CallOrFail(client, "create_execution",
                 {{"folder_name", kFolder}, {"project_name", kProject}, {"package_name", package}});
  return created.at("execution_id").get<std::int64_t>();
}

// How many executions of `package` have SSIS status `status` (up to `limit`).
std::size_t CountWithStatus(host::ManageClient& client, const std::string& package, int status,
                            int limit) {
  const json rows = CallOrFail(client, "list_executions",
                               {{"package_name", package}, {"status", status}, {"limit", limit}});
  return rows.size();
}

// Whether any execution of `package` is still running (2), pending (5),
// stopping (8) or created (1). The catalog lists the first three through the
// ids of their tasks (read into a list per query, then probed newest first),
// so running is asked first: at most one task per slot, where the pending
// list holds most of the run until its end (asking pending first cost the
// master a fifth of its CPU in the process phase). Created is asked last
// (a walk of the executions), so the poll costs the master little until the
// run is nearly done.
bool AnyActive(host::ManageClient& client, const std::string& package) {
  for (int status : {2, 5, 8, 1}) {
    if (CountWithStatus(client, package, status, 1) > 0) return true;
  }
  return false;
}

// CPU seconds (user + system) of the cluster's processes, read from /proc:
// the master; the workers (this process's other children); their task
// hosts (the workers' children); the packages the task hosts ran and
// reaped (the hosts' children's time); and this process, the API client.
// Ticks of the kernel's accounting: exact on average over a phase, not per
// task.
struct CpuTimes {
  double master = 0;
  double workers = 0;
  double task_hosts = 0;
  double packages = 0;
  double client = 0;
  double machine_busy = 0;  // every CPU, from /proc/stat (all processes, the kernel's too)
  double machine_idle = 0;
  // Time the hypervisor ran something else on our virtual CPUs: neither
  // ours nor idle. A phase with much of it measured the host's neighbours.
  double machine_steal = 0;
};

// The machine's busy, idle and stolen CPU time so far (every CPU, the
// first line of /proc/stat) into `t`.
void ReadMachineTimes(CpuTimes* t) {
  std::ifstream proc_stat("/proc/stat");
  std::string cpu;
  proc_stat >> cpu;
  const double tick = static_cast<double>(::sysconf(_SC_CLK_TCK));
  // user nice system idle iowait irq softirq steal
  for (int i = 0; i < 8; ++i) {
    double value = 0;
    proc_stat >> value;
    double& into = i == 3 || i == 4 ? t->machine_idle : i == 7 ? t->machine_steal : t->machine_busy;
    into += value / tick;
  }
}

CpuTimes ReadCpuTimes(pid_t master) {
  const pid_t self = ::getpid();
  std::map<pid_t, ProcStat> all;
  for (const auto& entry : fs::directory_iterator("/proc")) {
    const std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    ProcStat stat;
    if (ReadProcStat(name, &stat)) all[static_cast<pid_t>(std::stol(name))] = stat;
  }
  CpuTimes t;
  std::set<pid_t> workers;
  for (const auto& [pid, stat] : all) {
    if (pid == master) {
      t.master = stat.own;
    } else if (pid == self) {
      t.client = stat.own;
    } else if (stat.ppid == self) {
      workers.insert(pid);
      t.workers += stat.own;
      t.packages += stat.children;  // task hosts that exited, and what they reaped
    }
  }
  for (const auto& [pid, stat] : all) {
    if (workers.count(stat.ppid) == 0) continue;
    t.task_hosts += stat.own;
    t.packages += stat.children;
  }
  ReadMachineTimes(&t);
  return t;
}

// The share of the CPUs' time between two readings that the hypervisor stole.
double StealFraction(const CpuTimes& a, const CpuTimes& b) {
  const double steal = b.machine_steal - a.machine_steal;
  const double all = steal + (b.machine_busy - a.machine_busy) + (b.machine_idle - a.machine_idle);
  return all > 0 ? steal / all : 0.0;
}

// Microseconds of CPU per execution, by process role, between two readings.
json CpuPerExecution(const CpuTimes& a, const CpuTimes& b, int executions) {
  const double n = std::max(1, executions);
  auto us = [n](double seconds) { return seconds / n * 1e6; };
  const double busy = b.machine_busy - a.machine_busy;
  const double idle = b.machine_idle - a.machine_idle;
  return {{"master", us(b.master - a.master)},
          {"workers", us(b.workers - a.workers)},
          {"task_hosts", us(b.task_hosts - a.task_hosts)},
          {"packages", us(b.packages - a.packages)},
          {"client", us(b.client - a.client)},
          {"machine", us(busy)},
          {"machine_idle_fraction", busy + idle > 0 ? idle / (busy + idle) : 0.0},
          {"machine_steal_fraction", StealFraction(a, b)}};
}

struct Throughput {
  int executions = 0;
  double submit_seconds = 0;  // until the last execution was started
  double seconds = 0;         // until every execution was terminal
  std::size_t succeeded = 0;
  json by_status = json::object();  // terminal status name → count
  std::string first_problem;        // the first attempt message of an unsuccessful execution
  bool timed_out = false;
  json cpu_us_per_execution;  // by process role, when the master's pid was given
};

// Creates and starts `count` executions of `package` as `submit` says
// (more than one only for "batch"), with `extra` arguments ("batch" only).
void Submit(host::ManageClient& client, const std::string& package, const std::string& submit,
            int count, const json& extra) {
  if (submit == "batch") {
    json args = extra;
    args.update({{"folder_name", kFolder},
                 {"project_name", kProject},
                 {"package_name", package},
                 {"count", count}});
    const json reply = CallOrFail(client, "run_executions", args);
    if (reply.value("execution_ids", json::array()).size() != static_cast<std::size_t>(count)) {
      Fail("run_executions started " + reply.dump() + ", not " + std::to_string(count));
    }
    return;
  }
  if (submit == "run") {
    CallOrFail(client, "run_execution",
               {{"folder_name", kFolder}, {"project_name", kProject}, {"package_name", package}});
    return;
  }
  const std::int64_t id = Create(client, package);
  CallOrFail(client, "start_execution", {{"execution_id", id}});
}

// Creates and starts `n` executions of `package` from `clients` threads, then
// waits (polling list_executions every 20 ms) until none is active.
Throughput RunMany(const Api& api, const std::string& package, int n, int clients,
                   const std::string& submit, int batch, std::chrono::seconds timeout,
                   pid_t master_pid = -1, const json& extra = json::object()) {
  std::vector<std::unique_ptr<host::ManageClient>> connections;
  connections.reserve(static_cast<std::size_t>(clients));
  for (int i = 0; i < clients; ++i) connections.push_back(api.Connect());
  auto watcher = api.Connect();
  // Warm every connection (TLS handshake) before the clock starts.
  for (auto& c : connections) CallOrFail(*c, "list_folders", json::object());
  CallOrFail(*watcher, "list_folders", json::object());

  Throughput t;
  t.executions = n;
  std::atomic<int> next{0};
  const CpuTimes cpu_before = master_pid > 0 ? ReadCpuTimes(master_pid) : CpuTimes{};
  const auto begin = SteadyClock::now();
  std::vector<std::thread> threads;
  threads.reserve(connections.size());
  for (auto& c : connections) {
    threads.emplace_back([&, client = c.get()] {
      const int step = submit == "batch" ? batch : 1;
      for (int first = next.fetch_add(step); first < n; first = next.fetch_add(step)) {
        Submit(*client, package, submit, std::min(step, n - first), extra);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  t.submit_seconds = SecondsSince(begin);
  const auto deadline = begin + timeout;
  while (AnyActive(*watcher, package)) {
    if (SteadyClock::now() > deadline) {
      t.timed_out = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  t.seconds = SecondsSince(begin);
  if (master_pid > 0) {
    t.cpu_us_per_execution = CpuPerExecution(cpu_before, ReadCpuTimes(master_pid), n);
  }
  t.succeeded = CountWithStatus(*watcher, package, 7, n + 1);
  for (const auto& [status, name] :
       {std::pair{3, "canceled"}, std::pair{4, "failed"}, std::pair{6, "ended unexpectedly"},
        std::pair{7, "succeeded"}, std::pair{9, "completed"}}) {
    const json rows = CallOrFail(*watcher, "list_executions",
                                 {{"package_name", package}, {"status", status}, {"limit", n + 1}});
    t.by_status[name] = rows.size();
    if (status != 7 && !rows.empty() && t.first_problem.empty()) {
      const json shown =
          CallOrFail(*watcher, "get_execution", {{"execution_id", rows[0]["execution_id"]}});
      t.first_problem = shown.dump();
    }
  }
  return t;
}

json ThroughputJson(const Throughput& t) {
  return {{"executions", t.executions},
          {"succeeded", t.succeeded},
          {"by_status", t.by_status},
          {"first_unsuccessful", t.first_problem},
          {"timed_out", t.timed_out},
          {"submit_seconds", t.submit_seconds},
          {"seconds", t.seconds},
          {"executions_per_second", static_cast<double>(t.executions) / t.seconds},
          {"submitted_per_second", static_cast<double>(t.executions) / t.submit_seconds},
          {"cpu_us_per_execution", t.cpu_us_per_execution}};
}

struct Latency {
  // start_execution sent → attempt start_time. The catalog keeps whole
  // milliseconds, so the claim happened in [start_time, start_time + 1):
  // each sample is that interval's middle (unbiased), and upper_ms its end.
  std::vector<double> dispatch_ms;
  std::vector<double> upper_ms;
  std::vector<double> start_call_ms;  // start_execution round trip
  int missing = 0;                    // samples without an attempt start time
  int unsettled = 0;  // samples after which the execution's event did not arrive in time
};

// Waits (up to `limit`) until the catalog holds an event message of
// execution `id`; false if none came in time.
bool EventsRecorded(host::ManageClient& client, std::int64_t id, std::chrono::milliseconds limit) {
  const auto deadline = SteadyClock::now() + limit;
  for (;;) {
    const json rows =
        CallOrFail(client, "list_event_messages", {{"execution_id", id}, {"limit", 1}});
    if (!rows.empty()) return true;
    if (SteadyClock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

// One execution at a time on idle workers: create it, note the wall clock,
// start it, wait until it is terminal, read its attempt's start time.
Latency MeasureLatency(const Api& api, int samples) {
  auto client = api.Connect();
  CallOrFail(*client, "list_folders", json::object());
  Latency l;
  for (int i = 0; i < samples; ++i) {
    const std::int64_t id = Create(*client, kLatencyPackage);
    const double sent_ms = NowUnixMillis();
    const auto call_begin = SteadyClock::now();
    CallOrFail(*client, "start_execution", {{"execution_id", id}});
    l.start_call_ms.push_back(SecondsSince(call_begin) * 1000);
    json shown;
    const auto deadline = SteadyClock::now() + std::chrono::seconds(60);
    while (true) {
      shown = CallOrFail(*client, "get_execution", {{"execution_id", id}});
      if (test::IsTerminalStatus(shown.value("status", 0)) || SteadyClock::now() > deadline) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    std::optional<std::int64_t> started;
    if (shown.contains("attempts") && !shown["attempts"].empty()) {
      started = ParseUtcMillis(shown["attempts"][0].value("start_time", json()));
    }
    if (!started) {
      ++l.missing;
      continue;
    }
    l.dispatch_ms.push_back(static_cast<double>(*started) + 0.5 - sent_ms);
    l.upper_ms.push_back(static_cast<double>(*started) + 1.0 - sent_ms);
    // The next sample starts on an idle cluster: the worker has shipped
    // this execution's event (its shipper's round is up to 50 ms after the
    // result) and is back in its long poll. Otherwise the next
    // start_execution could queue behind that batch's commit (an fsync),
    // which measures the disk, not dispatch to an idle worker.
    if (!EventsRecorded(*client, id, std::chrono::milliseconds(500))) ++l.unsettled;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return l;
}

// Runs `n` executions of `package` (all in one run_executions call), not
// measured; fails the run unless every one succeeded.
Throughput WarmUp(const Api& api, const char* package, int n, int clients, const std::string& what,
                  const json& extra = json::object()) {
  Progress("warm-up: " + std::to_string(n) + " " + what);
  Throughput t = RunMany(api, package, n, clients, "batch", n, std::chrono::seconds(120),
                         /*master_pid=*/-1, extra);
  if (t.succeeded != static_cast<std::size_t>(n)) {
    Fail("warm-up: only " + std::to_string(t.succeeded) + " of " + std::to_string(n) + " " + what +
         " succeeded: " + t.first_problem);
  }
  return t;
}

// One run of the bare spawn loop: its rate, and what the machine's CPUs did
// meanwhile.
struct BareLoop {
  double spawns_per_second = 0;
  int spawns = 0;
  CpuTimes machine_before;  // machine_* fields only
  CpuTimes machine_after;
};

// Runs `spawn_once(i)` for i in [0, n) from two threads, as a cluster of
// two cores would, and measures the loop. `spawn_once` returns false when
// its spawn failed.
template <typename SpawnOnce>
BareLoop RunSpawnLoop(int n, const SpawnOnce& spawn_once, const char* what) {
  std::atomic<int> next{0};
  std::atomic<int> failures{0};
  BareLoop loop;
  loop.spawns = n;
  ReadMachineTimes(&loop.machine_before);
  const auto begin = SteadyClock::now();
  std::vector<std::thread> threads;
  threads.reserve(2);
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&] {
      for (int i = next.fetch_add(1); i < n; i = next.fetch_add(1)) {
        if (!spawn_once(i)) ++failures;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  loop.spawns_per_second = static_cast<double>(n) / SecondsSince(begin);
  ReadMachineTimes(&loop.machine_after);
  if (failures > 0) Fail(std::string(what) + ": a spawn of /bin/true failed");
  return loop;
}

// Spawns /bin/true `n` times from two threads (posix_spawn + waitpid): what
// the machine can do with no framework in the way.
BareLoop RunBareLoop(int n) {
  return RunSpawnLoop(
      n,
      [](int /*index*/) {
        char program[] = "/bin/true";
        char* argv[] = {program, nullptr};
        pid_t pid = 0;
        if (posix_spawn(&pid, program, nullptr, nullptr, argv, environ) != 0) return false;
        int status = 0;
        return waitpid(pid, &status, 0) == pid;
      },
      "bare loop");
}

// Appends `line` to the open log `fd`, as a task log line: a timestamp first.
void AppendLogLine(int fd, const char* line) {
  char text[256];
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  std::size_t used = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ ", &utc);
  used += static_cast<std::size_t>(std::snprintf(text + used, sizeof text - used, "%s\n", line));
  (void)!write(fd, text, std::min(used, sizeof text - 1));
}

// Reads both pipes until each is at its end (the package has closed it).
void DrainToEnd(int out_fd, int err_fd) {
  pollfd fds[2] = {{out_fd, POLLIN, 0}, {err_fd, POLLIN, 0}};
  int open = 2;
  char buffer[4096];
  while (open > 0 && poll(fds, 2, -1) >= 0) {
    for (pollfd& p : fds) {
      if (p.fd < 0 || p.revents == 0) continue;
      if (read(p.fd, buffer, sizeof buffer) <= 0) {
        close(p.fd);
        p.fd = -1;  // poll() skips it from now on
        --open;
      }
    }
  }
}

// The task folder of spawn `index` of the floor loop `tag` under `root`.
std::string FloorFolder(const fs::path& root, const char* tag, int index) {
  char name[48];
  std::snprintf(name, sizeof name, "floor-loop-%s-%024d", tag, index);
  return (root / name).string();
}

// The same loop doing, around each spawn, what a worker must do for every
// task, whatever the framework: a folder of its own under `root`
// (FloorFolder; RemoveFloorFolders removes them) holding a task log (a line
// at the start and one with the outcome), the package started in that
// folder in a process group of its own, its stdout and stderr read through
// pipes to their end. No task host, worker, master, transport or catalog:
// this is the floor any implementation of those points stands on, the bare
// loop the ceiling.
BareLoop RunFloorLoop(int n, const fs::path& root, const char* tag) {
  return RunSpawnLoop(
      n,
      [&root, tag](int index) {
        const std::string dir = FloorFolder(root, tag, index);
        const std::string log_path = dir + "/task.log";
        if (mkdir(dir.c_str(), 0700) != 0) return false;
        const int log = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        if (log < 0) return false;
        AppendLogLine(log, "task started: executor/process /bin/true");
        int out[2] = {-1, -1};
        int err[2] = {-1, -1};
        if (pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0) Fail("floor loop: pipe2");
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
        posix_spawn_file_actions_adddup2(&actions, err[1], STDERR_FILENO);
        posix_spawn_file_actions_addchdir_np(&actions, dir.c_str());
        posix_spawnattr_t attributes;
        posix_spawnattr_init(&attributes);
        posix_spawnattr_setpgroup(&attributes, 0);
        posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETPGROUP);
        char program[] = "/bin/true";
        char* argv[] = {program, nullptr};
        pid_t pid = 0;
        const bool spawned = posix_spawn(&pid, program, &actions, &attributes, argv, environ) == 0;
        posix_spawn_file_actions_destroy(&actions);
        posix_spawnattr_destroy(&attributes);
        close(out[1]);
        close(err[1]);
        DrainToEnd(out[0], err[0]);  // closes both
        int status = 0;
        const bool reaped = spawned && waitpid(pid, &status, 0) == pid;
        AppendLogLine(log, reaped && status == 0 ? "outcome: succeeded" : "outcome: failed");
        close(log);
        return reaped;
      },
      "floor loop");
}

// Removes what RunFloorLoop(n, root, tag) made.
void RemoveFloorFolders(int n, const fs::path& root, const char* tag) {
  for (int index = 0; index < n; ++index) {
    std::error_code ignored;
    fs::remove_all(FloorFolder(root, tag, index), ignored);
  }
}

// Two runs of one loop (before and after the process phase): both loops'
// spawns over both loops' time (they spawn as many each).
double BothLoopsRate(const BareLoop& before, const BareLoop& after) {
  return 2.0 / (1.0 / before.spawns_per_second + 1.0 / after.spawns_per_second);
}

// The machine's busy CPU per spawn over two runs of one loop, and the shares
// of their time the cores sat idle and the hypervisor stole, worked out as
// for every phase (CpuPerExecution) over the two loops' times added up.
json BothLoopsCpuJson(const BareLoop& a, const BareLoop& b) {
  CpuTimes both;  // machine_* fields only: both loops' deltas, as from zero
  for (const BareLoop* loop : {&a, &b}) {
    both.machine_busy += loop->machine_after.machine_busy - loop->machine_before.machine_busy;
    both.machine_idle += loop->machine_after.machine_idle - loop->machine_before.machine_idle;
    both.machine_steal += loop->machine_after.machine_steal - loop->machine_before.machine_steal;
  }
  const json cpu = CpuPerExecution(CpuTimes{}, both, a.spawns + b.spawns);
  return {{"machine", cpu["machine"]},
          {"machine_idle_fraction", cpu["machine_idle_fraction"]},
          {"machine_steal_fraction", cpu["machine_steal_fraction"]}};
}

// The floor loops against the bare loops and the process phase: their rate
// and the machine's CPU per spawn, both over the bare loop's (how much of
// what the target allows the required per-task work takes), and the
// floor's CPU per spawn over the process phase's per execution (what the
// cluster costs on top of that work). `process_machine_us` 0: not measured.
json FloorJson(const BareLoop& before, const BareLoop& after, double bare_rate,
               const json& bare_cpu, double process_machine_us) {
  const double rate = BothLoopsRate(before, after);
  const json cpu = BothLoopsCpuJson(before, after);
  const double floor_us = cpu["machine"].get<double>();
  const double bare_us = bare_cpu["machine"].get<double>();
  return {
      {"spawns_per_second", rate},
      {"spawns_per_second_before", before.spawns_per_second},
      {"spawns_per_second_after", after.spawns_per_second},
      {"cpu_us_per_spawn", cpu},
      {"ratio_to_bare", bare_rate > 0 ? rate / bare_rate : 0.0},
      {"cpu_ratio_to_bare", floor_us > 0 ? bare_us / floor_us : 0.0},
      {"process_cpu_ratio_to_floor", process_machine_us > 0 ? floor_us / process_machine_us : 0.0}};
}

Settings ParseArgs(int argc, char** argv) {
  Settings s;
  int n = -1;
  int process_n = -1;
  int samples = -1;
  bool matrix = false;
  po::options_description desc("dispatch_bench options");
  desc.add_options()("help", "show this help")("quick", po::bool_switch(&s.quick),
                                               "a short smoke run")(
      "executions,n", po::value(&n), "executor/noop executions (default 10000, quick 100)")(
      "process-n", po::value(&process_n),
      "executor/process executions of /bin/true (default 2000, quick 50)")(
      "latency-samples", po::value(&samples), "sequential latency samples (default 200)")(
      "clients", po::value(&s.clients), "concurrent management clients (default 32)")(
      "worker-tasks", po::value(&s.worker_tasks),
      "MaxTaskCount of each worker (default 64, quick 8)")("transport", po::value(&s.transport),
                                                           "https (default), zmq or all")(
      "storage", po::value(&s.storage), "sqlite (default), odbc_postgresql or all")(
      "submit", po::value(&s.submit),
      "batch (default: run_executions calls of --batch executions; the noop phase is then "
      "repeated with one call each), run (one run_execution call per execution) or "
      "create-start (create_execution, then start_execution)")(
      "batch", po::value(&s.batch),
      "executions per run_executions call with --submit batch "
      "(default 100)")("matrix", po::bool_switch(&matrix),
                       "every combination: --transport all --storage all");
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
  if (s.quick) {
    s.noop_n = 100;
    s.process_n = 50;
    s.latency_samples = 20;
    s.clients = std::min(s.clients, 8);
    // A smoke run: each slot is a task host to start (tens of ms of CPU).
    if (vm.count("worker-tasks") == 0) s.worker_tasks = 8;
  }
  if (n >= 0) s.noop_n = n;
  if (process_n >= 0) s.process_n = process_n;
  if (samples >= 0) s.latency_samples = samples;
  if (matrix) s.transport = s.storage = "all";
  if (s.transport != "https" && s.transport != "zmq" && s.transport != "all") {
    Fail("--transport must be https, zmq or all");
  }
  if (s.storage != "sqlite" && s.storage != "odbc_postgresql" && s.storage != "all") {
    Fail("--storage must be sqlite, odbc_postgresql or all");
  }
  if (s.submit != "run" && s.submit != "create-start" && s.submit != "batch") {
    Fail("--submit must be run, create-start or batch");
  }
  if (s.batch < 1 || s.batch > core::management::kMaxExecutionsPerCall) {
    Fail("--batch must be 1 to " + std::to_string(core::management::kMaxExecutionsPerCall));
  }
  if (s.noop_n < 1 || s.process_n < 1 || s.latency_samples < 1 || s.clients < 1 ||
      s.worker_tasks < 1) {
    Fail("-n, --process-n, --latency-samples, --clients and --worker-tasks must be at least 1");
  }
  return s;
}

// Writes the project: the noop packages (executor/noop by their extension)
// and a manifest that runs /bin/true directly (executor/process).
fs::path WriteProject(const fs::path& dir) {
  fs::path project = dir / "dispatch_project";
  fs::create_directories(project);
  std::ofstream(project / kNoopPackage) << "noop\n";
  std::ofstream(project / kLatencyPackage) << "noop\n";
  std::ofstream(project / kWarmupPackage) << "noop\n";
  std::ofstream(project / kPerCallPackage) << "noop\n";
  std::ofstream(project / kProcessPackage) << R"({"command": ["/bin/true"]})"
                                           << "\n";
  std::ofstream(project / kProcessWarmupPackage) << R"({"command": ["/bin/sleep", "0.3"]})"
                                                 << "\n";
  // The warm-up package's tasks sleep (NOOP_SLEEP_MS) so that every slot
  // holds one at once and each worker starts a task host per slot.
  std::ofstream(project / "project.json")
      << R"({"description": "dispatch benchmark", "parameters": [{"name": "NOOP_SLEEP_MS",)"
      << R"( "data_type": "Int32", "default": "0", "package": ")" << kWarmupPackage << R"("}]})"
      << "\n";
  return project;
}

// Runs every phase on a new cluster of `backend`; returns its report.
json RunCombination(const Settings& settings, const test::Backend& backend,
                    FailureCounter& failures) {
  test::ClusterOptions options = test::ClusterOptions::For(backend);
  // The master's own defaults (lease, long poll, sweeps), not the harness's
  // short test intervals: a 3 s lease can lapse on a loaded machine.
  options.master_settings.clear();
  const auto setup_begin = SteadyClock::now();
  Progress("starting the master (" + backend.Name() + ")");
  test::Cluster cluster(options);
  cluster.StartMaster();
  failures.CheckNone("starting the master");
  for (const char* name : {"worker1", "worker2"}) {
    Progress(std::string("starting ") + name);
    test::WorkerOptions worker;
    worker.max_task_count = settings.worker_tasks;
    cluster.AddWorker(name, worker);
    failures.CheckNone(std::string("adding ") + name);
  }
  cluster.Deploy(kFolder, kProject, WriteProject(cluster.dir()));
  const json principal =
      cluster.ManageJson({"user", "add", "dispatch-bench", "--role", "admin", "--token"});
  failures.CheckNone("deploying the project and adding the benchmark's principal");
  if (!principal.contains("token")) Fail("no token in: " + principal.dump());
  const pid_t master_pid = FindMasterPid(cluster.dir());
  if (master_pid <= 0) Fail("cannot find the master's process");
  const Api api(cluster, principal["token"].get<std::string>());
  const double setup_seconds = SecondsSince(setup_begin);

  // Warm-up, not measured: every task slot of both workers holds a task at
  // once (each sleeps 300 ms), so each worker's pool has started a task
  // host per slot (an exec and the loading of the host and its plugins
  // each, tens of ms of CPU) and the master's statements are prepared, as
  // on a cluster that has been running for a while. Without the sleep the
  // tasks ended too soon to fill every slot, and the pools started the
  // rest of their hosts during the measurement.
  const int warmup_n = 2 * settings.worker_tasks;
  const Throughput warmup =
      WarmUp(api, kWarmupPackage, warmup_n, settings.clients, "executions",
             {{"parameters", json::array({{{"name", "NOOP_SLEEP_MS"}, {"value", "300"}}})}});
  // The same for executor/process: each task host loads a plugin the
  // first time it runs one of its tasks (a dlopen and the plugin's set-up,
  // milliseconds of CPU each), which a running cluster has long done.
  WarmUp(api, kProcessWarmupPackage, warmup_n, settings.clients, "executions of /bin/sleep 0.3");

  Progress("noop: " + std::to_string(settings.noop_n) + " executions");
  const Throughput noop =
      RunMany(api, kNoopPackage, settings.noop_n, settings.clients, settings.submit, settings.batch,
              std::chrono::seconds(120 + settings.noop_n / 20), master_pid);
  // The same with one run_execution call per execution, for comparison:
  // what a client that submits one execution at a time gets.
  std::optional<Throughput> per_call;
  if (settings.submit == "batch") {
    Progress("noop, one run_execution call each: " + std::to_string(settings.noop_n) +
             " executions");
    per_call = RunMany(api, kPerCallPackage, settings.noop_n, settings.clients, "run", 1,
                       std::chrono::seconds(120 + settings.noop_n / 20), master_pid);
  }
  Progress("latency: " + std::to_string(settings.latency_samples) + " samples");
  const CpuTimes latency_cpu_before = ReadCpuTimes(master_pid);
  const Latency latency = MeasureLatency(api, settings.latency_samples);
  const double latency_steal = StealFraction(latency_cpu_before, ReadCpuTimes(master_pid));
  // The bare loop runs just before and just after the process phase, and
  // the ratio takes both: this machine's speed drifts within seconds, and a
  // reference on one side only carried that drift into the ratio.
  Progress("bare: " + std::to_string(settings.process_n) + " spawns of /bin/true");
  const BareLoop bare_loop_before = RunBareLoop(settings.process_n);
  // The floor loop likewise, inside the bare loops, with its task folders
  // beside the cluster's in worker1's TasksRootFolder: the same file system
  // and a folder as full as the cluster's by then.
  const fs::path tasks_root = cluster.worker_dir("worker1") / "Tasks";
  if (!fs::is_directory(tasks_root)) Fail("no task folder at " + tasks_root.string());
  Progress("floor: " + std::to_string(settings.process_n) +
           " spawns of /bin/true, each with a task folder, a log and pipes");
  const BareLoop floor_loop_before = RunFloorLoop(settings.process_n, tasks_root, "before");
  Progress("process: " + std::to_string(settings.process_n) + " executions of /bin/true");
  const Throughput process =
      RunMany(api, kProcessPackage, settings.process_n, settings.clients, settings.submit,
              settings.batch, std::chrono::seconds(120 + settings.process_n / 5), master_pid);
  Progress("floor: " + std::to_string(settings.process_n) + " spawns of /bin/true, again");
  const BareLoop floor_loop_after = RunFloorLoop(settings.process_n, tasks_root, "after");
  Progress("bare: " + std::to_string(settings.process_n) + " spawns of /bin/true, again");
  const BareLoop bare_loop_after = RunBareLoop(settings.process_n);
  // Only now: removing the first loop's folders before the process phase
  // would leave it freed inodes to scan past (see Main) that the floor
  // loop did not meet.
  RemoveFloorFolders(settings.process_n, tasks_root, "before");
  RemoveFloorFolders(settings.process_n, tasks_root, "after");
  const double bare_before = bare_loop_before.spawns_per_second;
  const double bare_after = bare_loop_after.spawns_per_second;
  const double bare_rate = BothLoopsRate(bare_loop_before, bare_loop_after);
  const std::int64_t peak_kb = StatusKb(master_pid, "VmHWM");
  const std::int64_t rss_kb = StatusKb(master_pid, "VmRSS");

  const double noop_rate = static_cast<double>(noop.executions) / noop.seconds;
  const double process_rate = static_cast<double>(process.executions) / process.seconds;
  const double ratio = process_rate / bare_rate;
  const double p50 = Percentile(latency.dispatch_ms, 0.50);
  const double p99 = Percentile(latency.dispatch_ms, 0.99);
  const bool complete = !noop.timed_out && !process.timed_out && !latency.dispatch_ms.empty();
  json process_json = ThroughputJson(process);
  process_json["bare_spawns_per_second"] = bare_rate;
  process_json["bare_spawns_per_second_before"] = bare_before;
  process_json["bare_spawns_per_second_after"] = bare_after;
  process_json["bare_threads"] = 2;
  process_json["ratio_to_bare"] = ratio;
  // The same comparison in CPU, which time stolen by the hypervisor or idle
  // cores move less: the machine's busy CPU per bare spawn over its busy
  // CPU per execution. It is the rate ratio the cluster would reach with
  // both cores its own and never idle.
  const json bare_cpu = BothLoopsCpuJson(bare_loop_before, bare_loop_after);
  process_json["bare_cpu_us_per_spawn"] = bare_cpu;
  const double machine_us = process.cpu_us_per_execution.is_object()
                                ? process.cpu_us_per_execution.value("machine", 0.0)
                                : 0.0;
  process_json["cpu_ratio_to_bare"] =
      machine_us > 0 ? bare_cpu["machine"].get<double>() / machine_us : 0.0;
  process_json["floor"] =
      FloorJson(floor_loop_before, floor_loop_after, bare_rate, bare_cpu, machine_us);
  return {{"benchmark", "dispatch_bench"},
          {"quick", settings.quick},
          {"transport", backend.transport},
          {"storage", backend.storage + (backend.storage == "sqlite" ? " synchronous=FULL" : "")},
          {"workers", 2},
          {"worker_max_task_count", settings.worker_tasks},
          {"clients", settings.clients},
          {"submit", settings.submit == "run" ? json("run_execution")
                     : settings.submit == "batch"
                         ? json("run_executions of " + std::to_string(settings.batch))
                         : json("create_execution + start_execution")},
          {"hardware_threads", std::thread::hardware_concurrency()},
          {"complete", complete},
          {"setup_seconds", setup_seconds},
          {"warmup", {{"executions", warmup_n}, {"seconds", warmup.seconds}}},
          {"noop", ThroughputJson(noop)},
          {"noop_one_call_each", per_call ? ThroughputJson(*per_call) : json()},
          {"latency",
           {{"samples", latency.dispatch_ms.size()},
            {"missing", latency.missing},
            {"unsettled", latency.unsettled},
            {"machine_steal_fraction", latency_steal},
            {"measure",
             "attempt start_time in the catalog (written when a worker's claim commits; master "
             "clock, whole ms, so each sample is the middle of the millisecond it names) minus "
             "the client's wall clock when it sent start_execution; sequential, idle workers: "
             "each sample starts once the previous execution's event is in the catalog"},
            {"p50_ms", p50},
            {"p99_ms", p99},
            {"p50_upper_bound_ms", Percentile(latency.upper_ms, 0.50)},
            {"p99_upper_bound_ms", Percentile(latency.upper_ms, 0.99)},
            {"max_ms", Percentile(latency.dispatch_ms, 1.0)},
            {"start_call_p50_ms", Percentile(latency.start_call_ms, 0.50)},
            {"start_call_p99_ms", Percentile(latency.start_call_ms, 0.99)}}},
          {"process", process_json},
          {"master_rss", {{"peak_kb", peak_kb}, {"current_kb", rss_kb}}},
          {"targets",
           {{"noop_executions_per_second",
             {{"target", kTargetNoopPerSecond}, {"met", noop_rate >= kTargetNoopPerSecond}}},
            {"latency_p50_ms",
             {{"target", kTargetLatencyP50Ms}, {"met", complete && p50 <= kTargetLatencyP50Ms}}},
            {"latency_p99_ms",
             {{"target", kTargetLatencyP99Ms}, {"met", complete && p99 <= kTargetLatencyP99Ms}}},
            {"process_ratio_to_bare",
             {{"target", kTargetProcessRatio}, {"met", ratio >= kTargetProcessRatio}}}}}};
}

// The figures the matrix compares (JSON pointers into one report).
constexpr const char* kComparedFigures[] = {"/setup_seconds",
                                            "/noop/executions_per_second",
                                            "/noop/submitted_per_second",
                                            "/noop_one_call_each/executions_per_second",
                                            "/latency/p50_ms",
                                            "/latency/p99_ms",
                                            "/latency/start_call_p50_ms",
                                            "/process/executions_per_second",
                                            "/process/ratio_to_bare",
                                            "/process/floor/ratio_to_bare",
                                            "/master_rss/peak_kb"};

// Per figure, its value on each combination and the ratio to the first
// combination's value (https + sqlite when it ran): one line per figure to
// read across.
json Compare(const json& results, const std::vector<std::string>& names) {
  json figures = json::object();
  const std::string& baseline = names.front();
  for (const char* figure : kComparedFigures) {
    const json::json_pointer pointer(figure);
    json values = json::object();
    json ratios = json::object();
    const json* base = results[baseline].contains(pointer) ? &results[baseline][pointer] : nullptr;
    for (const std::string& name : names) {
      if (!results[name].contains(pointer)) continue;
      const json& value = results[name][pointer];
      values[name] = value;
      if (base != nullptr && base->get<double>() != 0) {
        ratios[name] = value.get<double>() / base->get<double>();
      }
    }
    figures[pointer.to_string().substr(1)] = {{"values", values}, {"ratio_to_" + baseline, ratios}};
  }
  return {{"baseline", baseline}, {"figures", figures}};
}

// Every combination in turn; the reports under "results", then "comparison".
json RunMatrix(const Settings& settings, const std::vector<test::Backend>& combinations,
               FailureCounter& failures) {
  json results = json::object();
  std::vector<std::string> names;
  bool complete = true;
  for (const test::Backend& backend : combinations) {
    if (const std::string why = backend.Unavailable(); !why.empty()) {
      // Reported, not fatal: the other combinations still say something.
      Progress("combination unavailable: " + why);
      results[backend.Name()] = {{"unavailable", why}};
      complete = false;
      continue;
    }
    Progress("=== " + backend.Name());
    results[backend.Name()] = RunCombination(settings, backend, failures);
    names.push_back(backend.Name());
    complete = complete && results[backend.Name()]["complete"].get<bool>();
  }
  json combination_names = json::array();
  for (const test::Backend& backend : combinations) combination_names.push_back(backend.Name());
  json report = {{"benchmark", "dispatch_bench"}, {"matrix", true},
                 {"quick", settings.quick},       {"combinations", combination_names},
                 {"complete", complete},          {"results", results}};
  if (!names.empty()) report["comparison"] = Compare(results, names);
  return report;
}

// Makes ext4 treat `dir` as the top of a directory hierarchy (chattr +T), so
// that each folder made in it starts in an allocation group of its own
// (Orlov), as on a fresh file system. Best effort: false where there is no
// such flag.
bool SpreadSubfolders(const fs::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return false;
  int flags = 0;
  bool set = ::ioctl(fd, FS_IOC_GETFLAGS, &flags) == 0;
  if (set && (flags & FS_TOPDIR_FL) == 0) {
    flags |= FS_TOPDIR_FL;
    set = ::ioctl(fd, FS_IOC_SETFLAGS, &flags) == 0;
  }
  ::close(fd);
  return set;
}

int Main(int argc, char** argv) {
  const Settings settings = ParseArgs(argc, argv);
  const std::vector<test::Backend> combinations = Combinations(settings);
  // Each cluster's folder goes in a scratch folder of this run whose
  // subfolders ext4 spreads over its allocation groups. Otherwise a cluster
  // lands in the group where the previous run (or combination) deleted its
  // tens of thousands of task folders, and on a journal-less ext4 every new
  // inode is then found by scanning past the inodes freed in the last
  // minutes: the tasks' folders would cost several times what they cost on
  // a settled file system, depending on how recently the benchmark ran.
  // Static, so that it is removed even when Fail() exits.
  static const test::TempDir scratch;
  const bool spread = SpreadSubfolders(scratch.path());
  ::setenv("TMPDIR", scratch.path().c_str(), 1);
  // stdout carries only the JSON document: anything else written there (the
  // harness's GoogleTest messages) goes to stderr.
  std::fflush(stdout);
  const int json_fd = dup(1);
  dup2(2, 1);
  auto* failures = new FailureCounter;  // owned by the listener list
  ::testing::UnitTest::GetInstance()->listeners().Append(failures);

  json report;
  if (combinations.size() == 1) {
    if (const std::string why = combinations[0].Unavailable(); !why.empty()) Fail(why);
    report = RunCombination(settings, combinations[0], *failures);
  } else {
    report = RunMatrix(settings, combinations, *failures);
  }
  report["cluster_folders_spread"] = spread;
  const std::string text = report.dump(2) + "\n";
  if (write(json_fd, text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
    Fail("cannot write the report");
  }
  close(json_fd);
  return 0;
}

}  // namespace
}  // namespace scaleout::bench

int main(int argc, char** argv) { return scaleout::bench::Main(argc, argv); }
