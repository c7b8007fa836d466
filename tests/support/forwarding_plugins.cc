#include "tests/support/forwarding_plugins.h"

#include <utility>

namespace scaleout::test {

using sdk::Result;
using sdk::Status;

// ---- FaultInjector ----------------------------------------------------------

void FaultInjector::SetHook(Hook hook) {
  std::lock_guard lock(mutex_);
  hook_ = std::move(hook);
}

void FaultInjector::FailNth(std::string call, int n, Status status) {
  std::lock_guard lock(mutex_);
  // Check() counts a call before running the hook, so the n-th call from
  // now is the one that brings the count to `target`.
  const int target = counts_[call] + n;
  hook_ = [call = std::move(call), target, status = std::move(status),
           this](std::string_view seen) -> std::optional<Status> {
    if (seen != call || CallCount(call) != target) return std::nullopt;
    return status;
  };
}

void FaultInjector::FailAll(std::string call, Status status) {
  SetHook([call = std::move(call),
           status = std::move(status)](std::string_view seen) -> std::optional<Status> {
    if (seen == call) return status;
    return std::nullopt;
  });
}

void FaultInjector::Clear() { SetHook(nullptr); }

std::optional<Status> FaultInjector::Check(std::string_view call) {
  Hook hook;
  {
    std::lock_guard lock(mutex_);
    auto it = counts_.find(call);
    if (it == counts_.end()) it = counts_.emplace(std::string(call), 0).first;
    ++it->second;
    hook = hook_;
  }
  if (!hook) return std::nullopt;
  return hook(call);
}

int FaultInjector::CallCount(std::string_view call) const {
  std::lock_guard lock(mutex_);
  auto it = counts_.find(call);
  return it == counts_.end() ? 0 : it->second;
}

// Returns the injected failure for `call` from the enclosing function, if any.
#define SCALEOUT_INJECT_(call)                                  \
  do {                                                          \
    if (auto injected = faults_->Check(call)) return *injected; \
  } while (false)

// ---- Storage ----------------------------------------------------------------

ForwardingStatement::ForwardingStatement(std::unique_ptr<sdk::Statement> target,
                                         FaultInjectorPtr faults)
    : owned_(std::move(target)), target_(owned_.get()), faults_(std::move(faults)) {}

ForwardingStatement::ForwardingStatement(sdk::Statement* target, FaultInjectorPtr faults)
    : target_(target), faults_(std::move(faults)) {}

Status ForwardingStatement::BindNull(int index) {
  SCALEOUT_INJECT_("Statement::Bind");
  return target_->BindNull(index);
}
Status ForwardingStatement::BindInt64(int index, std::int64_t value) {
  SCALEOUT_INJECT_("Statement::Bind");
  return target_->BindInt64(index, value);
}
Status ForwardingStatement::BindDouble(int index, double value) {
  SCALEOUT_INJECT_("Statement::Bind");
  return target_->BindDouble(index, value);
}
Status ForwardingStatement::BindText(int index, std::string_view value) {
  SCALEOUT_INJECT_("Statement::Bind");
  return target_->BindText(index, value);
}
Status ForwardingStatement::BindBlob(int index, sdk::ByteView value) {
  SCALEOUT_INJECT_("Statement::Bind");
  return target_->BindBlob(index, value);
}
Result<bool> ForwardingStatement::Step() {
  SCALEOUT_INJECT_("Statement::Step");
  return target_->Step();
}
Status ForwardingStatement::Reset() {
  SCALEOUT_INJECT_("Statement::Reset");
  return target_->Reset();
}

ForwardingConnection::ForwardingConnection(std::unique_ptr<sdk::Connection> target,
                                           FaultInjectorPtr faults)
    : target_(std::move(target)), faults_(std::move(faults)) {}

Result<std::unique_ptr<sdk::Statement>> ForwardingConnection::Prepare(std::string_view sql) {
  SCALEOUT_INJECT_("Connection::Prepare");
  SCALEOUT_ASSIGN_OR_RETURN(auto statement, target_->Prepare(sql));
  return std::unique_ptr<sdk::Statement>(
      std::make_unique<ForwardingStatement>(std::move(statement), faults_));
}

Result<sdk::Statement*> ForwardingConnection::PrepareCached(std::string_view sql) {
  SCALEOUT_INJECT_("Connection::PrepareCached");
  SCALEOUT_ASSIGN_OR_RETURN(sdk::Statement * statement, target_->PrepareCached(sql));
  auto& wrapper = cached_[statement];
  if (!wrapper) wrapper = std::make_unique<ForwardingStatement>(statement, faults_);
  return static_cast<sdk::Statement*>(wrapper.get());
}

Status ForwardingConnection::ExecuteScript(std::string_view sql) {
  SCALEOUT_INJECT_("Connection::ExecuteScript");
  return target_->ExecuteScript(sql);
}
Status ForwardingConnection::Begin(sdk::TransactionMode mode) {
  SCALEOUT_INJECT_("Connection::Begin");
  return target_->Begin(mode);
}
Status ForwardingConnection::Commit() {
  SCALEOUT_INJECT_("Connection::Commit");
  return target_->Commit();
}
Status ForwardingConnection::Rollback() {
  SCALEOUT_INJECT_("Connection::Rollback");
  return target_->Rollback();
}

ForwardingStorage::ForwardingStorage(std::shared_ptr<sdk::Storage> target, FaultInjectorPtr faults)
    : target_(std::move(target)), faults_(std::move(faults)) {}

Status ForwardingStorage::Start() {
  SCALEOUT_INJECT_("Storage::Start");
  return target_->Start();
}

Result<std::unique_ptr<sdk::Connection>> ForwardingStorage::Open() {
  SCALEOUT_INJECT_("Storage::Open");
  SCALEOUT_ASSIGN_OR_RETURN(auto connection, target_->Open());
  return std::unique_ptr<sdk::Connection>(
      std::make_unique<ForwardingConnection>(std::move(connection), faults_));
}

// ---- Transport --------------------------------------------------------------

// Answers 503 with the injected status's message instead of forwarding.
class ForwardingServer::Handler final : public sdk::RequestHandler {
 public:
  Handler(sdk::RequestHandler& target, FaultInjectorPtr faults)
      : target_(target), faults_(std::move(faults)) {}

  void OnRequest(const sdk::Request& request,
                 std::unique_ptr<sdk::Responder> responder) noexcept override {
    if (auto injected = faults_->Check("Server::OnRequest")) {
      responder->Send(sdk::Response{503, "text/plain", injected->ToString()});
      return;
    }
    target_.OnRequest(request, std::move(responder));
  }

 private:
  sdk::RequestHandler& target_;
  FaultInjectorPtr faults_;
};

ForwardingServer::ForwardingServer(sdk::RequestHandler& handler, FaultInjectorPtr faults)
    : handler_(std::make_unique<Handler>(handler, std::move(faults))) {}

ForwardingServer::~ForwardingServer() { Stop(); }

sdk::RequestHandler& ForwardingServer::forwarding_handler() { return *handler_; }

void ForwardingServer::Attach(std::unique_ptr<sdk::Server> target) { target_ = std::move(target); }

std::uint16_t ForwardingServer::port() const noexcept { return target_ ? target_->port() : 0; }

void ForwardingServer::Stop() noexcept {
  if (target_) target_->Stop();
}

ForwardingClient::ForwardingClient(std::unique_ptr<sdk::Client> target, FaultInjectorPtr faults)
    : target_(std::move(target)), faults_(std::move(faults)) {}

Result<sdk::Response> ForwardingClient::Call(const sdk::ClientRequest& request) {
  SCALEOUT_INJECT_("Client::Call");
  return target_->Call(request);
}

ForwardingTransport::ForwardingTransport(std::shared_ptr<sdk::Transport> target,
                                         FaultInjectorPtr faults)
    : target_(std::move(target)), faults_(std::move(faults)) {}

Status ForwardingTransport::Start() {
  SCALEOUT_INJECT_("Transport::Start");
  return target_->Start();
}

Result<std::unique_ptr<sdk::Server>> ForwardingTransport::Listen(
    const sdk::ServerOptions& options, sdk::RequestHandler& handler,
    const sdk::PeerAuthenticator& auth) {
  SCALEOUT_INJECT_("Transport::Listen");
  auto server = std::make_unique<ForwardingServer>(handler, faults_);
  SCALEOUT_ASSIGN_OR_RETURN(auto target,
                            target_->Listen(options, server->forwarding_handler(), auth));
  server->Attach(std::move(target));
  return std::unique_ptr<sdk::Server>(std::move(server));
}

Result<std::unique_ptr<sdk::Client>> ForwardingTransport::Connect(
    const sdk::ClientOptions& options) {
  SCALEOUT_INJECT_("Transport::Connect");
  SCALEOUT_ASSIGN_OR_RETURN(auto client, target_->Connect(options));
  return std::unique_ptr<sdk::Client>(
      std::make_unique<ForwardingClient>(std::move(client), faults_));
}

// ---- Executor ---------------------------------------------------------------

ForwardingExecutor::ForwardingExecutor(std::shared_ptr<sdk::Executor> target,
                                       FaultInjectorPtr faults)
    : target_(std::move(target)), faults_(std::move(faults)) {}

Status ForwardingExecutor::Start() {
  SCALEOUT_INJECT_("Executor::Start");
  return target_->Start();
}

Result<sdk::TaskOutcome> ForwardingExecutor::Run(const sdk::TaskSpec& task, sdk::EventSink& events,
                                                 const sdk::CancellationToken& cancel) {
  SCALEOUT_INJECT_("Executor::Run");
  return target_->Run(task, events, cancel);
}

#undef SCALEOUT_INJECT_

}  // namespace scaleout::test
