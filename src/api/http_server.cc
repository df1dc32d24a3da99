// The control plane's HTTP/1.1 server: non-blocking sockets on the control EventLoop, requests
// read by http1::RequestReader (strict heads, Content-Length and chunked bodies, pipelining) and
// responses written with http1's serializer, with hard limits (see HttpServerOptions).
//
// A connection's life:
//   Open      -> reading requests, writing responses, in order (pipelining allowed)
//   Closing   -> a response that ends the connection is queued; input is ignored; once the
//                output drains, the write side is shut down and the connection lingers
//   Lingering -> reads and discards until EOF or kLingerTime, then closes (so a client that is
//                still sending does not get a reset that destroys the error response)
//   Streaming -> a streamed response (HttpResponse::stream) is open: its owner pushes bytes
//                through an HttpStream; input is discarded; EOF from the peer, a backlog above
//                maxStreamBacklog or the server's stop close it; HttpStream::close() -> Closing
#include "api/http.h"

#include "common/log.h"
#include "common/text.h"
#include "http1/request_reader.h"
#include "http1/serializer.h"

#include <arpa/inet.h>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <optional>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <unordered_map>

namespace tide::api {

namespace {

using SteadyTime = std::chrono::steady_clock::time_point;

constexpr size_t kReadChunk = 16 * 1024;
constexpr size_t kMaxPendingOutput = 4 * 1024 * 1024; // stop reading while this much is queued
constexpr int kMaxReadsPerEvent = 16;
constexpr Millis kLingerTime = Millis(2'000);
constexpr Millis kAcceptRetry = Millis(100); // after EMFILE/ENFILE

SteadyTime steadyNow() {
  return std::chrono::steady_clock::now();
}

std::string jsonEscape(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  for (unsigned char c : s) {
    switch (c) {
    case '"':
      out += "\\\"";
      break;
    case '\\':
      out += "\\\\";
      break;
    case '\n':
      out += "\\n";
      break;
    case '\r':
      out += "\\r";
      break;
    case '\t':
      out += "\\t";
      break;
    default:
      if (c < 0x20) {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\u%04x", c);
        out += buf;
      } else {
        out += char(c);
      }
    }
  }
  return out;
}

HttpResponse errorResponse(int status, std::string_view code, std::string_view message) {
  HttpResponse r;
  r.status = status;
  r.contentType = "application/json";
  r.body =
      "{\"__type\": \"" + jsonEscape(code) + "\", \"message\": \"" + jsonEscape(message) + "\"}";
  return r;
}

// Status line and headers for response; the body is appended by the caller.
// A streamed response (contentLength nullopt) has no Content-Length: it ends with the connection.
std::string serializeHead(const HttpResponse& response, std::optional<size_t> contentLength,
                          bool close, bool http10KeepAlive) {
  std::string out;
  out.reserve(128 + response.headers.size() * 48);
  http1::appendStatusLine(out, response.status);
  http1::appendField(out, "Content-Type",
                     response.contentType.empty() ? "application/octet-stream"
                                                  : response.contentType);
  if (contentLength) {
    http1::appendField(out, "Content-Length", uint64_t(*contentLength));
  }
  char date[http1::kHttpDateChars];
  http1::formatHttpDate(static_cast<int64_t>(::time(nullptr)), date);
  http1::appendField(out, "Date", std::string_view(date, sizeof date));
  for (const auto& [name, value] : response.headers) {
    if (equalsIgnoreCase(name, "content-length") || equalsIgnoreCase(name, "content-type") ||
        equalsIgnoreCase(name, "connection") || equalsIgnoreCase(name, "transfer-encoding") ||
        equalsIgnoreCase(name, "date")) {
      continue; // framing is the server's business
    }
    if (!http1::isFieldName(name) || !http1::isFieldValue(value)) {
      logError("http: handler produced an invalid response header '" + name + "'; dropped");
      continue;
    }
    http1::appendField(out, name, value);
  }
  if (close) {
    http1::appendField(out, "Connection", "close");
  } else if (http10KeepAlive) {
    http1::appendField(out, "Connection", "keep-alive");
  }
  http1::appendHeadEnd(out);
  return out;
}

// The client's address without the port: what the per-address limit counts by.
std::string formatAddress(const sockaddr_storage& addr) {
  char host[INET6_ADDRSTRLEN] = "?";
  if (addr.ss_family == AF_INET) {
    ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&addr)->sin_addr, host, sizeof host);
  } else if (addr.ss_family == AF_INET6) {
    ::inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&addr)->sin6_addr, host,
                sizeof host);
  }
  return host;
}

std::string formatPeer(const sockaddr_storage& addr) {
  char host[INET6_ADDRSTRLEN] = "?";
  uint16_t port = 0;
  if (addr.ss_family == AF_INET) {
    const auto* a = reinterpret_cast<const sockaddr_in*>(&addr);
    ::inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
    port = ntohs(a->sin_port);
    return std::string(host) + ":" + std::to_string(port);
  }
  if (addr.ss_family == AF_INET6) {
    const auto* a = reinterpret_cast<const sockaddr_in6*>(&addr);
    ::inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
    port = ntohs(a->sin6_port);
    return "[" + std::string(host) + "]:" + std::to_string(port);
  }
  return "unknown";
}

} // namespace

// A request the reader refused: the response to send, after which the connection closes.
using ParseError = http1::RequestError;

const std::string* HttpRequest::header(std::string_view lowercaseName) const {
  for (const auto& [name, value] : headers) {
    if (name == lowercaseName) {
      return &value;
    }
  }
  return nullptr;
}

struct HttpServer::Impl {
  enum class ConnState {
    Open,      // reading requests and writing responses
    Closing,   // last response queued; close once it is written
    Lingering, // write side shut down; discarding input until EOF or timeout
    Streaming, // a streamed response is open; input discarded
  };

  struct Connection;

  // The HttpStream of a Streaming connection. The connection holds it and clears `conn` when it
  // closes; the stream's owner may keep it longer (send() then returns false).
  struct Stream final : HttpStream {
    Impl* impl = nullptr;
    std::weak_ptr<Connection> conn;
    bool closed = false;
    std::function<void()> closeCallback;

    bool send(std::string_view bytes) override {
      std::shared_ptr<Connection> c = closed ? nullptr : conn.lock();
      if (!c || c->fd < 0 || c->state != ConnState::Streaming) {
        return false;
      }
      if (c->pendingOut() + bytes.size() > impl->options.maxStreamBacklog) {
        logWarn("http: " + c->peer + ": a streamed response fell " +
                std::to_string(c->pendingOut()) + " bytes behind; dropping the client");
        impl->closeConnection(*c);
        return false;
      }
      c->out.append(bytes);
      if (!impl->flush(*c)) {
        return false;
      }
      impl->updateInterest(*c);
      impl->rearmTimer(*c);
      return true;
    }
    void close() override {
      std::shared_ptr<Connection> c = closed ? nullptr : conn.lock();
      if (!c || c->fd < 0 || c->state != ConnState::Streaming) {
        return;
      }
      c->state = ConnState::Closing;
      markClosed();
      if (impl->flush(*c)) {
        impl->updateInterest(*c);
        impl->rearmTimer(*c);
      }
    }
    bool isOpen() const override { return !closed; }
    void onClose(std::function<void()> callback) override {
      if (!closed) {
        closeCallback = std::move(callback);
      }
    }
    void markClosed() {
      if (closed) {
        return;
      }
      closed = true;
      auto callback = std::move(closeCallback);
      closeCallback = nullptr;
      if (callback) {
        callback();
      }
    }
  };

  struct Connection {
    int fd = -1;
    std::string peer;
    std::string address; // the peer's address without the port (byAddress's key)
    ConnState state = ConnState::Open;
    std::string in;              // received bytes not yet consumed by the reader
    http1::RequestReader reader; // the requests in them
    std::string out;             // response bytes not yet written
    size_t outOffset = 0;        // bytes of out already written
    bool requestStarted = false; // in holds part of a request; requestStart is meaningful
    SteadyTime requestStart;     // first byte of the current request arrived
    SteadyTime lastActivity;     // last read or write progress
    bool continueSent = false;   // "100 Continue" sent for the current request
    bool peerClosed = false;     // read EOF: the peer sends nothing more
    uint32_t events = 0;         // epoll events currently asked for
    EventLoop::TimerId timer = 0;
    SteadyTime timerDeadline;
    std::shared_ptr<Stream> stream; // set while Streaming

    size_t pendingOut() const { return out.size() - outOffset; }
  };

  EventLoop& loop;
  HttpServerOptions options;
  Handler handler;
  int listenFd = -1;
  bool acceptPaused = false;
  EventLoop::TimerId acceptRetryTimer = 0;
  std::unordered_map<int, std::shared_ptr<Connection>> conns;
  std::unordered_map<std::string, size_t> byAddress; // open connections by client address
  uint64_t refused = 0;                              // connections refused at accept, since the
                                                     // last warning about it
  SteadyTime refusedLogged;                          // when that warning was last logged

  Impl(EventLoop& l, HttpServerOptions o, Handler h) : loop(l), options(o), handler(std::move(h)) {}

  // ---- accepting ----

  void onListenReady() {
    while (true) {
      sockaddr_storage addr{};
      socklen_t len = sizeof addr;
      int fd = ::accept4(listenFd, reinterpret_cast<sockaddr*>(&addr), &len,
                         SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EINTR || errno == ECONNABORTED) {
          continue;
        }
        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
          // Level-triggered epoll would spin: pause accepting for a moment.
          logWarn(std::string("http: accept: ") + std::strerror(errno) + "; pausing accepts");
          pauseAccepting();
        }
        return; // EAGAIN, or an error we ride out
      }
      std::string address = formatAddress(addr);
      if (!admit(address)) {
        refuse(addr);
        ::close(fd);
        continue;
      }
      int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      auto conn = std::make_shared<Connection>();
      conn->reader = http1::RequestReader(
          http1::RequestReaderLimits{options.maxHeaderBytes, options.maxBodyBytes});
      conn->fd = fd;
      conn->peer = formatPeer(addr);
      conn->address = address;
      conn->lastActivity = steadyNow();
      conn->events = EPOLLIN | EPOLLRDHUP;
      Status s =
          loop.add(fd, conn->events, [this, fd](uint32_t events) { onConnEvent(fd, events); });
      if (!s.isOk()) {
        logError("http: " + s.toString());
        ::close(fd);
        continue;
      }
      conns.emplace(fd, conn);
      ++byAddress[conn->address];
      rearmTimer(*conn);
    }
  }

  // Fairness under connection floods (docs/security.md): a client address at its limit, or the
  // server at its total, makes room by closing the oldest idle connection (of that address, or
  // of anyone); a new connection is refused only when none is idle. Idle: open, no request
  // begun, nothing to write. One client cannot lock the others out with idle connections, and
  // at its own limit it recycles its own.
  bool admit(const std::string& address) {
    auto it = byAddress.find(address);
    if (it != byAddress.end() && it->second >= options.maxConnectionsPerPeer &&
        !closeOldestIdle(&address)) {
      return false;
    }
    return conns.size() < options.maxConnections || closeOldestIdle(nullptr);
  }

  static bool idle(const Connection& c) {
    return c.fd >= 0 && c.state == ConnState::Open && !c.requestStarted && c.in.empty() &&
           c.pendingOut() == 0 && !c.stream && !c.reader.inBody();
  }

  // Closes the idle connection (of `address`, or of anyone when null) whose last activity is
  // the oldest. False when there is none. O(connections): runs only at a limit.
  bool closeOldestIdle(const std::string* address) {
    Connection* oldest = nullptr;
    for (auto& [fd, c] : conns) {
      if (idle(*c) && (address == nullptr || c->address == *address) &&
          (oldest == nullptr || c->lastActivity < oldest->lastActivity)) {
        oldest = c.get();
      }
    }
    if (oldest == nullptr) {
      return false;
    }
    closeConnection(*oldest);
    return true;
  }

  // Counts a refused connection; says so at most every 10 s (a flood would fill the log).
  void refuse(const sockaddr_storage& addr) {
    ++refused;
    SteadyTime now = steadyNow();
    if (refusedLogged == SteadyTime{} || now - refusedLogged >= std::chrono::seconds(10)) {
      logWarn("http: connection limits reached (" + std::to_string(options.maxConnections) +
              " in total, " + std::to_string(options.maxConnectionsPerPeer) +
              " per address) with no idle connection to close; refused " + std::to_string(refused) +
              " connection(s), the last from " + formatPeer(addr));
      refusedLogged = now;
      refused = 0;
    }
  }

  void pauseAccepting() {
    if (acceptPaused || listenFd < 0) {
      return;
    }
    acceptPaused = true;
    (void)loop.modify(listenFd, 0);
    acceptRetryTimer = loop.runAfter(kAcceptRetry, [this] {
      acceptRetryTimer = 0;
      acceptPaused = false;
      if (listenFd >= 0) {
        (void)loop.modify(listenFd, EPOLLIN);
      }
    });
  }

  // ---- connection events ----

  void onConnEvent(int fd, uint32_t events) {
    auto it = conns.find(fd);
    if (it == conns.end()) {
      return;
    }
    std::shared_ptr<Connection> conn = it->second; // alive until this callback returns
    if (!conn->peerClosed && (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))) {
      if (!readInput(*conn)) {
        return; // closed
      }
    }
    if (conn->fd < 0) {
      return;
    }
    if ((events & EPOLLOUT) != 0 || conn->pendingOut() > 0) {
      if (!flush(*conn)) {
        return;
      }
    }
    if (conn->fd >= 0) {
      updateInterest(*conn);
      rearmTimer(*conn);
    }
  }

  // Reads what is available and handles complete requests. Returns false if the connection was
  // closed.
  bool readInput(Connection& conn) {
    char buf[kReadChunk];
    bool eof = false;
    // Read only while the output is not backed up; level-triggered epoll brings us back.
    // At most kMaxReadsPerEvent reads per event, so that one busy client cannot starve the
    // others.
    for (int reads = 0; reads < kMaxReadsPerEvent &&
                        (discardsInput(conn) || conn.pendingOut() < kMaxPendingOutput);
         ++reads) {
      if (conn.fd < 0) {
        return false; // the handler closed the server
      }
      ssize_t n = ::recv(conn.fd, buf, sizeof buf, 0);
      if (n > 0) {
        if (conn.state == ConnState::Open) {
          // Only here does input count as progress: a client that keeps sending after we
          // decided to close must not keep the connection (Closing, Lingering) alive.
          conn.lastActivity = steadyNow();
          if (!conn.requestStarted) {
            conn.requestStarted = true;
            conn.requestStart = conn.lastActivity;
          }
          conn.in.append(buf, size_t(n));
          processInput(conn);
        }
        // Closing and Lingering discard input.
        if (size_t(n) < sizeof buf) {
          break; // probably drained; epoll will tell us if not
        }
        continue;
      }
      if (n == 0) {
        eof = true;
        break;
      }
      if (errno == EINTR) {
        continue;
      }
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        break;
      }
      closeConnection(conn); // ECONNRESET and friends
      return false;
    }
    if (eof) {
      if (conn.state == ConnState::Lingering || conn.state == ConnState::Streaming ||
          conn.pendingOut() == 0) {
        // The peer is done and we owe nothing (a partial request dies with the connection).
        closeConnection(conn);
        return false;
      }
      // Half-closed peer: write what we owe, then close.
      conn.peerClosed = true;
      conn.state = ConnState::Closing;
    }
    return true;
  }

  // Lingering and Streaming connections read only to notice the peer's EOF.
  static bool discardsInput(const Connection& conn) {
    return conn.state == ConnState::Lingering || conn.state == ConnState::Streaming;
  }

  // Handles every complete request in conn.in, in order (pipelining).
  void processInput(Connection& conn) {
    // conn.fd turns -1 if the handler closed the server.
    while (conn.fd >= 0 && conn.state == ConnState::Open && conn.pendingOut() < kMaxPendingOutput) {
      size_t consumed = 0;
      http1::RequestReader::Step step = conn.reader.read(conn.in, &consumed);
      conn.in.erase(0, consumed);
      if (step == http1::RequestReader::Step::Error) {
        failRequest(conn, conn.reader.error());
        return;
      }
      if (step == http1::RequestReader::Step::NeedMore) {
        if (conn.reader.awaitingContinue() && !conn.continueSent) {
          conn.continueSent = true;
          http1::appendStatusLine(conn.out, 100);
          http1::appendHeadEnd(conn.out);
        }
        if (conn.in.empty() && !conn.reader.inBody()) {
          conn.requestStarted = false;
        }
        return; // wait for more
      }
      http1::Request& read = conn.reader.request();
      HttpRequest request;
      request.method = std::move(read.method);
      request.target = std::move(read.target);
      request.headers = std::move(read.headers);
      request.body = std::move(read.body);
      request.peer = conn.peer;
      conn.continueSent = false;
      // Whatever follows belongs to the next (pipelined) request, which starts now.
      conn.requestStarted = !conn.in.empty();
      conn.requestStart = steadyNow();
      respond(conn, request, read.versionMinor == 0, read.keepAlive);
    }
  }

  void respond(Connection& conn, const HttpRequest& request, bool http10, bool keepAlive) {
    HttpResponse response;
    try {
      response = handler(request);
    } catch (const std::exception& e) {
      // Handlers return errors as values; an exception is a bug, but not one worth dying for
      // in a server that holds other clients' connections.
      logError(std::string("http: handler threw: ") + e.what());
      response = errorResponse(500, "InternalError", "internal error");
    }
    if (response.stream && request.method != "HEAD") {
      startStream(conn, response);
      return;
    }
    bool close = !keepAlive;
    size_t length = response.body.size();
    conn.out += serializeHead(response, length, close, http10 && keepAlive);
    if (request.method != "HEAD") {
      conn.out += response.body;
    }
    if (close) {
      conn.state = ConnState::Closing;
    }
  }

  // Sends a streamed response's head and body and hands its stream to the handler's owner. The
  // connection carries nothing else afterwards: pipelined requests behind it are dropped.
  void startStream(Connection& conn, HttpResponse& response) {
    conn.out += serializeHead(response, std::nullopt, /*close=*/true, false);
    conn.out += response.body;
    conn.state = ConnState::Streaming;
    conn.in.clear();
    conn.requestStarted = false;
    auto it = conns.find(conn.fd);
    if (it == conns.end()) {
      return;
    }
    auto stream = std::make_shared<Stream>();
    stream->impl = this;
    stream->conn = it->second;
    conn.stream = stream;
    response.stream(stream);
  }

  // Queues an error response and closes the connection after it.
  void failRequest(Connection& conn, const ParseError& err) {
    HttpResponse r = errorResponse(err.status, err.code, err.message);
    conn.out += serializeHead(r, size_t(r.body.size()), /*close=*/true, false);
    conn.out += r.body;
    conn.state = ConnState::Closing;
    conn.in.clear();
    conn.requestStarted = false;
    logDebug("http: " + conn.peer + ": " + std::to_string(err.status) + " " + err.message);
  }

  // Writes pending output. Returns false if the connection was closed.
  bool flush(Connection& conn) {
    while (conn.pendingOut() > 0) {
      ssize_t n =
          ::send(conn.fd, conn.out.data() + conn.outOffset, conn.pendingOut(), MSG_NOSIGNAL);
      if (n > 0) {
        conn.outOffset += size_t(n);
        conn.lastActivity = steadyNow();
        continue;
      }
      if (n < 0 && errno == EINTR) {
        continue;
      }
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        break;
      }
      closeConnection(conn); // EPIPE, ECONNRESET, ...
      return false;
    }
    if (conn.pendingOut() == 0) {
      conn.out.clear();
      conn.outOffset = 0;
    } else if (conn.outOffset > 64 * 1024 && conn.outOffset > conn.out.size() / 2) {
      conn.out.erase(0, conn.outOffset);
      conn.outOffset = 0;
    }
    if (conn.pendingOut() == 0) {
      if (conn.state == ConnState::Closing && conn.peerClosed) {
        closeConnection(conn);
        return false;
      }
      if (conn.state == ConnState::Closing) {
        ::shutdown(conn.fd, SHUT_WR);
        conn.state = ConnState::Lingering;
        conn.lastActivity = steadyNow();
      } else if (conn.state == ConnState::Open && !conn.in.empty()) {
        // Output was backed up; requests may be waiting in the buffer.
        processInput(conn);
        if (conn.pendingOut() > 0) {
          return flush(conn);
        }
      }
    }
    return true;
  }

  void updateInterest(Connection& conn) {
    uint32_t events = EPOLLRDHUP;
    if (discardsInput(conn) || conn.pendingOut() < kMaxPendingOutput) {
      events |= EPOLLIN;
    }
    if (conn.pendingOut() > 0) {
      events |= EPOLLOUT;
    }
    if (conn.peerClosed) {
      events &= EPOLLOUT; // EPOLLIN and EPOLLRDHUP would stay ready forever
    }
    if (events != conn.events) {
      conn.events = events;
      Status s = loop.modify(conn.fd, events);
      if (!s.isOk()) {
        logError("http: " + s.toString());
      }
    }
  }

  // ---- timeouts ----

  // The moment this connection is due for attention, and why.
  SteadyTime deadlineOf(const Connection& conn) const {
    switch (conn.state) {
    case ConnState::Open:
      if (conn.requestStarted && conn.pendingOut() == 0) {
        return conn.requestStart + options.requestTimeout;
      }
      return conn.lastActivity + options.idleTimeout;
    case ConnState::Closing:
    case ConnState::Streaming: // its owner's keep-alives are progress while the client reads
      return conn.lastActivity + options.idleTimeout;
    case ConnState::Lingering:
      return conn.lastActivity + std::min(kLingerTime, options.idleTimeout);
    }
    return conn.lastActivity + options.idleTimeout;
  }

  void rearmTimer(Connection& conn) {
    SteadyTime deadline = deadlineOf(conn);
    if (conn.timer != 0 && deadline == conn.timerDeadline) {
      return;
    }
    if (conn.timer != 0) {
      loop.cancel(conn.timer);
    }
    conn.timerDeadline = deadline;
    auto delay = std::chrono::ceil<Millis>(deadline - steadyNow());
    int fd = conn.fd;
    conn.timer = loop.runAfter(delay, [this, fd] { onTimer(fd); });
  }

  void onTimer(int fd) {
    auto it = conns.find(fd);
    if (it == conns.end()) {
      return;
    }
    std::shared_ptr<Connection> conn = it->second;
    conn->timer = 0;
    SteadyTime now = steadyNow();
    SteadyTime deadline = deadlineOf(*conn);
    if (now < deadline) {
      rearmTimer(*conn); // activity moved the deadline
      return;
    }
    if (conn->state == ConnState::Open && conn->requestStarted && conn->pendingOut() == 0) {
      failRequest(*conn, ParseError{408, "RequestTimeout",
                                    "the request did not arrive whole within " +
                                        std::to_string(options.requestTimeout.count()) + " ms"});
      conn->lastActivity = now;
      if (!flush(*conn)) {
        return;
      }
      updateInterest(*conn);
      rearmTimer(*conn);
      return;
    }
    // Idle keep-alive connection, a client that stopped reading, or the end of lingering.
    closeConnection(*conn);
  }

  // ---- teardown ----

  void closeConnection(Connection& conn) {
    if (conn.fd < 0) {
      return;
    }
    if (conn.timer != 0) {
      loop.cancel(conn.timer);
      conn.timer = 0;
    }
    int fd = conn.fd;
    loop.remove(fd);
    ::close(fd);
    conn.fd = -1;
    if (auto it = byAddress.find(conn.address); it != byAddress.end() && --it->second == 0) {
      byAddress.erase(it);
    }
    std::shared_ptr<Stream> stream = std::move(conn.stream);
    conns.erase(fd); // may destroy conn if no callback holds it
    if (stream) {
      stream->markClosed(); // last: its callback may do anything, the connection is gone
    }
  }

  void closeAll() {
    if (acceptRetryTimer != 0) {
      loop.cancel(acceptRetryTimer);
      acceptRetryTimer = 0;
    }
    if (listenFd >= 0) {
      loop.remove(listenFd);
      ::close(listenFd);
      listenFd = -1;
    }
    std::vector<std::shared_ptr<Connection>> all;
    all.reserve(conns.size());
    for (auto& [fd, conn] : conns) {
      all.push_back(conn);
    }
    for (auto& conn : all) {
      closeConnection(*conn);
    }
  }
};

HttpServer::HttpServer(EventLoop& loop, HttpServerOptions options, Handler handler)
    : impl_(std::make_unique<Impl>(loop, options, std::move(handler))) {}

HttpServer::~HttpServer() {
  close();
}

Result<uint16_t> HttpServer::listen(const std::string& host, uint16_t port) {
  if (impl_->listenFd >= 0) {
    return internalError("HttpServer::listen: already listening");
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* res = nullptr;
  std::string portText = std::to_string(port);
  int rc = ::getaddrinfo(host.empty() ? nullptr : host.c_str(), portText.c_str(), &hints, &res);
  if (rc != 0) {
    return Status("InvalidParameterValue",
                  "cannot resolve listen address '" + host + "': " + ::gai_strerror(rc));
  }
  std::string lastError = "no addresses";
  int lastErrno = 0;
  int fd = -1;
  for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
    fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) {
      lastErrno = errno;
      lastError = std::strerror(errno);
      continue;
    }
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && ::listen(fd, SOMAXCONN) == 0) {
      break;
    }
    lastErrno = errno;
    lastError = std::strerror(errno);
    ::close(fd);
    fd = -1;
  }
  ::freeaddrinfo(res);
  if (fd < 0) {
    return Status(lastErrno == EADDRINUSE ? "AddressInUse" : "InternalError",
                  "cannot listen on " + host + ":" + portText + ": " + lastError);
  }
  sockaddr_storage bound{};
  socklen_t len = sizeof bound;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &len);
  uint16_t boundPort = bound.ss_family == AF_INET6
                           ? ntohs(reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port)
                           : ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  Impl* impl = impl_.get();
  Status s = impl->loop.add(fd, EPOLLIN, [impl](uint32_t) { impl->onListenReady(); });
  if (!s.isOk()) {
    ::close(fd);
    return s;
  }
  impl->listenFd = fd;
  return boundPort;
}

void HttpServer::close() {
  impl_->closeAll();
}

} // namespace tide::api
