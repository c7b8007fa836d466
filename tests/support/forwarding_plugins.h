// Forwarding wrappers for fault injection.
//
// Each Forwarding* class wraps a real plugin object (from the loader, or any
// implementation) and forwards every call to it, after asking a shared
// FaultInjector whether this call should fail instead. Objects made by a
// wrapped object are wrapped too (a ForwardingStorage opens
// ForwardingConnections that prepare ForwardingStatements), all sharing the
// same injector, so a test can say "the third Commit fails" across a whole
// object graph (the LevelDB EnvWrapper / ErrorEnv idea).
//
// Call names given to the hook:
//   Storage::Start Storage::Open
//   Connection::Prepare Connection::PrepareCached Connection::ExecuteScript
//   Connection::Begin Connection::Commit Connection::Rollback
//   Statement::Bind Statement::Step Statement::Reset
//   Transport::Start Transport::Listen Transport::Connect
//   Server::OnRequest (the request is answered 503 with the status's message
//                      instead of reaching the handler) Client::Call
//   Executor::Start Executor::Run
//
// Ownership: a wrapper owns what it wraps (shared_ptr for the top-level
// plugin object, so a PluginPtr can be moved in; unique_ptr below). The
// usual SDK lifetime rules apply to the wrappers as to the wrapped objects.
// Thread-safety: as the wrapped object; FaultInjector itself is thread-safe.
#ifndef SCALEOUT_TESTS_SUPPORT_FORWARDING_PLUGINS_H_
#define SCALEOUT_TESTS_SUPPORT_FORWARDING_PLUGINS_H_

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "scaleout/sdk/executor.h"
#include "scaleout/sdk/status.h"
#include "scaleout/sdk/storage.h"
#include "scaleout/sdk/transport.h"

namespace scaleout::test {

class FaultInjector {
 public:
  // Returns nullopt to let the call through, or the Status to fail it with.
  // Called with the injector's lock released, from whatever thread made the call.
  using Hook = std::function<std::optional<sdk::Status>(std::string_view call)>;

  void SetHook(Hook hook);
  // Fails the `n`-th call (1-based, counted from now) named `call` with `status`.
  void FailNth(std::string call, int n, sdk::Status status);
  // Fails every call named `call` from now on.
  void FailAll(std::string call, sdk::Status status);
  // Lets everything through again (counters are kept).
  void Clear();

  // Counts the call and returns the failure to inject, if any. Used by the wrappers.
  std::optional<sdk::Status> Check(std::string_view call);
  // How many calls named `call` were seen (including failed ones).
  int CallCount(std::string_view call) const;

 private:
  mutable std::mutex mutex_;
  Hook hook_;
  std::map<std::string, int, std::less<>> counts_;
};

using FaultInjectorPtr = std::shared_ptr<FaultInjector>;

// ---- Storage ----------------------------------------------------------------

class ForwardingStatement final : public sdk::Statement {
 public:
  // Owns `target`.
  ForwardingStatement(std::unique_ptr<sdk::Statement> target, FaultInjectorPtr faults);
  // Borrows `target` (a connection-cached statement).
  ForwardingStatement(sdk::Statement* target, FaultInjectorPtr faults);

  sdk::Status BindNull(int index) override;
  sdk::Status BindInt64(int index, std::int64_t value) override;
  sdk::Status BindDouble(int index, double value) override;
  sdk::Status BindText(int index, std::string_view value) override;
  sdk::Status BindBlob(int index, sdk::ByteView value) override;
  sdk::Result<bool> Step() override;
  int ColumnCount() const override { return target_->ColumnCount(); }
  sdk::ValueType ColumnType(int c) const override { return target_->ColumnType(c); }
  std::int64_t ColumnInt64(int c) const override { return target_->ColumnInt64(c); }
  double ColumnDouble(int c) const override { return target_->ColumnDouble(c); }
  std::string_view ColumnText(int c) const override { return target_->ColumnText(c); }
  sdk::ByteView ColumnBlob(int c) const override { return target_->ColumnBlob(c); }
  std::int64_t RowsAffected() const override { return target_->RowsAffected(); }
  sdk::Status Reset() override;

 private:
  std::unique_ptr<sdk::Statement> owned_;  // null when borrowed
  sdk::Statement* target_;
  FaultInjectorPtr faults_;
};

class ForwardingConnection final : public sdk::Connection {
 public:
  ForwardingConnection(std::unique_ptr<sdk::Connection> target, FaultInjectorPtr faults);

  sdk::Result<std::unique_ptr<sdk::Statement>> Prepare(std::string_view sql) override;
  sdk::Result<sdk::Statement*> PrepareCached(std::string_view sql) override;
  sdk::Status ExecuteScript(std::string_view sql) override;
  sdk::Status Begin(sdk::TransactionMode mode) override;
  sdk::Status Commit() override;
  sdk::Status Rollback() override;
  bool InTransaction() const override { return target_->InTransaction(); }

 private:
  // Wrappers of the target's cached statements, destroyed before the target.
  std::unique_ptr<sdk::Connection> target_;
  std::map<sdk::Statement*, std::unique_ptr<ForwardingStatement>> cached_;
  FaultInjectorPtr faults_;
};

class ForwardingStorage final : public sdk::Storage {
 public:
  ForwardingStorage(std::shared_ptr<sdk::Storage> target, FaultInjectorPtr faults);

  sdk::Status Start() override;
  void Stop() noexcept override { target_->Stop(); }
  const sdk::Dialect& GetDialect() const override { return target_->GetDialect(); }
  sdk::Result<std::unique_ptr<sdk::Connection>> Open() override;
  std::string Describe() const override { return target_->Describe(); }

 private:
  std::shared_ptr<sdk::Storage> target_;
  FaultInjectorPtr faults_;
};

// ---- Transport --------------------------------------------------------------

class ForwardingServer final : public sdk::Server {
 public:
  // Wraps `handler` so Server::OnRequest can be failed; `handler` must
  // outlive this server, as for any server.
  ForwardingServer(sdk::RequestHandler& handler, FaultInjectorPtr faults);
  ~ForwardingServer() override;

  // The handler the wrapped transport must be given; call Attach() with the
  // server it returns.
  sdk::RequestHandler& forwarding_handler();
  void Attach(std::unique_ptr<sdk::Server> target);

  std::uint16_t port() const noexcept override;
  void Stop() noexcept override;

 private:
  class Handler;
  std::unique_ptr<Handler> handler_;  // outlives target_ (declared first)
  std::unique_ptr<sdk::Server> target_;
};

class ForwardingClient final : public sdk::Client {
 public:
  ForwardingClient(std::unique_ptr<sdk::Client> target, FaultInjectorPtr faults);
  sdk::Result<sdk::Response> Call(const sdk::ClientRequest& request) override;

 private:
  std::unique_ptr<sdk::Client> target_;
  FaultInjectorPtr faults_;
};

class ForwardingTransport final : public sdk::Transport {
 public:
  ForwardingTransport(std::shared_ptr<sdk::Transport> target, FaultInjectorPtr faults);

  sdk::Status Start() override;
  void Stop() noexcept override { target_->Stop(); }
  std::string_view Scheme() const noexcept override { return target_->Scheme(); }
  sdk::Result<std::unique_ptr<sdk::Server>> Listen(const sdk::ServerOptions& options,
                                                   sdk::RequestHandler& handler,
                                                   const sdk::PeerAuthenticator& auth) override;
  sdk::Result<std::unique_ptr<sdk::Client>> Connect(const sdk::ClientOptions& options) override;

 private:
  std::shared_ptr<sdk::Transport> target_;
  FaultInjectorPtr faults_;
};

// ---- Executor ---------------------------------------------------------------

class ForwardingExecutor final : public sdk::Executor {
 public:
  ForwardingExecutor(std::shared_ptr<sdk::Executor> target, FaultInjectorPtr faults);

  sdk::Status Start() override;
  void Stop() noexcept override { target_->Stop(); }
  sdk::Result<sdk::TaskOutcome> Run(const sdk::TaskSpec& task, sdk::EventSink& events,
                                    const sdk::CancellationToken& cancel) override;

 private:
  std::shared_ptr<sdk::Executor> target_;
  FaultInjectorPtr faults_;
};

}  // namespace scaleout::test

#endif  // SCALEOUT_TESTS_SUPPORT_FORWARDING_PLUGINS_H_
