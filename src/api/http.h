// HTTP/1.1 for the control plane's API (JSON over HTTP on 127.0.0.1): a server on the control
// EventLoop and a blocking client for the CLI. Both speak HTTP through src/http1 (the same
// parser, framing and serializer as the balancer); this layer adds sockets, timeouts and limits.
#pragma once

#include "common/clock.h"
#include "common/event_loop.h"
#include "common/status.h"

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tide::api {

struct HttpRequest {
  std::string method;                                       // "GET", "POST", ...
  std::string target;                                       // request target as sent ("/")
  std::vector<std::pair<std::string, std::string>> headers; // names lowercased, values trimmed
  std::string body;
  std::string peer; // "127.0.0.1:54321"

  // First header with this (lowercase) name, or nullptr.
  const std::string* header(std::string_view lowercaseName) const;
};

// The open end of a streamed response (HttpResponse::stream): the handler's owner pushes bytes
// to the client for as long as the connection lives. Use on the server's loop thread only.
class HttpStream {
public:
  virtual ~HttpStream() = default;
  // Queues bytes for the client. Returns false, and sends nothing, once the stream is closed: the
  // client went away, the server stopped, or the client fell behind by more than
  // HttpServerOptions::maxStreamBacklog unsent bytes (then it is dropped).
  virtual bool send(std::string_view bytes) = 0;
  // Ends the response: what is queued is written, then the connection closes.
  virtual void close() = 0;
  // Whether send() can still deliver.
  virtual bool isOpen() const = 0;
  // Called once, on the loop thread, when the stream closes for any reason (not called when it
  // is already closed; replaces an earlier callback).
  virtual void onClose(std::function<void()> callback) = 0;
};

struct HttpResponse {
  int status = 200;                                         // 200, 400, 404, 413, ...
  std::string contentType = "application/json";             // Content-Type header
  std::vector<std::pair<std::string, std::string>> headers; // extra headers
  std::string body;
  // Set: a streamed response (Server-Sent Events and the like). The head goes out without a
  // Content-Length (the body ends when the connection closes: "Connection: close"), then `body`,
  // then this is called at once, on the loop thread, with the stream to push more through.
  // The connection then reads and discards input; the peer closing it closes the stream.
  std::function<void(std::shared_ptr<HttpStream>)> stream;
};

struct HttpServerOptions {
  size_t maxHeaderBytes = 16 * 1024;      // request line + headers; larger gets 431 and close
  size_t maxBodyBytes = 1024 * 1024;      // a body (Content-Length or chunked) above this gets
                                          // 413 and close
  Millis idleTimeout = Millis(60'000);    // keep-alive connection idle this long is closed
  Millis requestTimeout = Millis(10'000); // a request must arrive whole within this
  size_t maxConnections = 1024;           // in total: at this many, a new connection closes
                                          // the oldest idle one, or is closed at accept
  size_t maxConnectionsPerPeer = 256;     // from one client address: the same, among that
                                          // address's connections (docs/security.md)
  size_t maxStreamBacklog = 1024 * 1024;  // a streamed response's client that has this many
                                          // bytes unsent is dropped (slow readers cost bounded
                                          // memory)
};

// An HTTP/1.1 server with keep-alive on an EventLoop. Requests (Content-Length or chunked
// bodies, pipelined or not) are handled one at a time per connection, in order, by a
// synchronous handler on the loop thread. Malformed requests get a
// 400 with a JSON error body ({"__type": "...", "message": "..."}) and the connection closed.
// Not thread-safe: use on the loop's thread only.
class HttpServer {
public:
  using Handler = std::function<HttpResponse(const HttpRequest&)>;
  HttpServer(EventLoop& loop, HttpServerOptions options, Handler handler);
  ~HttpServer();

  // Binds and listens on host:port (port 0 picks one). Returns the bound port.
  Result<uint16_t> listen(const std::string& host, uint16_t port);
  // Stops accepting and closes every connection.
  void close();

private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// One blocking request over a new connection (Connection: close). Thread-safe.
// Fails with Status("EndpointConnectionError", ...) when it cannot connect, and
// ("RequestTimeout", ...) when the whole exchange takes longer than timeout.
Result<HttpResponse> httpRequest(const std::string& host, uint16_t port, const HttpRequest& request,
                                 Millis timeout);

} // namespace tide::api
