#include "server/api_server.h"

#include <httplib.h>
#include <openssl/rand.h>
#include <sys/socket.h>

#include <cctype>

#include "core/error.h"
#include "server/connection_workers.h"

namespace trainyard::server {
namespace {

constexpr std::string_view kTargetPrefix = "SageMaker.";
constexpr size_t kKeepAliveRequests = 10000;

// A version-4 UUID from OpenSSL's generator, as AWS request ids look.
std::string request_id() {
  unsigned char bytes[16];
  RAND_bytes(bytes, sizeof bytes);
  bytes[6] = static_cast<unsigned char>((bytes[6] & 0x0f) | 0x40);
  bytes[8] = static_cast<unsigned char>((bytes[8] & 0x3f) | 0x80);
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string text;
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) text += '-';
    text += kDigits[bytes[i] >> 4];
    text += kDigits[bytes[i] & 15];
  }
  return text;
}

void write(httplib::Response& response, const ApiResponse& answer) {
  response.status = answer.status;
  response.set_header("x-amzn-RequestId", request_id());
  if (!answer.error_type.empty()) response.set_header("x-amzn-ErrorType", answer.error_type);
  response.set_content(answer.body.dump(), "application/x-amz-json-1.1");
}

HttpRequestView view_of(const httplib::Request& request) {
  HttpRequestView view;
  view.method = request.method;
  view.path = request.path;
  size_t question = request.target.find('?');
  if (question != std::string::npos) view.query = request.target.substr(question + 1);
  for (const auto& [name, value] : request.headers) {
    std::string lower = name;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    view.headers.emplace(std::move(lower), value);
  }
  view.body = request.body;
  return view;
}

std::unique_ptr<httplib::Server> make_server(const ApiServerOptions& options) {
  if (options.tls_certificate.empty() != options.tls_private_key.empty()) {
    throw ValueError("TLS needs both a certificate and a private key file");
  }
  if (options.tls_certificate.empty()) return std::make_unique<httplib::Server>();
  auto server = std::make_unique<httplib::SSLServer>(options.tls_certificate.c_str(),
                                                     options.tls_private_key.c_str());
  if (!server->is_valid()) {
    throw ValueError("cannot use the TLS certificate " + options.tls_certificate +
                     " with the private key " + options.tls_private_key +
                     " (unreadable, not PEM, or not a matching pair)");
  }
  return server;
}

}  // namespace

ApiServer::ApiServer(SageMakerApi& api, SecretLookup secrets, ApiServerOptions options)
    : api_(api),
      secrets_(std::move(secrets)),
      options_(std::move(options)),
      http_(make_server(options_)) {
  install_handlers();
}

ApiServer::~ApiServer() = default;

void ApiServer::install_handlers() {
  http_->set_payload_max_length(options_.max_body_bytes);
  http_->set_read_timeout(options_.read_timeout);
  // httplib writes an answer's headers and body separately: with Nagle's algorithm the body
  // waits for the client's delayed ACK of the headers, ~40 ms per request on loopback.
  http_->set_tcp_nodelay(true);
  // httplib closes a keep-alive connection after 5 requests by default; SDK clients keep
  // theirs open, so reconnecting every fifth call would be most of a describe's cost.
  http_->set_keep_alive_max_count(kKeepAliveRequests);
  http_->set_socket_options([this](int socket) {
    int yes = 1;
    ::setsockopt(socket, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    listening_socket_ = socket;
  });
  const size_t max_connections = options_.max_connections;
  if (max_connections == 0) throw ValueError("max_connections must be at least 1");
  http_->new_task_queue = [max_connections] { return new ConnectionWorkers(max_connections); };
  http_->Post("/", [this](const httplib::Request& request, httplib::Response& response) {
    if (secrets_) {
      AuthResult auth = verify_sigv4(view_of(request), secrets_, std::chrono::system_clock::now(),
                                     options_.sigv4);
      if (!auth.ok()) {
        write(response, ApiResponse::error(auth.failure->code, auth.failure->message));
        return;
      }
    }
    std::string target = request.get_header_value("X-Amz-Target");
    if (target.compare(0, kTargetPrefix.size(), kTargetPrefix) != 0) {
      write(response,
            ApiResponse::error("UnknownOperationException",
                               "X-Amz-Target must be SageMaker.<Operation>, got '" + target + "'"));
      return;
    }
    write(response, api_.call(std::string_view(target).substr(kTargetPrefix.size()), request.body));
  });
  // Answers httplib makes itself (oversized bodies, unknown paths) get AWS's JSON shape too.
  http_->set_error_handler([this](const httplib::Request& request, httplib::Response& response) {
    if (response.status == 413) {
      write(response,
            ApiResponse::error("ValidationException",
                               "The request body (" + request.get_header_value("Content-Length") +
                                   " bytes) is over trainyard's limit of " +
                                   std::to_string(options_.max_body_bytes) + " bytes",
                               413));
    } else if (response.body.empty()) {
      write(response, ApiResponse::error("UnknownOperationException",
                                         "trainyard serves the SageMaker API at POST /; got " +
                                             request.method + " " + request.path,
                                         response.status));
    }
  });
  http_->set_exception_handler(
      [](const httplib::Request&, httplib::Response& response, std::exception_ptr error) {
        std::string what = "unknown error";
        try {
          std::rethrow_exception(error);
        } catch (const std::exception& exception) {
          what = exception.what();
        } catch (...) {
        }
        write(response, ApiResponse::error("InternalFailure", what, 500));
      });
}

void ApiServer::bind() {
  if (options_.port == 0) {
    port_ = http_->bind_to_any_port(options_.host);
  } else {
    port_ = http_->bind_to_port(options_.host, options_.port) ? options_.port : -1;
  }
  if (port_ <= 0) {
    throw IOError("cannot listen on " + options_.host + ":" + std::to_string(options_.port) +
                  " (in use, or not an address of this machine)");
  }
  // httplib listens with a backlog of 5: a burst of new connections (200 clients creating
  // jobs at once) overflows it and clients wait for SYN retransmits. Listening again on the
  // same socket raises the backlog.
  if (listening_socket_ >= 0) ::listen(listening_socket_, SOMAXCONN);
}

void ApiServer::serve() {
  http_->listen_after_bind();
}

void ApiServer::stop() {
  http_->stop();
}

}  // namespace trainyard::server
