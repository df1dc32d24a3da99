// A worker's connection state: the objects its epoll events point at (listening sockets, client
// connections, connections to targets), the store they are pooled in, and the writes that queue
// what a socket does not take.
//
// Objects are pooled and freed only after the current batch of epoll events (ConnectionStore::
// retire, then reap), so a pointer taken from an event stays valid (check `open`) even if the
// connection was closed meanwhile. Everything here belongs to one worker thread.
#pragma once

// The parser's types (MessageHead, BodyFraming, ChunkedScanner) come through worker.h, the one
// place the worker includes the parser.
#include "balancer/transport.h"
#include "balancer/tunnel.h"
#include "balancer/worker.h"
#include "http1/chunked.h"
#include "http1/parser.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace tide::balancer {

// HTTP/1.1 is the http1 module's (src/http1).
using http1::BodyFraming;
using http1::HeaderField;
using http1::HeaderKind;
using http1::MessageHead;
using http1::parseRequestHead;
using http1::parseResponseHead;
using http1::ParseStatus;
using ChunkedScanner = http1::ChunkedDecoder;

enum class PollKind : uint8_t {
  Listen,   // a ListenSocket
  Wake,     // the worker's eventfd (a new snapshot, or stop)
  Client,   // a ClientConn
  Upstream, // an UpstreamConn
};

// What an epoll event's data.ptr points at: the kind says which type it is.
struct Pollable {
  explicit Pollable(PollKind k) : kind(k) {}
  PollKind kind;
};

struct ListenSocket : Pollable {
  ListenSocket() : Pollable(PollKind::Listen) {}
  int fd = -1;
  Endpoint endpoint;
  int socketIndex = -1;       // in the worker's current PreparedSnapshot::sockets
  bool acceptPending = false; // stopped after a batch with connections still queued
};

struct ClientConn;
struct H2Upstream; // a target connection's HTTP/2 session (exchange.cc)

// A connection to a target. Idle ones sit in their slot's pool (LIFO); busy ones serve `client`.
struct UpstreamConn : Pollable {
  UpstreamConn() : Pollable(PollKind::Upstream) { timer.owner = this; }
  int fd = -1;
  bool open = false;
  uint32_t slot = 0;
  Endpoint endpoint;
  uint32_t source = 0; // the address it is bound to (its load balancer's; 0: unbound)
  Buffer in;
  Buffer out; // bytes a partial write left over
  TimerNode timer;
  UpstreamConn* poolPrev = nullptr; // links of UpstreamPool's list for `slot`
  UpstreamConn* poolNext = nullptr;
  bool pooled = false;
  ClientConn* client = nullptr;
  bool connecting = false;
  bool canRead = false;
  bool hangup = false; // epoll saw RDHUP/HUP: read to EOF, even after a short read
  bool eof = false;
  bool reused = false;    // served a request before the current one
  bool tunnel = false;    // a tunnel's (tunnel.h) after 101 Switching Protocols: never pooled
  bool writeShut = false; // tunnel: the client's EOF was passed on (shutdown(SHUT_WR))
  // The current response.
  bool headDone = false;
  bool bodyDone = false;
  bool reusable = false;
  BodyFraming framing = BodyFraming::None;
  uint64_t bodyRemaining = 0;
  ChunkedScanner chunks;
  uint64_t responseBytes = 0;
  // HTTP2 and GRPC target groups: the connection's HTTP/2 session (owned); null for HTTP/1.1.
  // `out` then holds request bytes the session's stream has not taken yet, and `in` the
  // response as the session gives it back, in HTTP/1.1.
  H2Upstream* h2 = nullptr;
};

// A client connection's state (exchange.h has the transitions).
enum class ClientState : uint8_t {
  Head,       // waiting for (the rest of) a request head; idle timer armed
  Forwarding, // a request went to a target; its response is not finished
  Closing,    // the last response is being flushed, then the connection closes
  Lingering,  // writes shut down; late input is discarded until EOF or a short timeout
  Tunnel,     // the target answered an upgrade with 101: a byte tunnel to it (tunnel.h)
  // HTTP/2 (ALPN h2 on an HTTPS listener; exchange.cc "HTTP/2"): from here on, states that
  // onClientEvent hands to their own code (Tunnel's test covers them: `>= Tunnel`).
  Http2,      // the connection is an HTTP/2 session; each stream is a ClientConn of its own
  StreamDone, // an HTTP/2 stream whose exchange ended: it waits for the session to close it
};

struct H2Conn; // an HTTP/2 connection's session and streams (exchange.cc)

// The access log's text of one request, copied because the head may leave the buffer. A
// connection has it only once its load balancer writes a log: 120 bytes less per connection
// (idle ones included) when none does.
struct RequestLogText {
  std::string request; // "METHOD target"
  std::string host;
  std::string userAgent;
  std::string redirect; // a redirect's Location
};

struct ClientConn : Pollable {
  ClientConn() : Pollable(PollKind::Client) { timer.owner = this; }
  int fd = -1;
  bool open = false;
  bool watched = false; // in epoll: only once tide waits for the client (see watchClient)
  Buffer in;            // [current request][pipelined requests...]
  Buffer out;           // bytes a partial write left over
  TimerNode timer;
  std::shared_ptr<const PreparedSnapshot> config; // the snapshot this connection's request uses
  int listenerIndex = 0;                          // in config->listeners
  int socketIndex = 0;                            // in config->sockets: where it was accepted
  bool hostRouted = false;                        // its socket is shared by several listeners:
                                                  // each request's Host chooses listenerIndex
  Endpoint local;                                 // the listener's endpoint
  uint32_t lbSlot = 0;                            // counters of the accepting load balancer
  ClientState state = ClientState::Head;
  bool canRead = false;
  bool hangup = false; // epoll saw RDHUP/HUP: read to EOF, even after a short read
  bool peerEof = false;
  bool closeAfter = false;
  char forwardedTail[64]; // "<client ip>\r\nX-Forwarded-Proto: http\r\n"
  // 0: not formatted yet (only X-Forwarded-* needs it).
  uint8_t forwardedTailLen = 0;
  uint32_t peerAddress = 0; // the client's IPv4 address, host byte order (source-ip rules,
                            // X-Forwarded-For, the access log)
  // The current request.
  uint32_t headLen = 0;
  BodyFraming reqFraming = BodyFraming::None;
  uint64_t reqContentLength = 0;
  uint64_t reqBodyRemaining = 0;
  ChunkedScanner reqChunks;
  bool reqBodyDone = true;
  bool reqHeadSent = false;
  bool reqIsHead = false;
  bool reqIdempotent = true; // GET, HEAD, OPTIONS, TRACE, PUT, DELETE (RFC 9110 §9.2.2)
  bool reqKeepAlive = true;
  int reqVersionMinor = 1;
  bool reqUpgrade = false; // asks for a protocol upgrade tide carries (Upgrade + Connection:
                           // upgrade, HTTP/1.1, no body, not h2c): a 101 starts a tunnel
  size_t fwd = 0;          // bytes of the request (from in.data()) handed to the target
  bool replayable = true;  // the whole request is still in `in`: it may be sent again
  uint8_t attempts = 0;    // retries so far
  int groupIndex = -1;     // in config->snapshot->targetGroups
  uint32_t targetSlot = kNoSlot;
  // The target a valid sticky session cookie names, or kNoSlot.
  uint32_t stickySlot = kNoSlot;
  bool outstanding = false; // counted in the target's outstanding requests
  // Overload protection: waiting in its target group's queue for a free target slot.
  bool queued = false;
  int64_t queuedAtMs = 0;          // when it joined the queue (the worker's coarse clock)
  ClientConn* queuePrev = nullptr; // links of the group's FIFO (Proxy's RequestQueue)
  ClientConn* queueNext = nullptr;
  bool responseStarted = false;
  int64_t sentAtUs = 0;
  UpstreamConn* upstream = nullptr;
  bool desyncClose = false; // the request was Ambiguous: close both connections after it
  // Limits and slow clients.
  int64_t headStartMs = 0;   // when the current head's first byte came; 0: none yet
  uint64_t idleOrder = 0;    // when it last became idle, in the worker's order (admission)
  uint64_t reqBodyBytes = 0; // body bytes of the current request taken so far (wire bytes)
  std::string stash;         // a small partial head kept while `in` is given back (slowloris)
  // The access log (filled only when the load balancer writes one).
  uint16_t peerPort = 0;
  int64_t reqStartUs = 0;                  // head complete (monotonic)
  int64_t responseHeadUs = 0;              // the target's response head came (monotonic); 0: none
  int elbStatus = 0;                       // status sent to the client
  int targetStatus = 0;                    // status from the target
  uint64_t sentBytes = 0;                  // bytes written to the client for this request
  std::unique_ptr<RequestLogText> logText; // kept across reuse of this ClientConn
  uint8_t logVersionMinor = 1;
  const char* logAction = nullptr; // "forward", "fixed-response" or "redirect"
  int32_t matchedPriority = -1;    // the rule that chose the action; 0: default; -1: none
  DesyncTier logTier = DesyncTier::Compliant; // the request's desync classification
  DesyncReason logReason = DesyncReason::Compliant;
  // A tunnel (ClientState::Tunnel): the upstream connection is `upstream`.
  bool writeShut = false;              // the target's EOF was passed on (shutdown(SHUT_WR))
  std::unique_ptr<TunnelState> tunnel; // made at the first tunnel, kept across reuse (an idle
                                       // connection carries a pointer, not the state)
  // HTTPS listeners: the connection's TLS (transport.h); null for HTTP. Every read, write and
  // write shutdown of the client's socket goes through the seam with it.
  TlsSession* tls = nullptr;
  std::unique_ptr<TlsSession> tlsState; // what `tls` points at, kept across reuse
  // HTTP/2: on the connection (state Http2) its session, owned; on a stream (a ClientConn with
  // no socket, fd -1, whose `in` holds the request as HTTP/1.1 bytes and whose response goes to
  // the session) the connection's. Null on HTTP/1.1 connections.
  H2Conn* h2 = nullptr;
  int32_t streamId = 0;  // a stream's id
  uint64_t h2Credit = 0; // a stream's request body credit not yet handed back

  // The exchange state a new connection or HTTP/2 stream starts from (a reused object keeps
  // what its last life left). Its identity (socket, listener, peer, TLS) is the caller's to set.
  void resetExchange() {
    state = ClientState::Head;
    hangup = false;
    peerEof = false;
    closeAfter = false;
    upstream = nullptr;
    outstanding = false;
    queued = false;
    groupIndex = -1;
    fwd = 0;
    headStartMs = 0;
    stash.clear();
    forwardedTailLen = 0; // formatted on first use: snprintf cost 2000 instructions
    reqUpgrade = false;
    writeShut = false;
  }
};

// The worker's ClientConn and UpstreamConn objects: made on demand, reused after they close.
class ConnectionStore {
public:
  ClientConn* newClient() {
    if (clientFree_.empty()) {
      clients_.push_back(std::make_unique<ClientConn>());
      return clients_.back().get();
    }
    ClientConn* c = clientFree_.back();
    clientFree_.pop_back();
    return c;
  }

  UpstreamConn* newUpstream() {
    if (upstreamFree_.empty()) {
      upstreams_.push_back(std::make_unique<UpstreamConn>());
      return upstreams_.back().get();
    }
    UpstreamConn* u = upstreamFree_.back();
    upstreamFree_.pop_back();
    return u;
  }

  // p was closed in this batch of events: it is reused only after reap().
  void retire(Pollable* p) { graveyard_.push_back(p); }

  // Makes the objects retired in this batch reusable. Call between batches of events.
  void reap();

  // Every object made so far, open or not (for closing them all at the end).
  const std::vector<std::unique_ptr<ClientConn>>& clients() const { return clients_; }
  const std::vector<std::unique_ptr<UpstreamConn>>& upstreams() const { return upstreams_; }

private:
  std::vector<std::unique_ptr<ClientConn>> clients_;
  std::vector<ClientConn*> clientFree_;
  std::vector<std::unique_ptr<UpstreamConn>> upstreams_;
  std::vector<UpstreamConn*> upstreamFree_;
  std::vector<Pollable*> graveyard_; // closed in this batch; reusable after it
};

// Writes v to fd after anything already queued; what the socket does not take is queued (in
// blocks from buffers). False on a write error.
bool writeVector(BufferPool& buffers, int fd, Buffer& queued, const IoVector& v);

// Writes queued bytes and gives the block back once they are all out: 1 when all went out, 0
// when some remain, -1 on error.
int flush(BufferPool& buffers, int fd, Buffer& queued);

// The same through the transport seam (transport.h): plain when tls is null, else over TLS.
inline bool writeVector(BufferPool& buffers, int fd, TlsSession* tls, Buffer& queued,
                        const IoVector& v) {
  return tls == nullptr ? writeVector(buffers, fd, queued, v)
                        : tlsWriteVector(buffers, *tls, queued, v);
}
inline int flush(BufferPool& buffers, int fd, TlsSession* tls, Buffer& queued) {
  return tls == nullptr ? flush(buffers, fd, queued) : tlsFlush(buffers, *tls, queued);
}

} // namespace tide::balancer
