// The blocking HTTP/1.1 client the CLI uses: one request per connection (Connection: close),
// one overall deadline for connect, send and receive. The request is written with http1's
// serializer and the response read with http1's parser, framing and chunked decoder.
#include "api/http.h"

#include "common/text.h"
#include "http1/chunked.h"
#include "http1/parser.h"
#include "http1/serializer.h"

#include <cerrno>
#include <chrono>
#include <cstring>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <optional>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace tide::api {

namespace {

using SteadyTime = std::chrono::steady_clock::time_point;

constexpr size_t kMaxResponseHeadBytes = 64 * 1024;
constexpr size_t kMaxResponseBodyBytes = 256 * 1024 * 1024;

// Closes the socket on every return path.
class Socket {
public:
  explicit Socket(int fd = -1) : fd_(fd) {}
  ~Socket() { reset(); }
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  int fd() const { return fd_; }
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }
  void reset(int fd = -1) {
    if (fd_ >= 0) {
      ::close(fd_);
    }
    fd_ = fd;
  }

private:
  int fd_;
};

int remainingMs(SteadyTime deadline) {
  auto left = std::chrono::ceil<Millis>(deadline - std::chrono::steady_clock::now()).count();
  if (left <= 0) {
    return 0;
  }
  return left > 1'000'000 ? 1'000'000 : int(left);
}

std::string endpointOf(const std::string& host, uint16_t port) {
  bool ipv6 = host.find(':') != std::string::npos;
  return (ipv6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

Status connectionError(const std::string& endpoint, const std::string& what) {
  return Status("EndpointConnectionError",
                "Could not connect to the endpoint URL: \"http://" + endpoint + "/\": " + what);
}

Status timeoutError(const std::string& endpoint, Millis timeout) {
  return Status("RequestTimeout", "request to http://" + endpoint + " took longer than " +
                                      std::to_string(timeout.count()) + " ms");
}

Status responseError(const std::string& endpoint, const std::string& what) {
  return Status("EndpointConnectionError",
                "invalid response from http://" + endpoint + ": " + what);
}

// Connects to one address before deadline. Returns the socket or an errno-style message.
Result<int> connectOne(const addrinfo* ai, SteadyTime deadline, bool& timedOut) {
  int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
  if (fd < 0) {
    return Status("EndpointConnectionError", std::strerror(errno));
  }
  Socket sock(fd);
  if (::connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
    if (errno != EINPROGRESS) {
      return Status("EndpointConnectionError", std::strerror(errno));
    }
    while (true) {
      pollfd p{fd, POLLOUT, 0};
      int ms = remainingMs(deadline);
      if (ms == 0) {
        timedOut = true;
        return Status("EndpointConnectionError", "connect timed out");
      }
      int rc = ::poll(&p, 1, ms);
      if (rc < 0 && errno == EINTR) {
        continue;
      }
      if (rc < 0) {
        return Status("EndpointConnectionError", std::strerror(errno));
      }
      if (rc == 0) {
        continue; // the deadline check above ends this
      }
      break;
    }
    int err = 0;
    socklen_t len = sizeof err;
    if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) {
      err = errno;
    }
    if (err != 0) {
      return Status("EndpointConnectionError", std::strerror(err));
    }
  }
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return sock.release();
}

std::string lowercase(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    c = char(asciiLower(static_cast<unsigned char>(c)));
  }
  return out;
}

// The status, Content-Type and other headers (names lowercased) of a parsed head.
void takeHead(const http1::MessageHead& head, HttpResponse& response) {
  response.status = head.status;
  response.contentType.clear();
  response.headers.clear();
  for (size_t i = 0; i < head.fieldCount; ++i) {
    const http1::HeaderField& f = head.fields[i];
    std::string name = lowercase(f.name);
    if (name == "content-type") {
      response.contentType = std::string(f.value);
    } else {
      response.headers.emplace_back(std::move(name), std::string(f.value));
    }
  }
}

} // namespace

Result<HttpResponse> httpRequest(const std::string& host, uint16_t port, const HttpRequest& request,
                                 Millis timeout) {
  const SteadyTime deadline = std::chrono::steady_clock::now() + timeout;
  const std::string endpoint = endpointOf(host, port);

  // Validate what we are asked to send, so a caller cannot smuggle a second request.
  std::string method = request.method.empty() ? "GET" : request.method;
  std::string target = request.target.empty() ? "/" : request.target;
  if (!http1::isMethod(method)) {
    return validationError("invalid HTTP method '" + method + "'");
  }
  if (!http1::isRequestTarget(target)) {
    return validationError("invalid request target '" + target + "'");
  }
  for (const auto& [name, value] : request.headers) {
    if (!http1::isFieldName(name) || !http1::isFieldValue(value)) {
      return validationError("invalid request header '" + name + "'");
    }
  }

  // Resolve and connect.
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* res = nullptr;
  std::string portText = std::to_string(port);
  int rc = ::getaddrinfo(host.c_str(), portText.c_str(), &hints, &res);
  if (rc != 0) {
    return connectionError(endpoint, std::string("cannot resolve host: ") + ::gai_strerror(rc));
  }
  Socket sock;
  std::string lastError = "no addresses";
  bool timedOut = false;
  for (addrinfo* ai = res; ai != nullptr && !timedOut; ai = ai->ai_next) {
    Result<int> fd = connectOne(ai, deadline, timedOut);
    if (fd.isOk()) {
      sock.reset(*fd);
      break;
    }
    lastError = fd.status().message();
  }
  ::freeaddrinfo(res);
  if (sock.fd() < 0) {
    if (timedOut) {
      return connectionError(endpoint,
                             "connect timed out after " + std::to_string(timeout.count()) + " ms");
    }
    return connectionError(endpoint, lastError);
  }
  const int fd = sock.fd();

  // Send the request.
  std::string wire;
  wire.reserve(256 + request.body.size());
  http1::appendRequestLine(wire, method, target);
  std::string hostHeader = endpoint;
  for (const auto& [name, value] : request.headers) {
    if (equalsIgnoreCase(name, "host")) {
      hostHeader = value; // the caller's Host wins over host:port
    }
  }
  http1::appendField(wire, "Host", hostHeader);
  for (const auto& [name, value] : request.headers) {
    if (equalsIgnoreCase(name, "host") || equalsIgnoreCase(name, "content-length") ||
        equalsIgnoreCase(name, "connection") || equalsIgnoreCase(name, "transfer-encoding")) {
      continue; // framing is ours
    }
    http1::appendField(wire, name, value);
  }
  http1::appendField(wire, "Content-Length", uint64_t(request.body.size()));
  http1::appendField(wire, "Connection", "close");
  http1::appendHeadEnd(wire);
  wire += request.body;

  size_t sent = 0;
  while (sent < wire.size()) {
    ssize_t n = ::send(fd, wire.data() + sent, wire.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += size_t(n);
      continue;
    }
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      pollfd p{fd, POLLOUT, 0};
      int ms = remainingMs(deadline);
      if (ms == 0) {
        return timeoutError(endpoint, timeout);
      }
      int prc = ::poll(&p, 1, ms);
      if (prc < 0 && errno != EINTR) {
        return connectionError(endpoint, std::strerror(errno));
      }
      continue;
    }
    // The server may have answered early (413) and closed: try to read that answer.
    break;
  }

  // Read the response.
  std::string in;
  HttpResponse response;
  http1::MessageHead head;
  bool headDone = false;
  http1::ChunkedDecoder chunks;
  size_t decoded = 0; // bytes after the head already fed to chunks
  bool eof = false;
  char buf[16 * 1024];
  while (true) {
    // Parse what we have.
    if (!headDone) {
      http1::ParseStatus st = http1::parseResponseHead(in.data(), in.size(), kMaxResponseHeadBytes,
                                                       method == "HEAD", head);
      if (st == http1::ParseStatus::TooLarge) {
        return responseError(endpoint, "response headers too large");
      }
      if (st == http1::ParseStatus::Invalid || st == http1::ParseStatus::NotImplemented) {
        size_t lineEnd = in.find("\r\n");
        return responseError(endpoint, "malformed response head '" +
                                           in.substr(0, std::min<size_t>(lineEnd, 64)) + "'");
      }
      if (st == http1::ParseStatus::Complete) {
        if (head.status < 200) {
          in.erase(0, head.length); // interim response (100 Continue): the real one follows
          continue;
        }
        takeHead(head, response);
        headDone = true;
        if (head.framing == http1::BodyFraming::ContentLength &&
            head.contentLength > kMaxResponseBodyBytes) {
          return responseError(endpoint, "response body too large");
        }
      }
    }
    if (headDone) {
      std::string_view body = std::string_view(in).substr(head.length);
      switch (head.framing) {
      case http1::BodyFraming::None:
        response.body.clear();
        return response;
      case http1::BodyFraming::ContentLength:
        if (body.size() >= head.contentLength) {
          response.body = std::string(body.substr(0, size_t(head.contentLength)));
          return response;
        }
        break;
      case http1::BodyFraming::Chunked: {
        size_t used = 0;
        http1::ChunkedDecoder::Result r = chunks.decode(
            body.data() + decoded, body.size() - decoded, &used, &response.body, nullptr);
        decoded += used;
        if (r == http1::ChunkedDecoder::Result::Invalid) {
          return responseError(endpoint, "malformed chunked body");
        }
        if (r == http1::ChunkedDecoder::Result::Done) {
          return response;
        }
        if (response.body.size() > kMaxResponseBodyBytes) {
          return responseError(endpoint, "response body too large");
        }
        break;
      }
      case http1::BodyFraming::UntilClose:
        if (eof) {
          response.body = std::string(body); // delimited by the end of the connection
          return response;
        }
        if (body.size() > kMaxResponseBodyBytes) {
          return responseError(endpoint, "response body too large");
        }
        break;
      }
    }
    if (eof) {
      return responseError(endpoint, !headDone ? "connection closed before a complete response"
                                               : "connection closed in the middle of the body");
    }

    // Read more.
    pollfd p{fd, POLLIN, 0};
    int ms = remainingMs(deadline);
    if (ms == 0) {
      return timeoutError(endpoint, timeout);
    }
    int prc = ::poll(&p, 1, ms);
    if (prc < 0 && errno != EINTR) {
      return connectionError(endpoint, std::strerror(errno));
    }
    if (prc <= 0) {
      continue;
    }
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n > 0) {
      in.append(buf, size_t(n));
    } else if (n == 0) {
      eof = true;
    } else if (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK) {
      if (in.empty()) {
        return connectionError(endpoint, std::string("connection lost: ") + std::strerror(errno));
      }
      eof = true; // reset after some bytes: judge what arrived
    }
  }
}

} // namespace tide::api
