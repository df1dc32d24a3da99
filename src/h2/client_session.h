// HTTP/2 to targets (RFC 9113, prior knowledge: the target speaks HTTP/2 from the first byte),
// for HTTP2 and GRPC target groups: the client side of one target connection over nghttp2, with
// no sockets, the mirror of ServerSession. The balancer hands it each request as the HTTP/1.1
// bytes it would send an HTTP/1.1 target, and gets each response back as HTTP/1.1 bytes: the status
// line and fields from :status and the response's fields, the body framed with the target's
// content-length, else chunked, its trailers (gRPC's grpc-status) carried as the chunked trailer
// section.
//
// Not thread-safe: one session per target connection, on its worker's thread. Handler callbacks
// run inside feed(), consumed(), submitRequestBody() and consumeResponseBody(); they may call
// the session's methods but must not destroy it.
#pragma once

#include "common/status.h"
#include "h2/outgoing.h"
#include "h2/server_session.h" // ErrorCode

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

struct nghttp2_session;

namespace tide::h2 {

struct ClientLimits {
  uint32_t maxHeaderListBytes = 64 * 1024;    // a response head or trailers (decoded); past it
                                              // the stream is reset (PROTOCOL_ERROR)
  uint32_t initialWindowBytes = 256 * 1024;   // SETTINGS_INITIAL_WINDOW_SIZE (per stream)
  uint32_t connectionWindowBytes = 1 << 20;   // the connection's receive window
  uint32_t maxHeaderTableBytes = 4096;        // HPACK tables, both directions
  uint32_t maxRequestBufferBytes = 64 * 1024; // request body held per stream before
                                              // submitRequestBody() takes no more
  uint32_t outputHighWaterBytes = 64 * 1024;  // pendingOutput() grows no further (plus a frame)
  bool teTrailers = false;       // every request says `te: trailers` (gRPC targets require it; the
                                 // balancer drops TE as a hop-by-hop field before it comes here)
  bool chunkedResponses = false; // response bodies always go chunked, their content-length
                                 // dropped, so that trailers after a body with a length are
                                 // carried too (gRPC's grpc-status must never be lost)
};

class ClientHandler {
public:
  virtual ~ClientHandler() = default;
  // Response bytes in HTTP/1.1 (interim heads, the head, body pieces in its framing, the last
  // chunk with trailers), in order. `credit` is the DATA payload they carry: hand it back with
  // consumeResponseBody() once the client took the bytes (backpressure to the target).
  virtual void onResponseBytes(int32_t streamId, std::string_view http1Bytes, size_t credit) = 0;
  // The response is whole: every byte of it was given.
  virtual void onResponseEnd(int32_t streamId) = 0;
  // submitRequestBody() takes bytes again after it took fewer than it was given.
  virtual void onRequestWritable(int32_t streamId) = 0;
  // The stream is gone: after onResponseEnd (NoError), or reset by either side or cut by the
  // connection's end (the code) with the response unfinished. Once per stream.
  virtual void onStreamClosed(int32_t streamId, ErrorCode code) = 0;
};

class ClientSession {
public:
  ClientSession(ClientHandler& handler, const ClientLimits& limits = {});
  ~ClientSession();
  ClientSession(const ClientSession&) = delete;
  ClientSession& operator=(const ClientSession&) = delete;

  // Bytes the target sent. A non-ok Status is a connection error: write what is pending (a
  // GOAWAY), then close.
  Status feed(const uint8_t* data, size_t size);
  // Bytes to write to the target (the connection preface first), valid until the next call.
  std::string_view pendingOutput() const { return output_.pending(); }
  void consumed(size_t n);

  // Starts a request from HTTP/1.1 request bytes whose head is whole in data (the balancer's
  // forwarded head): Host becomes :authority, the hop-by-hop fields are dropped (TE is kept
  // when it is "trailers", as gRPC requires), the body is read in the head's framing from the
  // bytes after it. *taken: the bytes used (the head and the body bytes taken). Returns the
  // stream id, or an error (a head that is not whole or not valid, no more streams allowed).
  Result<int32_t> submitRequest(const char* data, size_t size, size_t* taken);
  // More request body bytes (in the head's framing). Returns how many it took: fewer than size
  // means the stream's buffer is full; give the rest after onRequestWritable().
  size_t submitRequestBody(int32_t streamId, const char* data, size_t size);
  // Response body bytes the client took (the `credit` of onResponseBytes).
  void consumeResponseBody(int32_t streamId, size_t credit);
  void resetStream(int32_t streamId, ErrorCode code);
  // No new requests; the open ones finish.
  void goAway();
  // The connection can be closed: it failed, or the target or goAway() ended it and no stream
  // is left, once the output is written.
  bool wantsClose() const;
  // Streams not yet closed.
  size_t openStreams() const { return openStreams_; }

  struct Stream;

private:
  friend struct ClientCallbacks;
  friend class FrameOutput;
  void pump();
  Stream* stream(int32_t streamId) const;
  void dropStream(Stream* st);
  bool takeBody(Stream& st, const char* data, size_t size, size_t* taken);
  void responseHead(Stream& st, bool endStream);
  void responseEnd(Stream& st); // gives scratch_ (the end's bytes, may be empty), then the end

  ClientHandler& handler_;
  ClientLimits limits_;
  nghttp2_session* session_ = nullptr;
  FrameOutput output_; // frames produced, not yet written
  Stream* streams_ = nullptr;
  Stream* submitting_ = nullptr; // the stream submitRequest() is sending (null: it was closed)
  size_t openStreams_ = 0;
  bool failed_ = false;
  bool goingAway_ = false;
  bool receiving_ = false;
  bool notifying_ = false;
  std::vector<int32_t> writable_;
  std::string scratch_;
};

} // namespace tide::h2
