// MasterClient: the worker's calls to the master, one method per message.
//
// This is the seam between the agent and the network. The real
// implementation, TransportMasterClient, encodes each protocol message,
// POSTs it through an sdk::Client to one of the master endpoints and decodes
// the answer; tests substitute their own MasterClient (a master double) to
// drive the agent without a network.
//
// Errors: a status the master sent (ErrorReply) comes back with its code and
// a "peer: " prefix; a failure to reach the master is kUnavailable or
// kDeadlineExceeded (IsUnreachable()).
#ifndef SCALEOUT_CORE_WORKER_MASTER_CLIENT_H_
#define SCALEOUT_CORE_WORKER_MASTER_CLIENT_H_

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/protocol/messages.h"
#include "scaleout/sdk/status.h"
#include "scaleout/sdk/transport.h"

namespace scaleout::core::worker {

// True for failures that say nothing about the request itself (the master
// could not be reached or did not answer in time): retry later, elsewhere.
bool IsUnreachable(const sdk::Status& status);

// Thread-safety: implementations must be safe to call from several threads;
// the agent uses one client per thread anyway (a long-poll must not hold up
// heartbeats).
class MasterClient {
 public:
  virtual ~MasterClient() = default;
  virtual sdk::Result<protocol::RegisterReply> Register(const protocol::RegisterRequest& r) = 0;
  virtual sdk::Result<protocol::AgentHeartbeatReply> AgentHeartbeat(
      const protocol::AgentHeartbeatRequest& r) = 0;
  // A long-poll: may block for r.wait_ms.
  virtual sdk::Result<protocol::RequestTasksReply> RequestTasks(
      const protocol::RequestTasksRequest& r) = 0;
  virtual sdk::Result<protocol::GetProjectReply> GetProject(
      const protocol::GetProjectRequest& r) = 0;
  virtual sdk::Result<protocol::TaskHeartbeatReply> TaskHeartbeat(
      const protocol::TaskHeartbeatRequest& r) = 0;
  virtual sdk::Result<protocol::ReportEventsReply> ReportEvents(
      const protocol::ReportEventsRequest& r) = 0;
  virtual sdk::Result<protocol::ReportResultsReply> ReportResults(
      const protocol::ReportResultsRequest& r) = 0;
};

// Calls that time out in a row at one endpoint before the next call goes to
// the next endpoint (a master that hangs without closing its connections).
inline constexpr int kTimeoutsBeforeFailover = 2;

struct MasterClientOptions {
  // Tried in order; on a connection failure the client moves to the next
  // one and stays there while it answers (failover, SSIS MasterEndpoint).
  // After kTimeoutsBeforeFailover timeouts in a row it moves on as well.
  std::vector<std::string> endpoints;
  std::string cert_file;                       // WorkerCertFile
  std::string key_file;                        // WorkerKeyFile
  std::vector<std::string> pinned_server_ids;  // MasterHttpsCertThumbprint
  std::chrono::milliseconds connect_timeout{5'000};
  std::chrono::milliseconds call_timeout{30'000};  // plus the wait of a long-poll
};

// MasterClient over an sdk::Transport. Connects lazily. Thread-safe: calls
// are serialized (an sdk::Client makes one call at a time).
class TransportMasterClient final : public MasterClient {
 public:
  // `transport` must be started and must outlive this client.
  TransportMasterClient(sdk::Transport& transport, MasterClientOptions options);
  ~TransportMasterClient() override;

  sdk::Result<protocol::RegisterReply> Register(const protocol::RegisterRequest& r) override;
  sdk::Result<protocol::AgentHeartbeatReply> AgentHeartbeat(
      const protocol::AgentHeartbeatRequest& r) override;
  sdk::Result<protocol::RequestTasksReply> RequestTasks(
      const protocol::RequestTasksRequest& r) override;
  sdk::Result<protocol::GetProjectReply> GetProject(const protocol::GetProjectRequest& r) override;
  sdk::Result<protocol::TaskHeartbeatReply> TaskHeartbeat(
      const protocol::TaskHeartbeatRequest& r) override;
  sdk::Result<protocol::ReportEventsReply> ReportEvents(
      const protocol::ReportEventsRequest& r) override;
  sdk::Result<protocol::ReportResultsReply> ReportResults(
      const protocol::ReportResultsRequest& r) override;

  // The endpoint the next call goes to.
  std::string current_endpoint() const;

 private:
  template <typename Reply, typename Request>
  sdk::Result<Reply> Roundtrip(std::string_view route, const Request& request,
                               std::chrono::milliseconds extra_wait,
                               const protocol::DecodeLimits& limits);
  sdk::Result<sdk::Response> Call(std::string_view route, const std::string& body,
                                  std::chrono::milliseconds timeout);

  // REQUIRES: mutex_ held. Drops the connection; fails over after repeated timeouts.
  void NoteTimeout(const std::string& endpoint);

  sdk::Transport& transport_;
  const MasterClientOptions options_;
  mutable std::mutex mutex_;
  std::size_t current_ = 0;              // guarded by mutex_
  int consecutive_timeouts_ = 0;         // guarded by mutex_
  std::unique_ptr<sdk::Client> client_;  // guarded by mutex_; for endpoints[current_]
};

}  // namespace scaleout::core::worker

#endif  // SCALEOUT_CORE_WORKER_MASTER_CLIENT_H_
