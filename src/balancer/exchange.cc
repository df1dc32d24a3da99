// The proxying state machine (exchange.h): requests from clients, their way to a target and back,
// keep-alive, close and retries.
//
// The machine is one class (Proxy) in an unnamed namespace with its members defined in its body,
// as it was inside worker.cc: its members then have internal linkage and are inline, and g++
// inlines the request path into a few functions as before. With the same code as out-of-line
// members of Exchange (external linkage), `tiny` took 4.5 % more instructions per request
// (bench/proxy_compare.py --profile), and still 2.5 % with them declared inline. Exchange
// (exchange.h) is the loop's narrow view of it.
#include "balancer/exchange.h"

#include "balancer/access_log_buffer.h"
#include "balancer/adaptive_limit.h"
#include "balancer/admission.h"
#include "balancer/local_response.h"
#include "balancer/passive_health.h"
#include "balancer/response_time_histogram.h"
#include "balancer/tunnel.h"
#include "balancer/upstream_pool.h"
#include "balancer/worker_clock.h"
#include "h2/client_session.h"
#include "h2/server_session.h"
#include "http1/serializer.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <strings.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <unordered_map>

namespace tide::balancer {

namespace {

constexpr std::string_view kXffPrefix = "X-Forwarded-For: ";
constexpr std::string_view kCommaSpace = ", ";
constexpr std::string_view kConnectionClose = "Connection: close\r\n";
constexpr std::string_view kConnectionKeepAlive = "Connection: keep-alive\r\n";
constexpr std::string_view kConnectionUpgrade = "Connection: upgrade\r\n";
constexpr int64_t kLingerMs = 2000; // how long a closing connection's late input is discarded
constexpr int64_t kH2TickMs = 1000; // an HTTP/2 connection's timer: stall bound, idle timeout
// An HTTP/2 stream's request body held in its buffer (not yet taken by the target) beyond which
// the client's window stays closed: its credit goes back once the target took the bytes.
constexpr size_t kStreamHeldBytes = 64 * 1024;

struct Proxy;

// Writes an HTTP/2 session's frames (h2::ServerSession's or ClientSession's) for as long as
// `write` takes them, telling the session what went. False when the write failed; EAGAIN is no
// failure: the rest stays first in the session's output.
template <typename Session, typename Write> bool writeSessionOutput(Session& session, Write write) {
  for (;;) {
    std::string_view p = session.pendingOutput();
    if (p.empty()) {
      return true;
    }
    ssize_t n = write(p);
    if (n > 0) {
      session.consumed(size_t(n));
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      return n < 0 && errno == EAGAIN;
    }
  }
}

} // namespace

// An HTTP/2 connection (docs/ARCHITECTURE.md "HTTP/2 (src/h2), and how it plugs in"): the
// session, and its streams, each a ClientConn without a socket. The session's callbacks that
// carry a request run the exchange at once (they come from feed(), outside any exchange step);
// those that can come from inside an exchange step (a stream may write again, a stream closed)
// are noted and handled by Proxy::serviceH2 afterwards, so that no step re-enters another.
struct H2Conn final : h2::ServerHandler {
  H2Conn(Proxy* p, ClientConn* c) : proxy(p), conn(c), session(*this) {}
  void onRequestHead(int32_t streamId, std::string_view http1Head) override;
  void onRequestBody(int32_t streamId, std::string_view http1Bytes, size_t credit) override;
  void onRequestEnd(int32_t streamId, std::string_view http1Tail) override;
  void onResponseWritable(int32_t streamId) override;
  void onStreamClosed(int32_t streamId, h2::ErrorCode code) override;
  ClientConn* stream(int32_t id) const {
    auto it = streams.find(id);
    return it == streams.end() ? nullptr : it->second;
  }

  Proxy* proxy;
  ClientConn* conn;
  h2::ServerSession session;
  std::unordered_map<int32_t, ClientConn*> streams; // open streams with a request head
  std::vector<int32_t> writable;                    // noted by onResponseWritable
  std::vector<int32_t> closed;                      // noted by onStreamClosed
  std::vector<int32_t> scratch;
  int64_t lastActiveMs = 0; // bytes came, or a stream closed (the idle timeout)
  bool failed = false;      // a connection error: close once the GOAWAY is written
  bool dead = false;        // the socket failed: close now
  bool queued = false;      // in Proxy::h2Dirty_
};

// A target connection of an HTTP2 or GRPC target group (docs/ARCHITECTURE.md "HTTP/2 (src/h2),
// and how it plugs in"): its HTTP/2 session, one request (stream) at a time, as ALB sends them
// (it does not multiplex requests to targets), so that the pool and the exchange stay as they
// are: the exchange writes the request it would write to an HTTP/1.1 target and reads the
// response back in HTTP/1.1. The callbacks only note what came; Proxy acts on it after the
// session call that made them.
struct H2Upstream final : h2::ClientHandler {
  explicit H2Upstream(const h2::ClientLimits& limits) : session(*this, limits) {}
  void onResponseBytes(int32_t id, std::string_view bytes, size_t credit) override {
    if (id == streamId) {
      decoded.append(bytes);
      credit_ += credit;
    }
  }
  void onResponseEnd(int32_t) override {}
  // (streamId is still 0 while submitRequest() sends the stream's first bytes, which may already
  // free room in its buffer: that notice is the stream's too.)
  void onRequestWritable(int32_t id) override { writable |= id == streamId || streamId == 0; }
  void onStreamClosed(int32_t id, h2::ErrorCode code) override {
    if (id == streamId) {
      streamClosed = true;
      closedCode = code;
    }
  }

  h2::ClientSession session;
  int32_t streamId = 0; // the current request's stream; 0: none yet
  bool streamClosed = false;
  h2::ErrorCode closedCode = h2::ErrorCode::NoError; // NoError: closed with the whole response
  bool writable = false;                             // the stream takes request bytes again
  bool cut = false;    // the stream or the connection broke off: EOF once `decoded` is given
  std::string decoded; // response bytes (HTTP/1.1) not yet in the connection's `in`
  size_t decodedAt = 0;
  size_t credit_ = 0;  // the DATA payload in `decoded` and `in`, not handed back yet
  std::string scratch; // a request head gathered from its pieces
};

namespace {

// Methods whose repetition has the effect of one request (RFC 9110 §9.2.2).
bool isIdempotent(std::string_view method) {
  return method == "GET" || method == "HEAD" || method == "OPTIONS" || method == "TRACE" ||
         method == "PUT" || method == "DELETE";
}

constexpr size_t kStashBytes = 1024; // a partial head this small gives its buffer back
constexpr uint8_t kMaxRetries = 3;   // resends of one request (connect failed, stale keep-alive)

// How long the request target is at the start of a (partial) request head, as far as it goes.
size_t requestTargetLength(const char* d, size_t n) {
  size_t i = 0;
  while (i < n && (d[i] == '\r' || d[i] == '\n')) {
    ++i; // empty lines before the request line
  }
  while (i < n && d[i] != ' ') {
    ++i; // method
  }
  size_t begin = ++i;
  while (i < n && d[i] != ' ' && d[i] != '\r' && d[i] != '\n') {
    ++i;
  }
  return i > begin ? i - begin : 0;
}

// Whether a comma-separated field value lists `token` (case-insensitive).
bool listsToken(std::string_view value, std::string_view token) {
  while (!value.empty()) {
    size_t comma = value.find(',');
    std::string_view item = value.substr(0, comma);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) {
      item.remove_prefix(1);
    }
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) {
      item.remove_suffix(1);
    }
    // A protocol may carry a version ("h2c", "websocket", "foo/2"): the name is compared.
    std::string_view name = item.substr(0, item.find('/'));
    if (name.size() == token.size() && strncasecmp(name.data(), token.data(), token.size()) == 0) {
      return true;
    }
    if (comma == std::string_view::npos) {
      break;
    }
    value.remove_prefix(comma + 1);
  }
  return false;
}

// Whether a request with an Upgrade field asks for a protocol upgrade tide carries through
// (RFC 9110 §7.8): Connection names upgrade, in HTTP/1.1, without a body (the switch would come
// after it). h2c is refused: tide speaks HTTP/1.1 to targets, so such a request is forwarded
// without its upgrade (Upgrade and HTTP2-Settings dropped, as every hop-by-hop field) and
// answered in HTTP/1.1. Only sendRequestHead asks, when its loop over the hop-by-hop fields
// met an Upgrade field: a request without one costs nothing more.
bool asksForUpgrade(const MessageHead& h) {
  if (h.versionMinor != 1 || h.framing != BodyFraming::None) {
    return false;
  }
  bool connectionUpgrade = false;
  bool upgrade = false;
  for (size_t i = 0; i < h.fieldCount; ++i) {
    const HeaderField& f = h.fields[i];
    if (f.kind == HeaderKind::Connection) {
      connectionUpgrade |= listsToken(f.value, "upgrade");
    } else if (f.kind == HeaderKind::Upgrade) {
      if (f.value.empty() || listsToken(f.value, "h2c")) {
        return false;
      }
      upgrade = true;
    }
  }
  return upgrade && connectionUpgrade;
}

constexpr int64_t kBodyTooLarge = -2; // takeRequestBody: over LoadBalancer::maxRequestBodyBytes

uint64_t listenerKey(const Endpoint& e) {
  return (uint64_t(e.address) << 16) | e.port;
}

// One worker's proxying state (see exchange.h for the transitions). Worker thread only, except
// addCounters().
struct Proxy {
  Proxy(int workerIndex, const WorkerOptions& options)
      : options_(options), nowMs_(monotonicMs()), buffers_(32 * 1024), timers_(nowMs_),
        pool_(options.capacity.targets, options.maxIdlePerTarget),
        health_(options.capacity.targets, options.ejectionBase, options.ejectionMax, selection_),
        logs_(options.capacity.loadBalancers, options.accessLog) {
    const SlotCapacity& cap = options_.capacity;
    lbCells_ = std::make_unique<TrafficCells[]>(cap.loadBalancers);
    tgCells_ = std::make_unique<TrafficCells[]>(cap.targetGroups);
    targetCells_ = std::make_unique<TrafficCells[]>(cap.targets);
    responseTimes_ = std::make_unique<std::atomic<ResponseTimeCells*>[]>(cap.targets);
    selection_.cursorByGroup.assign(cap.targetGroups, 0);
    selection_.outstandingByTarget.assign(cap.targets, 0);
    selection_.limitByTarget.assign(cap.targets, limitOptions_.probeLimit);
    limits_.resize(cap.targets);
    if (options_.baselines == nullptr) { // alone (no Balancer): a worker of its own
      ownBaselines_ = std::make_unique<SharedBaseline[]>(cap.targets);
    }
    baselines_ = options_.baselines != nullptr ? options_.baselines : ownBaselines_.get();
    selection_.baselines = baselines_;
    selection_.workerTag = uint16_t(workerIndex + 1);
    queues_.assign(cap.targetGroups, RequestQueue{});
    serviceTimes_.assign(cap.targetGroups, ServiceTimeEstimate{});
    selection_.rng =
        (options_.cookieKey.k1 ^ (0x9e3779b97f4a7c15ULL * uint64_t(workerIndex + 1))) | 1;
  }
  ~Proxy() {
    for (uint32_t i = 0; i < options_.capacity.targets; ++i) {
      delete responseTimes_[i].load(std::memory_order_relaxed);
    }
  }
  Proxy(const Proxy&) = delete;
  Proxy& operator=(const Proxy&) = delete;

  enum class Failure : uint8_t {
    Connect,        // the target refused or could not be reached: nothing was sent
    StaleKeepAlive, // a reused connection closed before any response byte: safe to resend
    Unanswered,     // a new connection closed or reset before any response byte: the target
                    // may have acted on the request, so only an idempotent one is resent
    Closed,         // the target closed or reset before the response was complete
    Invalid,        // the response was malformed
    Timeout,        // no answer within the timeout
  };

  // What processResponse did with the bytes it had.
  enum class Step : uint8_t {
    NeedMore, // the response is not finished
    Finished, // the response is finished and the client is free for its next request
    Gone,     // the exchange ended in an error (the connections are closed or answered)
  };

  // ---- driven by the loop (exchange.h says what each does) --------------------------------------

  void advanceTimers() {
    timers_.advance(nowMs_, [this](TimerNode* t) { onTimer(t); });
    pollLimits();
  }

  void adopt(std::shared_ptr<const PreparedSnapshot> config) {
    restartLimits(config_.get(), *config);
    config_ = std::move(config);
    for (uint32_t slot = 0; slot < queues_.size(); ++slot) {
      if (queues_[slot].head != nullptr) {
        wakeQueue(slot); // targets may have come, left or changed their limit
      }
    }
    buffers_.setBlockSize(config_->bufferBytes);
    for (uint32_t slot = 0; slot < pool_.slotCount(); ++slot) {
      UpstreamConn* u = pool_.first(slot);
      while (u != nullptr) {
        UpstreamConn* next = u->poolNext;
        if (!mayReuse(u)) {
          closeUpstream(u);
        }
        u = next;
      }
    }
    closeGoneTunnels();
    if (h2Connections_ != 0) {
      goAwayFromGoneListeners();
    }
  }

  void closeAll() {
    for (auto& c : store_.clients()) {
      if (c->open) {
        closeClient(c.get());
      }
    }
    for (auto& u : store_.upstreams()) {
      if (u->open) {
        closeUpstream(u.get());
      }
    }
    store_.reap();
  }

  void addCounters(CountersSnapshot& out) const {
    const SlotCapacity& cap = options_.capacity;
    for (size_t i = 0; i < out.loadBalancers.size() && i < cap.loadBalancers; ++i) {
      lbCells_[i].addTo(out.loadBalancers[i]);
    }
    for (size_t i = 0; i < out.targetGroups.size() && i < cap.targetGroups; ++i) {
      tgCells_[i].addTo(out.targetGroups[i]);
    }
    for (size_t i = 0; i < out.targets.size() && i < cap.targets; ++i) {
      targetCells_[i].addTo(out.targets[i]);
    }
    for (size_t i = 0; i < out.targetResponseTimes.size() && i < cap.targets; ++i) {
      const ResponseTimeCells* h = responseTimes_[i].load(std::memory_order_acquire);
      if (h == nullptr) {
        continue;
      }
      std::vector<uint64_t>& into = out.targetResponseTimes[i];
      into.resize(kResponseTimeBuckets);
      for (int b = 0; b < kResponseTimeBuckets; ++b) {
        into[b] += h->counts[b].load(std::memory_order_relaxed);
      }
    }
  }

  // A connection's timer came due.
  void onTimer(TimerNode* t) {
    auto* p = static_cast<Pollable*>(t->owner);
    if (p->kind == PollKind::Client) {
      auto* c = static_cast<ClientConn*>(p);
      if (c->queued) {
        leaveQueue(c);
        bump(tgCells_[queuedGroup(c).slot].queueTimeoutCount);
        answerQueued(c, 503); // waited too long
        return;
      }
      if (c->state == ClientState::Http2) {
        h2Timer(c);
        return;
      }
      if (c->state == ClientState::Tunnel) {
        int64_t idleUntil = c->tunnel->lastMs + idleTimeoutMs(c);
        if (nowMs_ >= idleUntil) {
          closeClient(c); // no byte either way for the idle timeout: both ends closed
        } else {
          timers_.schedule(&c->timer, idleUntil);
        }
        return;
      }
      if (c->state == ClientState::Forwarding) {
        // The target's timeout governs while a request is in flight.
        timers_.schedule(&c->timer, nowMs_ + idleTimeoutMs(c));
      } else if (c->state == ClientState::Head && c->out.empty() &&
                 (!c->in.empty() || !c->stash.empty())) {
        requestHeadTimedOut(c); // a head started and not finished in time: 408
      } else {
        closeClient(c); // idle, slow head, or done lingering
      }
      return;
    }
    auto* u = static_cast<UpstreamConn*>(p);
    if (u->client == nullptr) {
      closeUpstream(u); // unused too long in the pool
      return;
    }
    if (u->connecting) {
      ejectTarget(u->client, u->slot); // the target did not accept in time
    }
    upstreamFailed(u, Failure::Timeout);
  }

  // ---- counters ---------------------------------------------------------------------------------

  TrafficCells& lbCells(ClientConn* c) { return lbCells_[c->lbSlot]; }
  TrafficCells* tgCells(ClientConn* c) {
    if (c->groupIndex < 0) {
      return nullptr;
    }
    return &tgCells_[c->config->snapshot->targetGroups[c->groupIndex].slot];
  }

  void countElbError(ClientConn* c, int status) {
    TrafficCells& lb = lbCells(c);
    TrafficCells* tg = tgCells(c);
    if (status < 500) {
      bump(lb.httpCodeElb4xx);
      return;
    }
    bump(lb.httpCodeElb5xx);
    std::atomic<uint64_t> TrafficCells::*field = status == 502   ? &TrafficCells::httpCodeElb502
                                                 : status == 503 ? &TrafficCells::httpCodeElb503
                                                 : status == 504 ? &TrafficCells::httpCodeElb504
                                                                 : nullptr;
    if (field != nullptr) {
      bump(lb.*field);
      if (tg != nullptr) {
        bump(tg->httpCodeElb5xx);
        bump(tg->*field);
      }
    }
  }

  // (Forced inline: the response path inlined it while it had one caller; called out of line
  // once startTunnel called it too, it cost 70 instructions more per request.)
  [[gnu::always_inline]] void countTargetResponse(ClientConn* c, int status) {
    int64_t us = monotonicUs() - c->sentAtUs;
    std::atomic<uint64_t> TrafficCells::*field = status < 300   ? &TrafficCells::httpCodeTarget2xx
                                                 : status < 400 ? &TrafficCells::httpCodeTarget3xx
                                                 : status < 500 ? &TrafficCells::httpCodeTarget4xx
                                                                : &TrafficCells::httpCodeTarget5xx;
    uint64_t elapsed = us > 0 ? uint64_t(us) : 0;
    adaptLimit(c->targetSlot, us);
    recordResponseTime(c->targetSlot, elapsed);
    TrafficCells* group = nullptr;
    if (c->groupIndex >= 0) { // the group's slot, looked up once for its latency and counters
      uint32_t slot = c->config->snapshot->targetGroups[c->groupIndex].slot;
      serviceTimes_[slot].onSample(us);
      group = &tgCells_[slot];
    }
    TrafficCells* cells[3] = {&lbCells(c), group, &targetCells_[c->targetSlot]};
    for (TrafficCells* t : cells) {
      if (t != nullptr) {
        bump(t->*field);
        bump(t->targetResponseTimeSumUs, elapsed);
        bump(t->targetResponseTimeCount);
      }
    }
  }

  // The target's histogram, made at its first response on this worker (published with release
  // so addCounters sees it whole).
  void recordResponseTime(uint32_t slot, uint64_t us) {
    ResponseTimeCells* h = responseTimes_[slot].load(std::memory_order_relaxed);
    if (h == nullptr) {
      h = new ResponseTimeCells();
      responseTimes_[slot].store(h, std::memory_order_release);
    }
    bump(h->counts[responseTimeBucket(us)]);
  }

  void beginOutstanding(ClientConn* c, uint32_t slot) {
    if (limits_[slot].onSend(limitOptions_, nowMs_)) { // (a byte's test unless probing)
      selection_.limitByTarget[slot] = limits_[slot].limit();
    }
    c->targetSlot = slot;
    c->outstanding = true;
    ++selection_.outstandingByTarget[slot];
    bump(targetCells_[slot].outstandingRequests);
    bump(targetCells_[slot].requestCount);
  }

  void endOutstanding(ClientConn* c) {
    if (c->outstanding) {
      c->outstanding = false;
      if (--selection_.outstandingByTarget[c->targetSlot] == 0 &&
          limits_[c->targetSlot].measuring()) {
        limits_[c->targetSlot].onIdle(limitOptions_, nowMs_); // the others need not hold
      }
      drop(targetCells_[c->targetSlot].outstandingRequests);
      if (queuedRequests_ != 0) { // (one load when nothing waits: the common case)
        uint32_t groupSlot = c->config->snapshot->targetGroups[c->groupIndex].slot;
        if (queues_[groupSlot].head != nullptr) {
          wakeQueue(groupSlot); // a slot came free: the queue goes first (serveQueues)
        }
      }
    }
  }

  int64_t idleTimeoutMs(ClientConn* c) const {
    return c->config->listeners[c->listenerIndex].loadBalancer->idleTimeout.count();
  }

  const LoadBalancer& loadBalancer(ClientConn* c) const {
    return *c->config->listeners[c->listenerIndex].loadBalancer;
  }
  // ---- client side ------------------------------------------------------------------------------

  void accept(int fd, const sockaddr_in& peer, const ListenSocket& ls) {
    ClientConn* c = store_.newClient();
    c->fd = fd;
    c->open = true;
    c->config = config_;
    const PreparedSocket& socket = config_->sockets[ls.socketIndex];
    c->socketIndex = ls.socketIndex;
    c->hostRouted = socket.listeners.size() > 1;
    c->listenerIndex = socket.listeners.front(); // on a shared socket, until a Host chooses
    c->local = ls.endpoint;
    c->lbSlot = config_->listeners[c->listenerIndex].loadBalancer->slot;
    c->resetExchange();
    c->canRead = true;
    c->peerAddress = ntohl(peer.sin_addr.s_addr);
    c->peerPort = ntohs(peer.sin_port);
    c->watched = false;
    c->tls = nullptr;
    TrafficCells& lb = lbCells(c);
    bump(lb.newConnectionCount);
    bump(lb.activeConnectionCount);
    if (socket.tls) { // an HTTPS listener: the handshake runs in the reads (transport.h)
      if (!c->tlsState) {
        c->tlsState = std::make_unique<TlsSession>();
      }
      if (!tlsStart(*c->tlsState, socket.tls, fd)) {
        closeClient(c);
        return;
      }
      c->tls = c->tlsState.get();
    }
    // Nothing sent within the idle or header timeout (the shorter): closed without an answer.
    c->idleOrder = ++idleOrder_;
    timers_.schedule(&c->timer, nowMs_ + std::min(idleTimeoutMs(c), headerTimeoutMs(c)));
    readClient(c);
    processClient(c);
    if (c->open && !(c->state == ClientState::Forwarding && c->reqBodyDone)) {
      watchClient(c); // more of the request to come
    }
  }

  // Adds the client to epoll (edge-triggered; adding reports what is ready already). A new
  // connection whose whole request came with its first bytes is not added until tide waits for
  // it: for a connection-per-request client that answer goes out and the socket closes without
  // an epoll_ctl, which saves the kernel an insert and a removal per connection. Every place
  // where tide starts to wait for a client calls this: more request bytes (the head or the body
  // unfinished), room to write (writeClient left bytes queued), the next request of a keep-alive
  // connection (completeResponse) and lingering input (closeGracefully).
  void watchClient(ClientConn* c) {
    if (c->watched) {
      return;
    }
    c->watched = true;
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
    ev.data.ptr = c;
    epoll_ctl(epfd_, EPOLL_CTL_ADD, c->fd, &ev);
  }

  void onClientEvent(ClientConn* c, uint32_t ev) {
    if (!c->open) {
      return;
    }
    if (ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
      c->canRead = true;
      c->hangup |= (ev & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0;
    } else if (c->tls != nullptr && c->tls->readWantsWrite) {
      c->canRead = true; // a TLS read waited for room to write (transport.h)
    }
    if (c->state >= ClientState::Tunnel) { // (Tunnel, Http2: one test on the HTTP/1.1 path)
      if (c->state == ClientState::Tunnel) {
        pumpTunnels(c);
      } else {
        pumpH2(c);
      }
      return;
    }
    // (A TLS write may wait for input, not room: any event retries it.)
    if (((ev & (EPOLLOUT | EPOLLERR | EPOLLHUP)) || c->tls != nullptr) && !c->out.empty()) {
      int r = flush(buffers_, c->fd, c->tls, c->out);
      if (r < 0) {
        abortClient(c);
        return;
      }
      if (r > 0 && c->upstream != nullptr && c->upstream->headDone) {
        driveResponse(c->upstream); // resume the response the client was too slow for
        if (!c->open) {
          return;
        }
      }
    }
    if (c->state == ClientState::Lingering) {
      discardInput(c);
      return;
    }
    readClient(c);
    if (c->open) {
      processClient(c);
    }
  }

  // Reads what the socket has, as far as the buffer allows. True when bytes (or EOF) came.
  bool readClient(ClientConn* c) {
    bool got = false;
    while (c->open && c->canRead && !c->peerEof) {
      buffers_.acquire(c->in);
      if (!c->stash.empty()) {
        std::memcpy(c->in.writePtr(), c->stash.data(), c->stash.size()); // in was empty
        c->in.produce(c->stash.size());
        c->stash.clear();
      }
      if (c->in.writable() == 0) {
        if (c->state == ClientState::Forwarding && c->reqHeadSent && c->fwd > 0) {
          // A body larger than the buffer streams through; it can no longer be resent.
          c->in.consume(c->fwd);
          c->fwd = 0;
          c->replayable = false;
        }
        c->in.compact();
        if (c->in.writable() == 0) {
          return got; // full: wait until the current exchange makes room
        }
      }
      size_t room = c->in.writable();
      ssize_t n = transportRead(c->fd, c->tls, c->in.writePtr(), room);
      if (n >= 0) {
        got = true;
      }
      if (n > 0) {
        c->in.produce(size_t(n));
        if (transportDrained(c->tls, size_t(n), room) && !c->hangup) {
          c->canRead = false; // drained: edge-triggered epoll reports the next arrival
        }
      } else if (n == 0) {
        c->peerEof = true;
        c->canRead = false;
      } else if (errno == EAGAIN) {
        c->canRead = false;
      } else if (errno != EINTR) {
        abortClient(c);
        return false;
      }
    }
    return got;
  }

  // Moves request body bytes from the client to the target while both sides keep up.
  void pumpRequestBody(ClientConn* c) {
    pumpRequestBytes(c);
    if (c->h2 != nullptr) [[unlikely]] {
      releaseStreamCredit(c); // an HTTP/2 stream's: its client may send more
    }
  }
  void pumpRequestBytes(ClientConn* c) {
    for (;;) {
      forwardRequestBody(c);
      UpstreamConn* u = c->upstream;
      if (!c->open || u == nullptr || c->reqBodyDone || !c->reqHeadSent || !u->out.empty() ||
          c->state != ClientState::Forwarding) {
        return;
      }
      if (!readClient(c)) {
        return;
      }
    }
  }

  // Handles what is buffered: the next request head, or more body for the current request.
  void processClient(ClientConn* c) {
    while (c->open) {
      switch (c->state) {
      case ClientState::Forwarding:
        if (c->queued && (c->peerEof || c->hangup)) {
          closeClient(c); // gone while queued: never forwarded (counted by closeClient)
          return;
        }
        if (c->peerEof) {
          c->closeAfter = true; // half-closed: answer this request, then close
        }
        pumpRequestBody(c);
        return;
      case ClientState::Closing:
        if (c->out.empty()) {
          closeGracefully(c);
        }
        return;
      case ClientState::Lingering:
        discardInput(c);
        return;
      case ClientState::Tunnel:
        return; // (its events go to pumpTunnels)
      case ClientState::Http2:
      case ClientState::StreamDone:
        return; // (pumpH2; a stream waits for its session)
      case ClientState::Head:
        break;
      }
      if (c->tls != nullptr && !c->tls->alpnChecked && startH2(c)) [[unlikely]] {
        return; // ALPN chose h2: an HTTP/2 session from here on
      }
      if (!c->out.empty()) {
        return; // the previous response is still being flushed: answer in order
      }
      if (c->in.empty()) {
        if (c->peerEof) {
          closeClient(c);
        } else {
          buffers_.release(c->in); // idle connections hold no buffer
        }
        return;
      }
      MessageHead& h = scratch_;
      ParseStatus st =
          parseRequestHead(c->in.data(), c->in.size(), loadBalancer(c).maxHeaderBytes, h);
      // A complete head: the newest snapshot, and on a shared socket the listener its Host names
      // (421 Misdirected Request when it names none).
      bool misdirected = st == ParseStatus::Complete && (c->config != config_ || c->hostRouted) &&
                         !chooseListener(c, h);
      const LoadBalancer& lb = loadBalancer(c);
      int limitStatus = misdirected ? 421 : requestLimitStatus(c, st, h); // 421, 414, 413 or 0
      if (st == ParseStatus::Incomplete && limitStatus == 0) {
        if (c->peerEof) {
          closeClient(c);
        } else {
          waitForHead(c);
        }
        return;
      }
      // Desync mitigation (desync.h): count what is not Compliant, block what the mode blocks.
      bool classified = st == ParseStatus::Complete || st == ParseStatus::Invalid;
      if (classified && h.desync.tier != DesyncTier::Compliant) {
        bump(lbCells(c).desyncNonCompliantRequestCount);
      }
      // A response to HEAD has no content (RFC 9110 §9.3.2), a refused one's included.
      c->reqIsHead =
          st == ParseStatus::Complete
              ? h.method == "HEAD"
              : std::string_view(c->in.data(), std::min<size_t>(c->in.size(), 5)) == "HEAD ";
      DesyncAction desync = st == ParseStatus::Complete
                                ? desyncAction(lb.desyncMitigationMode, h.desync)
                                : DesyncAction::Block;
      if (desync == DesyncAction::Block && st == ParseStatus::Complete) {
        st = ParseStatus::Invalid;
      }
      c->desyncClose = desync == DesyncAction::ForwardThenClose;
      c->closeAfter |= c->desyncClose; // then close the target connection too (processResponse)
      beginRequestRecord(c, st == ParseStatus::Complete ? &h : nullptr);
      c->logTier = classified ? h.desync.tier : DesyncTier::Compliant;
      c->logReason = classified ? h.desync.reason : DesyncReason::Compliant;
      if (st != ParseStatus::Complete || limitStatus != 0) {
        int status = limitStatus != 0                    ? limitStatus
                     : st == ParseStatus::TooLarge       ? 431
                     : st == ParseStatus::NotImplemented ? 501
                                                         : 400;
        bump(lbCells(c).requestCount);
        c->groupIndex = -1;
        c->reqBodyDone = true;
        c->reqHeadSent = false;
        c->headLen = 0;
        c->fwd = 0;
        sendLocalError(c, status, /*close=*/true);
        continue;
      }
      startRequest(c, h);
    }
  }

  // At a request boundary: adopts the newest snapshot (when the connection's endpoint is gone
  // from it, this request is answered with the old one and the connection closed), and on a
  // socket several listeners share chooses the one whose load balancer the Host names. The
  // connection's ActiveConnectionCount moves to the load balancer its requests go to. False:
  // the Host names none of them.
  bool chooseListener(ClientConn* c, const MessageHead& h) {
    if (c->config != config_) {
      int s = config_ ? config_->findSocket(c->local) : -1;
      if (s >= 0) {
        c->config = config_;
        c->socketIndex = s;
        c->hostRouted = config_->sockets[size_t(s)].listeners.size() > 1;
        c->listenerIndex = config_->sockets[size_t(s)].listeners.front();
      } else {
        c->closeAfter = true;
      }
    }
    if (c->hostRouted) {
      const PreparedSocket& socket = c->config->sockets[size_t(c->socketIndex)];
      int i = listenerForHost(socket, hostOf(h));
      if (i < 0) {
        return false;
      }
      c->listenerIndex = socket.listeners[size_t(i)];
    }
    uint32_t slot = loadBalancer(c).slot;
    if (slot != c->lbSlot) {
      bool counted = c->h2 == nullptr; // (an HTTP/2 stream is no connection of its own)
      if (counted) {
        drop(lbCells(c).activeConnectionCount);
      }
      c->lbSlot = slot;
      if (counted) {
        bump(lbCells(c).activeConnectionCount);
      }
    }
    return true;
  }

  void startRequest(ClientConn* c, const MessageHead& h) {
    bump(lbCells(c).requestCount);
    c->headLen = h.length;
    c->reqFraming = h.framing;
    c->reqContentLength = h.contentLength;
    c->reqBodyRemaining = h.contentLength;
    c->reqChunks.reset();
    c->reqBodyDone = h.framing == BodyFraming::None;
    c->reqHeadSent = false;
    c->reqIsHead = h.method == "HEAD";
    c->reqIdempotent = isIdempotent(h.method);
    c->reqKeepAlive = h.keepAlive;
    c->reqVersionMinor = h.versionMinor;
    c->fwd = 0;
    c->replayable = true;
    c->attempts = 0;
    c->responseStarted = false;
    c->groupIndex = -1;
    c->stickySlot = kNoSlot;
    if (!h.keepAlive) {
      c->closeAfter = true;
    }
    const PreparedListener& pl = c->config->listeners[c->listenerIndex];
    // Listener rules (rules.h) by priority, then the default action.
    const PreparedAction* matched = matchRules(pl.rules, h, c->peerAddress);
    const PreparedAction& prepared = matched ? *matched : pl.defaultAction;
    const Action& action = *prepared.action;
    if (action.kind != Action::Kind::Forward) {
      // A body we do not read would be taken for the next request: close after answering.
      bool close = c->closeAfter || !c->reqBodyDone;
      c->closeAfter = close;
      c->fwd = c->headLen;
      bool isRedirect = action.kind == Action::Kind::Redirect;
      c->matchedPriority = int32_t(prepared.priority);
      c->elbStatus = isRedirect ? action.redirect.statusCode : action.fixedResponse.statusCode;
      c->logAction = isRedirect ? "redirect" : "fixed-response";
      iov_.clear();
      std::string redirect; // redirects are built per request: the Location has its parts
      if (action.kind == Action::Kind::Redirect) {
        std::string location =
            redirectLocation(action.redirect, h, c->local.port, c->tls != nullptr);
        redirect = redirectResponse(action.redirect.statusCode, location, close);
        iov_.add(redirect.data(), redirect.size());
        if (c->logText) { // made by beginRequestRecord when a log is written
          c->logText->redirect = std::move(location);
        }
      } else {
        const std::string& head = close ? prepared.fixedHeadClose : prepared.fixedHeadKeepAlive;
        iov_.add(head.data(), head.size());
        if (!c->reqIsHead) {
          iov_.add(action.fixedResponse.body.data(), action.fixedResponse.body.size());
        }
      }
      if (writeClient(c, iov_)) {
        completeResponse(c);
      }
      return;
    }
    c->groupIndex = static_cast<int>(chooseTargetGroup(
        prepared, prepared.schedule.empty() ? 0 : weightedTurns_[prepared.counter]++));
    c->logAction = "forward";
    c->matchedPriority = int32_t(prepared.priority);
    const TargetGroup& group = c->config->snapshot->targetGroups[c->groupIndex];
    if ((c->h2 != nullptr || group.protocolVersion != ProtocolVersion::Http1) &&
        !protocolFits(c, h, group)) [[unlikely]] {
      sendLocalError(c, 464, c->closeAfter || !c->reqBodyDone);
      return;
    }
    bump(tgCells_[group.slot].requestCount);
    c->state = ClientState::Forwarding;
    if (group.stickiness.type != Stickiness::Type::None) {
      c->stickySlot = stickyTarget(c, h, group);
    }
    dispatch(c, &h, kNoSlot, /*fresh=*/false);
  }

  // The target a valid sticky session cookie of the request names (authentic, unexpired, for
  // this group, Routable), or kNoSlot. See sticky_cookie.h.
  uint32_t stickyTarget(ClientConn* c, const MessageHead& h, const TargetGroup& g) {
    const Stickiness& st = g.stickiness;
    std::string_view value;
    if (st.type == Stickiness::Type::LbCookie) {
      value = findRequestCookie(h, "AWSALB");
    } else if (!findRequestCookie(h, st.appCookieName).empty()) {
      value = findRequestCookie(h, "AWSALBAPP-0");
    }
    const PreparedSnapshot& cfg = *c->config;
    StickyBinding b;
    uint64_t tag = 0;
    if (value.empty() || !decodeStickyValue(options_.cookieKey, value, &b, &tag) ||
        !stickyBindingCurrent(b, g.slot, nowMs_) || b.targetSlot >= cfg.targetSlotEnd ||
        cfg.stateBySlot[b.targetSlot] != SlotState::Routable ||
        health_.ejected(b.targetSlot, nowMs_)) {
      return kNoSlot;
    }
    int32_t i = cfg.targetIndexBySlot[b.targetSlot];
    if (i < 0 || size_t(i) >= g.targets.size() || g.targets[i].slot != b.targetSlot ||
        !stickyValueAuthentic(options_.cookieKey, b, g.targets[i].id, tag)) {
      return kNoSlot;
    }
    return b.targetSlot;
  }

  // Adds the sticky session Set-Cookie line(s) to the response head being written in iov_:
  // lb_cookie when the request had no valid cookie for the target that answers; app_cookie when
  // the target sets the application's cookie.
  // (Forced inline as countTargetResponse: a call cost 19 instructions per request.)
  [[gnu::always_inline]] void addStickyCookie(ClientConn* c, const MessageHead& h) {
    const TargetGroup& g = c->config->snapshot->targetGroups[c->groupIndex];
    const Stickiness& st = g.stickiness;
    if (st.type == Stickiness::Type::None ||
        (st.type == Stickiness::Type::LbCookie && c->stickySlot == c->targetSlot) ||
        (st.type == Stickiness::Type::AppCookie && !responseSetsCookie(h, st.appCookieName))) {
      return;
    }
    const Target& t = g.targets[c->config->targetIndexBySlot[c->targetSlot]];
    StickyBinding b{g.slot, c->targetSlot, uint32_t(nowMs_ / 1000 + st.durationSeconds)};
    char value[kStickyValueChars];
    encodeStickyValue(options_.cookieKey, b, t.id, value);
    int64_t unixSec = ::time(nullptr);
    if (unixSec != httpDateSec_) {
      http1::formatHttpDate(unixSec + 7 * 86400, httpDate_); // ALB's cookies expire after 7 days
      httpDateSec_ = unixSec;
    }
    size_t n = formatStickySetCookie(st.type, {value, sizeof value},
                                     {httpDate_, http1::kHttpDateChars}, setCookie_);
    iov_.add(setCookie_, n);
  }

  // Chooses a target and sends the request on a pooled or new connection, or queues it when
  // every target that could take it is at the group's concurrency limit. `h` is the parsed head
  // when the caller has it (else the head is parsed again from the buffer).
  void dispatch(ClientConn* c, const MessageHead* h, uint32_t excludeSlot, bool fresh) {
    const TargetGroup& group = c->config->snapshot->targetGroups[c->groupIndex];
    uint32_t limit = workerLimit(group);
    int choice;
    if (limit == 0) {
      choice = pickTarget(c, group, excludeSlot, 0); // (inlined: no limit, no queue)
    } else if (queues_[group.slot].head != nullptr) {
      choice = kAllBusy; // FIFO: while others wait, a new request waits behind them
    } else {
      choice = pickTarget(c, group, excludeSlot, limit);
    }
    if (choice == kAllBusy) {
      enqueue(c, group);
      return;
    }
    if (choice < 0) {
      // No target registered (or none but draining ones): 503; no other target to retry: 502.
      int status = excludeSlot != kNoSlot ? 502 : 503;
      sendLocalError(c, status, c->closeAfter || !c->reqBodyDone || status == 502);
      return;
    }
    forwardTo(c, h, group, group.targets[choice], fresh);
  }

  // ---- overload protection: the per-target limit and the queue ---------------------------------

  static constexpr int kAllBusy = -2; // pickTarget: targets exist, every one is at its limit

  // This worker's share of the group's per-target limit (0: none; kAdaptiveConcurrency: each
  // target's own, in selection_.limitByTarget).
  uint32_t workerLimit(const TargetGroup& group) const {
    if (group.maxConcurrency == 0 || group.maxConcurrency == kAdaptiveConcurrency) {
      return group.maxConcurrency;
    }
    uint32_t workers = std::max(1u, options_.workerCount);
    return (group.maxConcurrency + workers - 1) / workers;
  }

  // The index in group.targets for the request, -1 when no target may take it, or kAllBusy when
  // some could but all of those are at `limit` (0: no limit). Forced inline: with a constant 0
  // limit it is the selection as it was before the limit existed (measured: +60 instructions
  // per request as a call).
  [[gnu::always_inline]] int pickTarget(ClientConn* c, const TargetGroup& group,
                                        uint32_t excludeSlot, uint32_t limit) {
    const PreparedSnapshot& cfg = *c->config;
    selection_.nowMs = nowMs_;
    if (c->stickySlot != kNoSlot && c->stickySlot != excludeSlot &&
        cfg.stateBySlot[c->stickySlot] == SlotState::Routable &&
        !health_.ejected(c->stickySlot, nowMs_) &&
        (limit == 0 ||
         (limit != kAdaptiveConcurrency ? selection_.outstandingByTarget[c->stickySlot] < limit
                                        : belowAdaptiveLimit(selection_, c->stickySlot)))) {
      return cfg.targetIndexBySlot[c->stickySlot]; // bound by a sticky session cookie
    }
    if (group.targets.empty()) {
      return -1;
    }
    const LbAlgorithm& algorithm = *cfg.algorithmByGroup[c->groupIndex];
    bool failOpen = cfg.failOpenByGroup[c->groupIndex] != 0;
    selection_.concurrencyLimit = limit;
    int choice = algorithm.choose(group, failOpen, excludeSlot, selection_);
    if (choice < 0) {
      choice = pickWhenNoneFree(group, algorithm, failOpen, excludeSlot, limit);
    }
    selection_.concurrencyLimit = 0;
    return choice;
  }

  // pickTarget's second try, when no target took the request at once: kAllBusy when one could
  // but for the limit; else passive health fails open (when every eligible target is ejected,
  // use them anyway). REQUIRES: selection_.concurrencyLimit == limit.
  [[gnu::noinline]] int pickWhenNoneFree(const TargetGroup& group, const LbAlgorithm& algorithm,
                                         bool failOpen, uint32_t excludeSlot, uint32_t limit) {
    auto anyWithoutLimit = [&] {
      selection_.concurrencyLimit = 0;
      bool any = algorithm.choose(group, failOpen, excludeSlot, selection_) >= 0;
      selection_.concurrencyLimit = limit;
      return any;
    };
    if (limit != 0 && anyWithoutLimit()) {
      return kAllBusy;
    }
    selection_.honourEjections = false;
    int choice = algorithm.choose(group, failOpen, excludeSlot, selection_);
    bool busy = choice < 0 && limit != 0 && anyWithoutLimit();
    selection_.honourEjections = true;
    return busy ? kAllBusy : choice;
  }

  // A response head came from the target in `slot`, rttUs after its request went: the target's
  // adaptive limit learns from it (every target's, whatever its group's mode, so that a switch
  // to adaptive starts from what is known).
  void adaptLimit(uint32_t slot, int64_t rttUs) {
    AdaptiveLimit& limit = limits_[slot];
    if (limit.onSample(limitOptions_, rttUs, selection_.outstandingByTarget[slot], nowMs_)) {
      selection_.limitByTarget[slot] = limit.limit();
    }
  }

  // A target that is new, or routable again, measures its latency afresh and starts at a small
  // limit (adaptive_limit.h).
  void restartLimits(const PreparedSnapshot* before, const PreparedSnapshot& after) {
    for (uint32_t slot = 0; slot < after.targetSlotEnd; ++slot) {
      SlotState was = before != nullptr && slot < before->stateBySlot.size()
                          ? before->stateBySlot[slot]
                          : SlotState::Absent;
      SlotState is = after.stateBySlot[slot];
      if ((was == SlotState::Absent && is != SlotState::Absent) ||
          (is == SlotState::Routable && was != SlotState::Routable)) {
        limits_[slot].reset(limitOptions_, nowMs_, nextRandom(selection_), &baselines_[slot],
                            selection_.workerTag);
        selection_.limitByTarget[slot] = limits_[slot].limit();
      }
    }
  }

  // Every timer tick: limits awaiting a baseline adopt one another worker measured meanwhile,
  // and queued requests try again, since a target held by another worker's measurement
  // (heldByProbe) frees no slot of this worker when it comes back.
  void pollLimits() {
    if (config_ == nullptr) {
      return;
    }
    for (uint32_t slot = 0; slot < config_->targetSlotEnd; ++slot) {
      if (limits_[slot].poll(limitOptions_, nowMs_)) {
        selection_.limitByTarget[slot] = limits_[slot].limit();
      }
    }
    if (queuedRequests_ != 0) {
      for (uint32_t slot = 0; slot < queues_.size(); ++slot) {
        if (queues_[slot].head != nullptr) {
          wakeQueue(slot);
        }
      }
    }
  }

  const TargetGroup& queuedGroup(ClientConn* c) const {
    return c->config->snapshot->targetGroups[c->groupIndex];
  }

  // Appends the request to its group's queue, or answers 503 at once when the queue is full.
  // While queued the client is watched so that its leaving is seen, and its timer is the queue
  // timeout less the group's expected service time (ServiceTimeEstimate), so that a request the
  // queue lets through is answered within the queue timeout; when the service alone takes that
  // long, 503 at once.
  void enqueue(ClientConn* c, const TargetGroup& group) {
    RequestQueue& q = queues_[group.slot];
    if (q.length >= group.queueMaxLength) {
      bump(tgCells_[group.slot].queueFullCount);
      sendLocalError(c, 503, c->closeAfter || !c->reqBodyDone);
      return;
    }
    int64_t waitMs =
        group.queueTimeout.count() - (serviceTimes_[group.slot].expectedUs() + 999) / 1000;
    if (waitMs <= 0) {
      bump(tgCells_[group.slot].queueTimeoutCount);
      sendLocalError(c, 503, c->closeAfter || !c->reqBodyDone);
      return;
    }
    c->queued = true;
    c->queuedAtMs = nowMs_;
    c->queueNext = nullptr;
    c->queuePrev = q.tail;
    if (q.tail != nullptr) {
      q.tail->queueNext = c;
    } else {
      q.head = c;
    }
    q.tail = c;
    ++q.length;
    ++queuedRequests_;
    bump(tgCells_[group.slot].queuedRequestCount);
    timers_.schedule(&c->timer, nowMs_ + waitMs);
    if (c->peerEof || c->hangup) {
      closeClient(c); // it has gone already: never forwarded
      return;
    }
    watchClient(c);
    if (c->queuePrev != nullptr) {
      wakeQueue(group.slot); // behind others: a slot may have come free in this batch
    }
  }

  void leaveQueue(ClientConn* c) {
    RequestQueue& q = queues_[queuedGroup(c).slot];
    (c->queuePrev != nullptr ? c->queuePrev->queueNext : q.head) = c->queueNext;
    (c->queueNext != nullptr ? c->queueNext->queuePrev : q.tail) = c->queuePrev;
    c->queuePrev = c->queueNext = nullptr;
    c->queued = false;
    --q.length;
    --queuedRequests_;
  }

  void wakeQueue(uint32_t groupSlot) {
    if (!queues_[groupSlot].woken) {
      queues_[groupSlot].woken = true;
      wokenQueues_.push_back(groupSlot);
    }
  }

  // Answers a request that left the queue without a target, outside the client's own events:
  // then goes on with what the client sent meanwhile (a pipelined request), as the end of a
  // forwarded response does.
  void answerQueued(ClientConn* c, int status) {
    sendLocalError(c, status, c->closeAfter || !c->reqBodyDone);
    if (c->open && c->state == ClientState::Head) {
      readClient(c);
      processClient(c);
    }
  }

  // After a batch of events: sends queued requests, oldest first, to targets with a free slot.
  void serveQueues() {
    for (size_t k = 0; k < wokenQueues_.size(); ++k) { // (grows while it runs)
      RequestQueue& q = queues_[wokenQueues_[k]];
      q.woken = false;
      while (q.head != nullptr) {
        ClientConn* c = q.head;
        const TargetGroup& group = queuedGroup(c);
        int choice = pickTarget(c, group, kNoSlot, workerLimit(group));
        if (choice == kAllBusy) {
          break;
        }
        leaveQueue(c);
        if (choice < 0) {
          answerQueued(c, 503); // its targets left
          continue;
        }
        timers_.schedule(&c->timer, nowMs_ + idleTimeoutMs(c));
        forwardTo(c, nullptr, group, group.targets[choice], /*fresh=*/false);
        if (c->open) {
          pumpRequestBody(c); // body bytes that came while it waited, and the rest
        }
      }
    }
    wokenQueues_.clear();
  }

  // Sends the request to t on a pooled connection or a new one. (Forced inline: it was the end
  // of dispatch before the queue existed.)
  [[gnu::always_inline]] void forwardTo(ClientConn* c, const MessageHead* h,
                                        const TargetGroup& group, const Target& t, bool fresh) {
    beginOutstanding(c, t.slot);
    uint32_t source = loadBalancer(c).address; // security groups admit it by its address
    bool http2 = group.protocolVersion != ProtocolVersion::Http1;
    UpstreamConn* u = fresh ? nullptr : pool_.take(t.slot, t.endpoint, source);
    if (u != nullptr && (u->h2 != nullptr) != http2) [[unlikely]] {
      closeUpstream(u); // the slot's group was replaced by one that speaks the other protocol
      u = nullptr;
    }
    if (u == nullptr) {
      u = connectUpstream(t.slot, t.endpoint, source);
      if (u == nullptr) {
        bump(targetCells_[t.slot].targetConnectionErrorCount);
        bump(lbCells(c).targetConnectionErrorCount);
        retryOrFail(c, t.slot, Failure::Connect);
        return;
      }
      if (http2) [[unlikely]] {
        startH2Upstream(u, group.protocolVersion);
      }
    }
    u->client = c;
    c->upstream = u;
    u->headDone = false;
    u->bodyDone = false;
    u->reusable = false;
    u->responseBytes = 0;
    const LoadBalancer& lb = loadBalancer(c);
    int64_t timeout = lb.targetTimeout.count();
    if (u->connecting) {
      timeout = std::min<int64_t>(timeout, options_.connectTimeout.count());
    }
    timers_.schedule(&u->timer, nowMs_ + timeout);
    if (!u->connecting) {
      sendRequestHead(c, h);
    }
  }

  // Takes request body bytes from `from` (offset in c->in): how many belong to the body, or -1
  // when the chunked framing is broken.
  int64_t takeRequestBody(ClientConn* c, size_t from) {
    size_t avail = c->in.size() - from;
    switch (c->reqFraming) {
    case BodyFraming::None:
    case BodyFraming::UntilClose:
      c->reqBodyDone = true;
      return 0;
    case BodyFraming::ContentLength: {
      size_t take = avail < c->reqBodyRemaining ? avail : size_t(c->reqBodyRemaining);
      c->reqBodyRemaining -= take;
      c->reqBodyDone = c->reqBodyRemaining == 0;
      c->reqBodyBytes += take; // (the limit was checked on Content-Length)
      return int64_t(take);
    }
    case BodyFraming::Chunked: {
      size_t used = 0;
      ChunkedScanner::Result r = c->reqChunks.scan(c->in.data() + from, avail, &used);
      if (r == ChunkedScanner::Result::Invalid) {
        return -1;
      }
      c->reqBodyDone = r == ChunkedScanner::Result::Done;
      c->reqBodyBytes += used;
      uint64_t limit = loadBalancer(c).maxRequestBodyBytes;
      if (limit != 0 && c->reqBodyBytes > limit) {
        return kBodyTooLarge;
      }
      return int64_t(used);
    }
    }
    return 0;
  }

  void sendRequestHead(ClientConn* c, const MessageHead* h) {
    UpstreamConn* u = c->upstream;
    const char* base = c->in.data();
    if (h == nullptr) {
      ParseStatus st = parseRequestHead(base, c->in.size(), c->in.size() + 1, scratch_);
      assert(st == ParseStatus::Complete);
      (void)st;
      h = &scratch_;
    }
    const PreparedListener& pl = c->config->listeners[c->listenerIndex];
    bool addForwarded = pl.loadBalancer->addForwardedHeaders;
    iov_.clear();
    iov_.add(base + h->requestLineBegin, h->fieldsBegin - h->requestLineBegin);
    c->reqUpgrade = false;
    if (h->anyHopByHop || addForwarded) {
      bool upgradeField = false;
      for (size_t i = 0; i < h->fieldCount; ++i) {
        const HeaderField& f = h->fields[i];
        bool forwardedField = f.kind == HeaderKind::XForwardedFor ||
                              f.kind == HeaderKind::XForwardedProto ||
                              f.kind == HeaderKind::XForwardedPort;
        if (f.hopByHop) {
          upgradeField |= f.kind == HeaderKind::Upgrade;
        } else if (!(addForwarded && forwardedField)) {
          iov_.add(base + f.lineBegin, f.lineEnd - f.lineBegin);
        }
      }
      if (upgradeField && asksForUpgrade(*h)) {
        // The upgrade is kept for this hop (RFC 9110 §7.8): a 101 then starts a tunnel.
        c->reqUpgrade = true;
        for (size_t i = 0; i < h->fieldCount; ++i) {
          const HeaderField& f = h->fields[i];
          if (f.kind == HeaderKind::Upgrade) {
            iov_.add(base + f.lineBegin, f.lineEnd - f.lineBegin);
          }
        }
        iov_.add(kConnectionUpgrade.data(), kConnectionUpgrade.size());
      }
    } else {
      iov_.add(base + h->fieldsBegin, h->fieldsEnd - h->fieldsBegin);
    }
    if (addForwarded) {
      iov_.add(kXffPrefix.data(), kXffPrefix.size());
      for (size_t i = 0; i < h->fieldCount; ++i) {
        const HeaderField& f = h->fields[i];
        // Not the value of a removed field: a folded one holds CRLF and the next line.
        if (f.kind == HeaderKind::XForwardedFor && !f.hopByHop && !f.value.empty()) {
          iov_.add(f.value.data(), f.value.size());
          iov_.add(kCommaSpace.data(), kCommaSpace.size());
        }
      }
      if (c->forwardedTailLen == 0) {
        char ip[INET_ADDRSTRLEN] = "0.0.0.0";
        in_addr peer{htonl(c->peerAddress)};
        inet_ntop(AF_INET, &peer, ip, sizeof ip);
        int n = std::snprintf(c->forwardedTail, sizeof c->forwardedTail,
                              "%s\r\nX-Forwarded-Proto: %s\r\n", ip,
                              c->tls != nullptr ? "https" : "http");
        c->forwardedTailLen = static_cast<uint8_t>(n);
      }
      iov_.add(c->forwardedTail, c->forwardedTailLen);
      iov_.add(pl.forwardedPortLine.data(), pl.forwardedPortLine.size());
    }
    if (c->reqVersionMinor == 0) {
      iov_.add(kConnectionKeepAlive.data(), kConnectionKeepAlive.size()); // keep the target's
    }
    iov_.add(base + h->fieldsEnd, 2);
    size_t bodyFrom = h->length;
    int64_t take = takeRequestBody(c, bodyFrom);
    if (take < 0) {
      failBeforeResponse(c, take == kBodyTooLarge ? 413 : 400); // nothing went to the target
      return;
    }
    iov_.add(base + bodyFrom, size_t(take));
    c->fwd = bodyFrom + size_t(take);
    c->reqHeadSent = true;
    c->sentAtUs = monotonicUs();
    if (!writeUpstream(u, iov_)) {
      upstreamFailed(u, u->reused ? Failure::StaleKeepAlive : Failure::Closed);
    }
  }

  // Streams body bytes that arrived after the head.
  void forwardRequestBody(ClientConn* c) {
    UpstreamConn* u = c->upstream;
    if (c->reqBodyDone || !c->reqHeadSent || u == nullptr || u->connecting || !u->out.empty()) {
      return;
    }
    int64_t take = takeRequestBody(c, c->fwd);
    if (take == kBodyTooLarge && !c->responseStarted) {
      failBeforeResponse(c, 413); // the target connection is closed; the client gets 413
      return;
    }
    if (take < 0) {
      abortClient(c); // the head went out already; nothing sane can follow
      return;
    }
    if (take == 0) {
      return;
    }
    iov_.clear();
    iov_.add(c->in.data() + c->fwd, size_t(take));
    c->fwd += size_t(take);
    if (!writeUpstream(u, iov_)) {
      upstreamFailed(u, Failure::Closed);
    }
  }

  // The response to the current request has been handed to writeClient.
  void completeResponse(ClientConn* c) {
    c->upstream = nullptr;
    c->headStartMs = 0;
    bump(lbCells(c).processedBytes, c->headLen + c->reqBodyBytes + c->sentBytes);
    if (!loadBalancer(c).accessLogPath.empty()) {
      logRequest(c);
    }
    if (c->h2 != nullptr) [[unlikely]] {
      finishStream(c);
      return;
    }
    if (c->closeAfter || !c->reqBodyDone) {
      if (c->reqBodyDone && !c->reqKeepAlive) {
        // The client asked to close, so it sends no further request (RFC 9112 §9.6): the
        // answered request is not input that may still arrive, and a drained connection closes
        // at once instead of lingering (shutdown, a wakeup, a read of EOF).
        c->in.consume(c->fwd);
        c->fwd = 0;
      }
      c->state = ClientState::Closing;
      if (c->out.empty()) {
        closeGracefully(c);
      }
      return;
    }
    c->state = ClientState::Head;
    c->in.consume(c->fwd);
    c->fwd = 0;
    c->idleOrder = ++idleOrder_;
    timers_.schedule(&c->timer, nowMs_ + idleTimeoutMs(c));
    watchClient(c); // the next request
  }

  void sendLocalError(ClientConn* c, int status, bool close) {
    countElbError(c, status);
    c->elbStatus = status;
    c->closeAfter |= close;
    if (!c->reqHeadSent) {
      c->fwd = std::min<size_t>(c->headLen, c->in.size()); // the request goes no further
    }
    c->state = ClientState::Head;
    std::string_view page = errorResponse(status, c->closeAfter);
    if (c->reqIsHead) {
      page = page.substr(0, page.find("\r\n\r\n") + 4); // its head alone
    }
    iov_.clear();
    iov_.add(page.data(), page.size());
    if (writeClient(c, iov_)) {
      completeResponse(c);
    }
  }

  bool writeClient(ClientConn* c, const IoVector& v) {
    c->sentBytes += v.bytes();
    if (c->h2 != nullptr) [[unlikely]] {
      writeStream(c, v);
      return true;
    }
    if (!writeVector(buffers_, c->fd, c->tls, c->out, v)) {
      abortClient(c);
      return false;
    }
    if (!c->out.empty()) {
      watchClient(c); // for room to write the rest
    }
    return true;
  }

  // Closes after the last response; when input may still arrive, shuts down writes first and
  // discards it for a while (so that the peer sees the response, not a reset).
  void closeGracefully(ClientConn* c) {
    if (c->peerEof || (c->in.empty() && !c->canRead)) {
      closeClient(c);
      return;
    }
    c->state = ClientState::Lingering;
    transportShutWrite(c->fd, c->tls); // (TLS: close_notify first)
    timers_.schedule(&c->timer, nowMs_ + kLingerMs);
    discardInput(c);
    if (c->open) {
      watchClient(c); // for the rest of its input, or its end
    }
  }

  void discardInput(ClientConn* c) {
    char sink[4096];
    c->in.consume(c->in.size());
    while (c->canRead) {
      ssize_t n = ::read(c->fd, sink, sizeof sink);
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
        closeClient(c);
        return;
      }
      if (n < 0 && errno == EAGAIN) {
        c->canRead = false;
      }
    }
  }

  // Closes the client and, mid-exchange, its target connection (which cannot be reused).
  void abortClient(ClientConn* c) {
    if (UpstreamConn* u = c->upstream) {
      u->client = nullptr;
      c->upstream = nullptr;
      closeUpstream(u);
    }
    closeClient(c);
  }

  // Ends what a client connection (or an HTTP/2 stream) holds of its exchange: its target
  // connection (closed: the response was not whole), its outstanding count, its place in its
  // target group's queue.
  void endExchange(ClientConn* c) {
    if (UpstreamConn* u = c->upstream) {
      u->client = nullptr;
      c->upstream = nullptr;
      closeUpstream(u);
    }
    endOutstanding(c);
    if (c->queued) {
      bump(tgCells_[queuedGroup(c).slot].queueAbandonedCount);
      leaveQueue(c);
    }
  }

  void closeClient(ClientConn* c) {
    if (!c->open) {
      return;
    }
    if (c->h2 != nullptr) [[unlikely]] {
      if (c->state != ClientState::Http2) {
        abortStream(c); // a stream: reset, and released when the session closes it
        return;
      }
      endH2(c); // the connection: its streams first
    }
    if (c->state == ClientState::Tunnel) {
      endTunnel(c); // (its upstream connection is closed below)
    }
    endExchange(c);
    drop(lbCells(c).activeConnectionCount);
    admitted_.remove(listenerKey(c->local), c->peerAddress);
    c->stash.clear();
    timers_.cancel(&c->timer);
    if (c->tls != nullptr) {
      if (tlsNegotiationFailed(*c->tls)) {
        bump(lbCells(c).clientTlsNegotiationErrorCount);
      }
      tlsEnd(*c->tls); // close_notify when the session was established
      c->tls = nullptr;
    }
    ::close(c->fd);
    c->fd = -1;
    c->open = false;
    buffers_.release(c->in);
    buffers_.release(c->out);
    c->config.reset();
    store_.retire(c);
  }

  // ---- target side ------------------------------------------------------------------------------

  // A new connection to e from `source` (the load balancer's own address, so that the target's
  // security groups see whose connection it is; 0: the kernel's choice). The port is chosen at
  // connect (IP_BIND_ADDRESS_NO_PORT), so many connections to many targets share the source's
  // ports as they would unbound. A source that cannot be bound falls back to the kernel's.
  UpstreamConn* connectUpstream(uint32_t slot, const Endpoint& e, uint32_t source) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      return nullptr;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (source != 0) {
      setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
      sockaddr_in from{};
      from.sin_family = AF_INET;
      from.sin_addr.s_addr = htonl(source);
      if (bind(fd, reinterpret_cast<sockaddr*>(&from), sizeof from) != 0) {
        source = 0; // unbound: the connection still goes out, from 127.0.0.1
      }
    }
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(e.address);
    addr.sin_port = htons(e.port);
    bool connecting = false;
    if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      if (errno != EINPROGRESS) {
        ::close(fd);
        return nullptr;
      }
      connecting = true;
    }
    UpstreamConn* u = store_.newUpstream();
    u->fd = fd;
    u->open = true;
    u->slot = slot;
    u->endpoint = e;
    u->source = source;
    u->pooled = false;
    u->client = nullptr;
    u->connecting = connecting;
    u->canRead = false;
    u->hangup = false;
    u->eof = false;
    u->reused = false;
    u->tunnel = false;
    u->writeShut = false;
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
    ev.data.ptr = u;
    epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev);
    return u;
  }

  bool mayReuse(const UpstreamConn* u) const {
    if (!config_) {
      return false;
    }
    SlotState s = config_->stateBySlot[u->slot];
    return (s == SlotState::Routable || s == SlotState::Unhealthy) &&
           config_->endpointBySlot[u->slot] == u->endpoint;
  }

  void poolPut(UpstreamConn* u) {
    if (!pool_.put(u)) {
      closeUpstream(u); // the target's pool is full
      return;
    }
    buffers_.release(u->in);
    buffers_.release(u->out);
    timers_.schedule(&u->timer, nowMs_ + options_.upstreamIdleTimeout.count());
  }

  void closeUpstream(UpstreamConn* u) {
    if (!u->open) {
      return;
    }
    pool_.remove(u);
    timers_.cancel(&u->timer);
    if (u->h2 != nullptr) [[unlikely]] {
      endH2Upstream(u);
    }
    ::close(u->fd);
    u->fd = -1;
    u->open = false;
    u->client = nullptr;
    buffers_.release(u->in);
    buffers_.release(u->out);
    store_.retire(u);
  }

  // Writes v to the target (after anything queued). False on a write error.
  bool writeUpstream(UpstreamConn* u, const IoVector& v) {
    if (u->h2 != nullptr) [[unlikely]] {
      return h2Write(u, v);
    }
    bump(targetCells_[u->slot].targetBytesSent, v.bytes());
    return writeVector(buffers_, u->fd, u->out, v);
  }

  void onUpstreamEvent(UpstreamConn* u, uint32_t ev) {
    if (!u->open) {
      return;
    }
    if (ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
      u->canRead = true;
      u->hangup |= (ev & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0;
    }
    if (u->client == nullptr) {
      // Idle in the pool: the target closed it (or sent bytes nobody asked for).
      if (ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
        if (u->h2 != nullptr) [[unlikely]] {
          h2Idle(u); // an HTTP/2 target may PING or SETTINGS an idle connection
          return;
        }
        closeUpstream(u);
      }
      return;
    }
    if (u->tunnel) {
      pumpTunnels(u->client);
      return;
    }
    if (u->connecting) {
      if (!(ev & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
        return;
      }
      int err = 0;
      socklen_t len = sizeof err;
      getsockopt(u->fd, SOL_SOCKET, SO_ERROR, &err, &len);
      if (err != 0) {
        ClientConn* c = u->client;
        bump(targetCells_[u->slot].targetConnectionErrorCount);
        bump(lbCells(c).targetConnectionErrorCount);
        upstreamFailed(u, Failure::Connect);
        return;
      }
      u->connecting = false;
      timers_.schedule(&u->timer, nowMs_ + loadBalancer(u->client).targetTimeout.count());
      sendRequestHead(u->client, nullptr);
      if (!u->open || u->client == nullptr) {
        return;
      }
      pumpRequestBody(u->client);
      if (!u->open || u->client == nullptr) {
        return;
      }
    } else if (u->h2 != nullptr) [[unlikely]] {
      if (!h2Pump(u)) {
        return;
      }
    } else if ((ev & (EPOLLOUT | EPOLLERR | EPOLLHUP)) && !u->out.empty()) {
      int r = flush(buffers_, u->fd, u->out);
      if (r < 0) {
        upstreamFailed(u, Failure::Closed);
        return;
      }
      if (r > 0) {
        pumpRequestBody(u->client);
        if (!u->open || u->client == nullptr) {
          return;
        }
      }
    }
    driveResponse(u);
  }

  // Reads and forwards the response as far as the client keeps up.
  void driveResponse(UpstreamConn* u) {
    for (;;) {
      ClientConn* c = u->client;
      if (c == nullptr || !c->out.empty()) {
        return; // backpressure: resumed when the client's socket drains
      }
      if (!u->in.empty() || u->eof) {
        Step s = processResponse(u);
        if (s == Step::Gone) {
          return;
        }
        if (s == Step::Finished) {
          if (c->open && c->state == ClientState::Head) {
            readClient(c);
            processClient(c); // the next pipelined request
          }
          return;
        }
        if (!c->out.empty()) {
          return;
        }
      }
      if (!u->canRead) {
        return;
      }
      readUpstream(u);
    }
  }

  void readUpstream(UpstreamConn* u) {
    if (u->h2 != nullptr) [[unlikely]] {
      h2ReadUpstream(u);
      return;
    }
    buffers_.acquire(u->in);
    if (u->in.writable() == 0) {
      u->in.compact();
    }
    size_t room = u->in.writable();
    if (room == 0) {
      u->canRead = false; // cannot happen: heads are limited below the buffer size
      return;
    }
    ssize_t n = ::read(u->fd, u->in.writePtr(), room);
    if (n > 0) {
      u->in.produce(size_t(n));
      u->responseBytes += size_t(n);
      bump(targetCells_[u->slot].targetBytesReceived, uint64_t(n));
      if (size_t(n) < room && !u->hangup) {
        u->canRead = false;
      }
      if (u->client != nullptr) {
        timers_.schedule(&u->timer, nowMs_ + loadBalancer(u->client).targetTimeout.count());
      }
    } else if (n == 0 || errno != EAGAIN) {
      if (n < 0 && errno == EINTR) {
        return;
      }
      u->eof = true;
      u->canRead = false;
    } else {
      u->canRead = false;
    }
  }

  int64_t takeResponseBody(UpstreamConn* u, size_t from) {
    size_t avail = u->in.size() - from;
    switch (u->framing) {
    case BodyFraming::None:
      u->bodyDone = true;
      return 0;
    case BodyFraming::UntilClose:
      return int64_t(avail);
    case BodyFraming::ContentLength: {
      size_t take = avail < u->bodyRemaining ? avail : size_t(u->bodyRemaining);
      u->bodyRemaining -= take;
      u->bodyDone = u->bodyRemaining == 0;
      return int64_t(take);
    }
    case BodyFraming::Chunked: {
      size_t used = 0;
      ChunkedScanner::Result r = u->chunks.scan(u->in.data() + from, avail, &used);
      if (r == ChunkedScanner::Result::Invalid) {
        return -1;
      }
      u->bodyDone = r == ChunkedScanner::Result::Done;
      return int64_t(used);
    }
    }
    return 0;
  }

  Step processResponse(UpstreamConn* u) {
    ClientConn* c = u->client;
    while (!u->headDone) {
      if (u->in.empty() && u->eof) {
        upstreamFailed(u, u->reused && u->responseBytes == 0 ? Failure::StaleKeepAlive
                                                             : Failure::Closed);
        return Step::Gone;
      }
      MessageHead& h = scratch_;
      ParseStatus st = parseResponseHead(u->in.data(), u->in.size(), loadBalancer(c).maxHeaderBytes,
                                         c->reqIsHead, h);
      if (st == ParseStatus::Incomplete) {
        if (u->eof) {
          upstreamFailed(u, Failure::Closed);
          return Step::Gone;
        }
        return Step::NeedMore;
      }
      if (st != ParseStatus::Complete || (h.status == 101 && !c->reqUpgrade)) {
        // A 101 to a request that asked for no upgrade would have the client and the target
        // read what follows differently (a desync): 502.
        upstreamFailed(u, Failure::Invalid);
        return Step::Gone;
      }
      if (h.status == 101) {
        startTunnel(u, h);
        return Step::Gone; // the exchange is over: the tunnel carries the connection now
      }
      if (h.status < 200) {
        // Interim response (100 Continue, 103 Early Hints): pass it on as is.
        iov_.clear();
        iov_.add(u->in.data(), h.length);
        if (!writeClient(c, iov_)) {
          return Step::Gone;
        }
        u->in.consume(h.length);
        continue;
      }
      u->headDone = true;
      c->responseStarted = true;
      countTargetResponse(c, h.status);
      health_.answered(u->slot); // a success ends the target's run of failures
      c->elbStatus = c->targetStatus = h.status;
      c->responseHeadUs = monotonicUs();
      u->framing = h.framing;
      u->bodyRemaining = h.contentLength;
      u->chunks.reset();
      u->reusable = h.keepAlive && !c->desyncClose;
      if (!c->reqKeepAlive || !c->reqBodyDone || h.framing == BodyFraming::UntilClose) {
        c->closeAfter = true;
      }
      const char* base = u->in.data();
      iov_.clear();
      iov_.add(base, h.fieldsBegin);
      if (h.anyHopByHop) {
        for (size_t i = 0; i < h.fieldCount; ++i) {
          const HeaderField& f = h.fields[i];
          if (!f.hopByHop) {
            iov_.add(base + f.lineBegin, f.lineEnd - f.lineBegin);
          }
        }
      } else {
        iov_.add(base + h.fieldsBegin, h.fieldsEnd - h.fieldsBegin);
      }
      addStickyCookie(c, h);
      if (c->closeAfter) {
        iov_.add(kConnectionClose.data(), kConnectionClose.size());
      } else if (c->reqVersionMinor == 0) {
        iov_.add(kConnectionKeepAlive.data(), kConnectionKeepAlive.size());
      }
      iov_.add(base + h.fieldsEnd, 2);
      int64_t take = takeResponseBody(u, h.length);
      if (take < 0) {
        abortClient(c);
        return Step::Gone;
      }
      iov_.add(base + h.length, size_t(take));
      if (!writeClient(c, iov_)) {
        return Step::Gone;
      }
      u->in.consume(h.length + size_t(take));
      return afterBody(u);
    }
    int64_t take = takeResponseBody(u, 0);
    if (take < 0) {
      abortClient(c);
      return Step::Gone;
    }
    if (take > 0) {
      iov_.clear();
      iov_.add(u->in.data(), size_t(take));
      if (!writeClient(c, iov_)) {
        return Step::Gone;
      }
      u->in.consume(size_t(take));
    }
    return afterBody(u);
  }

  Step afterBody(UpstreamConn* u) {
    if (u->bodyDone) {
      finishExchange(u);
      return Step::Finished;
    }
    if (u->eof && u->in.empty()) {
      if (u->framing == BodyFraming::UntilClose) {
        u->reusable = false;
        finishExchange(u);
        return Step::Finished;
      }
      ClientConn* c = u->client;
      countElbError(c, 502); // the target broke off mid-response: the client sees a cut
      abortClient(c);
      return Step::Gone;
    }
    return Step::NeedMore;
  }

  void finishExchange(UpstreamConn* u) {
    ClientConn* c = u->client;
    endOutstanding(c);
    bool reuse = u->reusable && u->in.empty() && !u->eof && u->out.empty() && c->reqBodyDone &&
                 mayReuse(u) && (u->h2 == nullptr || h2Reusable(u));
    u->client = nullptr;
    c->upstream = nullptr;
    if (reuse) {
      poolPut(u);
    } else {
      closeUpstream(u);
    }
    completeResponse(c);
  }

  // The connection to the target failed: resend once where that is safe, else answer 502/504
  // (or cut the client off when part of the response went out already).
  void upstreamFailed(UpstreamConn* u, Failure f) {
    ClientConn* c = u->client;
    uint32_t slot = u->slot;
    if (f == Failure::Closed && !u->reused && u->responseBytes == 0) {
      f = Failure::Unanswered;
      ejectTarget(c, slot); // a new connection closed or reset before any answer
    }
    u->client = nullptr;
    c->upstream = nullptr;
    closeUpstream(u);
    retryOrFail(c, slot, f);
  }

  void retryOrFail(ClientConn* c, uint32_t slot, Failure f) {
    endOutstanding(c);
    if (f == Failure::Connect) {
      ejectTarget(c, slot);
    }
    // A target killed between two requests may have taken a connection into its backlog and
    // reset it unread: an idempotent request is resent there too, as nginx does.
    bool resend = f == Failure::Connect || f == Failure::StaleKeepAlive ||
                  (f == Failure::Unanswered && c->reqIdempotent);
    bool retry = resend && !c->responseStarted && c->replayable && c->attempts < kMaxRetries;
    if (retry) {
      ++c->attempts;
      c->reqBodyBytes = 0;
      c->fwd = 0;
      c->reqHeadSent = false;
      c->reqChunks.reset();
      c->reqBodyRemaining = c->reqContentLength;
      c->reqBodyDone = c->reqFraming == BodyFraming::None;
      // A refused or unanswered connection tries another target; a stale pooled one a fresh one.
      bool avoid = f == Failure::Connect || f == Failure::Unanswered;
      dispatch(c, nullptr, avoid ? slot : kNoSlot, /*fresh=*/true);
      return;
    }
    if (c->responseStarted) {
      countElbError(c, 502);
      abortClient(c);
      return;
    }
    sendLocalError(c, f == Failure::Timeout ? 504 : 502, true);
  }

  // ---- limits, slow clients, passive health, access log -----------------------------------------

  int64_t headerTimeoutMs(ClientConn* c) const {
    return loadBalancer(c).requestHeaderTimeout.count();
  }

  // The listener's bound and the client's (admission.h), this worker's share of each: at one,
  // the oldest idle connections (the client's, or anyone's) are closed to make room; with none
  // idle the new connection is refused and counted.
  bool admit(const ListenSocket& ls, uint32_t peerAddress) {
    const LoadBalancer& lb =
        *config_->listeners[config_->sockets[ls.socketIndex].listeners.front()].loadBalancer;
    uint64_t key = listenerKey(ls.endpoint);
    uint32_t clientShare = workerShare(perClientLimit(lb), options_.workerCount);
    uint32_t share = workerShare(lb.maxConnectionsPerListener, options_.workerCount);
    if ((admitted_.ofClient(key, peerAddress) >= clientShare &&
         !closeOldestIdle(key, &peerAddress, idleBatch(clientShare))) ||
        (admitted_.onListener(key) >= share && !closeOldestIdle(key, nullptr, idleBatch(share)))) {
      bump(lbCells_[lb.slot].rejectedConnectionCount);
      return false;
    }
    admitted_.add(key, peerAddress);
    return true;
  }

  // Closes up to `count` idle client connections on the listener `key` (of `peerAddress` only,
  // unless null), those idle longest first. Idle: waiting for a request with nothing of one
  // read and nothing to write. Their idle timers order them: each was set to the same timeout
  // after the connection's last activity. False when none was idle. Scans the worker's
  // connections: runs only at a bound, once per idleBatch() admissions under a flood. Two
  // connections idle since the same millisecond go in the order they became idle.
  bool closeOldestIdle(uint64_t key, const uint32_t* peerAddress, uint32_t count) {
    idle_.clear();
    for (const auto& owned : store_.clients()) {
      ClientConn* c = owned.get();
      if (!c->open || c->fd < 0 || (peerAddress != nullptr && c->peerAddress != *peerAddress) ||
          listenerKey(c->local) != key) {
        continue; // (fd -1: an HTTP/2 stream, no connection of its own)
      }
      if (c->state == ClientState::Head && c->in.empty() && c->stash.empty() && c->out.empty() &&
          !c->queued && c->upstream == nullptr && c->headStartMs == 0) {
        idle_.push_back({c->timer.deadline, c->idleOrder, c});
      } else if (c->state == ClientState::Http2 && c->h2->streams.empty() &&
                 c->h2->session.openStreams() == 0) {
        // An HTTP/2 connection without a stream is idle too: it would close at this deadline.
        idle_.push_back({c->h2->lastActiveMs + idleTimeoutMs(c), c->idleOrder, c});
      }
    }
    if (idle_.empty()) {
      return false;
    }
    if (idle_.size() > count) {
      std::nth_element(idle_.begin(), idle_.begin() + count, idle_.end());
      idle_.resize(count);
    }
    for (auto& [deadline, order, c] : idle_) {
      closeClient(c);
    }
    return true;
  }

  // 414 when the request target is (or is already, in a partial head) over the limit; 413 when
  // Content-Length announces a body over the limit; else 0.
  int requestLimitStatus(ClientConn* c, ParseStatus st, const MessageHead& h) const {
    const LoadBalancer& lb = loadBalancer(c);
    size_t targetBytes = st == ParseStatus::Complete
                             ? h.target.size()
                             : requestTargetLength(c->in.data(), c->in.size());
    if (targetBytes > lb.maxUriBytes) {
      return 414;
    }
    if (st == ParseStatus::Complete && lb.maxRequestBodyBytes != 0 &&
        h.framing == BodyFraming::ContentLength && h.contentLength > lb.maxRequestBodyBytes) {
      return 413;
    }
    return 0;
  }

  // A head has begun and is not complete: start its header timeout, and when the socket is
  // drained and the bytes are few, keep them in a small string and give the buffer back, so
  // that thousands of slow clients hold no connection buffer.
  void waitForHead(ClientConn* c) {
    if (c->headStartMs == 0) {
      c->headStartMs = nowMs_;
      timers_.schedule(&c->timer, nowMs_ + headerTimeoutMs(c));
    }
    if (!c->canRead && c->out.empty() && c->fwd == 0 && c->in.size() <= kStashBytes) {
      c->stash.assign(c->in.data(), c->in.size());
      c->in.consume(c->in.size());
      buffers_.release(c->in);
    }
  }

  // A request head is complete (h) or rejected (null): per-request state for limits and the log.
  void beginRequestRecord(ClientConn* c, const MessageHead* h) {
    c->headStartMs = 0;
    c->reqBodyBytes = 0;
    c->sentBytes = 0;
    c->elbStatus = 0;
    c->targetStatus = 0;
    c->responseHeadUs = 0;
    c->sentAtUs = 0;
    c->targetSlot = kNoSlot;
    c->logAction = nullptr;
    c->matchedPriority = -1;
    c->logTier = DesyncTier::Compliant;
    c->logReason = DesyncReason::Compliant;
    if (loadBalancer(c).accessLogPath.empty()) {
      return;
    }
    c->reqStartUs = monotonicUs();
    if (!c->logText) {
      c->logText = std::make_unique<RequestLogText>();
    }
    RequestLogText& t = *c->logText;
    t.request.clear();
    t.host.clear();
    t.userAgent.clear();
    t.redirect.clear();
    if (h == nullptr) {
      return;
    }
    t.request.append(h->method).append(" ").append(h->target);
    c->logVersionMinor = uint8_t(h->versionMinor);
    for (size_t i = 0; i < h->fieldCount; ++i) {
      const HeaderField& f = h->fields[i];
      if (f.kind == HeaderKind::Host) {
        t.host.assign(f.value);
      } else if (f.name.size() == 10 && strncasecmp(f.name.data(), "user-agent", 10) == 0) {
        t.userAgent.assign(f.value);
      }
    }
  }

  // The request head did not complete within the header timeout: 408, then close.
  void requestHeadTimedOut(ClientConn* c) {
    c->stash.clear();
    beginRequestRecord(c, nullptr);
    c->groupIndex = -1;
    c->reqBodyDone = true;
    c->reqHeadSent = false;
    c->headLen = 0;
    c->fwd = 0;
    sendLocalError(c, 408, /*close=*/true);
  }

  // Answers status before any response byte went out, closing the target connection (which has
  // part of a request at most).
  void failBeforeResponse(ClientConn* c, int status) {
    if (UpstreamConn* u = c->upstream) {
      u->client = nullptr;
      c->upstream = nullptr;
      closeUpstream(u);
    }
    endOutstanding(c);
    sendLocalError(c, status, /*close=*/true);
  }

  // Passive health (passive_health.h): the target refused, reset or did not accept a connection,
  // so this worker stops choosing it for a while. Its idle pooled connections are closed: they are
  // likely dead.
  void ejectTarget(ClientConn* c, uint32_t slot) {
    if (!health_.eject(slot, nowMs_)) {
      return; // already out
    }
    bump(targetCells_[slot].targetEjectionCount);
    if (c != nullptr) {
      bump(lbCells(c).targetEjectionCount);
    }
    while (pool_.first(slot) != nullptr) {
      closeUpstream(pool_.first(slot));
    }
  }

  // Appends the finished request's entry to this worker's buffer for its load balancer.
  void logRequest(ClientConn* c, bool webSocket = false) {
    const LoadBalancer& lb = loadBalancer(c);
    int64_t nowUs = monotonicUs();
    AccessLogEntry e;
    e.timeUs = realtimeUs();
    e.requestCreationUs = e.timeUs - (nowUs - c->reqStartUs);
    e.loadBalancerArn = lb.arn;
    e.loadBalancerName = lb.name;
    e.clientAddress = c->peerAddress;
    e.clientPort = c->peerPort;
    if (c->targetSlot != kNoSlot) {
      e.hasTarget = true;
      e.target = c->config->endpointBySlot[c->targetSlot];
    }
    if (c->sentAtUs != 0) {
      e.requestProcessingSeconds = double(c->sentAtUs - c->reqStartUs) / 1e6;
    }
    if (c->responseHeadUs != 0) {
      e.targetProcessingSeconds = double(c->responseHeadUs - c->sentAtUs) / 1e6;
      e.responseProcessingSeconds = 0;
    }
    e.elbStatus = c->elbStatus;
    e.targetStatus = c->targetStatus;
    e.receivedBytes = c->headLen + c->reqBodyBytes;
    e.sentBytes = c->sentBytes;
    static const RequestLogText kNoText; // the log was turned on while this request ran
    const RequestLogText& text = c->logText ? *c->logText : kNoText;
    std::string_view request = text.request;
    size_t space = request.find(' ');
    if (space != std::string_view::npos) {
      e.method = request.substr(0, space);
      e.requestTarget = request.substr(space + 1);
    }
    e.versionMinor = c->logVersionMinor;
    e.host = text.host;
    e.listenerPort = c->local.port;
    e.userAgent = text.userAgent;
    if (c->groupIndex >= 0) {
      e.targetGroupArn = c->config->snapshot->targetGroups[c->groupIndex].arn;
    }
    if (c->logAction != nullptr) {
      e.actionsExecuted = c->logAction;
    }
    e.matchedRulePriority = c->matchedPriority;
    e.redirectUrl = text.redirect;
    if (c->logTier != DesyncTier::Compliant) {
      e.classification = desyncTierName(c->logTier);
      e.classificationReason = desyncReasonName(c->logReason);
    }
    e.webSocket = webSocket;
    e.http2 = c->h2 != nullptr;
    e.grpc =
        e.http2 && c->groupIndex >= 0 &&
        c->config->snapshot->targetGroups[c->groupIndex].protocolVersion == ProtocolVersion::Grpc;
    if (c->tls != nullptr) {
      e.https = true;
      e.sslCipher = tlsCipher(*c->tls);
      e.sslProtocol = tlsProtocol(*c->tls);
      e.domainName = tlsServerName(*c->tls);
      e.chosenCertArn = tlsCertificateArn(*c->tls);
    }
    logs_.append(lb.slot, lb.accessLogPath, e);
  }

  // ---- HTTP/2 (docs/ARCHITECTURE.md "HTTP/2 (src/h2), and how it plugs in") --------------------
  //
  // (Every function here is out of line: inlined, they changed g++'s inlining of the HTTP/1.1
  // path, IoVector::add among others, and cost it instructions per request.)
  //
  // A connection whose ALPN chose h2 has an h2::ServerSession (H2Conn) fed with the bytes the
  // transport seam decrypts; its frames go out through transportWrite. Each stream is a ClientConn
  // of its own with no socket (fd -1, never in epoll): its `in` receives the request as HTTP/1.1
  // bytes and runs through processClient like any request (rules, target choice, stickiness,
  // retries, the queue, timeouts, the access log, the counters); writeClient gives its response
  // bytes to submitResponse, and what the session does not take waits in the stream's `out`
  // (which stops the target's reads, as a slow client's socket does) until onResponseWritable.
  // The stream's object lives until the session closes the stream (onStreamClosed).

  // processClient's test on an HTTPS connection, until the handshake is over: when ALPN chose h2
  // the connection becomes an HTTP/2 one (true).
  [[gnu::noinline]] bool startH2(ClientConn* c) {
    if (!tlsEstablished(*c->tls)) {
      return false;
    }
    c->tls->alpnChecked = true;
    if (tlsAlpn(*c->tls) != "h2") {
      return false;
    }
    auto* h = new H2Conn(this, c);
    ++h2Connections_;
    c->h2 = h;
    c->state = ClientState::Http2;
    c->headStartMs = 0;
    h->lastActiveMs = nowMs_;
    timers_.schedule(&c->timer, nowMs_ + kH2TickMs);
    watchClient(c);
    if (!c->in.empty()) { // the preface and frames that came with the handshake's end
      Status st = h->session.feed(reinterpret_cast<const uint8_t*>(c->in.data()), c->in.size(),
                                  uint64_t(nowMs_));
      c->in.consume(c->in.size());
      h->failed = !st.isOk();
    }
    pumpH2(c);
    return true;
  }

  // An HTTP/2 connection's event: reads what the socket has into the session, then the work the
  // session noted and its frames out.
  [[gnu::noinline]] void pumpH2(ClientConn* c) {
    H2Conn& h = *c->h2;
    while (c->canRead && !c->peerEof && !h.failed && !h.dead) {
      buffers_.acquire(c->in);
      c->in.consume(c->in.size());
      c->in.compact();
      size_t room = c->in.writable();
      ssize_t n = transportRead(c->fd, c->tls, c->in.writePtr(), room);
      if (n > 0) {
        if (transportDrained(c->tls, size_t(n), room) && !c->hangup) {
          c->canRead = false;
        }
        h.lastActiveMs = nowMs_;
        Status st = h.session.feed(reinterpret_cast<const uint8_t*>(c->in.writePtr()), size_t(n),
                                   uint64_t(nowMs_));
        h.failed = !st.isOk(); // a connection error: the GOAWAY is written, then close
      } else if (n == 0) {
        c->peerEof = true;
        c->canRead = false;
      } else if (errno == EAGAIN) {
        c->canRead = false;
      } else if (errno != EINTR) {
        h.dead = true;
      }
    }
    buffers_.release(c->in);
    serviceH2(c);
  }

  [[gnu::noinline]] void markH2(ClientConn* conn) {
    H2Conn& h = *conn->h2;
    if (!h.queued) {
      h.queued = true;
      h2Dirty_.push_back(conn);
    }
  }

  // endBatch: the connections whose streams wrote or closed outside their own events.
  [[gnu::noinline]] void serviceDirtyH2() {
    for (size_t i = 0; i < h2Dirty_.size(); ++i) { // (grows while it runs)
      ClientConn* c = h2Dirty_[i];
      if (c->open && c->state == ClientState::Http2 && c->h2 != nullptr) {
        c->h2->queued = false;
        serviceH2(c);
      }
    }
    h2Dirty_.clear();
  }

  // Outside any exchange step: streams that may write again, streams the session closed, the
  // session's frames to the socket (writing lets more frames and more writable streams come),
  // and the end of the connection.
  [[gnu::noinline]] void serviceH2(ClientConn* c) {
    H2Conn& h = *c->h2;
    for (int round = 0; round < 64 && !h.dead; ++round) {
      while (!h.writable.empty()) {
        h.scratch.swap(h.writable);
        for (int32_t id : h.scratch) {
          streamWritable(h, id);
        }
        h.scratch.clear();
      }
      while (!h.closed.empty()) {
        h.scratch.swap(h.closed);
        for (int32_t id : h.scratch) {
          releaseStream(h, id);
        }
        h.scratch.clear();
      }
      if (!writeH2(c)) {
        h.dead = true;
        break;
      }
      if (h.writable.empty() && h.closed.empty()) {
        break;
      }
    }
    if (!h.writable.empty() || !h.closed.empty()) {
      markH2(c); // more than the rounds allow: again after this batch
    }
    if (h.dead || c->peerEof || (h.failed && h.session.pendingOutput().empty()) ||
        h.session.wantsClose()) {
      closeClient(c);
    }
  }

  // The session's frames through the seam, for as long as the socket takes them. False: the
  // socket failed.
  [[gnu::noinline]] bool writeH2(ClientConn* c) {
    // EAGAIN: EPOLLOUT (over TLS, any event) resumes it with the same bytes first.
    return writeSessionOutput(c->h2->session, [&](std::string_view p) {
      return transportWrite(c->fd, c->tls, p.data(), p.size());
    });
  }

  // A request head on a new stream: a ClientConn for it, from its connection's.
  [[gnu::noinline]] void h2RequestHead(H2Conn& h, int32_t id, std::string_view head) {
    ClientConn* c = h.conn;
    ClientConn* s = store_.newClient();
    s->fd = -1;
    s->open = true;
    s->watched = true; // never in epoll
    s->config = c->config;
    s->socketIndex = c->socketIndex;
    s->hostRouted = c->hostRouted;
    s->listenerIndex = c->listenerIndex;
    s->local = c->local;
    s->lbSlot = c->lbSlot;
    s->resetExchange();
    s->canRead = false; // its bytes come from the session
    s->peerAddress = c->peerAddress;
    s->peerPort = c->peerPort;
    s->tls = c->tls; // X-Forwarded-Proto, redirects and the access log see HTTPS
    s->h2 = &h;
    s->streamId = id;
    s->h2Credit = 0;
    h.streams[id] = s;
    h.lastActiveMs = nowMs_;
    buffers_.append(s->in, head.data(), head.size());
    processClient(s);
  }

  [[gnu::noinline]] void h2RequestBody(H2Conn& h, int32_t id, std::string_view bytes,
                                       size_t credit) {
    ClientConn* s = h.stream(id);
    if (s == nullptr) {
      return;
    }
    if (s->state != ClientState::Forwarding) { // answered already: the rest is not read
      h.session.consumeRequestBody(id, credit);
      return;
    }
    if (s->in.writable() < bytes.size() && s->reqHeadSent && s->fwd > 0) {
      // A body larger than the buffer streams through; it can no longer be resent.
      s->in.consume(s->fwd);
      s->fwd = 0;
      s->replayable = false;
    }
    buffers_.append(s->in, bytes.data(), bytes.size());
    s->h2Credit += credit;
    if (!s->queued) {
      pumpRequestBody(s);
    } else {
      releaseStreamCredit(s);
    }
  }

  [[gnu::noinline]] void h2RequestEnd(H2Conn& h, int32_t id, std::string_view tail) {
    ClientConn* s = h.stream(id);
    if (s == nullptr || s->state != ClientState::Forwarding || tail.empty()) {
      return;
    }
    buffers_.append(s->in, tail.data(), tail.size());
    if (!s->queued) {
      pumpRequestBody(s);
    }
  }

  // Hands the client's window back for body bytes the target took (or will soon: while the
  // stream holds less than kStreamHeldBytes).
  [[gnu::noinline]] void releaseStreamCredit(ClientConn* s) {
    if (s->h2Credit == 0) {
      return;
    }
    size_t held = s->in.size() > s->fwd ? s->in.size() - s->fwd : 0;
    if (s->state == ClientState::Forwarding && held > kStreamHeldBytes) {
      return;
    }
    s->h2->session.consumeRequestBody(s->streamId, size_t(s->h2Credit));
    s->h2Credit = 0;
    markH2(s->h2->conn);
  }

  // writeClient for a stream: to the session, and what it does not take waits in `out`.
  [[gnu::noinline]] void writeStream(ClientConn* s, const IoVector& v) {
    H2Conn& h = *s->h2;
    int i = 0;
    size_t skip = 0;
    if (s->out.empty()) {
      for (; i < v.count(); ++i) {
        const iovec& piece = v.data()[i];
        size_t taken = h.session.submitResponse(
            s->streamId, static_cast<const char*>(piece.iov_base), piece.iov_len);
        if (taken < piece.iov_len) {
          skip = taken;
          break;
        }
      }
    }
    for (; i < v.count(); ++i) {
      const iovec& piece = v.data()[i];
      buffers_.append(s->out, static_cast<const char*>(piece.iov_base) + skip,
                      piece.iov_len - skip);
      skip = 0;
    }
    markH2(h.conn);
  }

  // The session takes response bytes of the stream again.
  [[gnu::noinline]] void streamWritable(H2Conn& h, int32_t id) {
    ClientConn* s = h.stream(id);
    if (s == nullptr) {
      return;
    }
    while (!s->out.empty()) {
      size_t taken = h.session.submitResponse(id, s->out.data(), s->out.size());
      s->out.consume(taken);
      if (taken == 0) {
        return;
      }
    }
    buffers_.release(s->out);
    if (s->state == ClientState::StreamDone) {
      h.session.endResponse(id); // (nothing when the response ended by its framing)
    } else if (s->upstream != nullptr && s->upstream->headDone) {
      driveResponse(s->upstream); // resume the response the stream's window held back
    }
  }

  // completeResponse for a stream: the exchange is over; the stream's object waits for the
  // session to close the stream.
  [[gnu::noinline]] void finishStream(ClientConn* s) {
    s->state = ClientState::StreamDone;
    timers_.cancel(&s->timer);
    if (s->out.empty()) {
      s->h2->session.endResponse(s->streamId); // a body read until close ends here
    }
    markH2(s->h2->conn);
  }

  // closeClient for a stream mid-exchange (the target broke off, a response that cannot go on):
  // the target connection is closed and the stream reset.
  [[gnu::noinline]] void abortStream(ClientConn* s) {
    if (s->state == ClientState::StreamDone) {
      return;
    }
    detachStream(s);
    s->state = ClientState::StreamDone;
    s->out.consume(s->out.size());
    s->h2->session.resetStream(s->streamId, h2::ErrorCode::InternalError);
    markH2(s->h2->conn);
  }

  // What a stream holds of the exchange: its target connection (not reusable: the response was
  // not whole), its outstanding count, its place in a queue, its timer.
  [[gnu::noinline]] void detachStream(ClientConn* s) {
    endExchange(s);
    timers_.cancel(&s->timer);
  }

  // The session closed the stream (answered, reset by either side, or the connection ended).
  [[gnu::noinline]] void releaseStream(H2Conn& h, int32_t id) {
    auto it = h.streams.find(id);
    if (it == h.streams.end()) {
      return;
    }
    ClientConn* s = it->second;
    h.streams.erase(it);
    h.lastActiveMs = nowMs_;
    freeStream(s);
  }

  [[gnu::noinline]] void freeStream(ClientConn* s) {
    detachStream(s);
    buffers_.release(s->in);
    buffers_.release(s->out);
    s->config.reset();
    s->tls = nullptr;
    s->h2 = nullptr;
    s->open = false;
    store_.retire(s);
  }

  // closeClient of an HTTP/2 connection: GOAWAY when it can still be said (the worker stops, the
  // idle timeout), its streams freed, the session deleted; closeClient does the rest.
  [[gnu::noinline]] void endH2(ClientConn* c) {
    H2Conn* h = c->h2;
    if (!h->failed && !h->dead && !c->peerEof) {
      h->session.goAway();
      if (!writeH2(c)) {
        h->dead = true;
      }
    }
    for (auto& [id, s] : h->streams) {
      freeStream(s);
    }
    h->streams.clear();
    c->h2 = nullptr;
    c->state = ClientState::Closing;
    --h2Connections_;
    delete h;
  }

  // The connection's timer: the session's stall bound; with no open stream for the listener's
  // idle timeout (or after a connection error), the end.
  [[gnu::noinline]] void h2Timer(ClientConn* c) {
    H2Conn& h = *c->h2;
    h.session.tick(uint64_t(nowMs_));
    if (h.failed || (h.session.openStreams() == 0 && nowMs_ - h.lastActiveMs >= idleTimeoutMs(c))) {
      closeClient(c);
      return;
    }
    timers_.schedule(&c->timer, nowMs_ + kH2TickMs);
    markH2(c);
  }

  // A new snapshot without an HTTP/2 connection's listener: GOAWAY (its open streams finish).
  [[gnu::noinline]] void goAwayFromGoneListeners() {
    for (const auto& owned : store_.clients()) {
      ClientConn* c = owned.get();
      if (c->open && c->state == ClientState::Http2 && config_->findSocket(c->local) < 0) {
        c->h2->session.goAway();
        markH2(c);
      }
    }
  }

  // ---- HTTP/2 to targets (HTTP2 and GRPC target groups; H2Upstream above) ----------------------
  //
  // A target connection of such a group carries an h2::ClientSession, one stream at a time. The
  // exchange is the HTTP/1.1 one: writeUpstream gives the session the bytes it would have
  // written (h2Write), readUpstream fills `in` with the response the session gives back in
  // HTTP/1.1 (h2ReadUpstream), so response parsing, the client side, retries, timeouts and the
  // access log are unchanged. Backpressure: request bytes the stream does not take wait in the
  // connection's `out` (which stops forwardRequestBody, as a full socket does) until the session
  // says the stream is writable; the target's DATA is credited back only once its bytes are in
  // `in`, and `in` is filled only while the client keeps up (driveResponse).

  // Whether the request's protocol fits its target group's, as ALB decides it (else 464):
  // HTTP2 and GRPC groups take requests that came over HTTP/2 only, GRPC groups POSTs only, and
  // gRPC requests go to GRPC or HTTP2 groups only.
  [[gnu::noinline]] bool protocolFits(ClientConn* c, const MessageHead& h, const TargetGroup& g) {
    switch (g.protocolVersion) {
    case ProtocolVersion::Http1:
      return c->h2 == nullptr || !http1::isGrpcMessage(h);
    case ProtocolVersion::Http2:
      return c->h2 != nullptr;
    case ProtocolVersion::Grpc:
      return c->h2 != nullptr && h.method == "POST";
    }
    return true;
  }

  [[gnu::noinline]] void startH2Upstream(UpstreamConn* u, ProtocolVersion version) {
    h2::ClientLimits limits;
    limits.teTrailers = version == ProtocolVersion::Grpc;       // gRPC servers require it
    limits.chunkedResponses = version == ProtocolVersion::Grpc; // grpc-status always comes back
    u->h2 = new H2Upstream(limits);
  }

  // closeUpstream of an HTTP/2 connection: GOAWAY when it can be said (one try), then the session
  // goes.
  [[gnu::noinline]] void endH2Upstream(UpstreamConn* u) {
    H2Upstream* h = u->h2;
    u->h2 = nullptr;
    if (!u->connecting && !h->cut) {
      h->session.goAway();
      std::string_view p = h->session.pendingOutput();
      if (!p.empty() && ::send(u->fd, p.data(), p.size(), MSG_NOSIGNAL | MSG_DONTWAIT) > 0) {
        bump(targetCells_[u->slot].targetBytesSent, p.size());
      }
    }
    delete h;
  }

  // The session's frames to the target, as far as the socket takes them. False: it failed.
  [[gnu::noinline]] bool h2Flush(UpstreamConn* u) {
    // (consumed() may note the stream writable.) EAGAIN: EPOLLOUT resumes it (h2Pump).
    return writeSessionOutput(u->h2->session, [&](std::string_view p) {
      ssize_t n = ::send(u->fd, p.data(), p.size(), MSG_NOSIGNAL);
      if (n > 0) {
        bump(targetCells_[u->slot].targetBytesSent, uint64_t(n));
      }
      return n;
    });
  }

  // writeUpstream for an HTTP/2 connection: the request's first bytes (its head, whole, and the
  // body bytes with it) start the stream, later ones are its body. False: the connection failed.
  [[gnu::noinline]] bool h2Write(UpstreamConn* u, const IoVector& v) {
    H2Upstream& h = *u->h2;
    if (h.streamId == 0) {
      h.scratch.clear();
      for (int i = 0; i < v.count(); ++i) {
        h.scratch.append(static_cast<const char*>(v.data()[i].iov_base), v.data()[i].iov_len);
      }
      size_t taken = 0;
      Result<int32_t> id = h.session.submitRequest(h.scratch.data(), h.scratch.size(), &taken);
      if (!id) {
        return false; // the connection takes no new stream (the target's GOAWAY came)
      }
      h.streamId = id.value();
      if (taken < h.scratch.size()) {
        buffers_.append(u->out, h.scratch.data() + taken, h.scratch.size() - taken);
      }
    } else {
      for (int i = 0; i < v.count(); ++i) {
        const char* p = static_cast<const char*>(v.data()[i].iov_base);
        size_t n = v.data()[i].iov_len;
        size_t taken = u->out.empty() ? h.session.submitRequestBody(h.streamId, p, n) : 0;
        if (taken < n) {
          buffers_.append(u->out, p + taken, n - taken);
        }
      }
    }
    // Writing may let the stream take what it held back: taken now, as no event may come for it.
    return h2Flush(u) && h2TakeHeld(u);
  }

  // Request bytes held in `out` go to the stream once the session notes it writable. False: the
  // connection failed.
  [[gnu::noinline]] bool h2TakeHeld(UpstreamConn* u) {
    H2Upstream& h = *u->h2;
    while (h.writable) {
      h.writable = false;
      while (!u->out.empty()) {
        size_t taken = h.session.submitRequestBody(h.streamId, u->out.data(), u->out.size());
        u->out.consume(taken);
        if (taken == 0) {
          break;
        }
      }
      if (!h2Flush(u)) {
        return false;
      }
    }
    if (u->out.empty()) {
      buffers_.release(u->out);
    }
    return true;
  }

  // A busy HTTP/2 connection's event before its response is read: frames out, held request bytes
  // in, and more of the client's body when they all went. False: the exchange left it (failed).
  [[gnu::noinline]] bool h2Pump(UpstreamConn* u) {
    bool held = !u->out.empty();
    if (!h2Flush(u) || !h2TakeHeld(u)) {
      upstreamFailed(u, Failure::Closed);
      return false;
    }
    if (held && u->out.empty()) {
      pumpRequestBody(u->client);
      if (!u->open || u->client == nullptr) {
        return false;
      }
    }
    return true;
  }

  // readUpstream for an HTTP/2 connection: what the session decoded first, else the socket's
  // bytes through the session.
  [[gnu::noinline]] void h2ReadUpstream(UpstreamConn* u) {
    H2Upstream& h = *u->h2;
    bool held = !u->out.empty();
    if (h.decodedAt == h.decoded.size() && !h.cut) {
      char bytes[16 * 1024];
      ssize_t n = ::read(u->fd, bytes, sizeof bytes);
      if (n > 0) {
        bump(targetCells_[u->slot].targetBytesReceived, uint64_t(n));
        if (size_t(n) < sizeof bytes && !u->hangup) {
          u->canRead = false;
        }
        timers_.schedule(&u->timer, nowMs_ + loadBalancer(u->client).targetTimeout.count());
        Status st = h.session.feed(reinterpret_cast<const uint8_t*>(bytes), size_t(n));
        h.cut |= !st.isOk();
        if (h.streamClosed && h.closedCode != h2::ErrorCode::NoError) {
          if (h.closedCode == h2::ErrorCode::RefusedStream && u->responseBytes == 0 &&
              h.decoded.empty()) {
            // Not processed by the target (RFC 9113 §8.7: a refused stream, or one past its
            // GOAWAY's last stream): resent as on a stale keep-alive connection.
            upstreamFailed(u, Failure::StaleKeepAlive);
            return;
          }
          h.cut = true;
        }
      } else if (n < 0 && errno == EINTR) {
        return;
      } else if (n < 0 && errno == EAGAIN) {
        u->canRead = false;
      } else {
        h.cut = true;
      }
    }
    h2Deliver(u); // (its window updates may let the stream take more request bytes)
    if (!u->open || u->client == nullptr || h.cut) {
      return;
    }
    // The frames the session made (acks, window updates, request bytes), and what the stream
    // now takes of the request bytes held back.
    if (!h2Flush(u) || !h2TakeHeld(u)) {
      h.cut = true;
      h2Deliver(u); // EOF once what was decoded is given
      return;
    }
    if (held && u->out.empty()) {
      pumpRequestBody(u->client); // more of the client's body
    }
  }

  // Moves decoded response bytes into `in` as far as they fit; the target's window reopens once
  // they all went. Once nothing is left and the stream or connection broke off: EOF.
  [[gnu::noinline]] void h2Deliver(UpstreamConn* u) {
    H2Upstream& h = *u->h2;
    size_t rest = h.decoded.size() - h.decodedAt;
    if (rest > 0) {
      buffers_.acquire(u->in);
      if (u->in.writable() < rest) {
        u->in.compact();
      }
      size_t m = std::min(rest, u->in.writable());
      if (m == 0) {
        // `in` is full of a head that is not whole: larger than the buffer, so not forwardable.
        u->canRead = false;
        if (!u->headDone) {
          upstreamFailed(u, Failure::Invalid);
        }
        return;
      }
      std::memcpy(u->in.writePtr(), h.decoded.data() + h.decodedAt, m);
      u->in.produce(m);
      h.decodedAt += m;
      u->responseBytes += m;
      if (h.decodedAt == h.decoded.size()) {
        h.decoded.clear();
        h.decodedAt = 0;
        if (h.credit_ > 0) {
          h.session.consumeResponseBody(h.streamId, h.credit_);
          h.credit_ = 0;
          h.cut |= !h2Flush(u);
        }
      }
    }
    if (h.decodedAt < h.decoded.size()) {
      u->canRead = true; // more to give: driveResponse comes back for it
    } else if (h.cut) {
      u->eof = true;
      u->canRead = false;
    }
  }

  // finishExchange's test: the response is whole and the connection can take the next request.
  // Readies it for that request. The stream may still be open: a target may end it in a frame
  // of its own after a body whose length was reached; that end then comes while the connection
  // is pooled or serves the next stream (whose callbacks alone are heeded). One such stream at
  // most: a target that never ends them does not pile them up.
  [[gnu::noinline]] bool h2Reusable(UpstreamConn* u) {
    H2Upstream& h = *u->h2;
    bool ended =
        h.streamClosed ? h.closedCode == h2::ErrorCode::NoError : h.session.openStreams() == 1;
    if (!ended || h.cut || h.decodedAt != h.decoded.size() || h.session.wantsClose()) {
      return false;
    }
    h.streamId = 0;
    h.streamClosed = false;
    h.writable = false;
    h.credit_ = 0;
    return true;
  }

  // An idle pooled HTTP/2 connection's input: PINGs and SETTINGS are answered, the late end of
  // its last stream is taken, and it stays pooled; EOF, an error or a GOAWAY closes it.
  [[gnu::noinline]] void h2Idle(UpstreamConn* u) {
    H2Upstream& h = *u->h2;
    for (;;) {
      char bytes[4096];
      ssize_t n = ::read(u->fd, bytes, sizeof bytes);
      if (n > 0) {
        bump(targetCells_[u->slot].targetBytesReceived, uint64_t(n));
        if (!h.session.feed(reinterpret_cast<const uint8_t*>(bytes), size_t(n)).isOk()) {
          closeUpstream(u);
          return;
        }
      } else if (n < 0 && errno == EINTR) {
        continue;
      } else if (n < 0 && errno == EAGAIN) {
        break;
      } else {
        closeUpstream(u);
        return;
      }
    }
    u->canRead = false;
    if (!h2Flush(u) || h.session.wantsClose() || !h.decoded.empty()) {
      closeUpstream(u);
    }
  }

  // ---- tunnels (tunnel.h) -----------------------------------------------------------------------

  // The target switched protocols for an upgrade request: its 101 goes to the client (hop-by-hop
  // fields dropped but Upgrade, with Connection: upgrade, as for the request), then the two
  // connections are a byte tunnel until both ends have closed, one fails, the listener's idle
  // timeout passes without a byte either way, or the target leaves the snapshot (the end of its
  // deregistration delay). The tunnel's first bytes are those the client sent after its request
  // (held in c->in until now) and those the target sent after its 101 (in u->in).
  [[gnu::noinline]] void startTunnel(UpstreamConn* u, const MessageHead& h) {
    ClientConn* c = u->client;
    u->headDone = true;
    c->responseStarted = true;
    countTargetResponse(c, h.status);
    health_.answered(u->slot);
    c->elbStatus = c->targetStatus = h.status;
    c->responseHeadUs = monotonicUs();
    const char* base = u->in.data();
    iov_.clear();
    iov_.add(base, h.fieldsBegin);
    for (size_t i = 0; i < h.fieldCount; ++i) {
      const HeaderField& f = h.fields[i];
      if (!f.hopByHop || f.kind == HeaderKind::Upgrade) {
        iov_.add(base + f.lineBegin, f.lineEnd - f.lineBegin);
      }
    }
    addStickyCookie(c, h);
    iov_.add(kConnectionUpgrade.data(), kConnectionUpgrade.size());
    iov_.add(base + h.fieldsEnd, 2);
    if (!writeClient(c, iov_)) {
      return; // the client is gone (and with it the target connection)
    }
    u->in.consume(h.length);
    endOutstanding(c); // the request is answered; the tunnel is no outstanding request
    c->in.consume(c->fwd);
    c->fwd = 0;
    c->state = ClientState::Tunnel;
    c->writeShut = false;
    if (!c->tunnel) {
      c->tunnel = std::make_unique<TunnelState>();
    }
    TunnelState& t = *c->tunnel;
    t.lastMs = nowMs_;
    t.upBytes = 0;
    t.downBytes = 0;
    t.counted = u->in.size(); // read (and counted as the target's) already
    u->tunnel = true;
    u->writeShut = false;
    timers_.cancel(&u->timer); // the client's timer is the tunnel's idle timeout
    timers_.schedule(&c->timer, nowMs_ + idleTimeoutMs(c));
    t.index = uint32_t(tunnels_.size());
    tunnels_.push_back(c);
    watchClient(c);
    pumpTunnels(c);
  }

  // Moves a tunnel's bytes both ways as far as the ends keep up; closes it when both ends have
  // closed (each end's EOF is passed on as a half-close first) or one fails.
  void pumpTunnels(ClientConn* c) {
    UpstreamConn* u = c->upstream;
    TunnelEnd client{c->fd,      &c->in,      &c->out,       &c->canRead,
                     &c->hangup, &c->peerEof, &c->writeShut, c->tls};
    TunnelEnd target{u->fd, &u->in, &u->out, &u->canRead, &u->hangup, &u->eof, &u->writeShut};
    uint64_t up = 0;
    uint64_t down = 0;
    PumpResult toTarget = pumpTunnel(buffers_, client, target, &up);
    PumpResult toClient =
        toTarget == PumpResult::Error ? toTarget : pumpTunnel(buffers_, target, client, &down);
    if (up + down != 0) {
      TunnelState& t = *c->tunnel;
      t.lastMs = nowMs_;
      t.upBytes += up;
      t.downBytes += down;
      bump(lbCells(c).processedBytes, up + down);
      bump(targetCells_[u->slot].targetBytesSent, up);
      uint64_t counted = std::min<uint64_t>(down, t.counted);
      t.counted -= counted;
      bump(targetCells_[u->slot].targetBytesReceived, down - counted);
    }
    if (toTarget == PumpResult::Error || toClient == PumpResult::Error ||
        (toTarget == PumpResult::Done && toClient == PumpResult::Done)) {
      closeClient(c); // (its tunnel's target connection too)
    }
  }

  // A tunnel's client connection is closing: its bytes are counted and its access log entry
  // written (ALB logs an upgraded connection once, when it closes).
  void endTunnel(ClientConn* c) {
    ClientConn* last = tunnels_.back();
    tunnels_[c->tunnel->index] = last;
    last->tunnel->index = c->tunnel->index;
    tunnels_.pop_back();
    bump(lbCells(c).processedBytes, c->headLen + c->sentBytes); // the upgrade request and 101
    if (!loadBalancer(c).accessLogPath.empty()) {
      c->reqBodyBytes = c->tunnel->upBytes; // received: the request head and the tunnel's bytes
      c->sentBytes += c->tunnel->downBytes;
      logRequest(c, /*webSocket=*/true);
    }
  }

  // After a new snapshot: tunnels to targets that left it (a deregistered target once its
  // delay ended), or of a listener that left it (a deleted listener or load balancer), are
  // closed. A draining target keeps its tunnels until then.
  void closeGoneTunnels() {
    for (size_t i = tunnels_.size(); i-- > 0;) { // (closing moves the last one to i)
      ClientConn* c = tunnels_[i];
      const UpstreamConn* u = c->upstream;
      bool gone = u == nullptr || u->slot >= config_->stateBySlot.size() ||
                  config_->stateBySlot[u->slot] == SlotState::Absent ||
                  !(config_->endpointBySlot[u->slot] == u->endpoint) ||
                  config_->findSocket(c->local) < 0; // its listener (or load balancer) left
      if (gone) {
        closeClient(c);
      }
    }
  }

  // ---- state ------------------------------------------------------------------------------------

  const WorkerOptions options_;
  int epfd_ = -1;
  int64_t nowMs_ = 0;
  std::shared_ptr<const PreparedSnapshot> config_; // the worker's newest snapshot
  BufferPool buffers_;
  TimerWheel timers_;
  ConnectionStore store_;
  SelectionState selection_;
  UpstreamPool pool_;
  PassiveHealth health_; // writes selection_.ejectedUntilByTarget
  AccessLogBuffer logs_;
  std::unique_ptr<TrafficCells[]> lbCells_;
  std::unique_ptr<TrafficCells[]> tgCells_;
  std::unique_ptr<TrafficCells[]> targetCells_;
  // By target slot: this worker's response time histograms, null until the first response
  // (written by this worker, read by addCounters; freed with the Proxy).
  std::unique_ptr<std::atomic<ResponseTimeCells*>[]> responseTimes_;
  ConnectionCounts admitted_; // open client connections, by listenerKey() and client address
  std::vector<std::tuple<int64_t, uint64_t, ClientConn*>> idle_; // admit()'s scratch: idle ones
  uint64_t idleOrder_ = 0;                                       // ClientConn::idleOrder's source
  MessageHead scratch_; // the head being parsed (one at a time on this thread)
  IoVector iov_;        // the message being written

  // Sticky sessions: Set-Cookie lines of the response head being written (iov_ points here),
  // and the cookies' Expires date, formatted for the second httpDateSec_.
  char setCookie_[kSetCookieMaxChars];
  char httpDate_[http1::kHttpDateChars] = {};
  int64_t httpDateSec_ = -1;
  uint32_t weightedTurns_[kWeightedCounters] = {}; // turns of weighted forwards (rules.h)

  // Overload protection: requests waiting for a target slot, per target group (FIFO).
  struct RequestQueue {
    ClientConn* head = nullptr; // oldest
    ClientConn* tail = nullptr;
    uint32_t length = 0;
    bool woken = false; // in wokenQueues_
  };
  std::vector<RequestQueue> queues_;    // by TargetGroup::slot
  AdaptiveLimitOptions limitOptions_;   // the adaptive limit's parameters (their defaults)
  std::vector<AdaptiveLimit> limits_;   // by Target::slot: the adaptive limit of each target
  SharedBaseline* baselines_ = nullptr; // by Target::slot: WorkerOptions::baselines, or
  std::unique_ptr<SharedBaseline[]> ownBaselines_; // this worker's own when none is given
  std::vector<ServiceTimeEstimate> serviceTimes_;  // by TargetGroup::slot: their targets' latency
  std::vector<uint32_t> wokenQueues_; // group slots serveQueues looks at after this batch
  size_t queuedRequests_ = 0;         // in all queues of this worker
  std::vector<ClientConn*> tunnels_;  // open tunnels (TunnelState::index is the place)
  std::vector<ClientConn*> h2Dirty_;  // HTTP/2 connections with work noted (serviceDirtyH2)
  size_t h2Connections_ = 0;          // open HTTP/2 connections
};

} // namespace

void H2Conn::onRequestHead(int32_t streamId, std::string_view http1Head) {
  static_cast<Proxy*>(proxy)->h2RequestHead(*this, streamId, http1Head);
}
void H2Conn::onRequestBody(int32_t streamId, std::string_view http1Bytes, size_t credit) {
  static_cast<Proxy*>(proxy)->h2RequestBody(*this, streamId, http1Bytes, credit);
}
void H2Conn::onRequestEnd(int32_t streamId, std::string_view http1Tail) {
  static_cast<Proxy*>(proxy)->h2RequestEnd(*this, streamId, http1Tail);
}
void H2Conn::onResponseWritable(int32_t streamId) {
  writable.push_back(streamId);
}
void H2Conn::onStreamClosed(int32_t streamId, h2::ErrorCode) {
  closed.push_back(streamId);
}

// The loop's view (exchange.h) of the Proxy.
struct Exchange::Machine : Proxy {
  using Proxy::Proxy;
};

Exchange::Exchange(int workerIndex, const WorkerOptions& options)
    : m_(std::make_unique<Machine>(workerIndex, options)) {}
Exchange::~Exchange() = default;

void Exchange::setEpoll(int epfd) {
  m_->epfd_ = epfd;
}
int64_t Exchange::now() const {
  return m_->nowMs_;
}
void Exchange::setNow(int64_t nowMs) {
  m_->nowMs_ = nowMs;
}
bool Exchange::waitsForTime() const {
  return !m_->timers_.empty() || m_->logs_.pending();
}
void Exchange::advanceTimers() {
  m_->advanceTimers();
}
void Exchange::endBatch() {
  for (int round = 0; round < 8; ++round) { // (each may wake the other)
    if (!m_->wokenQueues_.empty()) {
      m_->serveQueues();
    }
    if (m_->h2Dirty_.empty()) {
      break;
    }
    m_->serviceDirtyH2();
  }
  m_->store_.reap();
  m_->logs_.handOverIfDue(m_->nowMs_);
}
void Exchange::adopt(std::shared_ptr<const PreparedSnapshot> config) {
  m_->adopt(std::move(config));
}
bool Exchange::admit(const ListenSocket& ls, uint32_t peerAddress) {
  return m_->admit(ls, peerAddress);
}
void Exchange::accept(int fd, const sockaddr_in& peer, const ListenSocket& ls) {
  m_->accept(fd, peer, ls);
}
void Exchange::onClientEvent(ClientConn* c, uint32_t events) {
  m_->onClientEvent(c, events);
}
void Exchange::onUpstreamEvent(UpstreamConn* u, uint32_t events) {
  m_->onUpstreamEvent(u, events);
}
void Exchange::closeAll() {
  m_->closeAll();
}
void Exchange::handOverAccessLogs(bool wait) {
  m_->logs_.handOverAll(wait);
}
void Exchange::addCounters(CountersSnapshot& out) const {
  m_->addCounters(out);
}

} // namespace tide::balancer
