// The request/response exchanges of one worker's connections: the proxying state machine.
//
// A client connection carries one request at a time: pipelined requests wait in its buffer until
// the response before them has been handed to the socket, which keeps answers in order. A request
// is parsed in place, its head is rewritten as iovec pieces over the original bytes (hop-by-hop
// fields dropped, X-Forwarded-* added), and head and body bytes already read go out in one
// writev on a pooled keep-alive connection to the chosen target. The response comes back the same
// way. Sockets are registered once, edge-triggered, for reads and writes; canRead/canWrite
// remember readiness so that backpressure (a peer that does not read) never needs epoll_ctl.
//
// A client connection's states (ClientState, connection.h):
//   Head -> Forwarding   a request head is complete and its action forwards to a target group
//   Head -> Head         a local answer (fixed response, redirect, error) is written and the
//                        connection stays open; or a response finished (completeResponse)
//   Forwarding -> Head   the response finished and the connection is kept alive
//   Forwarding -> Closing / Head -> Closing   the response finished and the connection closes
//                        (the client or target asked, a body was left unread, a desync risk)
//   Closing -> Lingering the last response was flushed while input may still arrive
//   Forwarding -> Tunnel the target answered an upgrade request with 101: the connection and
//                        the target's are a byte tunnel (tunnel.h) from then on
//   Tunnel -> closed     both ends closed, one failed, the idle timeout, or the target left
//   any -> closed        EOF, an error, a timeout, or the end of lingering
// A request that fails on its way to a target is resent where that is safe (retryOrFail).
//
// The worker's loop (worker.cc) owns epoll, the listeners and snapshot adoption; it hands this
// class every event of a client or target connection, each new connection, and the turns of the
// timer wheel. Everything here runs on the worker's thread, except addCounters() (any thread).
#pragma once

#include "balancer/connection.h"

#include <netinet/in.h>

#include <cstdint>
#include <memory>

namespace tide::balancer {

class Exchange {
public:
  Exchange(int workerIndex, const WorkerOptions& options);
  ~Exchange();
  Exchange(const Exchange&) = delete;
  Exchange& operator=(const Exchange&) = delete;

  // ---- what the worker's loop calls ----------------------------------------------------------

  // The epoll instance connections are registered with (set once, before any connection).
  void setEpoll(int epfd);
  // The loop's coarse monotonic clock, set after every epoll_wait.
  int64_t now() const;
  void setNow(int64_t nowMs);
  // Whether something is due with time alone (a timer, access log lines to hand over): the loop
  // then wakes up every timer tick.
  bool waitsForTime() const;
  // Fires the timers that are due at now().
  void advanceTimers();
  // After a batch of events: makes closed connections' objects reusable and hands access log
  // lines over when due.
  void endBatch();

  // Takes the worker's newest snapshot for new requests (connections keep theirs until their
  // next request) and closes pooled connections to targets that left or are draining.
  void adopt(std::shared_ptr<const PreparedSnapshot> config);

  // Counts a new connection on ls from peerAddress (IPv4, host byte order), first closing the
  // oldest idle connections when the listener or that client is at its bound (admission.h); or
  // refuses it (and counts that) when none is idle. REQUIRES: the worker's snapshot has ls's
  // listener.
  bool admit(const ListenSocket& ls, uint32_t peerAddress);
  // Serves a connection that admit() let in: reads and answers what came with it, and watches
  // it in epoll only if tide has to wait for it.
  void accept(int fd, const sockaddr_in& peer, const ListenSocket& ls);

  void onClientEvent(ClientConn* c, uint32_t events);
  void onUpstreamEvent(UpstreamConn* u, uint32_t events);

  // Closes every connection (the loop has ended or never ran) and reaps their objects.
  void closeAll();
  // Hands the access log lines over now; `wait`: take the writer's lock even if it is busy, and
  // drop what it does not take (the worker's last handover).
  void handOverAccessLogs(bool wait);

  // Adds this worker's counters into out (vectors must be sized already). Thread-safe.
  void addCounters(CountersSnapshot& out) const;

private:
  struct Machine; // the state machine and its state (exchange.cc)
  std::unique_ptr<Machine> m_;
};

} // namespace tide::balancer
