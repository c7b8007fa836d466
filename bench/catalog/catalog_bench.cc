// catalog_bench: execution life cycles per second through the catalog, with
// one transaction per operation versus group commit through the CatalogWriter,
// at synchronous=FULL and NORMAL, on a real SQLite file in a temp folder.
//
// Prints one JSON document on stdout (progress on stderr). Targets (see
// README.md): group commit at FULL >= 20x one transaction per operation, and
// >= 20,000 life cycles/s. The program reports whether they were met; it
// does not fail on them (machines differ), only on errors.
//
//   catalog_bench [--quick] [--seconds S] [--clients N] [--inflight M]
//                 [--batch B] [--workload catalog|shape] [--synchronous FULL|NORMAL]
//                 [--mode single|group] [--dir D] [--plugin-dir P]
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <pthread.h>
#include <sys/resource.h>
#include <time.h>

#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>

#include "bench/catalog/lifecycle.h"
#include "core/catalog/catalog_writer.h"
#include "core/catalog/limits.h"
#include "core/catalog/transaction.h"
#include "core/common/ids.h"
#include "host/plugin_loader.h"
#include "scaleout/sdk/config.h"
#include "scaleout/sdk/logger.h"

namespace scaleout::bench {
namespace {

namespace fs = std::filesystem;
namespace po = boost::program_options;
using core::catalog::CatalogWriter;
using sdk::Status;
using Clock = std::chrono::steady_clock;

struct Settings {
  bool quick = false;
  double seconds = 3.0;      // per configuration
  int clients = 8;           // client threads submitting to the writer
  int inflight = 512;        // life cycles each client keeps in flight
  std::size_t batch = 4096;  // CatalogWriter max_batch_size
  std::string workload = "catalog";
  std::size_t package_kib = 0;  // size of the catalog workload's package (0: a stub)
  int events = 0;               // event messages per life cycle (catalog workload)
  int cache_mib = 0;            // the SQLite page cache per connection (0: the plugin's default)
  std::string event_guids = "time-ordered";  // or "random"
  std::string only_synchronous;              // "FULL" or "NORMAL": run just that one
  std::string only_mode;                     // "single" or "group": run just that one
  fs::path dir;                              // where the database files go
  fs::path plugin_dir;
};

struct Measurement {
  std::string mode;         // "single" or "group"
  std::string synchronous;  // "FULL" or "NORMAL"
  int clients = 1;
  int inflight = 1;
  std::uint64_t lifecycles = 0;
  std::uint64_t ops = 0;
  std::uint64_t transactions = 0;
  double seconds = 0;
  double average_batch_size = 0;
  // CPU time of the thread that runs the catalog operations (the writer, or
  // the one thread of "single") and of the whole process. On a shared
  // machine the wall-clock rate depends on what else runs; CPU per life cycle
  // does not, and says what one dedicated core would reach.
  double writer_cpu_seconds = 0;
  double process_cpu_seconds = 0;
  double lifecycles_per_s() const {
    return seconds > 0 ? static_cast<double>(lifecycles) / seconds : 0;
  }
  double writer_cpu_us_per_lifecycle() const {
    return lifecycles > 0 ? writer_cpu_seconds * 1e6 / static_cast<double>(lifecycles) : 0;
  }
  double lifecycles_per_writer_cpu_s() const {
    return writer_cpu_seconds > 0 ? static_cast<double>(lifecycles) / writer_cpu_seconds : 0;
  }
  double ops_per_s() const { return seconds > 0 ? static_cast<double>(ops) / seconds : 0; }
};

// A fresh database for one configuration, through the real storage plugin.
class Database {
 public:
  // `cache_mib` 0: the plugin's default page cache.
  Database(host::PluginLoader& loader, const fs::path& file, const std::string& synchronous,
           int cache_mib)
      : file_(file) {
    fs::remove(file);
    fs::remove(file.string() + "-wal");
    fs::remove(file.string() + "-shm");
    sdk::ConfigView::Map values{
        {"path", file.string()}, {"synchronous", synchronous}, {"journal_mode", "WAL"}};
    if (cache_mib > 0) values["cache_size_mib"] = std::to_string(cache_mib);
    auto storage = loader.CreateStorage("sqlite", sdk::ConfigView(values, "storage.sqlite"));
    if (!storage.ok()) {
      status_ = storage.status();
      return;
    }
    storage_ = std::move(storage).value();
    status_ = storage_->Start();
  }
  ~Database() {
    if (storage_ != nullptr) storage_->Stop();
  }
  const Status& status() const { return status_; }
  sdk::Storage& storage() { return *storage_; }

 private:
  fs::path file_;
  host::PluginPtr<sdk::Storage> storage_;
  Status status_;
};

// CPU seconds consumed so far by the clock `id` (a thread's or the process's).
double CpuSeconds(clockid_t id) {
  timespec ts{};
  if (clock_gettime(id, &ts) != 0) return 0;
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

double ProcessCpuSeconds() { return CpuSeconds(CLOCK_PROCESS_CPUTIME_ID); }

Clock::time_point Deadline(Clock::time_point start, double seconds) {
  return start +
         std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
}

// ---- one transaction per operation ------------------------------------------------------

sdk::Result<Measurement> RunSingle(sdk::Storage& storage, const Workload& workload,
                                   const Settings& settings) {
  SCALEOUT_ASSIGN_OR_RETURN(auto connection, storage.Open());
  const sdk::Dialect& dialect = storage.GetDialect();
  Measurement m;
  m.mode = "single";
  const double cpu_start = CpuSeconds(CLOCK_THREAD_CPUTIME_ID);
  const double process_start = ProcessCpuSeconds();
  const auto start = Clock::now();
  const Clock::time_point deadline = Deadline(start, settings.seconds);
  Lifecycle lc;
  std::size_t next_worker = 0;
  while (lc.step != 0 || Clock::now() < deadline) {
    if (lc.step == 0) lc.worker = next_worker++ % workload.workers();
    SCALEOUT_RETURN_IF_ERROR(core::catalog::RunInTransaction(
        *connection, sdk::TransactionMode::kWrite,
        [&](sdk::Connection& c) { return workload.Step(c, dialect, lc); }));
    ++m.ops;
    ++m.transactions;
    if (lc.step == 2 && !lc.claimed) continue;
    lc.step = (lc.step + 1) % kStepsPerLifecycle;
    if (lc.step == 0) ++m.lifecycles;
  }
  m.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  m.writer_cpu_seconds = CpuSeconds(CLOCK_THREAD_CPUTIME_ID) - cpu_start;
  m.process_cpu_seconds = ProcessCpuSeconds() - process_start;
  m.average_batch_size = 1.0;
  return m;
}

// ---- group commit through the CatalogWriter ---------------------------------------------

class Client;

// One life cycle in flight: the intrusive request the writer runs. Owned by
// its Client; Done() runs on the writer thread and hands it back.
class LifecycleRequest final : public CatalogWriter::Request {
 public:
  LifecycleRequest(Client* client, const Workload* workload, const sdk::Dialect* dialect)
      : client_(client), workload_(workload), dialect_(dialect) {}
  Status Run(sdk::Connection& connection) override {
    return workload_->Step(connection, *dialect_, lifecycle);
  }
  bool CatalogOpsOnly() const override { return workload_->CatalogOpsOnly(); }
  void Done(Status status) override;

  Lifecycle lifecycle;
  Status outcome;

 private:
  Client* client_;
  const Workload* workload_;
  const sdk::Dialect* dialect_;
};

// A client thread: keeps `inflight` life cycles going, submitting each next
// step when the previous one is acknowledged.
class Client {
 public:
  Client(CatalogWriter& writer, const Workload& workload, const sdk::Dialect& dialect, int inflight,
         std::size_t first_worker)
      : writer_(writer) {
    requests_.reserve(static_cast<std::size_t>(inflight));
    for (int i = 0; i < inflight; ++i) {
      requests_.push_back(std::make_unique<LifecycleRequest>(this, &workload, &dialect));
      requests_.back()->lifecycle.worker = (first_worker + i) % workload.workers();
    }
    done_.reserve(requests_.size());
  }

  void Acknowledge(LifecycleRequest* request) {
    bool wake = false;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      done_.push_back(request);
      wake = waiting_;
    }
    if (wake) cv_.notify_one();
  }

  // Runs until `deadline`, then lets every life cycle in flight finish.
  void Run(Clock::time_point deadline) {
    for (auto& r : requests_) writer_.Submit(*r);
    std::size_t active = requests_.size();
    std::vector<LifecycleRequest*> batch;
    batch.reserve(requests_.size());
    while (active > 0) {
      {
        std::unique_lock<std::mutex> lock(mutex_);
        waiting_ = true;
        cv_.wait(lock, [&] { return !done_.empty(); });
        waiting_ = false;
        batch.swap(done_);
      }
      const bool open = Clock::now() < deadline;
      for (LifecycleRequest* r : batch) {
        ++ops;
        if (!r->outcome.ok()) {
          if (error.ok()) error = r->outcome;
          --active;
          continue;
        }
        Lifecycle& lc = r->lifecycle;
        if (!(lc.step == 2 && !lc.claimed)) lc.step = (lc.step + 1) % kStepsPerLifecycle;
        if (lc.step == 0) {
          ++lifecycles;
          if (!open) {
            --active;
            continue;
          }
        }
        writer_.Submit(*r);
      }
      batch.clear();
    }
  }

  std::uint64_t ops = 0;
  std::uint64_t lifecycles = 0;
  Status error;

 private:
  CatalogWriter& writer_;
  std::vector<std::unique_ptr<LifecycleRequest>> requests_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<LifecycleRequest*> done_;  // guarded by mutex_
  bool waiting_ = false;                 // guarded by mutex_
};

void LifecycleRequest::Done(Status status) {
  outcome = std::move(status);
  client_->Acknowledge(this);
}

sdk::Result<Measurement> RunGroup(sdk::Storage& storage, const Workload& workload,
                                  const Settings& settings) {
  core::catalog::CatalogWriterOptions options;
  options.max_batch_size = settings.batch;
  SCALEOUT_ASSIGN_OR_RETURN(auto writer, CatalogWriter::Open(storage, options));
  // The writer thread's CPU clock, read from an op (ops run on that thread).
  clockid_t writer_clock{};
  SCALEOUT_RETURN_IF_ERROR(writer->Execute([&writer_clock](sdk::Connection&) -> Status {
    if (pthread_getcpuclockid(pthread_self(), &writer_clock) != 0) {
      return Status::Internal("pthread_getcpuclockid failed");
    }
    return Status::Ok();
  }));
  std::vector<std::unique_ptr<Client>> clients;
  clients.reserve(static_cast<std::size_t>(settings.clients));
  for (int i = 0; i < settings.clients; ++i) {
    clients.push_back(std::make_unique<Client>(*writer, workload, storage.GetDialect(),
                                               settings.inflight,
                                               static_cast<std::size_t>(i) * settings.inflight));
  }
  const double writer_cpu_start = CpuSeconds(writer_clock);
  const double process_start = ProcessCpuSeconds();
  const auto start = Clock::now();
  const Clock::time_point deadline = Deadline(start, settings.seconds);
  std::vector<std::thread> threads;
  threads.reserve(clients.size());
  for (auto& c : clients) threads.emplace_back([&c, deadline] { c->Run(deadline); });
  for (auto& t : threads) t.join();
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  // Read while the writer thread still exists (its clock dies with it).
  const double writer_cpu = CpuSeconds(writer_clock) - writer_cpu_start;
  const double process_cpu = ProcessCpuSeconds() - process_start;
  writer->Stop();

  Measurement m;
  m.mode = "group";
  m.clients = settings.clients;
  m.inflight = settings.inflight;
  m.seconds = seconds;
  m.writer_cpu_seconds = writer_cpu;
  m.process_cpu_seconds = process_cpu;
  for (auto& c : clients) {
    SCALEOUT_RETURN_IF_ERROR(c->error);
    m.ops += c->ops;
    m.lifecycles += c->lifecycles;
  }
  const auto stats = writer->stats();
  m.transactions = stats.batches;
  m.average_batch_size = stats.average_batch_size();
  return m;
}

// ---- driver -------------------------------------------------------------------------------

WorkloadOptions OptionsOf(const Settings& settings) {
  return {settings.package_kib * 1024, settings.events, settings.event_guids == "random"};
}

sdk::Result<Measurement> RunOne(host::PluginLoader& loader, const Settings& settings,
                                const std::string& mode, const std::string& synchronous) {
  Database db(loader, settings.dir / ("catalog-" + mode + "-" + synchronous + ".db"), synchronous,
              settings.cache_mib);
  SCALEOUT_RETURN_IF_ERROR(db.status());
  auto workload = MakeWorkload(settings.workload, OptionsOf(settings));
  {
    SCALEOUT_ASSIGN_OR_RETURN(auto setup, db.storage().Open());
    SCALEOUT_RETURN_IF_ERROR(
        workload->Setup(*setup, db.storage().GetDialect()).WithContext("setting up"));
  }
  std::fprintf(stderr, "catalog_bench: %s, synchronous=%s ...\n", mode.c_str(),
               synchronous.c_str());
  auto m = mode == "single" ? RunSingle(db.storage(), *workload, settings)
                            : RunGroup(db.storage(), *workload, settings);
  if (m.ok()) m->synchronous = synchronous;
  return m;
}

nlohmann::json ToJson(const Measurement& m) {
  return {{"mode", m.mode},
          {"synchronous", m.synchronous},
          {"clients", m.clients},
          {"inflight_per_client", m.inflight},
          {"lifecycles", m.lifecycles},
          {"ops", m.ops},
          {"transactions", m.transactions},
          {"seconds", m.seconds},
          {"lifecycles_per_s", m.lifecycles_per_s()},
          {"ops_per_s", m.ops_per_s()},
          {"average_batch_size", m.average_batch_size},
          {"writer_cpu_seconds", m.writer_cpu_seconds},
          {"process_cpu_seconds", m.process_cpu_seconds},
          {"writer_cpu_us_per_lifecycle", m.writer_cpu_us_per_lifecycle()},
          {"lifecycles_per_writer_cpu_s", m.lifecycles_per_writer_cpu_s()}};
}

int Main(int argc, char** argv) {
  Settings s;
  std::string dir;
  std::string plugin_dir;
  po::options_description desc("catalog_bench options");
  desc.add_options()("help", "show this help")("quick", po::bool_switch(&s.quick),
                                               "a short smoke run (CI): small and fast")(
      "seconds", po::value(&s.seconds), "seconds per configuration (default 3)")(
      "clients", po::value(&s.clients), "client threads in group mode (default 8)")(
      "inflight", po::value(&s.inflight), "life cycles in flight per client (default 512)")(
      "batch", po::value(&s.batch), "CatalogWriter max_batch_size (default 4096)")(
      "workload", po::value(&s.workload), "catalog (real procedures) or shape (default catalog)")(
      "package-kib", po::value(&s.package_kib),
      "size of the catalog workload's package in KiB (default 0: a ten-byte stub)")(
      "events", po::value(&s.events),
      "event messages the catalog workload stores per life cycle, with its complete step "
      "(default 0; a noop task reports 1)")(
      "cache-mib", po::value(&s.cache_mib),
      "SQLite page cache per connection in MiB (default: storage/sqlite's cache_size_mib)")(
      "event-guids", po::value(&s.event_guids),
      "the events' GUIDs: time-ordered (default, as workers make them) or random")(
      "synchronous", po::value(&s.only_synchronous), "run only FULL or NORMAL (default both)")(
      "mode", po::value(&s.only_mode), "run only single or group (default both)")(
      "dir", po::value(&dir), "folder for the database files (default: a new temp folder)")(
      "plugin-dir", po::value(&plugin_dir), "where libscaleout_storage_sqlite.so is");
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, desc), vm);
    po::notify(vm);
  } catch (const std::exception& e) {
    std::cerr << "catalog_bench: " << e.what() << "\n" << desc;
    return 2;
  }
  if (vm.count("help")) {
    std::cout << desc;
    return 0;
  }
  if (s.quick) {
    if (!vm.count("seconds")) s.seconds = 0.2;
    if (!vm.count("clients")) s.clients = 2;
    if (!vm.count("inflight")) s.inflight = 16;
  }
  const bool bad_only = !(s.only_synchronous.empty() || s.only_synchronous == "FULL" ||
                          s.only_synchronous == "NORMAL") ||
                        !(s.only_mode.empty() || s.only_mode == "single" || s.only_mode == "group");
  const bool bad_events = s.cache_mib < 0 || s.events < 0 ||
                          s.events > static_cast<int>(core::catalog::kMaxEventsPerBatch) ||
                          !(s.event_guids == "time-ordered" || s.event_guids == "random");
  if (MakeWorkload(s.workload) == nullptr || s.clients < 1 || s.inflight < 1 || s.batch < 1 ||
      bad_only || bad_events) {
    std::cerr << "catalog_bench: bad options\n" << desc;
    return 2;
  }
  if (s.package_kib > core::catalog::kMaxPackageBytes / 1024) {
    std::cerr << "catalog_bench: --package-kib must be at most "
              << core::catalog::kMaxPackageBytes / 1024 << " (the catalog's package size limit)\n";
    return 2;
  }
  const bool own_dir = dir.empty();
  s.dir = own_dir ? fs::temp_directory_path() / ("scaleout-catalog-bench-" + core::NewGuid())
                  : fs::path(dir);
  fs::create_directories(s.dir);
  s.plugin_dir = plugin_dir.empty() ? host::DefaultPluginDir() : fs::path(plugin_dir);

  sdk::NullLogger logger;
  host::PluginLoader loader(logger);
  Status loaded = loader.LoadFile(s.plugin_dir / "libscaleout_storage_sqlite.so");
  if (!loaded.ok()) {
    std::cerr << "catalog_bench: " << loaded.ToString() << "\n";
    return 1;
  }

  nlohmann::json results = nlohmann::json::array();
  std::map<std::string, Measurement> by_key;
  int rc = 0;
  for (const std::string sync : {"FULL", "NORMAL"}) {
    if (!s.only_synchronous.empty() && s.only_synchronous != sync) continue;
    for (const std::string mode : {"single", "group"}) {
      if (!s.only_mode.empty() && s.only_mode != mode) continue;
      auto m = RunOne(loader, s, mode, sync);
      if (!m.ok()) {
        std::cerr << "catalog_bench: " << mode << " " << sync << ": " << m.status().ToString()
                  << "\n";
        rc = 1;
        continue;
      }
      results.push_back(ToJson(*m));
      std::string key = mode;
      key += "/";
      key += sync;
      by_key[key] = *m;
    }
  }
  if (own_dir) fs::remove_all(s.dir);

  const double single_full = by_key["single/FULL"].lifecycles_per_s();
  const double group_full = by_key["group/FULL"].lifecycles_per_s();
  const double ratio = single_full > 0 ? group_full / single_full : 0;
  auto workload = MakeWorkload(s.workload);
  nlohmann::json out = {{"benchmark", "catalog_bench"},
                        {"workload", workload->name()},
                        {"workload_description", workload->description()},
                        {"package_kib", s.package_kib},
                        {"events_per_lifecycle", s.workload == "catalog" ? s.events : 0},
                        {"event_guids", s.event_guids},
                        {"cache_mib", s.cache_mib},
                        {"quick", s.quick},
                        {"seconds_per_config", s.seconds},
                        {"writer_max_batch_size", s.batch},
                        {"ops_per_lifecycle", kStepsPerLifecycle},
                        {"configs", results},
                        {"group_over_single_full", ratio},
                        {"targets",
                         {{"group_over_single_full_min", 20},
                          {"group_full_lifecycles_per_s_min", 20000},
                          {"ratio_met", ratio >= 20},
                          {"throughput_met", group_full >= 20000}}}};
  std::cout << out.dump(2) << std::endl;
  return rc;
}

}  // namespace
}  // namespace scaleout::bench

int main(int argc, char** argv) { return scaleout::bench::Main(argc, argv); }
