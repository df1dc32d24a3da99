// The blocking HTTP/1.1 client the CLI uses: one request per connection (Connection: close),
// one overall deadline for connect, send and receive.
#include "api/http.h"
#include "api/http_text.h"

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

bool hasCrLfOrNul(std::string_view s) {
  return s.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos;
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

// How the response in hand is framed.
struct ResponseHead {
  int status = 0;
  std::optional<size_t> contentLength;
  bool chunked = false;
};

// Parses the status line and headers into response and head; returns an error message if
// malformed.
std::optional<std::string> parseResponseHead(std::string_view text, HttpResponse& response,
                                             ResponseHead& head) {
  size_t lineEnd = text.find("\r\n");
  std::string_view statusLine = text.substr(0, lineEnd);
  // "HTTP/1.1 200 OK"
  if (statusLine.size() < 12 || statusLine.substr(0, 7) != "HTTP/1." || statusLine[8] != ' ') {
    return "malformed status line '" + std::string(statusLine.substr(0, 64)) + "'";
  }
  int status = 0;
  for (size_t i = 9; i < 12; ++i) {
    char c = statusLine[i];
    if (c < '0' || c > '9') {
      return "malformed status code in '" + std::string(statusLine.substr(0, 64)) + "'";
    }
    status = status * 10 + (c - '0');
  }
  if (statusLine.size() > 12 && statusLine[12] != ' ') {
    return "malformed status line '" + std::string(statusLine.substr(0, 64)) + "'";
  }
  head.status = status;
  response.status = status;
  response.contentType.clear();
  response.headers.clear();
  size_t pos = lineEnd == std::string_view::npos ? text.size() : lineEnd + 2;
  while (pos < text.size()) {
    size_t end = text.find("\r\n", pos);
    if (end == std::string_view::npos) {
      end = text.size();
    }
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 2;
    size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      return "malformed header line '" + std::string(line.substr(0, 64)) + "'";
    }
    std::string name = toLower(line.substr(0, colon));
    std::string value(trimOws(line.substr(colon + 1)));
    if (name == "content-length") {
      size_t n = 0;
      if (value.empty() || value.size() > 15) {
        return "invalid Content-Length '" + value.substr(0, 32) + "'";
      }
      for (char c : value) {
        if (c < '0' || c > '9') {
          return "invalid Content-Length '" + value.substr(0, 32) + "'";
        }
        n = n * 10 + size_t(c - '0');
      }
      if (head.contentLength && *head.contentLength != n) {
        return std::string("conflicting Content-Length headers");
      }
      head.contentLength = n;
    } else if (name == "transfer-encoding") {
      head.chunked = toLower(value).find("chunked") != std::string::npos;
    }
    if (name == "content-type") {
      response.contentType = value;
    } else {
      response.headers.emplace_back(std::move(name), std::move(value));
    }
  }
  return std::nullopt;
}

// Decodes a complete chunked body from data. Returns nullopt while incomplete; sets error when
// malformed.
std::optional<std::string> decodeChunked(std::string_view data, std::string& error) {
  std::string out;
  size_t pos = 0;
  while (true) {
    size_t lineEnd = data.find("\r\n", pos);
    if (lineEnd == std::string_view::npos) {
      return std::nullopt;
    }
    std::string_view sizeText = data.substr(pos, lineEnd - pos);
    size_t semi = sizeText.find(';');
    if (semi != std::string_view::npos) {
      sizeText = sizeText.substr(0, semi);
    }
    sizeText = trimOws(sizeText);
    if (sizeText.empty() || sizeText.size() > 12) {
      error = "malformed chunk size";
      return std::nullopt;
    }
    size_t size = 0;
    for (char c : sizeText) {
      int v = (c >= '0' && c <= '9')   ? c - '0'
              : (c >= 'a' && c <= 'f') ? c - 'a' + 10
              : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                                       : -1;
      if (v < 0) {
        error = "malformed chunk size";
        return std::nullopt;
      }
      size = size * 16 + size_t(v);
    }
    pos = lineEnd + 2;
    if (size == 0) {
      // Trailers end with an empty line.
      size_t end = data.find("\r\n\r\n", lineEnd);
      if (end == std::string_view::npos) {
        return std::nullopt;
      }
      return out;
    }
    if (data.size() < pos + size + 2) {
      return std::nullopt;
    }
    if (data.substr(pos + size, 2) != "\r\n") {
      error = "malformed chunk";
      return std::nullopt;
    }
    out.append(data.substr(pos, size));
    pos += size + 2;
    if (out.size() > kMaxResponseBodyBytes) {
      error = "response body too large";
      return std::nullopt;
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
  if (method.find_first_of(" \t\r\n") != std::string::npos || hasCrLfOrNul(method)) {
    return validationError("invalid HTTP method '" + method + "'");
  }
  if (target.find_first_of(" \t\r\n") != std::string::npos || hasCrLfOrNul(target)) {
    return validationError("invalid request target '" + target + "'");
  }
  for (const auto& [name, value] : request.headers) {
    if (name.empty() || name.find_first_of(" \t:\r\n") != std::string::npos ||
        hasCrLfOrNul(value)) {
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
  wire += method + " " + target + " HTTP/1.1\r\n";
  std::string hostHeader = endpoint;
  std::string extraHeaders;
  for (const auto& [name, value] : request.headers) {
    std::string lname = toLower(name);
    if (lname == "host") {
      hostHeader = value; // the caller's Host wins over host:port
      continue;
    }
    if (lname == "content-length" || lname == "connection" || lname == "transfer-encoding") {
      continue; // framing is ours
    }
    extraHeaders += name + ": " + value + "\r\n";
  }
  wire += "Host: " + hostHeader + "\r\n";
  wire += extraHeaders;
  wire += "Content-Length: " + std::to_string(request.body.size()) + "\r\n";
  wire += "Connection: close\r\n\r\n";
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
  ResponseHead head;
  size_t headEnd = std::string::npos;
  bool eof = false;
  char buf[16 * 1024];
  while (true) {
    // Parse what we have.
    if (headEnd == std::string::npos) {
      size_t e = in.find("\r\n\r\n");
      if (e != std::string::npos) {
        head = ResponseHead{};
        if (auto err = parseResponseHead(std::string_view(in).substr(0, e), response, head)) {
          return responseError(endpoint, *err);
        }
        if (head.status >= 100 && head.status < 200) {
          in.erase(0, e + 4); // interim response (100 Continue): the real one follows
          continue;
        }
        headEnd = e;
      } else if (in.size() > kMaxResponseHeadBytes) {
        return responseError(endpoint, "response headers too large");
      }
    }
    if (headEnd != std::string::npos) {
      std::string_view body = std::string_view(in).substr(headEnd + 4);
      bool noBody = method == "HEAD" || head.status == 204 || head.status == 304;
      if (noBody) {
        response.body.clear();
        return response;
      }
      if (head.chunked) {
        std::string error;
        std::optional<std::string> decoded = decodeChunked(body, error);
        if (!error.empty()) {
          return responseError(endpoint, error);
        }
        if (decoded) {
          response.body = std::move(*decoded);
          return response;
        }
      } else if (head.contentLength) {
        if (*head.contentLength > kMaxResponseBodyBytes) {
          return responseError(endpoint, "response body too large");
        }
        if (body.size() >= *head.contentLength) {
          response.body = std::string(body.substr(0, *head.contentLength));
          return response;
        }
      } else if (eof) {
        response.body = std::string(body); // delimited by the end of the connection
        return response;
      } else if (body.size() > kMaxResponseBodyBytes) {
        return responseError(endpoint, "response body too large");
      }
    }
    if (eof) {
      return responseError(endpoint, headEnd == std::string::npos
                                         ? "connection closed before a complete response"
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
