// HTTP/2 from clients (RFC 9113), translated to and from HTTP/1.1 bytes: the server side of one
// client connection over nghttp2, with no sockets. The balancer (src/balancer/exchange.cc, for a
// connection whose ALPN chose h2; docs/ARCHITECTURE.md "HTTP/2") feeds it the decrypted bytes a
// client sent and writes what pendingOutput() holds;
// each request comes out as HTTP/1.1 bytes (head, then body in the framing the head names) for a
// target, and each target's HTTP/1.1 response bytes go back in through submitResponse().
//
// What is refused, and how (docs/load-balancer.md "HTTP/2"):
//  - stream errors (RST_STREAM PROTOCOL_ERROR, by nghttp2's HTTP messaging checks): invalid or
//    missing pseudo-headers, uppercase or invalid names and values, connection-specific fields,
//    TE other than "trailers", a body that does not match content-length;
//  - a request head over limits.maxHeaderListBytes: 431 (the rest of its fields are not kept);
//    CONNECT: 405;
//  - connection errors (GOAWAY, then close once the output is written): the flood patterns
//    (rapid reset, SETTINGS/PING acks not read, empty DATA frames, CONTINUATION frames past a
//    count, too many SETTINGS entries) with ENHANCE_YOUR_CALM, framing and HPACK errors with
//    nghttp2's codes (PROTOCOL_ERROR, COMPRESSION_ERROR, FRAME_SIZE_ERROR, ...).
//
// Not thread-safe: one session per connection, used by the connection's worker thread only.
// Handler callbacks run inside feed(), submitResponse(), consumed() and tick(); a callback may
// call submitResponse(), resetStream() and consumeRequestBody() but must not destroy the
// session.
#pragma once

#include "common/status.h"
#include "h2/outgoing.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

struct nghttp2_session;

namespace tide::h2 {

// RFC 9113 §7 error codes the session sends or reports (the ones tide's code names).
enum class ErrorCode : uint32_t {
  NoError = 0x0,          // graceful
  ProtocolError = 0x1,    // a malformed request or frame
  InternalError = 0x2,    // the target's response could not be carried (malformed, truncated)
  FlowControlError = 0x3, // a window overflowed
  RefusedStream = 0x7,    // not processed; safe to retry (streams past a GOAWAY)
  Cancel = 0x8,           // given up: a client's window stayed closed past the stall bound
  CompressionError = 0x9, // HPACK
  EnhanceYourCalm = 0xb,  // a flood pattern
};

// Limits, with ALB's where it has one. Every one can be shortened for tests.
struct ServerLimits {
  uint32_t maxConcurrentStreams = 128;         // SETTINGS_MAX_CONCURRENT_STREAMS (ALB: 128)
  uint32_t maxHeaderListBytes = 64 * 1024;     // decoded request head (RFC 9113 §6.5.2 sizes:
                                               // name + value + 32 per field; ALB: 64 KiB); 431
  uint32_t initialWindowBytes = 256 * 1024;    // SETTINGS_INITIAL_WINDOW_SIZE (per stream)
  uint32_t connectionWindowBytes = 1 << 20;    // the connection's receive window
  uint32_t maxHeaderTableBytes = 4096;         // HPACK tables, both directions (RFC default)
  uint32_t maxContinuations = 8;               // CONTINUATION frames after one HEADERS
  uint32_t maxOutboundAcks = 1000;             // SETTINGS/PING acks queued but not written
  uint32_t maxSettingsEntries = 32;            // entries in one SETTINGS frame
  uint32_t resetWindowMs = 10'000;             // the window client resets are counted in
  uint32_t maxResetsPerWindow = 200;           // more client resets in one window: GOAWAY
  uint32_t maxEmptyFramesPerWindow = 100;      // empty DATA (without END_STREAM) and PRIORITY
                                               // frames in one window: GOAWAY
  uint32_t maxResponseBufferBytes = 64 * 1024; // response body held per stream before
                                               // submitResponse() takes no more
  uint32_t outputHighWaterBytes = 64 * 1024;   // pendingOutput() grows no further than this
                                               // (plus one frame) until consumed()
  uint32_t stallTimeoutMs = 60'000;            // a stream whose client window stays closed
                                               // with data waiting this long is reset (CANCEL)
};

// What a session tells its owner, per stream. Stream ids are the client's (odd, > 0).
class ServerHandler {
public:
  virtual ~ServerHandler() = default;
  // A request head as HTTP/1.1 bytes ("GET /p HTTP/1.1\r\nHost: ...\r\n...\r\n"): the request
  // line from :method and :path, Host from :authority, cookie crumbs joined with "; ", framed
  // with the client's content-length, else chunked when a body follows.
  virtual void onRequestHead(int32_t streamId, std::string_view http1Head) = 0;
  // Body bytes in the head's framing (chunk framing included when chunked). `credit` is the
  // DATA payload they carry: hand it back with consumeRequestBody() once written to the
  // target, which reopens the client's window (backpressure).
  virtual void onRequestBody(int32_t streamId, std::string_view http1Bytes, size_t credit) = 0;
  // The request ended; `http1Tail` is its last bytes (the last chunk and the client's trailers
  // when chunked; empty otherwise).
  virtual void onRequestEnd(int32_t streamId, std::string_view http1Tail) = 0;
  // submitResponse() takes bytes again after it took fewer than it was given: the client's
  // window opened. Read the target again.
  virtual void onResponseWritable(int32_t streamId) = 0;
  // The stream is gone (after onRequestHead only): answered and closed (NoError), reset by the
  // client or by tide (its code), or cut by a connection error (that error's code). Called
  // once per stream that had onRequestHead (but not from the session's destructor); the id is
  // not used again, and its request body credit needs no consumeRequestBody() any more.
  // NoError also when the response ended before the request did: the client is then asked to
  // stop sending (RST_STREAM NO_ERROR, RFC 9113 §8.1), so a target connection whose request
  // body was cut short must not be reused.
  virtual void onStreamClosed(int32_t streamId, ErrorCode code) = 0;
};

// One client connection's HTTP/2 state. Costs about 26 KB of heap idle (16 KiB of it nghttp2's
// outbound frame buffer); each stream allocates its state once, frames allocate nothing.
class ServerSession {
public:
  ServerSession(ServerHandler& handler, const ServerLimits& limits = {});
  ~ServerSession();
  ServerSession(const ServerSession&) = delete;
  ServerSession& operator=(const ServerSession&) = delete;

  // Takes bytes the client sent (the connection preface first). A non-ok Status is a connection
  // error (its message says which); pendingOutput() then holds the GOAWAY to write before
  // closing. nowMs: the caller's clock (monotonic milliseconds) for the rate windows.
  Status feed(const uint8_t* data, size_t size, uint64_t nowMs);

  // Bytes to write to the client, valid until the next call on the session; consumed(n) after
  // n of them were written (more frames are then produced).
  std::string_view pendingOutput() const { return output_.pending(); }
  void consumed(size_t n);

  // Gives bytes of a target's HTTP/1.1 response on streamId (in order, in pieces of any size;
  // 1xx interim heads, then the final head, then the body). Returns how many it took: fewer
  // than size means the stream's buffer is full (the client's window is closed); keep the rest,
  // stop reading the target, and give it again after onResponseWritable(). Bytes after the end
  // of the response are ignored (taken). A response that cannot be parsed or carried resets
  // the stream (502 instead when no head was sent yet).
  size_t submitResponse(int32_t streamId, const char* data, size_t size);
  // The target closed its connection: the end of a body read until close; a truncated body
  // resets the stream (INTERNAL_ERROR), a missing head answers 502.
  void endResponse(int32_t streamId);
  // Request body bytes written to the target (the `credit` of onRequestBody): reopens the
  // client's windows. Ignored for a closed stream.
  void consumeRequestBody(int32_t streamId, size_t credit);
  // Resets one stream (a target lost, a timeout): RST_STREAM with code.
  void resetStream(int32_t streamId, ErrorCode code);
  // Graceful shutdown: GOAWAY(NO_ERROR) with the last stream id seen; streams already open are
  // finished, new ones refused. wantsClose() once they are done and the output written.
  void goAway();
  // The clock moved: the stall bound of streams waiting on a closed client window.
  void tick(uint64_t nowMs);

  // The connection can be closed: after a connection error or goAway(), once nothing is left
  // to send (pendingOutput() empty) or to receive.
  bool wantsClose() const;
  // Streams with a request head given and not yet closed.
  size_t openStreams() const { return openStreams_; }
  // Bytes the session holds beyond nghttp2's own state (buffers): for the bound tests.
  size_t bufferedBytes() const;

  struct Stream;

private:
  friend struct Callbacks;
  friend class FrameOutput;
  void pump();
  void failConnection(ErrorCode code);
  void closeAllStreams(ErrorCode code);
  Stream* stream(int32_t streamId) const;
  void dropStream(Stream* st);
  void rollWindow();
  bool countEmptyFrame(); // false: over the limit (pendingFailure_ set)
  void requestHead(Stream& st, bool endStream);
  void requestEnd(Stream& st);
  void sendLocalResponse(Stream& st, int status);
  bool parseResponse(Stream& st, const char* data, size_t size, size_t* taken);

  ServerHandler& handler_;
  ServerLimits limits_;
  nghttp2_session* session_ = nullptr;
  FrameOutput output_; // frames produced, not yet written
  uint64_t nowMs_ = 0;
  uint64_t windowStartMs_ = 0; // the rate window's start
  uint32_t resetsInWindow_ = 0;
  uint32_t emptyInWindow_ = 0;
  size_t openStreams_ = 0;
  Stream* streams_ = nullptr;                     // live streams (created at their HEADERS), a list
  ErrorCode pendingFailure_ = ErrorCode::NoError; // set by a callback that fails the connection
  std::string failReason_;
  bool failed_ = false;
  bool receiving_ = false;        // inside nghttp2_session_mem_recv (no sending from callbacks)
  bool notifying_ = false;        // inside pump()'s onResponseWritable round
  std::vector<int32_t> writable_; // pump()'s scratch
  bool goingAway_ = false;
  std::string scratch_; // the request head being built, reused
};

} // namespace tide::h2
