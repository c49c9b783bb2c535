// The HTTP front of the SageMaker API: AWS JSON 1.1 (`POST /` with `X-Amz-Target:
// SageMaker.<Operation>`) over cpp-httplib, every request's SigV4 signature verified when
// credentials are configured, bodies capped, slow clients cut off by a read timeout without
// holding back other clients (a thread per connection, up to max_connections), and
// every answer carrying x-amzn-RequestId (and x-amzn-ErrorType for errors).
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "server/sagemaker_api.h"
#include "server/sigv4.h"

namespace httplib {
class Server;
}

namespace trainyard::server {

struct ApiServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;  // 0: any free port (see port())
  size_t max_body_bytes = 1 << 20;
  // A client that has not sent the rest of its request (headers or body) within this is cut
  // off, freeing its thread.
  std::chrono::seconds read_timeout{10};
  // Connections served at once, each on its own thread (see connection_workers.h): stalled
  // clients hold a thread until read_timeout, so this many of them must stall before another
  // client waits.
  size_t max_connections = 256;
  SigV4Options sigv4;
  // Both set: HTTPS with this PEM certificate (chain) and private key, through OpenSSL.
  std::string tls_certificate;
  std::string tls_private_key;
};

class ApiServer {
 public:
  // `secrets` empty: requests are not authenticated (the caller allows that on loopback only).
  // Throws ValueError naming the files when the TLS certificate or key cannot be used.
  ApiServer(SageMakerApi& api, SecretLookup secrets, ApiServerOptions options);
  ~ApiServer();
  ApiServer(const ApiServer&) = delete;
  ApiServer& operator=(const ApiServer&) = delete;

  // Binds the listening socket; throws IOError naming the address when it cannot.
  void bind();
  // The bound port (after bind()).
  int port() const { return port_; }
  // Serves until stop(); REQUIRES: bind() succeeded.
  void serve();
  // Makes serve() return; safe from any thread and from a signal-watching thread.
  void stop();

 private:
  void install_handlers();

  SageMakerApi& api_;
  SecretLookup secrets_;
  ApiServerOptions options_;
  std::unique_ptr<httplib::Server> http_;
  int port_ = 0;
  int listening_socket_ = -1;  // set by httplib's socket-options hook, before bind() listens
};

}  // namespace trainyard::server
