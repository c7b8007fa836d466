// Status and Result<T>: how every fallible SDK call reports failure.
//
// No exception may cross a plugin boundary. Every fallible call returns a
// Status (or a Result<T>, which is a Status or a value). Both are
// [[nodiscard]] so an ignored failure is a compiler warning.
//
// Thread-safety: values; a const object may be read from any thread.
#ifndef SCALEOUT_SDK_STATUS_H_
#define SCALEOUT_SDK_STATUS_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace scaleout::sdk {

// The numeric values are part of the ABI and of the wire protocol: append only.
enum class StatusCode : std::uint16_t {
  kOk = 0,
  kInvalidArgument = 1,     // the caller sent something malformed
  kNotFound = 2,            // an id or name that does not exist
  kAlreadyExists = 3,       // a unique name or id taken
  kPermissionDenied = 4,    // authenticated, but the role is not enough
  kFailedPrecondition = 5,  // the object is in the wrong state for this call
  kAborted = 6,             // a conflict (stale lease epoch, lost race); retry may work
  kUnavailable = 7,         // a peer or database cannot be reached; retry may work
  kDeadlineExceeded = 8,    // a time limit passed
  kResourceExhausted = 9,   // a size or count limit was hit
  kDataLoss = 10,           // corruption detected
  kUnimplemented = 11,      // not supported by this plugin or build
  kInternal = 12,           // a bug or an unexpected library failure
  kCancelled = 13,          // the operation was cancelled by request
  kUnauthenticated = 14,    // no or untrusted credentials
};

// Returns a stable lower_snake name for `code` ("not_found"), for logs and the wire.
constexpr std::string_view StatusCodeName(StatusCode code) noexcept {
  switch (code) {
    case StatusCode::kOk: return "ok";
    case StatusCode::kInvalidArgument: return "invalid_argument";
    case StatusCode::kNotFound: return "not_found";
    case StatusCode::kAlreadyExists: return "already_exists";
    case StatusCode::kPermissionDenied: return "permission_denied";
    case StatusCode::kFailedPrecondition: return "failed_precondition";
    case StatusCode::kAborted: return "aborted";
    case StatusCode::kUnavailable: return "unavailable";
    case StatusCode::kDeadlineExceeded: return "deadline_exceeded";
    case StatusCode::kResourceExhausted: return "resource_exhausted";
    case StatusCode::kDataLoss: return "data_loss";
    case StatusCode::kUnimplemented: return "unimplemented";
    case StatusCode::kInternal: return "internal";
    case StatusCode::kCancelled: return "cancelled";
    case StatusCode::kUnauthenticated: return "unauthenticated";
  }
  return "unknown";
}

// A code plus a human message. The message says what failed and, where
// possible, what to do next ("worker 'X' is disabled; run 'scaleout manage
// worker enable X'").
class [[nodiscard]] Status {
 public:
  Status() noexcept = default;  // OK
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() noexcept { return {}; }
  static Status InvalidArgument(std::string m) {
    return {StatusCode::kInvalidArgument, std::move(m)};
  }
  static Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
  static Status AlreadyExists(std::string m) { return {StatusCode::kAlreadyExists, std::move(m)}; }
  static Status PermissionDenied(std::string m) {
    return {StatusCode::kPermissionDenied, std::move(m)};
  }
  static Status FailedPrecondition(std::string m) {
    return {StatusCode::kFailedPrecondition, std::move(m)};
  }
  static Status Aborted(std::string m) { return {StatusCode::kAborted, std::move(m)}; }
  static Status Unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
  static Status DeadlineExceeded(std::string m) {
    return {StatusCode::kDeadlineExceeded, std::move(m)};
  }
  static Status ResourceExhausted(std::string m) {
    return {StatusCode::kResourceExhausted, std::move(m)};
  }
  static Status DataLoss(std::string m) { return {StatusCode::kDataLoss, std::move(m)}; }
  static Status Unimplemented(std::string m) { return {StatusCode::kUnimplemented, std::move(m)}; }
  static Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }
  static Status Cancelled(std::string m) { return {StatusCode::kCancelled, std::move(m)}; }
  static Status Unauthenticated(std::string m) {
    return {StatusCode::kUnauthenticated, std::move(m)};
  }

  bool ok() const noexcept { return code_ == StatusCode::kOk; }
  StatusCode code() const noexcept { return code_; }
  const std::string& message() const noexcept { return message_; }

  // "not_found: worker 'X' is not in the catalog"; "ok" when OK.
  std::string ToString() const {
    if (ok()) return "ok";
    std::string out(StatusCodeName(code_));
    out += ": ";
    out += message_;
    return out;
  }

  // Returns a copy whose message is prefixed with `context` ("opening catalog: ...").
  Status WithContext(std::string_view context) const {
    if (ok()) return *this;
    std::string m(context);
    m += ": ";
    m += message_;
    return {code_, std::move(m)};
  }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

// Either a value or a non-OK Status.
//
// REQUIRES: value() only when ok(); constructing from an OK Status is a bug
// and is turned into kInternal so it cannot be mistaken for success.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : data_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Result(Status status)                         // NOLINT(google-explicit-constructor)
      : data_(status.ok() ? Status::Internal("Result constructed from an OK status without a value")
                          : std::move(status)) {}

  bool ok() const noexcept { return std::holds_alternative<T>(data_); }
  // The failure; Status::Ok() when a value is held.
  Status status() const { return ok() ? Status::Ok() : std::get<Status>(data_); }

  T& value() & { return std::get<T>(data_); }
  const T& value() const& { return std::get<T>(data_); }
  T&& value() && { return std::get<T>(std::move(data_)); }

  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> data_;
};

}  // namespace scaleout::sdk

// Returns early from the enclosing function when `expr` (a Status) is not OK.
#define SCALEOUT_RETURN_IF_ERROR(expr)                   \
  do {                                                   \
    ::scaleout::sdk::Status scaleout_status_ = (expr);   \
    if (!scaleout_status_.ok()) return scaleout_status_; \
  } while (false)

#define SCALEOUT_CONCAT_INNER_(a, b) a##b
#define SCALEOUT_CONCAT_(a, b) SCALEOUT_CONCAT_INNER_(a, b)

// `SCALEOUT_ASSIGN_OR_RETURN(auto x, MakeX());` binds the value or returns the failure.
#define SCALEOUT_ASSIGN_OR_RETURN(lhs, expr) \
  SCALEOUT_ASSIGN_OR_RETURN_IMPL_(SCALEOUT_CONCAT_(scaleout_result_, __LINE__), lhs, expr)
#define SCALEOUT_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                    \
  if (!tmp.ok()) return tmp.status();                   \
  lhs = std::move(tmp).value()

#endif  // SCALEOUT_SDK_STATUS_H_
