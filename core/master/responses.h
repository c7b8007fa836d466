// Helpers to answer requests: HTTP-style status codes for sdk::StatusCode and
// encoded protocol replies.
#ifndef SCALEOUT_CORE_MASTER_RESPONSES_H_
#define SCALEOUT_CORE_MASTER_RESPONSES_H_

#include <string>
#include <string_view>

#include "core/protocol/codec.h"
#include "scaleout/sdk/status.h"
#include "scaleout/sdk/transport.h"

namespace scaleout::core::master {

// 400 invalid argument, 401 unauthenticated, 403 permission denied, 404 not
// found, 409 wrong state or conflict, 413 too large, 503 unavailable, 500 else.
int HttpStatusFor(sdk::StatusCode code) noexcept;

// A protocol ErrorReply with the matching HTTP status.
sdk::Response ErrorResponse(const sdk::Status& status);

// The 404 for a target no route of this master serves.
sdk::Response UnknownEndpointResponse(std::string_view target);

// An encoded protocol reply with status 200.
template <typename Message>
sdk::Response ReplyResponse(const Message& message) {
  sdk::Response response;
  response.status = 200;
  response.content_type = "application/msgpack";
  protocol::EncodeTo(message, &response.body);
  return response;
}

}  // namespace scaleout::core::master

#endif  // SCALEOUT_CORE_MASTER_RESPONSES_H_
