#include "core/worker/master_client.h"

#include <spdlog/spdlog.h>

#include "core/protocol/codec.h"
#include "core/protocol/routes.h"

namespace scaleout::core::worker {

using sdk::Result;
using sdk::Status;
using sdk::StatusCode;

bool IsUnreachable(const Status& status) {
  return status.code() == StatusCode::kUnavailable ||
         status.code() == StatusCode::kDeadlineExceeded;
}

TransportMasterClient::TransportMasterClient(sdk::Transport& transport, MasterClientOptions options)
    : transport_(transport), options_(std::move(options)) {}

TransportMasterClient::~TransportMasterClient() = default;

std::string TransportMasterClient::current_endpoint() const {
  std::lock_guard lock(mutex_);
  return options_.endpoints.empty() ? std::string() : options_.endpoints[current_];
}

Result<sdk::Response> TransportMasterClient::Call(std::string_view route, const std::string& body,
                                                  std::chrono::milliseconds timeout) {
  std::lock_guard lock(mutex_);
  if (options_.endpoints.empty()) {
    return Status::FailedPrecondition("no master endpoint; set 'MasterEndpoint'");
  }
  Status last;
  // Each endpoint gets one chance per call, starting with the one that
  // answered last: a dead master costs one connect timeout, not one per call.
  for (std::size_t tries = 0; tries < options_.endpoints.size(); ++tries) {
    const std::string& endpoint = options_.endpoints[current_];
    if (!client_) {
      sdk::ClientOptions co;
      co.endpoint = endpoint;
      co.cert_file = options_.cert_file;
      co.key_file = options_.key_file;
      co.pinned_server_ids = options_.pinned_server_ids;
      co.connect_timeout = options_.connect_timeout;
      auto client = transport_.Connect(co);
      if (client.ok()) {
        client_ = std::move(*client);
      } else {
        last = client.status().WithContext("connecting to " + endpoint);
      }
    }
    if (client_) {
      sdk::ClientRequest request;
      request.method = "POST";
      request.target = std::string(route);
      request.body = body;
      request.timeout = timeout;
      auto response = client_->Call(request);
      if (response.ok()) {
        consecutive_timeouts_ = 0;
        return response;
      }
      last = response.status().WithContext(endpoint + std::string(route));
      if (response.status().code() == StatusCode::kDeadlineExceeded) {
        NoteTimeout(endpoint);
        return last;
      }
      if (response.status().code() != StatusCode::kUnavailable) return last;
      client_.reset();
    }
    if (last.code() == StatusCode::kUnauthenticated) return last;  // a pin mismatch: say so
    if (options_.endpoints.size() > 1) {
      consecutive_timeouts_ = 0;
      current_ = (current_ + 1) % options_.endpoints.size();
      spdlog::warn("master {} unreachable ({}); failing over to {}", endpoint, last.message(),
                   options_.endpoints[current_]);
    }
  }
  return last;
}

void TransportMasterClient::NoteTimeout(const std::string& endpoint) {
  // A timeout is not repeated elsewhere at once: the master may be busy with
  // this very call, and the caller retries anyway. But a master that stopped
  // answering without closing its connections (a hung process, a lost
  // network) would hold the worker forever, so after kTimeoutsBeforeFailover
  // timeouts in a row the next call goes to the next endpoint. The timed-out
  // connection is dropped either way: a late answer must not be read as the
  // answer to the next call.
  client_.reset();
  if (++consecutive_timeouts_ < kTimeoutsBeforeFailover || options_.endpoints.size() < 2) return;
  consecutive_timeouts_ = 0;
  current_ = (current_ + 1) % options_.endpoints.size();
  spdlog::warn("master {} did not answer {} calls in a row; failing over to {}", endpoint,
               kTimeoutsBeforeFailover, options_.endpoints[current_]);
}

template <typename Reply, typename Request>
Result<Reply> TransportMasterClient::Roundtrip(std::string_view route, const Request& request,
                                               std::chrono::milliseconds extra_wait,
                                               const protocol::DecodeLimits& limits) {
  const std::string body = protocol::Encode(request);
  SCALEOUT_ASSIGN_OR_RETURN(sdk::Response response,
                            Call(route, body, options_.call_timeout + extra_wait));
  Reply reply;
  Status decoded = protocol::Decode(response.body, &reply, limits);
  if (response.status < 200 || response.status >= 300) {
    // A refusal carries an ErrorReply, which Decode turns into its status.
    if (!decoded.ok() && decoded.message().rfind("peer: ", 0) == 0) return decoded;
    return Status::Unavailable("master answered HTTP " + std::to_string(response.status) + " to " +
                               std::string(route));
  }
  if (!decoded.ok()) return decoded.WithContext(std::string("answer to ") + std::string(route));
  return reply;
}

Result<protocol::RegisterReply> TransportMasterClient::Register(
    const protocol::RegisterRequest& r) {
  return Roundtrip<protocol::RegisterReply>(protocol::kRouteRegister, r, {}, {});
}

Result<protocol::AgentHeartbeatReply> TransportMasterClient::AgentHeartbeat(
    const protocol::AgentHeartbeatRequest& r) {
  return Roundtrip<protocol::AgentHeartbeatReply>(protocol::kRouteAgentHeartbeat, r, {}, {});
}

Result<protocol::RequestTasksReply> TransportMasterClient::RequestTasks(
    const protocol::RequestTasksRequest& r) {
  return Roundtrip<protocol::RequestTasksReply>(protocol::kRouteRequestTasks, r,
                                                std::chrono::milliseconds(r.wait_ms), {});
}

Result<protocol::GetProjectReply> TransportMasterClient::GetProject(
    const protocol::GetProjectRequest& r) {
  return Roundtrip<protocol::GetProjectReply>(protocol::kRouteGetProject, r, {},
                                              protocol::DecodeLimits::ForProjectTransfer());
}

Result<protocol::TaskHeartbeatReply> TransportMasterClient::TaskHeartbeat(
    const protocol::TaskHeartbeatRequest& r) {
  return Roundtrip<protocol::TaskHeartbeatReply>(protocol::kRouteTaskHeartbeat, r, {}, {});
}

Result<protocol::ReportEventsReply> TransportMasterClient::ReportEvents(
    const protocol::ReportEventsRequest& r) {
  return Roundtrip<protocol::ReportEventsReply>(protocol::kRouteReportEvents, r, {}, {});
}

Result<protocol::ReportResultsReply> TransportMasterClient::ReportResults(
    const protocol::ReportResultsRequest& r) {
  return Roundtrip<protocol::ReportResultsReply>(protocol::kRouteReportResults, r, {}, {});
}

}  // namespace scaleout::core::worker
