#include "cli/load.h"

#include "common/text.h"
#include "http1/chunked.h"
#include "http1/parser.h"
#include "http1/serializer.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <deque>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

namespace tide::cli {

namespace {

constexpr size_t kMaxResponseHead = 64 * 1024; // a longer response head is a protocol error
constexpr size_t kMaxInstances = 10'000;       // distinct X-Instance-Id values kept apart
constexpr const char* kOtherInstances = "(others)";
constexpr int kMaxEvents = 256;

int64_t steadyMicros() {
  using namespace std::chrono;
  return duration_cast<microseconds>(steady_clock::now().time_since_epoch()).count();
}

// One connection and the request it carries. States and transitions:
//   Closed -connect-> Connecting -connected-> Busy -response-> Idle -request-> Busy
//   any -error, timeout, server close or stop-> Closed
enum class ConnState {
  Closed,     // no socket
  Connecting, // non-blocking connect in progress, a request waits to be written
  Idle,       // connected, keep-alive, no request
  Busy,       // a request written (or being written), its response being read
};

struct Connection {
  int fd = -1;
  uint32_t generation = 0; // tells epoll events of an old socket from the current one
  ConnState state = ConnState::Closed;
  int64_t served = 0; // responses read on this socket (a reused socket may have been closed)
  // The request on it.
  int64_t dueMicros = 0; // when it was due (latency counts from here)
  TimeMs deadline = 0;   // clock time after which it times out
  size_t written = 0;    // bytes of the request written
  bool retried = false;  // already resent once after a stale keep-alive socket closed
  bool writeWatched = false;
  // The response being read.
  bool headDone = false;
  std::string head; // the head's bytes (capacity kept between responses)
  int status = 0;
  bool keepAlive = true;
  bool gotBytes = false;
  http1::BodyFraming framing = http1::BodyFraming::None; // how the body ends (framing.h)
  uint64_t remaining = 0;                                // Content-Length bytes to come
  http1::ChunkedDecoder chunked;
  std::string instance; // X-Instance-Id (capacity kept between responses)
};

// A request due while every connection was busy.
struct QueuedRequest {
  int64_t dueMicros; // when it was due
  TimeMs deadline;   // it times out at this clock time
};

struct InstanceTally {
  int64_t count = 0;       // responses from this instance
  int64_t lastSecond = -1; // the progress second in which it last answered
};

enum class RequestOutcome {
  Response,        // a whole response arrived (any status)
  Timeout,         // none within the timeout
  ConnectionError, // the connection failed or the response was malformed
};

} // namespace

Result<LoadTarget> parseLoadUrl(std::string_view url) {
  std::string_view s = url;
  auto bad = [&](const std::string& why) {
    return validationError("the URL '" + std::string(url) + "' " + why);
  };
  if (s.size() < 7 || !equalsIgnoreCase(s.substr(0, 7), "http://")) {
    if (s.size() >= 8 && equalsIgnoreCase(s.substr(0, 8), "https://")) {
      return bad("uses https, which tide load does not speak (tide's load balancers listen on "
                 "http)");
    }
    return bad("must start with http://");
  }
  s.remove_prefix(7);
  size_t hash = s.find('#');
  if (hash != std::string_view::npos) {
    s = s.substr(0, hash); // fragments are never sent
  }
  size_t end = s.find_first_of("/?");
  std::string_view authority = s.substr(0, end);
  std::string_view path = end == std::string_view::npos ? std::string_view("/") : s.substr(end);
  if (authority.find('@') != std::string_view::npos) {
    return bad("has user information, which tide load does not send");
  }
  LoadTarget t;
  t.hostHeader = std::string(authority);
  std::string_view host = authority, port;
  if (!authority.empty() && authority.front() == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) {
      return bad("has an unclosed [ in its host");
    }
    host = authority.substr(1, close - 1);
    std::string_view rest = authority.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') {
        return bad("has text after its [IPv6] host");
      }
      port = rest.substr(1);
    }
  } else {
    size_t colon = authority.rfind(':');
    if (colon != std::string_view::npos) {
      host = authority.substr(0, colon);
      port = authority.substr(colon + 1);
    }
  }
  if (host.empty()) {
    return bad("has no host");
  }
  if (port.data() != nullptr) {
    int p = 0;
    if (port.empty() || port.size() > 5) {
      return bad("has an invalid port");
    }
    for (char c : port) {
      if (c < '0' || c > '9') {
        return bad("has an invalid port");
      }
      p = p * 10 + (c - '0');
    }
    if (p < 1 || p > 65535) {
      return bad("has a port outside 1..65535");
    }
    t.port = static_cast<uint16_t>(p);
  }
  for (char c : path) {
    if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f) {
      return bad("has spaces or control characters in its path (percent-encode them)");
    }
  }
  t.host = std::string(host);
  // As curl and browsers do (RFC 6761 §6.3): NAME.localhost is loopback, without asking the
  // resolver (glibc's does not know it). Load balancers' DNS names are such names.
  constexpr std::string_view kLocalhost = ".localhost";
  if (t.host.size() > kLocalhost.size() &&
      equalsIgnoreCase(std::string_view(t.host).substr(t.host.size() - kLocalhost.size()),
                       kLocalhost)) {
    t.host = "127.0.0.1";
  }
  t.path = path.front() == '?' ? "/" + std::string(path) : std::string(path);
  return t;
}

struct LoadGenerator::Impl {
  LoadOptions options;
  const Clock& clock;
  std::string request;             // the bytes of every request
  http1::MessageHead responseHead; // the head being parsed (one for all connections)
  std::atomic<bool> stopRequested{false};
  int wakeFd = -1;  // eventfd: stop() writes to it
  int epollFd = -1; //
  sockaddr_storage address{};
  socklen_t addressLength = 0;
  bool resolved = false;
  std::string lastError; // the latest connection error, for the probe's message

  std::vector<Connection> connections;
  std::vector<int> freeConnections; // Idle or Closed connections, most recently freed last
  int busy = 0;                     // Connecting or Busy connections
  std::deque<QueuedRequest> queue;  // due requests waiting for a free connection
  TimeMs earliestDeadline = INT64_MAX;
  std::vector<char> readBuffer = std::vector<char>(64 * 1024);

  // Probing: the one request's outcome goes here instead of the report.
  bool probing = false;
  bool probeDone = false;
  RequestOutcome probeOutcome = RequestOutcome::Response;

  // Accounting.
  LoadReport report;
  LoadCounts second;
  LatencyHistogram secondLatency;
  std::map<std::string, InstanceTally, std::less<>> tallies;
  int64_t secondIndex = 0;
  Millis lastSecondEnd{0}; // elapsed time at the end of the previous progress second
  int instancesThisSecond = 0;

  Impl(LoadOptions o, const Clock& c) : options(std::move(o)), clock(c) {
    http1::appendRequestLine(request, "GET", options.target.path);
    http1::appendField(request, "Host", options.target.hostHeader);
    http1::appendField(request, "User-Agent", "tide-load");
    http1::appendField(request, "Accept", "*/*");
    http1::appendHeadEnd(request);
    wakeFd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    connections.resize(std::clamp(options.connections, 1, 10'000));
    for (int i = static_cast<int>(connections.size()) - 1; i >= 0; --i) {
      freeConnections.push_back(i);
    }
  }

  ~Impl() {
    closeAll();
    if (epollFd >= 0) {
      ::close(epollFd);
    }
    if (wakeFd >= 0) {
      ::close(wakeFd);
    }
  }

  Status resolve() {
    if (resolved) {
      return Status::ok();
    }
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    std::string port = std::to_string(options.target.port);
    int rc = getaddrinfo(options.target.host.c_str(), port.c_str(), &hints, &found);
    if (rc != 0 || found == nullptr) {
      return Status("TargetUnreachable",
                    "cannot resolve '" + options.target.host + "': " + gai_strerror(rc));
    }
    std::memcpy(&address, found->ai_addr, found->ai_addrlen);
    addressLength = found->ai_addrlen;
    freeaddrinfo(found);
    resolved = true;
    return Status::ok();
  }

  Status setUpEpoll() {
    if (epollFd >= 0) {
      return Status::ok();
    }
    if (wakeFd < 0) {
      return internalError(std::string("eventfd: ") + std::strerror(errno));
    }
    epollFd = epoll_create1(EPOLL_CLOEXEC);
    if (epollFd < 0) {
      return internalError(std::string("epoll_create1: ") + std::strerror(errno));
    }
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = UINT64_MAX; // the wake fd
    if (epoll_ctl(epollFd, EPOLL_CTL_ADD, wakeFd, &ev) != 0) {
      return internalError(std::string("epoll_ctl: ") + std::strerror(errno));
    }
    return Status::ok();
  }

  std::string targetText() const {
    return options.target.host + ":" + std::to_string(options.target.port);
  }

  // ------------------------------------------------------------------ connections

  void watch(int index, uint32_t events, int op) {
    Connection& c = connections[index];
    epoll_event ev{};
    ev.events = events;
    ev.data.u64 = (uint64_t(c.generation) << 32) | uint32_t(index);
    if (epoll_ctl(epollFd, op, c.fd, &ev) != 0) {
      std::abort(); // our own fd and epoll: failing here is a bug
    }
  }

  void closeSocket(Connection& c) {
    if (c.fd >= 0) {
      epoll_ctl(epollFd, EPOLL_CTL_DEL, c.fd, nullptr);
      ::close(c.fd);
      c.fd = -1;
    }
    c.served = 0;
    c.writeWatched = false;
  }

  void closeAll() {
    for (Connection& c : connections) {
      closeSocket(c);
      c.state = ConnState::Closed;
    }
    busy = 0;
  }

  void resetResponse(Connection& c) {
    c.headDone = false;
    c.head.clear();
    c.status = 0;
    c.keepAlive = true;
    c.gotBytes = false;
    c.framing = http1::BodyFraming::None;
    c.remaining = 0;
    c.chunked.reset();
    c.instance.clear();
  }

  // Puts a request on connection `index` (Idle or Closed): writes it, or connects first.
  void start(int index, int64_t dueMicros, TimeMs deadline) {
    Connection& c = connections[index];
    c.dueMicros = dueMicros;
    c.deadline = deadline;
    c.written = 0;
    c.retried = false;
    resetResponse(c);
    earliestDeadline = std::min(earliestDeadline, deadline);
    ++busy;
    ++report.totals.sent;
    if (!probing) {
      ++second.sent;
    }
    if (c.state == ConnState::Idle) {
      c.state = ConnState::Busy;
      writeRequest(index);
    } else {
      connect(index);
    }
  }

  void connect(int index) {
    Connection& c = connections[index];
    c.fd = socket(address.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c.fd < 0) {
      lastError = std::string("socket: ") + std::strerror(errno);
      c.state = ConnState::Busy; // so finish() can account for it
      finish(index, RequestOutcome::ConnectionError);
      return;
    }
    ++c.generation;
    int one = 1;
    setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    int rc = ::connect(c.fd, reinterpret_cast<const sockaddr*>(&address), addressLength);
    if (rc != 0 && errno != EINPROGRESS) {
      lastError = "cannot connect to " + targetText() + ": " + std::strerror(errno);
      c.state = ConnState::Busy;
      finish(index, RequestOutcome::ConnectionError);
      return;
    }
    c.state = ConnState::Connecting;
    watch(index, EPOLLOUT | EPOLLIN | EPOLLRDHUP, EPOLL_CTL_ADD);
  }

  void writeRequest(int index) {
    Connection& c = connections[index];
    while (c.written < request.size()) {
      ssize_t n =
          ::send(c.fd, request.data() + c.written, request.size() - c.written, MSG_NOSIGNAL);
      if (n > 0) {
        c.written += size_t(n);
        continue;
      }
      if (n < 0 && errno == EINTR) {
        continue;
      }
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        if (!c.writeWatched) {
          c.writeWatched = true;
          watch(index, EPOLLIN | EPOLLOUT | EPOLLRDHUP, EPOLL_CTL_MOD);
        }
        return;
      }
      lastError = "cannot send to " + targetText() + ": " + std::strerror(errno);
      failOrRetry(index);
      return;
    }
    if (c.writeWatched) {
      c.writeWatched = false;
      watch(index, EPOLLIN | EPOLLRDHUP, EPOLL_CTL_MOD);
    }
  }

  // A socket failed before any byte of the response came: a keep-alive socket the server had
  // already closed gets one more try on a new socket (GET is idempotent); otherwise it fails.
  void failOrRetry(int index) {
    Connection& c = connections[index];
    bool stale = c.served > 0 && !c.gotBytes && !c.retried;
    closeSocket(c);
    if (stale) {
      c.retried = true;
      c.written = 0;
      resetResponse(c);
      connect(index);
      return;
    }
    finish(index, RequestOutcome::ConnectionError);
  }

  // Ends the request on connection `index` and frees the connection.
  void finish(int index, RequestOutcome outcome) {
    Connection& c = connections[index];
    --busy;
    if (probing) {
      probeDone = true;
      probeOutcome = outcome;
    } else {
      account(c, outcome);
    }
    if (outcome == RequestOutcome::Response && c.keepAlive &&
        c.framing != http1::BodyFraming::UntilClose) {
      ++c.served;
      c.state = ConnState::Idle;
    } else {
      closeSocket(c);
      c.state = ConnState::Closed;
    }
    freeConnections.push_back(index);
  }

  void account(const Connection& c, RequestOutcome outcome) {
    if (outcome == RequestOutcome::Timeout) {
      ++report.totals.timeouts;
      ++second.timeouts;
      return;
    }
    if (outcome == RequestOutcome::ConnectionError) {
      ++report.totals.connectionErrors;
      ++second.connectionErrors;
      return;
    }
    int64_t latency = steadyMicros() - c.dueMicros;
    report.latency.record(latency);
    secondLatency.record(latency);
    int s = c.status;
    report.statusCodes[(s >= 100 && s < 600) ? s : 599] += 1;
    int64_t LoadCounts::*field = s < 300   ? &LoadCounts::status2xx
                                 : s < 400 ? &LoadCounts::status3xx
                                 : s < 500 ? &LoadCounts::status4xx
                                           : &LoadCounts::status5xx;
    ++(report.totals.*field);
    ++(second.*field);
    if (!c.instance.empty()) {
      auto it = tallies.find(std::string_view(c.instance));
      if (it == tallies.end()) {
        std::string name = tallies.size() < kMaxInstances ? c.instance : kOtherInstances;
        it = tallies.try_emplace(std::move(name)).first;
      }
      ++it->second.count;
      if (it->second.lastSecond != secondIndex) {
        it->second.lastSecond = secondIndex;
        ++instancesThisSecond;
      }
    }
  }

  // ------------------------------------------------------------------ responses

  // Takes what the parsed response head says into c.
  void takeHead(Connection& c, const http1::MessageHead& head) {
    c.status = head.status;
    c.keepAlive = head.keepAlive;
    c.framing = head.framing;
    c.remaining = head.contentLength;
    c.instance.clear();
    for (size_t i = 0; i < head.fieldCount; ++i) {
      const http1::HeaderField& f = head.fields[i];
      if (equalsIgnoreCase(f.name, "x-instance-id")) {
        c.instance.assign(f.value.substr(0, 128));
      }
    }
  }

  enum class Feed {
    NeedMore, // the response goes on
    Done,     // the response is complete
    Invalid,  // malformed, or bytes after the response (nothing was pipelined)
  };

  // Feeds response bytes to connection `index`'s parser.
  Feed feed(Connection& c, const char* p, size_t n) {
    while (n > 0) {
      c.gotBytes = true;
      if (!c.headDone) {
        size_t old = c.head.size();
        c.head.append(p, std::min(n, kMaxResponseHead - old));
        http1::ParseStatus st = http1::parseResponseHead(c.head.data(), c.head.size(),
                                                         kMaxResponseHead, false, responseHead);
        if (st == http1::ParseStatus::Incomplete) {
          return Feed::NeedMore;
        }
        if (st != http1::ParseStatus::Complete) {
          return Feed::Invalid; // malformed, or longer than kMaxResponseHead
        }
        size_t used = responseHead.length - old;
        p += used;
        n -= used;
        takeHead(c, responseHead);
        c.head.clear();
        if (c.status >= 100 && c.status < 200) {
          continue; // an interim response (100 Continue, 103 Early Hints): the real one follows
        }
        c.headDone = true;
        if (c.framing == http1::BodyFraming::None) {
          return n == 0 ? Feed::Done : Feed::Invalid; // nothing may follow: no pipelining
        }
        continue;
      }
      switch (c.framing) {
      case http1::BodyFraming::ContentLength: {
        uint64_t take = std::min<uint64_t>(c.remaining, n);
        c.remaining -= take;
        n -= take;
        if (c.remaining == 0) {
          return n == 0 ? Feed::Done : Feed::Invalid;
        }
        break;
      }
      case http1::BodyFraming::Chunked: {
        size_t used = 0;
        http1::ChunkedDecoder::Result s = c.chunked.scan(p, n, &used);
        if (s == http1::ChunkedDecoder::Result::Invalid) {
          return Feed::Invalid;
        }
        if (s == http1::ChunkedDecoder::Result::Done) {
          return used == n ? Feed::Done : Feed::Invalid;
        }
        n = 0;
        break;
      }
      case http1::BodyFraming::UntilClose:
        n = 0;
        break;
      case http1::BodyFraming::None:
        return Feed::Invalid;
      }
    }
    return Feed::NeedMore;
  }

  void onEvent(int index, uint32_t generation, uint32_t events) {
    Connection& c = connections[index];
    if (c.fd < 0 || c.generation != generation) {
      return; // an event for a socket closed earlier in this batch
    }
    if (c.state == ConnState::Idle) {
      // The server closed a keep-alive connection (or sent bytes nobody asked for).
      closeSocket(c);
      c.state = ConnState::Closed;
      return;
    }
    if (c.state == ConnState::Connecting) {
      int err = 0;
      socklen_t len = sizeof err;
      getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
      if (err != 0 || (events & (EPOLLERR | EPOLLHUP))) {
        lastError = "cannot connect to " + targetText() + ": " + std::strerror(err ? err : EPIPE);
        closeSocket(c);
        finish(index, RequestOutcome::ConnectionError);
        return;
      }
      c.state = ConnState::Busy;
      watch(index, EPOLLIN | EPOLLRDHUP, EPOLL_CTL_MOD);
      writeRequest(index);
      return;
    }
    if ((events & EPOLLOUT) && c.written < request.size()) {
      writeRequest(index);
      if (c.state != ConnState::Busy || connections[index].fd < 0) {
        return;
      }
    }
    if (!(events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))) {
      return;
    }
    while (true) {
      ssize_t n = ::recv(c.fd, readBuffer.data(), readBuffer.size(), 0);
      if (n > 0) {
        // Acknowledge at once: a server that writes its head and body in two segments (Python's
        // http.server does) would otherwise wait for our delayed ACK under Nagle, adding 40 ms
        // to every keep-alive response. Linux clears the flag again, hence on every read.
        int one = 1;
        setsockopt(c.fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one);
        Feed f = feed(c, readBuffer.data(), size_t(n));
        if (f == Feed::Done) {
          finish(index, RequestOutcome::Response);
          return;
        }
        if (f == Feed::Invalid) {
          lastError = targetText() + " sent a malformed HTTP response";
          closeSocket(c);
          finish(index, RequestOutcome::ConnectionError);
          return;
        }
        continue;
      }
      if (n < 0 && errno == EINTR) {
        continue;
      }
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        return;
      }
      // End of stream or an error.
      if (n == 0 && c.headDone && c.framing == http1::BodyFraming::UntilClose) {
        finish(index, RequestOutcome::Response);
        return;
      }
      lastError = n == 0 ? targetText() + " closed the connection before a whole response"
                         : "reading from " + targetText() + ": " + std::strerror(errno);
      failOrRetry(index);
      return;
    }
  }

  // Handles ready sockets, waiting at most waitMs. False when epoll fails.
  bool poll(int waitMs) {
    epoll_event events[kMaxEvents];
    int n = epoll_wait(epollFd, events, kMaxEvents, waitMs);
    if (n < 0) {
      return errno == EINTR;
    }
    for (int i = 0; i < n; ++i) {
      uint64_t data = events[i].data.u64;
      if (data == UINT64_MAX) {
        uint64_t drained;
        [[maybe_unused]] ssize_t r = ::read(wakeFd, &drained, sizeof drained);
        continue;
      }
      onEvent(int(data & 0xffffffff), uint32_t(data >> 32), events[i].events);
    }
    return true;
  }

  // ------------------------------------------------------------------ schedule

  // Times out requests whose deadline passed, queued or in flight.
  void expire(TimeMs now) {
    while (!queue.empty() && queue.front().deadline <= now) {
      queue.pop_front();
      if (probing) {
        probeDone = true;
        probeOutcome = RequestOutcome::Timeout;
      } else {
        ++report.totals.timeouts;
        ++second.timeouts;
      }
    }
    if (now < earliestDeadline) {
      return;
    }
    earliestDeadline = INT64_MAX;
    for (int i = 0; i < int(connections.size()); ++i) {
      Connection& c = connections[i];
      if (c.state != ConnState::Busy && c.state != ConnState::Connecting) {
        continue;
      }
      if (c.deadline <= now) {
        lastError = targetText() + " did not answer within " +
                    std::to_string(options.timeout.count()) + " ms";
        closeSocket(c);
        finish(i, RequestOutcome::Timeout);
      } else {
        earliestDeadline = std::min(earliestDeadline, c.deadline);
      }
    }
  }

  // Gives queued requests to free connections.
  void dispatch() {
    while (!queue.empty() && !freeConnections.empty()) {
      int index = freeConnections.back();
      freeConnections.pop_back();
      QueuedRequest r = queue.front();
      queue.pop_front();
      start(index, r.dueMicros, r.deadline);
    }
  }

  void emitProgress(TimeMs now, TimeMs startedAt,
                    const std::function<void(const LoadProgress&)>& onSecond) {
    LoadProgress p;
    p.elapsed = Millis(now - startedAt);
    // Both rates over the same window, so that they compare (the target as the profile's
    // rate at this instant would lead the achieved rate by half a second on a ramp).
    Millis end = std::min(p.elapsed, options.profile.duration());
    Millis begin = std::min(lastSecondEnd, end);
    double seconds = std::max<int64_t>(1, (p.elapsed - lastSecondEnd).count()) / 1000.0;
    p.targetRate =
        double(requestsDue(options.profile, end) - requestsDue(options.profile, begin)) / seconds;
    p.achievedRate = double(second.succeeded()) / seconds;
    lastSecondEnd = p.elapsed;
    p.inFlight = busy + int64_t(queue.size());
    p.second = second;
    p.p50Micros = secondLatency.percentile(0.5);
    p.p99Micros = secondLatency.percentile(0.99);
    p.instancesAnswered = instancesThisSecond;
    if (onSecond) {
      onSecond(p);
    }
    second = LoadCounts();
    secondLatency.reset();
    instancesThisSecond = 0;
    ++secondIndex;
  }
};

LoadGenerator::LoadGenerator(LoadOptions options, const Clock& clock)
    : impl_(std::make_unique<Impl>(std::move(options), clock)) {}

LoadGenerator::~LoadGenerator() = default;

void LoadGenerator::stop() {
  impl_->stopRequested.store(true, std::memory_order_relaxed);
  uint64_t one = 1;
  [[maybe_unused]] ssize_t r = ::write(impl_->wakeFd, &one, sizeof one);
}

Status LoadGenerator::probe() {
  Impl& m = *impl_;
  TIDE_RETURN_IF_ERROR(m.resolve());
  TIDE_RETURN_IF_ERROR(m.setUpEpoll());
  m.probing = true;
  m.probeDone = false;
  TimeMs deadline = m.clock.now() + m.options.timeout.count();
  m.queue.push_back({steadyMicros(), deadline});
  m.dispatch();
  while (!m.probeDone && !m.stopRequested.load(std::memory_order_relaxed)) {
    TimeMs now = m.clock.now();
    m.expire(now);
    if (m.probeDone) {
      break;
    }
    if (!m.poll(int(std::clamp<int64_t>(deadline - now, 1, 100)))) {
      return internalError(std::string("epoll_wait: ") + std::strerror(errno));
    }
  }
  m.probing = false;
  m.report.totals.sent = 0; // the probe is not part of the run
  if (!m.probeDone) {
    m.closeAll();
    m.freeConnections.clear();
    for (int i = int(m.connections.size()) - 1; i >= 0; --i) {
      m.freeConnections.push_back(i);
    }
    m.queue.clear();
    return Status("Interrupted", "stopped before " + m.targetText() + " answered");
  }
  if (m.probeOutcome != RequestOutcome::Response) {
    return Status("TargetUnreachable",
                  m.lastError.empty() ? "no answer from " + m.targetText() : m.lastError);
  }
  return Status::ok();
}

Result<LoadReport> LoadGenerator::run(const std::function<void(const LoadProgress&)>& onSecond) {
  Impl& m = *impl_;
  TIDE_RETURN_IF_ERROR(m.resolve());
  TIDE_RETURN_IF_ERROR(m.setUpEpoll());
  const LoadProfile& profile = m.options.profile;
  const Millis total = profile.duration();
  const int64_t totalDue = requestsDue(profile, total);
  const TimeMs startedAt = m.clock.now();
  TimeMs nextSecond = startedAt + 1000;
  int64_t issued = 0;
  Millis nextDue = timeWhenDue(profile, 1);
  while (true) {
    if (m.stopRequested.load(std::memory_order_relaxed)) {
      m.report.stopped = true;
      break;
    }
    TimeMs now = m.clock.now();
    Millis elapsed(now - startedAt);
    if (elapsed >= nextDue && issued < totalDue) {
      int64_t due = requestsDue(profile, std::min(elapsed, total));
      int64_t dueMicros = steadyMicros();
      for (; issued < due; ++issued) {
        m.queue.push_back({dueMicros, now + m.options.timeout.count()});
      }
      nextDue = timeWhenDue(profile, issued + 1);
    }
    m.expire(now);
    m.dispatch();
    if (now >= nextSecond) {
      m.emitProgress(now, startedAt, onSecond);
      nextSecond = std::max(nextSecond + 1000, now + 1);
    }
    if (elapsed >= total && issued == totalDue && m.busy == 0 && m.queue.empty()) {
      break;
    }
    // Sleep until the next due request, deadline or second, whichever is first.
    TimeMs wake = nextSecond;
    if (issued < totalDue) {
      wake = std::min(wake, startedAt + nextDue.count());
    }
    wake = std::min(wake, m.earliestDeadline);
    if (!m.queue.empty()) {
      wake = std::min(wake, m.queue.front().deadline);
    }
    if (!m.poll(int(std::clamp<int64_t>(wake - now, 0, 1000)))) {
      return internalError(std::string("epoll_wait: ") + std::strerror(errno));
    }
  }
  TimeMs endedAt = m.clock.now();
  m.report.cancelled = m.busy + int64_t(m.queue.size());
  m.report.due = issued;
  m.report.elapsed = Millis(endedAt - startedAt);
  m.queue.clear();
  m.closeAll();
  for (const auto& [name, tally] : m.tallies) {
    m.report.instances[name] = tally.count;
  }
  return std::move(m.report);
}

} // namespace tide::cli
