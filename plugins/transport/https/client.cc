// HTTPS client: one keep-alive TLS connection, driven synchronously.
//
// Each client owns an io_context that runs only inside Call(), on the
// caller's thread, until the operation in flight completes. Timeouts come
// from beast::tcp_stream's deadline, so a call never blocks past its
// deadline (name resolution excepted: it uses the system resolver, which has
// its own timeouts; endpoints are normally IP addresses or local names).
#include "client.h"

#include <poll.h>

#include <algorithm>
#include <chrono>
#include <exception>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <openssl/err.h>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

namespace scaleout::plugins::https {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using sdk::Result;
using sdk::Status;
using Clock = std::chrono::steady_clock;
using Stream = beast::ssl_stream<beast::tcp_stream>;

constexpr std::uint32_t kMaxResponseHeaderBytes = 64u << 10;

struct Endpoint {
  std::string host;  // without brackets
  std::string port;
  bool ip_literal = false;
};

Result<Endpoint> ParseEndpoint(std::string_view text) {
  auto bad = [&](std::string_view why) {
    return Status::InvalidArgument("endpoint '" + std::string(text) + "' is invalid: " +
                                   std::string(why) + " (expected https://host:port)");
  };
  constexpr std::string_view kScheme = "https://";
  if (text.substr(0, kScheme.size()) != kScheme) return bad("the scheme must be https");
  std::string_view rest = text.substr(kScheme.size());
  if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  if (rest.find('/') != std::string_view::npos) return bad("it must not have a path");
  Endpoint endpoint;
  std::string_view port;
  if (!rest.empty() && rest.front() == '[') {
    auto close = rest.find(']');
    if (close == std::string_view::npos) return bad("unterminated '['");
    endpoint.host = std::string(rest.substr(1, close - 1));
    rest.remove_prefix(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return bad("junk after ']'");
      port = rest.substr(1);
    }
  } else {
    auto colon = rest.rfind(':');
    endpoint.host = std::string(rest.substr(0, colon));
    if (colon != std::string_view::npos) port = rest.substr(colon + 1);
  }
  if (endpoint.host.empty()) return bad("the host is empty");
  if (port.empty()) port = "443";
  if (port.size() > 5 ||
      !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
      std::stoul(std::string(port)) == 0 || std::stoul(std::string(port)) > 65535) {
    return bad("the port must be a number from 1 to 65535");
  }
  endpoint.port = std::string(port);
  beast::error_code ec;
  net::ip::make_address(endpoint.host, ec);
  endpoint.ip_literal = !ec;
  return endpoint;
}

// True for the alerts a server sends when it refuses our certificate.
bool IsCertificateRefusal(const beast::error_code& ec) {
  if (ec.category() != net::error::get_ssl_category()) return false;
  switch (ERR_GET_REASON(static_cast<unsigned long>(ec.value()))) {
    case SSL_R_SSLV3_ALERT_BAD_CERTIFICATE:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_EXPIRED:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_REVOKED:
    case SSL_R_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE:
    case SSL_R_TLSV1_ALERT_UNKNOWN_CA:
    case SSL_R_TLSV1_ALERT_ACCESS_DENIED:
    case SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED: return true;
    default: return false;
  }
}

bool IsConnectionLoss(const beast::error_code& ec) {
  return ec == http::error::end_of_stream || ec == net::error::eof ||
         ec == net::error::connection_reset || ec == net::error::broken_pipe ||
         ec == net::error::connection_aborted || ec == ssl::error::stream_truncated;
}

class HttpsClient final : public sdk::Client {
 public:
  HttpsClient(const sdk::ClientOptions& options, Endpoint endpoint, std::vector<std::string> pins,
              sdk::Logger& logger, const TransportSettings& settings)
      : options_(options),
        endpoint_(std::move(endpoint)),
        logger_(logger),
        settings_(settings),
        ssl_(ssl::context::tls_client),
        verifier_(std::move(pins)) {}

  ~HttpsClient() override { Drop(); }

  Status Init();
  Result<sdk::Response> Call(const sdk::ClientRequest& request) override;

 private:
  Result<sdk::Response> CallOnce(const sdk::ClientRequest& request, Clock::time_point deadline,
                                 bool* retry);
  Status Open(Clock::time_point deadline);
  Status ExchangeFailure(const beast::error_code& ec, Clock::time_point deadline,
                         std::string_view stage);
  Status Refused(const beast::error_code& ec);
  bool Stale();
  void Drop();

  // Starts one async operation and runs the io_context until it completes.
  template <typename Start>
  beast::error_code Run(Start&& start) {
    beast::error_code result = net::error::would_block;
    start([&result](beast::error_code ec, auto&&...) { result = ec; });
    io_.restart();
    io_.run();
    return result;
  }

  const sdk::ClientOptions options_;
  const Endpoint endpoint_;
  sdk::Logger& logger_;
  const TransportSettings settings_;
  std::string where_;  // "https://host:port" for messages
  std::string own_identity_ = "no certificate";
  net::io_context io_;
  ssl::context ssl_;
  ClientVerifier verifier_;
  std::optional<Stream> stream_;  // the live connection, if any
  beast::flat_buffer buffer_;
};

Status HttpsClient::Init() {
  where_ = "https://" +
           (endpoint_.ip_literal && endpoint_.host.find(':') != std::string::npos
                ? "[" + endpoint_.host + "]"
                : endpoint_.host) +
           ":" + endpoint_.port;
  SCALEOUT_RETURN_IF_ERROR(ApplyTlsPolicy(ssl_.native_handle()));
  if (!options_.cert_file.empty() || !options_.key_file.empty()) {
    SCALEOUT_RETURN_IF_ERROR(
        LoadCredential(ssl_.native_handle(), options_.cert_file, options_.key_file)
            .WithContext("client certificate"));
    if (X509* own = SSL_CTX_get0_certificate(ssl_.native_handle())) {
      own_identity_ = DescribeIdentity(IdentityOf(own));
    }
  }
  verifier_.Install(ssl_.native_handle());
  return Status::Ok();
}

Result<sdk::Response> HttpsClient::Call(const sdk::ClientRequest& request) {
  if (request.timeout.count() <= 0) {
    return Status::InvalidArgument("the call timeout must be positive");
  }
  if (request.target.empty() || request.target.front() != '/') {
    return Status::InvalidArgument("the request target must start with '/', got '" +
                                   request.target + "'");
  }
  try {
    const Clock::time_point deadline = Clock::now() + request.timeout;
    bool retry = false;
    Result<sdk::Response> result = CallOnce(request, deadline, &retry);
    if (retry) {
      // The kept-alive connection was closed under us before any answer
      // came back: the server did not act on the request; try a fresh one.
      if (logger_.Enabled(sdk::LogLevel::kDebug)) {
        logger_.Debug("https connection to " + where_ + " was closed; reconnecting");
      }
      result = CallOnce(request, deadline, &retry);
    }
    return result;
  } catch (const std::exception& e) {
    Drop();
    return Status::Internal(std::string("https call failed: ") + e.what());
  }
}

Result<sdk::Response> HttpsClient::CallOnce(const sdk::ClientRequest& request,
                                            Clock::time_point deadline, bool* retry) {
  *retry = false;
  if (stream_ && Stale()) Drop();
  const bool reused = stream_.has_value();
  if (!stream_) SCALEOUT_RETURN_IF_ERROR(Open(deadline));

  http::verb verb = http::string_to_verb(request.method);
  if (verb == http::verb::unknown) {
    return Status::InvalidArgument("unknown HTTP method '" + request.method + "'");
  }
  http::request<http::string_body> message{verb, request.target, 11};
  message.set(http::field::host, where_.substr(std::string_view("https://").size()));
  message.set(http::field::user_agent, "scaleout");
  if (!request.content_type.empty()) message.set(http::field::content_type, request.content_type);
  if (!request.authorization.empty()) {
    message.set(http::field::authorization, request.authorization);
  }
  message.body().assign(request.body.data(), request.body.size());
  message.keep_alive(true);
  message.prepare_payload();

  auto& socket_layer = beast::get_lowest_layer(*stream_);
  socket_layer.expires_at(deadline);
  beast::error_code ec =
      Run([&](auto handler) { http::async_write(*stream_, message, std::move(handler)); });
  if (ec) {
    *retry = reused && IsConnectionLoss(ec);
    return ExchangeFailure(ec, deadline, "sending the request");
  }

  http::response_parser<http::string_body> parser;
  parser.header_limit(kMaxResponseHeaderBytes);
  parser.body_limit(static_cast<std::uint64_t>(options_.max_response_bytes));
  ec = Run([&](auto handler) {
    http::async_read_header(*stream_, buffer_, parser, std::move(handler));
  });
  // The declared length is checked here as well as by the parser, so a
  // response that announces too much is refused before its body is read.
  // content_length() requires a complete header, so only after a good read.
  if (!ec) {
    const auto declared = parser.content_length();
    if (declared && *declared > options_.max_response_bytes) ec = http::error::body_limit;
  }
  if (!ec && !parser.is_done()) {
    ec =
        Run([&](auto handler) { http::async_read(*stream_, buffer_, parser, std::move(handler)); });
  }
  if (!ec && parser.get().body().size() > options_.max_response_bytes) {
    ec = http::error::body_limit;
  }
  if (ec) {
    *retry = reused && !parser.got_some() && IsConnectionLoss(ec);
    return ExchangeFailure(ec, deadline, "reading the response");
  }
  auto& answer = parser.get();
  sdk::Response response;
  response.status = static_cast<int>(answer.result_int());
  response.content_type = std::string(answer[http::field::content_type]);
  response.body = std::move(answer.body());
  if (!answer.keep_alive()) Drop();
  return response;
}

Status HttpsClient::Open(Clock::time_point deadline) {
  tcp::resolver resolver(io_);
  beast::error_code ec;
  auto endpoints = resolver.resolve(endpoint_.host, endpoint_.port, ec);
  if (ec) {
    return Status::Unavailable("cannot resolve '" + endpoint_.host + "' for " + where_ + ": " +
                               ec.message());
  }
  buffer_.clear();
  stream_.emplace(io_, ssl_);
  if (!endpoint_.ip_literal) {
    // SNI, for servers that serve several names.
    SSL_set_tlsext_host_name(stream_->native_handle(), endpoint_.host.c_str());
  }
  auto& socket_layer = beast::get_lowest_layer(*stream_);
  const Clock::time_point now = Clock::now();
  socket_layer.expires_at(std::min(deadline, now + options_.connect_timeout));
  ec = Run([&](auto handler) { socket_layer.async_connect(endpoints, std::move(handler)); });
  if (ec) {
    Drop();
    if (ec == beast::error::timeout && Clock::now() >= deadline) {
      return Status::DeadlineExceeded("connecting to " + where_ + " did not finish in time");
    }
    return Status::Unavailable(
        "cannot connect to " + where_ + ": " +
        (ec == beast::error::timeout ? std::string("timed out") : ec.message()) +
        ". Check that the master runs and listens there and that no firewall blocks the port");
  }

  // A message larger than one TLS record (16 KiB) goes out in several
  // writes; with Nagle's algorithm the second waits for the ACK of the first,
  // which the peer delays by 40 ms. Each message is written whole, so there
  // is nothing for Nagle to coalesce.
  socket_layer.socket().set_option(tcp::no_delay(true), ec);
  verifier_.Reset();
  socket_layer.expires_at(std::min(deadline, Clock::now() + settings_.handshake_timeout));
  ec = Run([&](auto handler) {
    stream_->async_handshake(ssl::stream_base::client, std::move(handler));
  });
  if (ec) {
    Drop();
    if (verifier_.refused()) {
      return Status::Unauthenticated("TLS handshake with " + where_ +
                                     " refused: " + verifier_.refusal());
    }
    if (IsCertificateRefusal(ec)) return Refused(ec);
    if (ec == beast::error::timeout) {
      if (Clock::now() >= deadline) {
        return Status::DeadlineExceeded("TLS handshake with " + where_ + " did not finish in time");
      }
      return Status::Unavailable("TLS handshake with " + where_ + " timed out");
    }
    return Status::Unavailable("TLS handshake with " + where_ + " failed: " + ec.message());
  }
  return Status::Ok();
}

Status HttpsClient::Refused(const beast::error_code& ec) {
  if (options_.cert_file.empty()) {
    return Status::Unauthenticated("the server at " + where_ + " requires a client certificate (" +
                                   ec.message() + "); configure this client's certificate and key");
  }
  return Status::Unauthenticated(
      "the server at " + where_ + " refused our client certificate " + own_identity_ + " (" +
      ec.message() + "). The master trusts a worker only after an administrator adds it: " +
      "'scaleout manage worker add --cert " + options_.cert_file + "'");
}

Status HttpsClient::ExchangeFailure(const beast::error_code& ec, Clock::time_point deadline,
                                    std::string_view stage) {
  Drop();  // the connection's state is unknown now
  if (IsCertificateRefusal(ec)) return Refused(ec);
  if (ec == beast::error::timeout || Clock::now() >= deadline) {
    return Status::DeadlineExceeded("no answer from " + where_ + " in time (" + std::string(stage) +
                                    ")");
  }
  if (ec == http::error::body_limit) {
    return Status::ResourceExhausted("the response from " + where_ + " is larger than " +
                                     std::to_string(options_.max_response_bytes) + " bytes");
  }
  if (ec == http::error::header_limit) {
    return Status::ResourceExhausted("the response header from " + where_ + " is too large");
  }
  return Status::Unavailable(std::string(stage) + " to " + where_ + " failed: " + ec.message());
}

// A kept-alive connection that became readable while idle was closed by the
// server (EOF, close_notify or reset): do not send a request into it.
bool HttpsClient::Stale() {
  pollfd descriptor{};
  descriptor.fd = beast::get_lowest_layer(*stream_).socket().native_handle();
  descriptor.events = POLLIN | POLLRDHUP;
  return ::poll(&descriptor, 1, 0) != 0;
}

void HttpsClient::Drop() {
  if (!stream_) return;
  beast::error_code ignored;
  beast::get_lowest_layer(*stream_).socket().shutdown(tcp::socket::shutdown_both, ignored);
  beast::get_lowest_layer(*stream_).close();
  stream_.reset();
  buffer_.clear();
  // Complete the cancelled operations' bookkeeping (timers) before reuse.
  io_.restart();
  io_.poll();
}

}  // namespace

Result<std::unique_ptr<sdk::Client>> ConnectHttpsClient(const sdk::ClientOptions& options,
                                                        sdk::Logger& logger,
                                                        const TransportSettings& settings) {
  try {
    SCALEOUT_ASSIGN_OR_RETURN(Endpoint endpoint, ParseEndpoint(options.endpoint));
    std::vector<std::string> pins;
    for (const std::string& pin : options.pinned_server_ids) {
      SCALEOUT_ASSIGN_OR_RETURN(std::string normalized, NormalizePin(pin));
      pins.push_back(std::move(normalized));
    }
    if (options.connect_timeout.count() <= 0 || options.max_response_bytes == 0) {
      return Status::InvalidArgument("connect_timeout and max_response_bytes must be positive");
    }
    auto client = std::make_unique<HttpsClient>(options, std::move(endpoint), std::move(pins),
                                                logger, settings);
    SCALEOUT_RETURN_IF_ERROR(client->Init());
    return std::unique_ptr<sdk::Client>(std::move(client));
  } catch (const std::exception& e) {
    return Status::Internal(std::string("creating the https client failed: ") + e.what());
  }
}

}  // namespace scaleout::plugins::https
