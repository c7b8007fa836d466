// The frame layout of transport/zmq (documented in docs/protocol.md).
//
// A request is one multipart message of exactly 7 frames (the ROUTER adds
// the peer's routing id in front on the server; it is not part of the layout):
//   0 "SCALEOUT/1"   protocol tag and version
//   1 request id     8 bytes, unsigned, big-endian; chosen by the client
//   2 method         "POST", "GET", ... (1..16 bytes, A-Z)
//   3 target         starts with '/'
//   4 content type   may be empty
//   5 authorization  may be empty ("Bearer ...")
//   6 body           may be empty
// A response is one multipart message of exactly 5 frames:
//   0 "SCALEOUT/1"
//   1 request id     the id of the request it answers (0 when that request
//                    was too malformed to carry one)
//   2 status         three ASCII digits, "100".."599"
//   3 content type
//   4 body
//
// Thread-safety: free functions over their arguments.
#ifndef SCALEOUT_PLUGINS_TRANSPORT_ZMQ_FRAMING_H_
#define SCALEOUT_PLUGINS_TRANSPORT_ZMQ_FRAMING_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace scaleout::plugins::zmq {

inline constexpr std::string_view kProtocolTag = "SCALEOUT/1";
inline constexpr std::size_t kRequestFrames = 7;
inline constexpr std::size_t kResponseFrames = 5;

// The bytes of one frame (a zmq::message_t: anything with data() and size()).
template <typename Frame>
std::string_view View(const Frame& frame) {
  return {static_cast<const char*>(frame.data()), frame.size()};
}

// Views into the frames of one request; valid while the frames are.
struct ParsedRequest {
  std::uint64_t id = 0;
  std::string_view method;
  std::string_view target;
  std::string_view content_type;
  std::string_view authorization;
  std::string_view body;
};

// Why a request was refused: the status to answer and a one-line reason.
struct FrameError {
  std::uint64_t id = 0;  // the request id when it could be read, else 0
  int status = 400;
  std::string message;
};

// Checks the layout above; `max_header_bytes` bounds frames 2..5 together.
// Returns the request, or the error to answer with.
std::optional<ParsedRequest> ParseRequest(const std::vector<std::string_view>& frames,
                                          std::size_t max_header_bytes, FrameError* error);

// A response's frames 1 and 2.
std::string EncodeId(std::uint64_t id);
std::optional<std::uint64_t> DecodeId(std::string_view frame);
std::string EncodeStatus(int status);
std::optional<int> DecodeStatus(std::string_view frame);

}  // namespace scaleout::plugins::zmq

#endif  // SCALEOUT_PLUGINS_TRANSPORT_ZMQ_FRAMING_H_
