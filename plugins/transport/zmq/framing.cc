#include "framing.h"

namespace scaleout::plugins::zmq {

std::string EncodeId(std::uint64_t id) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i) {
    out[static_cast<std::size_t>(i)] = static_cast<char>(id & 0xFF);
    id >>= 8;
  }
  return out;
}

std::optional<std::uint64_t> DecodeId(std::string_view frame) {
  if (frame.size() != 8) return std::nullopt;
  std::uint64_t id = 0;
  for (char c : frame) id = (id << 8) | static_cast<unsigned char>(c);
  return id;
}

std::string EncodeStatus(int status) {
  if (status < 100 || status > 599) status = 500;
  return std::to_string(status);
}

std::optional<int> DecodeStatus(std::string_view frame) {
  if (frame.size() != 3) return std::nullopt;
  int value = 0;
  for (char c : frame) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
  }
  if (value < 100 || value > 599) return std::nullopt;
  return value;
}

std::optional<ParsedRequest> ParseRequest(const std::vector<std::string_view>& frames,
                                          std::size_t max_header_bytes, FrameError* error) {
  auto fail = [&](int status, std::string message) -> std::optional<ParsedRequest> {
    error->status = status;
    error->message = std::move(message);
    return std::nullopt;
  };
  error->id = 0;
  if (frames.empty() || frames[0] != kProtocolTag) {
    return fail(400,
                "malformed request: the first frame must be \"" + std::string(kProtocolTag) + "\"");
  }
  if (frames.size() >= 2) {
    if (auto id = DecodeId(frames[1])) error->id = *id;
  }
  if (frames.size() != kRequestFrames) {
    return fail(400, "malformed request: expected " + std::to_string(kRequestFrames) +
                         " frames, got " + std::to_string(frames.size()));
  }
  auto id = DecodeId(frames[1]);
  if (!id) return fail(400, "malformed request: the request id frame must be 8 bytes");
  ParsedRequest request;
  request.id = *id;
  request.method = frames[2];
  request.target = frames[3];
  request.content_type = frames[4];
  request.authorization = frames[5];
  request.body = frames[6];
  const std::size_t header = request.method.size() + request.target.size() +
                             request.content_type.size() + request.authorization.size();
  if (header > max_header_bytes) {
    return fail(431, "the request header frames are larger than " +
                         std::to_string(max_header_bytes) + " bytes");
  }
  if (request.method.empty() || request.method.size() > 16) {
    return fail(400, "malformed request: the method must be 1 to 16 letters");
  }
  for (char c : request.method) {
    if (c < 'A' || c > 'Z') return fail(400, "malformed request: the method must be A-Z");
  }
  if (request.target.empty() || request.target.front() != '/') {
    return fail(400, "malformed request: the target must start with '/'");
  }
  return request;
}

}  // namespace scaleout::plugins::zmq
