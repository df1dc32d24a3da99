// The two-way byte tunnel a client connection and its target connection become after the target
// answers an upgrade request with 101 Switching Protocols (WebSocket; docs/load-balancer.md
// "WebSockets and upgrades"). The exchange (exchange.cc) decides when a tunnel starts and ends;
// this moves the bytes.
//
// Plain buffered copies, not splice(2): a WebSocket carries small messages, for which splice's
// two extra syscalls per transfer (socket -> pipe -> socket) and a pipe pair per direction cost
// more than the copy they save, and a TLS listener (which decrypts in user space) could not use
// splice at all. Each direction holds at most the bytes read from its source and not yet taken by
// its sink: the source's `in` buffer (one block of the worker's pool) plus what a write before
// the tunnel left queued in the sink's `out`. When the sink does not take them, reading from the
// source stops (its kernel buffers fill and TCP's window closes on the sender), and the sink's
// EPOLLOUT resumes the copy: backpressure both ways without unbounded buffering.
//
// The only calls that touch a socket are the transport seam's (transport.h) on a TunnelEnd: a
// TLS client connection (tls set) reads and writes through OpenSSL, the copying is the same.
#pragma once

#include "balancer/buffer.h"
#include "balancer/transport.h"

#include <cstdint>

namespace tide::balancer {

// One end of a tunnel, as views of its connection's state (ClientConn or UpstreamConn).
struct TunnelEnd {
  int fd = -1;
  Buffer* in = nullptr;      // bytes read from this end, not yet written to the other
  Buffer* out = nullptr;     // bytes for this end a write before the tunnel left queued
  bool* canRead = nullptr;   // edge-triggered readiness: the socket may have bytes (or EOF)
  bool* hangup = nullptr;    // the peer hung up: read to EOF, even after a short read
  bool* eof = nullptr;       // this end sent its last byte (EOF read)
  bool* shut = nullptr;      // writes to this end are shut down (the other end's EOF passed on)
  TlsSession* tls = nullptr; // TLS on this end (a client of an HTTPS listener); null: plain
};

// A tunnel's bookkeeping (the exchange's), beside its client connection.
struct TunnelState {
  uint32_t index = 0;     // in the exchange's list of open tunnels
  int64_t lastMs = 0;     // when bytes last went either way (the idle timeout)
  uint64_t upBytes = 0;   // client -> target
  uint64_t downBytes = 0; // target -> client
  uint64_t counted = 0;   // of the first downBytes, those counted as the target's already (read
                          // with the 101)
};

enum class PumpResult : uint8_t {
  Open,  // waiting for bytes from `from` or room in `to`
  Done,  // `from` ended and everything it sent went to `to`, whose writes are shut down
  Error, // a read or write failed (reset): the tunnel is over
};

// Moves what `from` sends to `to` while both keep up. *moved grows by the bytes written to `to`.
// Gives `from`'s buffer back to the pool when it is empty (an idle tunnel holds no buffer).
PumpResult pumpTunnel(BufferPool& buffers, TunnelEnd& from, TunnelEnd& to, uint64_t* moved);

} // namespace tide::balancer
