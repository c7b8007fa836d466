#include "core/master/master.h"

#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include "core/catalog/maintenance.h"
#include "core/catalog/principals.h"
#include "core/catalog/procedures.h"
#include "core/catalog/roles.h"
#include "core/catalog/scheduler.h"
#include "core/catalog/schema.h"
#include "core/catalog/sensitive_values.h"
#include "core/catalog/transaction.h"
#include "core/master/catalog_key_file.h"
#include "core/master/responses.h"

namespace scaleout::core::master {
namespace {

std::string HostName() {
  char buffer[256] = {};
  if (gethostname(buffer, sizeof(buffer) - 1) != 0) return "unknown";
  return buffer;
}

}  // namespace

// Routes each request to the worker service or a registered prefix.
class Master::Dispatcher final : public sdk::RequestHandler {
 public:
  explicit Dispatcher(Master& master) : master_(master) {}

  void OnRequest(const sdk::Request& request,
                 std::unique_ptr<sdk::Responder> responder) noexcept override {
    try {
      if (master_.workers_->Handle(request, responder)) return;
      // The longest matching prefix wins, so "/" (the dashboard) never
      // shadows "/api/v1/" whatever the order the routes were added in.
      const RouteHandler* best = nullptr;
      std::size_t best_length = 0;
      for (const auto& [prefix, handler] : master_.routes_) {
        if (request.target.starts_with(prefix) &&
            (best == nullptr || prefix.size() > best_length)) {
          best = &handler;
          best_length = prefix.size();
        }
      }
      if (best != nullptr) {
        (*best)(request, std::move(responder));
        return;
      }
      responder->Send(UnknownEndpointResponse(request.target));
    } catch (const std::exception& e) {
      if (responder) responder->Send(ErrorResponse(sdk::Status::Internal(e.what())));
    } catch (...) {
      if (responder) responder->Send(ErrorResponse(sdk::Status::Internal("unexpected error")));
    }
  }

 private:
  Master& master_;
};

Master::Master(MasterSettings settings, sdk::Storage& storage, sdk::Transport& transport,
               Clock& clock, sdk::Logger& logger)
    : settings_(std::move(settings)),
      storage_(storage),
      transport_(transport),
      clock_(clock),
      logger_(logger),
      trust_(logger) {}

Master::~Master() { Stop(); }

void Master::AddRoute(std::string prefix, RouteHandler handler) {
  routes_.emplace_back(std::move(prefix), std::move(handler));
}

sdk::Status Master::Start() {
  if (started_) return sdk::Status::FailedPrecondition("the master is already started");
  // Migrations run on a connection of their own, before anything else.
  {
    auto connection = catalog::OpenCatalog(storage_, clock_);
    if (!connection.ok()) return connection.status().WithContext("opening the catalog");
    SCALEOUT_RETURN_IF_ERROR(
        PrepareCatalogKey(**connection)
            .WithContext("preparing the catalog key (CatalogEncryptionKeyFile)"));
  }
  catalog::CatalogWriterOptions writer_options;
  writer_options.max_batch_size = static_cast<std::size_t>(settings_.group_commit_max_batch);
  writer_options.after_commit = [this](std::size_t) {
    if (workers_) workers_->OnCommit();
  };
  auto writer = catalog::CatalogWriter::Open(storage_, std::move(writer_options));
  if (!writer.ok()) return writer.status().WithContext("starting the catalog writer");
  writer_ = std::move(writer).value();

  WorkerServiceOptions worker_options;
  worker_options.max_long_poll_ms = settings_.max_long_poll_ms;
  worker_options.lease_interval_ms = settings_.lease_interval_ms;
  worker_options.default_executor = settings_.executor;
  worker_options.catalog_key = catalog_key();
  worker_options.on_work_may_be_available = [this] {
    if (ServerTaskHost* host = server_tasks_to_wake_.load()) host->WakeForWork();
  };
  workers_ = std::make_unique<WorkerService>(*writer_, storage_.GetDialect(), clock_, trust_,
                                             logger_, worker_options);
  writer_->SetBeforeCommit([this](std::vector<catalog::CatalogWriter::Request*>& more) {
    if (workers_) workers_->ClaimInBatch(more);
  });
  SCALEOUT_RETURN_IF_ERROR(ReloadTrust().WithContext("loading the trusted workers"));
  workers_->Start();

  dispatcher_ = std::make_unique<Dispatcher>(*this);
  sdk::ServerOptions server_options;
  server_options.bind_address = settings_.bind_address;
  server_options.port = static_cast<std::uint16_t>(settings_.port_number);
  server_options.cert_file = settings_.ssl_cert_file;
  server_options.key_file = settings_.ssl_key_file;
  server_options.require_client_credential = false;  // management callers may use tokens
  server_options.max_body_bytes = static_cast<std::size_t>(settings_.max_request_bytes);
  server_options.max_connections = static_cast<std::size_t>(settings_.max_connections);
  auto server = transport_.Listen(server_options, *dispatcher_, trust_);
  if (!server.ok()) {
    Stop();
    return server.status().WithContext("listening on " + settings_.bind_address + ":" +
                                       std::to_string(settings_.port_number));
  }
  server_ = std::move(server).value();

  if (sdk::Status s = StartServerTasks(); !s.ok()) {
    Stop();
    return s.WithContext("starting the server-mode task host");
  }

  sweeper_ = std::make_unique<Sweeper>(clock_, logger_);
  AddSweeps();
  sweeper_->Start();
  started_ = true;
  logger_.Info("master listening on " + settings_.bind_address + ":" + std::to_string(port()) +
               " (" + storage_.Describe() + ")");
  return sdk::Status::Ok();
}

sdk::Status Master::PrepareCatalogKey(sdk::Connection& connection) {
  if (settings_.catalog_encryption_key_file.empty()) {
    return sdk::Status::InvalidArgument("CatalogEncryptionKeyFile is not set");
  }
  const std::filesystem::path file = settings_.catalog_encryption_key_file;
  auto recorded = catalog::RunInTransactionWithResult<std::optional<std::string>>(
      connection, sdk::TransactionMode::kRead,
      [](sdk::Connection& c) { return catalog::RecordedKeyId(c); });
  if (!recorded.ok()) return recorded.status();
  // A catalog that has sealed values never gets a new key: they would not open.
  auto loaded = LoadCatalogKey(file, !recorded->has_value());
  if (!loaded.ok()) return loaded.status();
  catalog_key_.emplace(std::move(loaded->key));
  auto protect = catalog::RunInTransactionWithResult<catalog::ProtectResult>(
      connection, sdk::TransactionMode::kWrite, [this](sdk::Connection& c) {
        catalog::Txn txn{c, storage_.GetDialect(), clock_.NowUnixMillis()};
        return catalog::ProtectSensitiveValues(txn, *catalog_key_);
      });
  if (!protect.ok()) {
    if (std::filesystem::exists(file.string() + ".next")) {
      return protect.status().WithContext(
          "a key rotation was interrupted (" + file.string() +
          ".next exists): run 'scaleout master rotate-key' with this configuration again to "
          "finish it");
    }
    return protect.status();
  }
  if (loaded->created) {
    logger_.Warn("made a new catalog key " + catalog_key_->id() + " in " + file.string() +
                 ": it seals the catalog's sensitive values; back it up with the catalog");
  }
  if (protect->sealed > 0) {
    logger_.Info("sealed " + std::to_string(protect->sealed) +
                 " sensitive value(s) the catalog kept in plaintext");
  }
  return sdk::Status::Ok();
}

sdk::Status Master::StartServerTasks() {
  if (server_launcher_ == nullptr || settings_.server_max_task_count <= 0) return sdk::Status::Ok();
  ServerTaskHostOptions options;
  options.max_task_count = settings_.server_max_task_count;
  options.lease_interval_ms = settings_.lease_interval_ms;
  options.max_long_poll_ms = std::max<std::int64_t>(settings_.max_long_poll_ms, 1);
  options.data_folder = (std::filesystem::path(settings_.data_dir) / "Server").string();
  options.executor = settings_.executor;
  options.catalog_key = catalog_key();
  for (const auto& [section, values] : settings_.plugin_sections) {
    if (section.rfind("executor.", 0) == 0) options.plugin_sections[section] = values;
  }
  options.executor_for = [this](const std::string& package) {
    return workers_->ExecutorFor(package);
  };
  server_tasks_ = std::make_unique<ServerTaskHost>(*writer_, storage_.GetDialect(), clock_,
                                                   *server_launcher_, std::move(options));
  SCALEOUT_RETURN_IF_ERROR(server_tasks_->Start());
  server_tasks_to_wake_.store(server_tasks_.get());
  logger_.Info("server mode: up to " + std::to_string(settings_.server_max_task_count) +
               " task(s) at once on the master's task host");
  return sdk::Status::Ok();
}

void Master::Stop() {
  if (server_) server_->Stop();
  // Before the writer stops: the task host reports through it.
  if (server_tasks_) server_tasks_->Stop();
  if (sweeper_) sweeper_->Stop();
  if (workers_) workers_->Stop();
  if (writer_) {
    writer_->Stop();
    // One line that says how well group commit batched (operators tuning
    // GroupCommitMaxBatch, and benchmarks, read it).
    const catalog::CatalogWriterStats s = writer_->stats();
    if (s.batches > 0) {
      char average[32];
      std::snprintf(average, sizeof average, "%.1f", s.average_batch_size());
      logger_.Info("catalog writer: " + std::to_string(s.ops) + " operations in " +
                   std::to_string(s.batches) + " transactions (" + average + " per transaction), " +
                   std::to_string(s.failed_ops) + " refused, " + std::to_string(s.busy_retries) +
                   " busy retries");
    }
  }
  server_.reset();
  started_ = false;
}

std::uint16_t Master::port() const { return server_ ? server_->port() : 0; }

sdk::Status Master::ReloadTrust() {
  auto workers = writer_->Execute(
      [this](sdk::Connection& c) -> sdk::Result<std::vector<catalog::WorkerAgent>> {
        catalog::Txn txn{c, storage_.GetDialect(), clock_.NowUnixMillis()};
        return catalog::ListWorkerAgents(txn, catalog::Caller::Admin("master"));
      });
  if (!workers.ok()) return workers.status();
  TrustStore::Map peers;
  for (const auto& w : *workers) {
    peers[w.cert_sha256] = TrustedPeer{TrustedPeer::Kind::kWorker, w.worker_agent_id};
  }
  // Management principals that authenticate with a client certificate.
  auto principals =
      writer_->Execute([this](sdk::Connection& c) -> sdk::Result<std::vector<catalog::Principal>> {
        catalog::Txn txn{c, storage_.GetDialect(), clock_.NowUnixMillis()};
        return catalog::LoadAllPrincipals(txn);
      });
  if (!principals.ok()) return principals.status();
  for (const auto& p : *principals) {
    if (p.credential_kind != catalog::kCredentialCertificate) continue;
    peers.emplace(p.credential, TrustedPeer{TrustedPeer::Kind::kPrincipal, p.name});
  }
  trust_.Replace(std::move(peers));
  return sdk::Status::Ok();
}

sdk::Status Master::SweepExpiredTasks() {
  while (true) {
    auto summary =
        writer_->Execute([this](sdk::Connection& c) -> sdk::Result<catalog::ExpireSummary> {
          catalog::Txn txn{c, storage_.GetDialect(), clock_.NowUnixMillis()};
          auto result = catalog::ExpireLeases(txn, 1000);
          if (result.ok() && result->retried > 0) workers_->NoteWorkMayBeAvailable();
          return result;
        });
    if (!summary.ok()) return summary.status();
    if (summary->expired > 0) {
      logger_.Info("expired " + std::to_string(summary->expired) +
                   " task(s): " + std::to_string(summary->retried) + " retried, " +
                   std::to_string(summary->ended) + " ended");
    }
    if (summary->expired < 1000) return sdk::Status::Ok();
  }
}

sdk::Status Master::SweepCatalogMaintenance() {
  catalog::MaintenanceResult total;
  // Passes of 1,000 executions and versions, each its own transaction, so
  // claims and results wait for none of them long.
  for (int pass = 0; pass < kMaxMaintenancePasses; ++pass) {
    auto result =
        writer_->Execute([this](sdk::Connection& c) -> sdk::Result<catalog::MaintenanceResult> {
          catalog::Txn txn{c, storage_.GetDialect(), clock_.NowUnixMillis()};
          return catalog::RunCatalogMaintenance(txn, 1000);
        });
    if (!result.ok()) return result.status();
    total.executions += result->executions;
    total.operations += result->operations;
    total.versions += result->versions;
    total.projects += result->projects;
    if (!result->more) break;
  }
  if (total.any()) {
    logger_.Info("catalog maintenance: deleted " + std::to_string(total.executions) +
                 " execution(s) and " + std::to_string(total.operations) +
                 " other operation(s) past RETENTION_WINDOW, " + std::to_string(total.versions) +
                 " project version(s) beyond MAX_PROJECT_VERSIONS or of deleted projects, " +
                 std::to_string(total.projects) + " deleted project(s)");
  }
  return sdk::Status::Ok();
}

void Master::AddSweeps() {
  const sdk::Dialect& dialect = storage_.GetDialect();
  sweeper_->Add({"expired-tasks", settings_.deal_with_expired_tasks_interval_ms,
                 settings_.restart_grace_period_ms, [this] { return SweepExpiredTasks(); }});
  sweeper_->Add({"cleanup-completed-jobs", settings_.cleanup_completed_jobs_interval_ms,
                 settings_.cleanup_completed_jobs_interval_ms, [this, &dialect] {
                   return writer_->Execute([&](sdk::Connection& c) {
                     catalog::Txn txn{c, dialect, clock_.NowUnixMillis()};
                     return catalog::CleanupCompletedJobs(
                                txn, txn.now - settings_.cleanup_completed_jobs_interval_ms)
                         .status();
                   });
                 }});
  sweeper_->Add({"catalog-maintenance", kCatalogMaintenanceIntervalMs,
                 kCatalogMaintenanceFirstDelayMs, [this] { return SweepCatalogMaintenance(); }});
  catalog::MasterInfo info;
  info.machine_name = HostName();
  info.service_port = port();
  info.ssl_cert_thumbprint = settings_.ssl_cert_thumbprint;
  info.master_address = settings_.master_address.empty()
                            ? "https://" + info.machine_name + ":" + std::to_string(port())
                            : settings_.master_address;
  sweeper_->Add(
      {"master-heartbeat", settings_.master_heartbeat_interval_ms, 0, [this, &dialect, info] {
         return writer_->Execute([&](sdk::Connection& c) {
           catalog::Txn txn{c, dialect, clock_.NowUnixMillis()};
           return catalog::WriteMasterHeartbeat(txn, info);
         });
       }});
  const std::int64_t offline_check = std::max<std::int64_t>(
      1, std::min<std::int64_t>(settings_.worker_offline_timeout_ms / 3, 10'000));
  sweeper_->Add(
      {"offline-workers", offline_check, offline_check, [this, &dialect] {
         return writer_->Execute([&](sdk::Connection& c) {
           catalog::Txn txn{c, dialect, clock_.NowUnixMillis()};
           return catalog::MarkWorkersOffline(txn, settings_.worker_offline_timeout_ms).status();
         });
       }});
  sweeper_->Add({"trust-reload", 5'000, 5'000, [this] { return ReloadTrust(); }});
}

}  // namespace scaleout::core::master
