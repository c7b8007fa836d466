// Encoding and decoding of the wire messages (messages.h).
//
// Wire format: one msgpack map per message, the envelope
//   { "v": <major version, uint>, "t": <MessageType, uint>, "b": <body map> }
// Bodies are msgpack maps keyed by field name (docs/protocol.md). Unknown
// keys are ignored; missing keys keep the struct defaults; every decoded
// message is then validated (GUIDs, enumerations, ranges, counts).
//
// Encoding packs straight into a string, with no intermediate object tree.
// Decoding parses once, with the explicit limits of DecodeLimits, and reads
// fields by key. Errors:
//   kInvalidArgument   malformed or truncated bytes, a wrong type, a value out
//                      of range; the message names the field
//                      ("RequestTasksRequest.free_slots must be 0..10000, got -3")
//   kResourceExhausted a size, depth or count limit was hit
//   kUnimplemented     a newer major version or an unknown message type
//
// Thread-safety: every function is reentrant; Message is immutable.
#ifndef SCALEOUT_CORE_PROTOCOL_CODEC_H_
#define SCALEOUT_CORE_PROTOCOL_CODEC_H_

#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "core/protocol/messages.h"
#include "scaleout/sdk/bytes.h"
#include "scaleout/sdk/status.h"

namespace scaleout::core::protocol {

// An envelope whose version and type have been checked and whose body has not
// yet been converted: decode once, dispatch on type(), then DecodeBody().
//
// Ownership: a Message refers into the bytes it was parsed from (strings and
// binaries are not copied); those bytes must outlive it and every call on it.
class Message {
 public:
  // Parses `bytes` under `limits`. Refuses a version newer than
  // kProtocolVersion and types this build does not know (kUnimplemented).
  static sdk::Result<Message> Parse(sdk::ByteView bytes, const DecodeLimits& limits = {});

  std::uint32_t version() const noexcept { return version_; }
  MessageType type() const noexcept { return type_; }
  const DecodeLimits& limits() const noexcept { return limits_; }

  struct Parsed;  // the msgpack tree; defined in codec.cc
  const Parsed& parsed() const noexcept { return *parsed_; }

 private:
  Message(std::shared_ptr<const Parsed> parsed, std::uint32_t version, MessageType type,
          const DecodeLimits& limits)
      : parsed_(std::move(parsed)), version_(version), type_(type), limits_(limits) {}

  std::shared_ptr<const Parsed> parsed_;
  std::uint32_t version_;
  MessageType type_;
  DecodeLimits limits_;
};

// For each message struct T (messages.h):
//
//   std::string Encode(const T& m);              // the enveloped bytes
//   void EncodeTo(const T& m, std::string* out); // same, replacing *out; reuses its capacity
//   sdk::Status Decode(sdk::ByteView bytes, T* out, const DecodeLimits& limits = {});
//   sdk::Status DecodeBody(const Message& message, T* out);
//
// Encode trusts its input (the caller built it); Decode validates everything.
// Decode and DecodeBody refuse a message of another type with kInvalidArgument,
// except that an ErrorReply decoded as any other type returns the peer's
// status (code kept, message prefixed "peer: "), so a client can write
//   SCALEOUT_RETURN_IF_ERROR(Decode(response.body, &reply));
// On failure *out is left in an unspecified but valid state.
#define SCALEOUT_PROTOCOL_DECLARE_CODEC(T)                                                      \
  std::string Encode(const T& message);                                                         \
  void EncodeTo(const T& message, std::string* out);                                            \
  sdk::Status Decode(sdk::ByteView bytes, T* out, const DecodeLimits& limits = DecodeLimits{}); \
  sdk::Status DecodeBody(const Message& message, T* out);

SCALEOUT_PROTOCOL_DECLARE_CODEC(ErrorReply)
SCALEOUT_PROTOCOL_DECLARE_CODEC(RegisterRequest)
SCALEOUT_PROTOCOL_DECLARE_CODEC(RegisterReply)
SCALEOUT_PROTOCOL_DECLARE_CODEC(AgentHeartbeatRequest)
SCALEOUT_PROTOCOL_DECLARE_CODEC(AgentHeartbeatReply)
SCALEOUT_PROTOCOL_DECLARE_CODEC(RequestTasksRequest)
SCALEOUT_PROTOCOL_DECLARE_CODEC(RequestTasksReply)
SCALEOUT_PROTOCOL_DECLARE_CODEC(GetProjectRequest)
SCALEOUT_PROTOCOL_DECLARE_CODEC(GetProjectReply)
SCALEOUT_PROTOCOL_DECLARE_CODEC(TaskHeartbeatRequest)
SCALEOUT_PROTOCOL_DECLARE_CODEC(TaskHeartbeatReply)
SCALEOUT_PROTOCOL_DECLARE_CODEC(ReportEventsRequest)
SCALEOUT_PROTOCOL_DECLARE_CODEC(ReportEventsReply)
SCALEOUT_PROTOCOL_DECLARE_CODEC(ReportResultsRequest)
SCALEOUT_PROTOCOL_DECLARE_CODEC(ReportResultsReply)
SCALEOUT_PROTOCOL_DECLARE_CODEC(ManageRequest)
SCALEOUT_PROTOCOL_DECLARE_CODEC(ManageReply)

#undef SCALEOUT_PROTOCOL_DECLARE_CODEC

// The bytes of an ErrorReply carrying `status` (which must not be OK; an OK
// status is sent as kInternal "error reply without an error").
std::string EncodeError(const sdk::Status& status);

// The status an ErrorReply stands for.
sdk::Status ToStatus(const ErrorReply& reply);

}  // namespace scaleout::core::protocol

#endif  // SCALEOUT_CORE_PROTOCOL_CODEC_H_
