#include "core/master/responses.h"

namespace scaleout::core::master {

int HttpStatusFor(sdk::StatusCode code) noexcept {
  switch (code) {
    case sdk::StatusCode::kOk: return 200;
    case sdk::StatusCode::kInvalidArgument: return 400;
    case sdk::StatusCode::kUnauthenticated: return 401;
    case sdk::StatusCode::kPermissionDenied: return 403;
    case sdk::StatusCode::kNotFound: return 404;
    case sdk::StatusCode::kAlreadyExists:
    case sdk::StatusCode::kFailedPrecondition:
    case sdk::StatusCode::kAborted: return 409;
    case sdk::StatusCode::kResourceExhausted: return 413;
    case sdk::StatusCode::kUnavailable:
    case sdk::StatusCode::kCancelled: return 503;
    case sdk::StatusCode::kDeadlineExceeded: return 504;
    case sdk::StatusCode::kUnimplemented: return 501;
    default: return 500;
  }
}

sdk::Response ErrorResponse(const sdk::Status& status) {
  sdk::Response response;
  response.status = HttpStatusFor(status.code());
  response.content_type = "application/msgpack";
  response.body = protocol::EncodeError(status);
  return response;
}

sdk::Response UnknownEndpointResponse(std::string_view target) {
  return ErrorResponse(
      sdk::Status::NotFound("no such endpoint '" + std::string(target) + "' on this master"));
}

}  // namespace scaleout::core::master
