#include "core/management/service.h"

#include <unistd.h>

#include "core/catalog/principals.h"
#include "core/common/thread_name.h"
#include "core/management/metrics.h"
#include "core/master/responses.h"
#include "core/protocol/codec.h"
#include "core/security/certificates.h"
#include "scaleout/sdk/version.h"

namespace scaleout::core::management {
namespace {

using nlohmann::json;

sdk::Response JsonResponse(int status, const json& body) {
  sdk::Response response;
  response.status = status;
  response.content_type = "application/json";
  response.body = body.dump();
  return response;
}

sdk::Response JsonError(const sdk::Status& status) {
  return JsonResponse(master::HttpStatusFor(status.code()),
                      json{{"error",
                            {{"code", std::string(sdk::StatusCodeName(status.code()))},
                             {"message", status.message()}}}});
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string UrlDecode(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '+') {
      out += ' ';
    } else if (text[i] == '%' && i + 2 < text.size() + 0 && HexValue(text[i + 1]) >= 0 &&
               HexValue(text[i + 2]) >= 0) {
      out += static_cast<char>(HexValue(text[i + 1]) * 16 + HexValue(text[i + 2]));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

json QueryArgs(std::string_view query) {
  json args = json::object();
  while (!query.empty()) {
    const std::size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    const std::size_t eq = pair.find('=');
    if (!pair.empty()) {
      args[UrlDecode(pair.substr(0, eq))] =
          eq == std::string_view::npos ? std::string() : UrlDecode(pair.substr(eq + 1));
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return args;
}

json OperationsDocument() {
  json out = json::array();
  for (const Operation& op : Operations()) {
    out.push_back({{"name", op.name},
                   {"summary", op.summary},
                   {"roles", op.roles},
                   {"method", op.writes ? "POST" : "GET or POST"}});
  }
  return out;
}

}  // namespace

sdk::Result<std::optional<std::string>> EnsureFirstAdmin(catalog::Txn& txn, std::string_view name) {
  SCALEOUT_ASSIGN_OR_RETURN(std::int64_t count, catalog::CountPrincipals(txn));
  if (count > 0) return std::optional<std::string>();
  SCALEOUT_ASSIGN_OR_RETURN(std::string token, GenerateToken());
  catalog::Principal admin;
  admin.name = std::string(name);
  admin.credential_kind = std::string(catalog::kCredentialToken);
  admin.credential = HashToken(token);
  admin.roles = {std::string(catalog::kRoleAdmin)};
  SCALEOUT_RETURN_IF_ERROR(
      catalog::CreatePrincipal(txn, catalog::Caller::Admin("master init"), admin));
  return std::optional<std::string>(token);
}

std::string FirstAdminNotice(std::string_view name, std::string_view token,
                             std::string_view master_url, std::string_view master_thumbprint) {
  std::string text;
  text += "Created the first admin principal '" + std::string(name) + "' (role ssis_admin).\n";
  text += "Its API token is shown only this once; keep it secret:\n\n";
  text += "  " + std::string(token) + "\n\n";
  text += "Use it from any machine that can reach the master:\n\n";
  text += "  export SCALEOUT_MASTER=" + std::string(master_url) + "\n";
  text += "  export SCALEOUT_MASTER_THUMBPRINT=" + std::string(master_thumbprint) + "\n";
  text += "  export SCALEOUT_TOKEN=" + std::string(token) + "\n";
  text += "  scaleout manage status\n\n";
  text +=
      "Then give everyone their own principal ('scaleout manage user add NAME --role ROLE "
      "--token') rather than sharing this one.\n";
  return text;
}

ManagementService::ManagementService(master::Master& master, sdk::Logger& logger,
                                     ManagementOptions options)
    : master_(master),
      logger_(logger),
      options_(std::move(options)),
      execution_counts_(master.storage(), master.clock()),
      note_work_([this] { master_.workers().NoteWorkMayBeAvailable(); }) {
  master_.AddRoute(std::string(kJsonApiPrefix),
                   [this](const sdk::Request& r, std::unique_ptr<sdk::Responder> responder) {
                     OnJsonRequest(r, std::move(responder));
                   });
  master_.AddRoute(std::string(kManageRoute),
                   [this](const sdk::Request& r, std::unique_ptr<sdk::Responder> responder) {
                     OnManageRequest(r, std::move(responder));
                   });
  master_.AddRoute(std::string(kMetricsRoute),
                   [this](const sdk::Request& r, std::unique_ptr<sdk::Responder> responder) {
                     OnMetricsRequest(r, std::move(responder));
                   });
}

ManagementService::~ManagementService() { Stop(); }

sdk::Status ManagementService::ReloadPrincipals() {
  auto all = master_.writer().Execute(
      [this](sdk::Connection& c) -> sdk::Result<std::vector<catalog::Principal>> {
        catalog::Txn txn{c, master_.dialect(), master_.clock().NowUnixMillis()};
        return catalog::LoadAllPrincipals(txn);
      });
  if (!all.ok()) return all.status().WithContext("loading the principals");
  principals_.Replace(std::move(all).value());
  return sdk::Status::Ok();
}

sdk::Status ManagementService::Start() {
  auto token = master_.writer().Execute(
      [this](sdk::Connection& c) -> sdk::Result<std::optional<std::string>> {
        catalog::Txn txn{c, master_.dialect(), master_.clock().NowUnixMillis()};
        return EnsureFirstAdmin(txn, options_.first_admin_name);
      });
  if (!token.ok()) return token.status().WithContext("creating the first admin");
  SCALEOUT_RETURN_IF_ERROR(ReloadPrincipals());
  if (token->has_value()) {
    logger_.Info("created the first admin principal '" + options_.first_admin_name +
                 "' (its token was printed once on standard output)");
    if (options_.notice) {
      const auto& s = master_.settings();
      std::string host = s.bind_address;
      if (host.empty() || host == "0.0.0.0" || host == "::") {
        char name[256] = {};
        host = gethostname(name, sizeof(name) - 1) == 0 ? name : "<master host>";
      }
      const std::string url = s.master_address.empty()
                                  ? "https://" + host + ":" + std::to_string(master_.port())
                                  : s.master_address;
      std::string pin = s.ssl_cert_thumbprint;
      if (auto info = security::ReadCertificateThumbprints(s.ssl_cert_file); info.ok()) {
        pin = info->sha256_thumbprint;
      }
      options_.notice(FirstAdminNotice(options_.first_admin_name, **token, url, pin));
    }
  }
  {
    std::lock_guard<std::mutex> pool_lock(pool_mutex_);
    pool_open_ = true;
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    accepting_ = true;
  }
  for (std::size_t i = 0; i < std::max<std::size_t>(1, options_.threads); ++i) {
    pool_.push_back(NamedThread("api", [this] { PoolLoop(); }));
  }
  if (options_.read_threads > 0) {
    read_pool_ = std::make_unique<ReadPool>(master_.storage(), options_.read_threads);
  }
  if (options_.run_schedules) {
    schedules_ = std::make_unique<ScheduleRunner>(
        master_.writer(), master_.dialect(), master_.clock(), logger_,
        [this] { master_.workers().NoteWorkMayBeAvailable(); }, master_.catalog_key());
    schedules_->Start();
  }
  return sdk::Status::Ok();
}

void ManagementService::Stop() {
  if (schedules_) schedules_->Stop();
  {
    // Refuse new calls, then let every submitted one be answered (its
    // acknowledgement may still need the pool) before closing the pool.
    std::unique_lock<std::mutex> lock(mutex_);
    accepting_ = false;
    drained_.wait(lock, [this] { return in_flight_ == 0; });
  }
  {
    std::lock_guard<std::mutex> pool_lock(pool_mutex_);
    pool_open_ = false;
  }
  cv_.notify_all();
  for (std::thread& t : pool_) {
    if (t.joinable()) t.join();
  }
  pool_.clear();
  if (read_pool_) read_pool_->Stop();  // idle: every call was answered
  execution_counts_.Close();           // before the host stops the storage
}

bool ManagementService::Post(std::function<void()> job) {
  bool was_empty = false;
  {
    std::lock_guard<std::mutex> lock(pool_mutex_);
    if (!pool_open_) return false;
    was_empty = jobs_.empty();
    jobs_.push_back(std::move(job));
  }
  // The writer posts a whole batch's answers in a row: wake one thread for
  // the first; a thread that takes a job and leaves more wakes the next.
  if (was_empty) cv_.notify_one();
  return true;
}

void ManagementService::PoolLoop() {
  for (;;) {
    std::function<void()> job;
    bool more = false;
    {
      std::unique_lock<std::mutex> lock(pool_mutex_);
      cv_.wait(lock, [this] { return !jobs_.empty() || !pool_open_; });
      if (jobs_.empty()) return;  // stopping and drained
      job = std::move(jobs_.front());
      jobs_.pop_front();
      more = !jobs_.empty();
    }
    if (more) cv_.notify_one();
    try {
      job();
    } catch (const std::exception& e) {
      logger_.Error(std::string("management job failed: ") + e.what());
    }
  }
}

void ManagementService::OnJsonRequest(const sdk::Request& request,
                                      std::unique_ptr<sdk::Responder> responder) {
  std::string_view path = request.target.substr(kJsonApiPrefix.size());
  std::string_view query;
  if (auto q = path.find('?'); q != std::string_view::npos) {
    query = path.substr(q + 1);
    path = path.substr(0, q);
  }
  if (path == "health") {
    responder->Send(
        JsonResponse(200, json{{"result",
                                {{"status", "ok"},
                                 {"version", SCALEOUT_SDK_VERSION_STRING},
                                 {"time", FormatUtc(master_.clock().NowUnixMillis())}}}}));
    return;
  }
  if (path == "operations") {
    // Documentation of the API itself; needs a principal like everything else.
    auto identity = Authenticate(request, master_.trust(), principals_);
    if (!identity.ok()) return responder->Send(JsonError(identity.status()));
    if (identity->kind != Identity::Kind::kPrincipal) {
      return responder->Send(JsonError(sdk::Status::Unauthenticated(
          "listing the operations needs a principal's token or certificate")));
    }
    return responder->Send(JsonResponse(200, json{{"result", OperationsDocument()}}));
  }
  const Operation* operation = FindOperation(path);
  if (operation == nullptr) {
    return responder->Send(JsonError(sdk::Status::NotFound(
        "no management operation '" + std::string(path) +
        "'; GET /api/v1/operations lists them (docs/api.md describes each)")));
  }
  json args = json::object();
  if (request.method == "GET") {
    if (operation->writes) {
      sdk::Response r = JsonError(sdk::Status::InvalidArgument(
          std::string(operation->name) + " changes the catalog; call it with POST"));
      r.status = 405;
      return responder->Send(std::move(r));
    }
    args = QueryArgs(query);
  } else if (request.method == "POST") {
    if (!request.body.empty()) {
      args = json::parse(request.body, nullptr, /*allow_exceptions=*/false);
      if (args.is_discarded()) {
        return responder->Send(JsonError(
            sdk::Status::InvalidArgument("the request body is not valid JSON; send a JSON object "
                                         "such as {\"worker_agent_id\": \"...\"}")));
      }
      if (!args.is_object()) {
        return responder->Send(JsonError(sdk::Status::InvalidArgument(
            "the request body must be a JSON object of arguments, got " +
            std::string(args.type_name()))));
      }
    }
  } else {
    sdk::Response r = JsonError(sdk::Status::InvalidArgument(
        "method " + std::string(request.method) + " is not supported; use GET or POST"));
    r.status = 405;
    return responder->Send(std::move(r));
  }
  std::shared_ptr<sdk::Responder> shared(std::move(responder));
  Dispatch(
      request, *operation, std::move(args),
      [shared](const sdk::Status& status, const json& result) {
        shared->Send(status.ok() ? JsonResponse(200, json{{"result", result}}) : JsonError(status));
      });
}

void ManagementService::OnMetricsRequest(const sdk::Request& request,
                                         std::unique_ptr<sdk::Responder> responder) {
  const std::string_view path = request.target.substr(0, request.target.find('?'));
  if (path != kMetricsRoute)
    return responder->Send(master::UnknownEndpointResponse(request.target));
  if (request.method != "GET") {
    sdk::Response r = JsonError(sdk::Status::InvalidArgument(
        "method " + std::string(request.method) + " is not supported on /metrics; use GET"));
    r.status = 405;
    return responder->Send(std::move(r));
  }
  // The `metrics` operation, so a scrape is authenticated and needs the
  // same reader role as the figures through /api/v1/metrics.
  const Operation* operation = FindOperation("metrics");
  std::shared_ptr<sdk::Responder> shared(std::move(responder));
  Dispatch(request, *operation, json::object(),
           [this, shared](const sdk::Status& status, const json& result) {
             if (!status.ok()) return shared->Send(JsonError(status));
             const MasterRuntime runtime{.writer = master_.writer().stats(),
                                         .parked_task_requests = master_.workers().parked(),
                                         .process = ReadProcessStats()};
             sdk::Response page;
             page.content_type = std::string(kPrometheusContentType);
             page.body = PrometheusText(result, runtime);
             shared->Send(std::move(page));
           });
}

void ManagementService::OnManageRequest(const sdk::Request& request,
                                        std::unique_ptr<sdk::Responder> responder) {
  protocol::ManageRequest message;
  if (sdk::Status s = protocol::Decode(request.body, &message); !s.ok()) {
    return responder->Send(master::ErrorResponse(s));
  }
  const Operation* operation = FindOperation(message.operation);
  std::shared_ptr<sdk::Responder> shared(std::move(responder));
  auto reply = [shared](const sdk::Status& status, const json& result) {
    protocol::ManageReply out;
    out.code = status.code();
    out.message = status.message();
    if (status.ok()) out.json = result.dump();
    sdk::Response response = master::ReplyResponse(out);
    if (!status.ok()) response.status = master::HttpStatusFor(status.code());
    shared->Send(std::move(response));
  };
  if (operation == nullptr) {
    return reply(sdk::Status::NotFound("no management operation '" + message.operation + "'"),
                 json());
  }
  json args = json::object();
  for (const auto& [key, value] : message.args) args[key] = value;
  Dispatch(request, *operation, std::move(args), std::move(reply));
}

void ManagementService::Dispatch(const sdk::Request& request, const Operation& operation, json args,
                                 Reply reply) {
  auto identity = Authenticate(request, master_.trust(), principals_);
  if (!identity.ok()) return reply(identity.status(), json());
  if (identity->kind == Identity::Kind::kAnonymous) {
    return reply(sdk::Status::Unauthenticated(
                     "this connection has no credential; present a principal's client "
                     "certificate or 'Authorization: Bearer <token>' (scaleout manage: --token, "
                     "SCALEOUT_TOKEN, or --cert/--key)"),
                 json());
  }
  if (identity->kind == Identity::Kind::kWorker) {
    return reply(sdk::Status::PermissionDenied("'" + identity->caller.name +
                                               "' authenticated with a worker certificate; "
                                               "workers may call no management operation (" +
                                               std::string(operation.name) +
                                               "); use a principal's token or certificate"),
                 json());
  }
  if (sdk::Status s = CheckOperationRole(operation, identity->caller); !s.ok()) {
    logger_.Info("denied " + std::string(operation.name) + " to '" + identity->caller.name + "'");
    return reply(s, json());
  }
  SubmitOperation(operation, identity->caller, std::move(args), std::move(reply));
}

// One call between its submission and its answer: the writer's request
// (allocation-free submission), then the pool's job. Owned by the writer
// from Submit() until Done(), then by the shared_ptr Done() makes.
struct ManagementService::PendingCall final : catalog::CatalogWriter::Request {
  PendingCall(ManagementService& service, const Operation& operation, catalog::Caller caller,
              json args, Reply reply)
      : service(service),
        operation(operation),
        caller(std::move(caller)),
        args(std::move(args)),
        reply(std::move(reply)) {}

  sdk::Status Run(sdk::Connection& connection) override {
    return service.RunOperation(*this, connection);
  }
  bool CatalogOpsOnly() const override { return operation.catalog_ops_only; }
  void Done(sdk::Status status) override {
    service.FinishOperation(std::shared_ptr<PendingCall>(this), status);
  }

  ManagementService& service;
  const Operation& operation;
  catalog::Caller caller;
  json args;
  Reply reply;
  Effects effects;
  json result;                            // the handler's result, valid when the op succeeded
  std::function<json()> deferred_result;  // when set, computes `result` after the commit
};

void ManagementService::SubmitOperation(const Operation& operation, catalog::Caller caller,
                                        json args, Reply reply) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!accepting_) {
      reply(sdk::Status::Unavailable("the master is stopping"), json());
      return;
    }
    ++in_flight_;
  }
  if (!operation.writes && read_pool_) {
    return SubmitRead(std::make_shared<PendingCall>(*this, operation, std::move(caller),
                                                    std::move(args), std::move(reply)));
  }
  auto* call =
      new PendingCall(*this, operation, std::move(caller), std::move(args), std::move(reply));
  master_.writer().Submit(*call);  // Done() takes it back, even when refused
}

void ManagementService::SubmitRead(const std::shared_ptr<PendingCall>& call) {
  // The answer is made on the read thread too: a read has no writer to
  // spare, and its reply is what the thread is for.
  ReadPool::Job job{
      .run = [this, call](sdk::Connection& connection) { return RunOperation(*call, connection); },
      .done = [this, call](const sdk::Status& status) { CompleteCall(*call, status, false); }};
  if (!read_pool_->Post(std::move(job))) {
    CompleteCall(*call, sdk::Status::Unavailable("the master is stopping"), false);
  }
}

sdk::Status ManagementService::RunOperation(PendingCall& call, sdk::Connection& connection) {
  call.effects = Effects{};  // a retried op starts clean
  call.deferred_result = nullptr;
  catalog::Txn txn{connection, master_.dialect(), master_.clock().NowUnixMillis(),
                   master_.catalog_key()};
  OperationContext context{txn,        call.caller,          call.args,         call.effects,
                           note_work_, call.deferred_result, &execution_counts_};
  try {
    auto result = call.operation.handler(context);
    if (!result.ok()) return result.status();
    call.result = std::move(result).value();
    return sdk::Status::Ok();
  } catch (const std::exception& e) {
    // An exception must not reach the writer thread; the savepoint rolls back.
    return sdk::Status::Internal(std::string(call.operation.name) + " failed: " + e.what());
  }
}

void ManagementService::FinishOperation(const std::shared_ptr<PendingCall>& call,
                                        const sdk::Status& status) {
  // On the writer thread, which runs every acknowledgement of a batch before
  // it can start the next one: everything after the commit (the log line,
  // building and encoding the answer, handing it to the transport, reloads)
  // goes to the pool, so the writer's time per call is a queue push.
  if (!Post([this, call, status] { CompleteCall(*call, status, /*may_reload=*/true); })) {
    CompleteCall(*call, status, /*may_reload=*/false);  // stopping: the pool is closed
  }
}

void ManagementService::CompleteCall(PendingCall& call, const sdk::Status& status,
                                     bool may_reload) {
  if (!status.ok()) return ReplyAndRelease(call, status, json());
  if (call.operation.writes) {
    const sdk::LogLevel level =
        call.operation.log_at_debug ? sdk::LogLevel::kDebug : sdk::LogLevel::kInfo;
    if (logger_.Enabled(level)) {
      logger_.Log(level, "'" + call.caller.name + "' called " + std::string(call.operation.name));
    }
  }
  if (schedules_ && call.operation.name.find("schedule") != std::string_view::npos) {
    schedules_->Poke();
  }
  // Reloading reads the catalog through the writer: only from a pool thread.
  if (may_reload && call.effects.reload_principals) {
    if (sdk::Status s = ReloadPrincipals(); !s.ok()) logger_.Warn(s.message());
  }
  if (may_reload && call.effects.reload_trust) {
    if (sdk::Status s = master_.ReloadTrust(); !s.ok()) {
      logger_.Warn("reloading the trust list: " + s.message());
    }
  }
  if (call.deferred_result) {
    try {
      call.result = call.deferred_result();
    } catch (const std::exception& e) {
      // Committed, but the answer cannot be made; say so rather than hang.
      return ReplyAndRelease(
          call,
          sdk::Status::Internal(std::string(call.operation.name) +
                                " committed, but its answer failed: " + e.what()),
          json());
    }
  }
  ReplyAndRelease(call, sdk::Status::Ok(), call.result);
}

void ManagementService::ReplyAndRelease(PendingCall& call, const sdk::Status& status,
                                        const json& result) {
  try {
    call.reply(status, result);
  } catch (const std::exception& e) {
    // For example text that is not UTF-8 in the result; the responder then
    // answers 503 when it is destroyed.
    logger_.Error("answering " + std::string(call.operation.name) + ": " + e.what());
  }
  std::lock_guard<std::mutex> lock(mutex_);
  if (--in_flight_ == 0) drained_.notify_all();
}

}  // namespace scaleout::core::management
