#include "h2/server_session.h"

#include "h2/outgoing.h"
#include "h2/request_head.h"
#include "h2/response_head.h"
#include "http1/chunked.h"
#include "http1/parser.h"
#include "http1/reason.h"
#include "http1/serializer.h"

#include <nghttp2/nghttp2.h>

#include <algorithm>
#include <vector>

namespace tide::h2 {

// ALB's limit on a whole response head (the target's): over it, 502.
inline constexpr size_t kMaxResponseHeadBytes = 32 * 1024;

struct ServerSession::Stream {
  int32_t id = 0;
  Stream* prev = nullptr; // the session's list of live streams
  Stream* next = nullptr;
  RequestHeadBuilder request; // the request's fields while its head arrives
  bool forwarded = false;     // onRequestHead was given (the owner knows the stream)
  bool requestEnded = false;  // END_STREAM from the client
  size_t creditOut = 0;       // request body payload given to the owner, not yet consumed
  bool chunked = false;       // the request body is sent chunked
  bool methodHead = false;    // HEAD: the response has no body
  // The response.
  std::string responseHead;  // bytes of a head not yet complete
  bool headSent = false;     // the final head was submitted
  bool responseDone = false; // every response byte the session wants was taken
  http1::BodyFraming framing = http1::BodyFraming::None;
  uint64_t contentLeft = 0;     // framing == ContentLength
  http1::ChunkedDecoder chunks; // framing == Chunked
  OutgoingBody body;            // response body bytes not yet in DATA frames; the target's
                                // trailer lines (chunked), sent after them
  bool wantsWritable = false;   // submitResponse() took less than it was given
  uint64_t stalledSinceMs = 0;  // body waiting on a closed client window since (0: not)
};

// nghttp2's callbacks, each a static function that finds its ServerSession in user_data.
struct Callbacks {
  static ServerSession& self(void* p) { return *static_cast<ServerSession*>(p); }
  static ServerSession::Stream* streamOf(nghttp2_session* session, int32_t id) {
    return static_cast<ServerSession::Stream*>(nghttp2_session_get_stream_user_data(session, id));
  }

  static int beginHeaders(nghttp2_session* session, const nghttp2_frame* frame, void* user) {
    if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST) {
      return 0;
    }
    ServerSession& s = self(user);
    auto* st = new ServerSession::Stream;
    st->id = frame->hd.stream_id;
    st->body.streamId = st->id;
    st->body.output = &s.output_;
    st->request.reset(s.limits_.maxHeaderListBytes);
    st->next = s.streams_;
    if (s.streams_ != nullptr) {
      s.streams_->prev = st;
    }
    s.streams_ = st;
    nghttp2_session_set_stream_user_data(session, st->id, st);
    return 0;
  }

  static int header(nghttp2_session* session, const nghttp2_frame* frame, const uint8_t* name,
                    size_t nameLen, const uint8_t* value, size_t valueLen, uint8_t, void*) {
    ServerSession::Stream* st = streamOf(session, frame->hd.stream_id);
    if (st == nullptr || frame->hd.type != NGHTTP2_HEADERS) {
      return 0;
    }
    std::string_view n(reinterpret_cast<const char*>(name), nameLen);
    std::string_view v(reinterpret_cast<const char*>(value), valueLen);
    if (frame->headers.cat == NGHTTP2_HCAT_REQUEST) {
      st->request.addField(n, v);
    } else {
      st->request.addTrailer(n, v);
    }
    return 0;
  }

  static int frameRecv(nghttp2_session* session, const nghttp2_frame* frame, void* user) {
    ServerSession& s = self(user);
    switch (frame->hd.type) {
    case NGHTTP2_DATA: {
      if (frame->hd.length == 0 && !(frame->hd.flags & NGHTTP2_FLAG_END_STREAM)) {
        if (!s.countEmptyFrame()) {
          return NGHTTP2_ERR_CALLBACK_FAILURE;
        }
      }
      if (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) {
        ServerSession::Stream* st = streamOf(session, frame->hd.stream_id);
        if (st != nullptr) {
          s.requestEnd(*st);
        }
      }
      return 0;
    }
    case NGHTTP2_HEADERS: {
      ServerSession::Stream* st = streamOf(session, frame->hd.stream_id);
      if (st == nullptr) {
        return 0;
      }
      if (frame->headers.cat == NGHTTP2_HCAT_REQUEST) {
        s.requestHead(*st, (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0);
      } else if (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) {
        s.requestEnd(*st);
      }
      return 0;
    }
    case NGHTTP2_PRIORITY:
      return s.countEmptyFrame() ? 0 : NGHTTP2_ERR_CALLBACK_FAILURE;
    case NGHTTP2_RST_STREAM:
      // CVE-2023-44487 (rapid reset): streams opened and reset at once never reach the
      // concurrency limit; their count in a window is what is bounded.
      s.rollWindow();
      if (++s.resetsInWindow_ > s.limits_.maxResetsPerWindow) {
        s.pendingFailure_ = ErrorCode::EnhanceYourCalm;
        s.failReason_ = "rapid reset: too many streams reset by the client";
        return NGHTTP2_ERR_CALLBACK_FAILURE;
      }
      return 0;
    default:
      return 0;
    }
  }

  static int dataChunk(nghttp2_session* session, uint8_t, int32_t id, const uint8_t* data,
                       size_t len, void* user) {
    ServerSession& s = self(user);
    ServerSession::Stream* st = streamOf(session, id);
    if (st == nullptr || !st->forwarded || st->requestEnded) {
      nghttp2_session_consume(session, id, len); // nobody will: reopen the window now
      return 0;
    }
    std::string_view bytes(reinterpret_cast<const char*>(data), len);
    if (st->chunked && len > 0) {
      s.scratch_.clear();
      http1::appendChunk(s.scratch_, bytes);
      bytes = s.scratch_;
    }
    if (len > 0) {
      st->creditOut += len;
      s.handler_.onRequestBody(id, bytes, len);
    }
    return 0;
  }

  static int streamClose(nghttp2_session*, int32_t id, uint32_t code, void* user) {
    ServerSession& s = self(user);
    ServerSession::Stream* st = streamOf(s.session_, id);
    if (st == nullptr) {
      return 0;
    }
    bool forwarded = st->forwarded;
    s.dropStream(st);
    if (forwarded) {
      s.openStreams_--;
      s.handler_.onStreamClosed(id, static_cast<ErrorCode>(code));
    }
    return 0;
  }

  // A response that ended before its request did: RFC 9113 §8.1 lets the server ask the client
  // to stop sending, without error.
  static int frameSent(nghttp2_session* session, const nghttp2_frame* frame, void*) {
    if ((frame->hd.type != NGHTTP2_HEADERS && frame->hd.type != NGHTTP2_DATA) ||
        !(frame->hd.flags & NGHTTP2_FLAG_END_STREAM)) {
      return 0;
    }
    ServerSession::Stream* st = streamOf(session, frame->hd.stream_id);
    if (st != nullptr && !st->requestEnded) {
      nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_NO_ERROR);
    }
    return 0;
  }
};

namespace {

const nghttp2_session_callbacks* callbacks() {
  static nghttp2_session_callbacks* cbs = [] {
    nghttp2_session_callbacks* c = nullptr;
    if (nghttp2_session_callbacks_new(&c) != 0) {
      abort(); // out of memory at start
    }
    nghttp2_session_callbacks_set_send_callback(c, FrameOutput::sendCallback<ServerSession>);
    nghttp2_session_callbacks_set_send_data_callback(c, OutgoingBody::sendDataCallback);
    nghttp2_session_callbacks_set_on_begin_headers_callback(c, Callbacks::beginHeaders);
    nghttp2_session_callbacks_set_on_header_callback(c, Callbacks::header);
    nghttp2_session_callbacks_set_on_frame_recv_callback(c, Callbacks::frameRecv);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(c, Callbacks::dataChunk);
    nghttp2_session_callbacks_set_on_stream_close_callback(c, Callbacks::streamClose);
    nghttp2_session_callbacks_set_on_frame_send_callback(c, Callbacks::frameSent);
    return c;
  }();
  return cbs;
}

} // namespace

ServerSession::ServerSession(ServerHandler& handler, const ServerLimits& limits)
    : handler_(handler), limits_(limits), output_(limits.outputHighWaterBytes) {
  nghttp2_option* opt = nullptr;
  if (nghttp2_option_new(&opt) != 0) {
    abort();
  }
  // The owner reopens windows as request bodies reach targets (consumeRequestBody).
  nghttp2_option_set_no_auto_window_update(opt, 1);
  nghttp2_option_set_no_closed_streams(opt, 1); // no priority tree of closed streams
  nghttp2_option_set_max_outbound_ack(opt, limits_.maxOutboundAcks);
  nghttp2_option_set_max_settings(opt, limits_.maxSettingsEntries);
  nghttp2_option_set_max_continuations(opt, limits_.maxContinuations);
  nghttp2_option_set_max_deflate_dynamic_table_size(opt, limits_.maxHeaderTableBytes);
  // nghttp2's own token bucket on its own clock (burst 1000, 33 a second, its defaults): a
  // backstop behind the counted window above, which the tests can drive.
  nghttp2_option_set_stream_reset_rate_limit(opt, 1000, 33);
  int rv = nghttp2_session_server_new2(&session_, callbacks(), this, opt);
  nghttp2_option_del(opt);
  if (rv != 0) {
    abort();
  }
  nghttp2_settings_entry settings[] = {
      {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, limits_.maxConcurrentStreams},
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, limits_.initialWindowBytes},
      {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, limits_.maxHeaderListBytes},
      {NGHTTP2_SETTINGS_HEADER_TABLE_SIZE, limits_.maxHeaderTableBytes},
      {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
  };
  if (nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, settings,
                              sizeof(settings) / sizeof(settings[0])) != 0) {
    abort();
  }
  if (limits_.connectionWindowBytes > 65535) {
    nghttp2_session_set_local_window_size(session_, NGHTTP2_FLAG_NONE, 0,
                                          static_cast<int32_t>(limits_.connectionWindowBytes));
  }
  pump();
}

ServerSession::~ServerSession() {
  nghttp2_session_del(session_); // calls no callback
  while (streams_ != nullptr) {
    Stream* next = streams_->next;
    delete streams_;
    streams_ = next;
  }
}

void ServerSession::dropStream(Stream* st) {
  if (st->creditOut > 0) {
    // The owner forgets a closed stream's credit: the connection's window is reopened here.
    nghttp2_session_consume_connection(session_, st->creditOut);
  }
  nghttp2_session_set_stream_user_data(session_, st->id, nullptr);
  if (st->prev != nullptr) {
    st->prev->next = st->next;
  } else {
    streams_ = st->next;
  }
  if (st->next != nullptr) {
    st->next->prev = st->prev;
  }
  delete st;
}

ServerSession::Stream* ServerSession::stream(int32_t streamId) const {
  return static_cast<Stream*>(nghttp2_session_get_stream_user_data(session_, streamId));
}

void ServerSession::rollWindow() {
  if (nowMs_ - windowStartMs_ >= limits_.resetWindowMs) {
    windowStartMs_ = nowMs_;
    resetsInWindow_ = 0;
    emptyInWindow_ = 0;
  }
}

bool ServerSession::countEmptyFrame() {
  rollWindow();
  if (++emptyInWindow_ > limits_.maxEmptyFramesPerWindow) {
    pendingFailure_ = ErrorCode::EnhanceYourCalm;
    failReason_ = "flood: too many empty DATA or PRIORITY frames";
    return false;
  }
  return true;
}

void ServerSession::requestHead(Stream& st, bool endStream) {
  st.requestEnded = endStream;
  if (st.request.tooLarge()) {
    sendLocalResponse(st, 431);
    return;
  }
  if (st.request.method() == "CONNECT") {
    sendLocalResponse(st, 405); // ALB carries no tunnels over HTTP/2
    return;
  }
  if (!st.request.isForwardable()) {
    // Malformed (RFC 9113 §8.1.1): a stream error.
    st.responseDone = true;
    nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, st.id, NGHTTP2_PROTOCOL_ERROR);
    return;
  }
  st.methodHead = st.request.method() == "HEAD";
  scratch_.clear();
  st.chunked = st.request.buildHead(scratch_, endStream);
  st.forwarded = true;
  openStreams_++;
  handler_.onRequestHead(st.id, scratch_);
  st.request.releaseFields();
  if (endStream && stream(st.id) == &st) {
    handler_.onRequestEnd(st.id, {});
  }
}

void ServerSession::requestEnd(Stream& st) {
  if (st.requestEnded) {
    return;
  }
  st.requestEnded = true;
  if (!st.forwarded) {
    return;
  }
  scratch_.clear();
  if (st.chunked) {
    http1::appendLastChunk(scratch_, st.request.trailers());
  }
  st.request.releaseTrailers();
  handler_.onRequestEnd(st.id, scratch_);
}

void ServerSession::sendLocalResponse(Stream& st, int status) {
  std::string bytes;
  http1::appendStatusLine(bytes, status);
  http1::appendField(bytes, "content-length", uint64_t{0});
  http1::appendHeadEnd(bytes);
  st.methodHead = true; // no body either way
  size_t taken = 0;
  parseResponse(st, bytes.data(), bytes.size(), &taken);
}

Status ServerSession::feed(const uint8_t* data, size_t size, uint64_t nowMs) {
  nowMs_ = nowMs;
  if (failed_) {
    return Status("H2ConnectionError", failReason_);
  }
  receiving_ = true;
  ssize_t rv = nghttp2_session_mem_recv(session_, data, size);
  receiving_ = false;
  if (rv < 0) {
    ErrorCode code = ErrorCode::ProtocolError;
    if (rv == NGHTTP2_ERR_CALLBACK_FAILURE && pendingFailure_ != ErrorCode::NoError) {
      code = pendingFailure_;
    } else if (rv == NGHTTP2_ERR_FLOODED) {
      code = ErrorCode::EnhanceYourCalm;
      failReason_ = "flood: SETTINGS or PING acknowledgements not read";
    } else if (rv == NGHTTP2_ERR_TOO_MANY_CONTINUATIONS) {
      code = ErrorCode::EnhanceYourCalm;
      failReason_ = "flood: too many CONTINUATION frames";
    } else if (rv == NGHTTP2_ERR_BAD_CLIENT_MAGIC) {
      failReason_ = "not the HTTP/2 connection preface";
    } else if (failReason_.empty()) {
      failReason_ = nghttp2_strerror(static_cast<int>(rv));
    }
    failConnection(code);
    return Status("H2ConnectionError", failReason_);
  }
  pump();
  if (!nghttp2_session_want_read(session_) && !goingAway_) {
    // nghttp2 answered a connection error with GOAWAY itself.
    failed_ = true;
    if (failReason_.empty()) {
      failReason_ = "connection error (GOAWAY sent)";
    }
    closeAllStreams(ErrorCode::ProtocolError);
    return Status("H2ConnectionError", failReason_);
  }
  return Status::ok();
}

void ServerSession::failConnection(ErrorCode code) {
  failed_ = true;
  nghttp2_session_terminate_session(session_, static_cast<uint32_t>(code));
  pump();
  closeAllStreams(code);
}

void ServerSession::closeAllStreams(ErrorCode code) {
  // nghttp2 closes no stream when the connection fails (it stops): the owner hears it here.
  while (streams_ != nullptr) {
    int32_t id = streams_->id;
    bool forwarded = streams_->forwarded;
    dropStream(streams_);
    if (forwarded) {
      openStreams_--;
      handler_.onStreamClosed(id, code);
    }
  }
}

void ServerSession::consumed(size_t n) {
  output_.consumed(n);
  pump();
}

void ServerSession::pump() {
  sendAndNotify(
      session_, receiving_, notifying_, failed_, streams_, limits_.maxResponseBufferBytes,
      writable_, [this](int32_t id) { return stream(id) != nullptr; },
      [this](int32_t id) { handler_.onResponseWritable(id); });
}

size_t ServerSession::submitResponse(int32_t streamId, const char* data, size_t size) {
  Stream* st = stream(streamId);
  if (st == nullptr || st->responseDone) {
    return size;
  }
  size_t taken = 0;
  parseResponse(*st, data, size, &taken);
  pump();
  return taken;
}

void ServerSession::endResponse(int32_t streamId) {
  Stream* st = stream(streamId);
  if (st == nullptr || st->responseDone) {
    return;
  }
  if (!st->headSent) {
    st->responseHead.clear();
    sendLocalResponse(*st, 502);
  } else if (st->framing == http1::BodyFraming::UntilClose) {
    st->body.ended = true;
    st->responseDone = true;
    st->body.resume(session_);
  } else {
    st->responseDone = true;
    nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, streamId, NGHTTP2_INTERNAL_ERROR);
  }
  pump();
}

// Reads the response's bytes: heads (interim and final) into HEADERS, the body into `body`
// within maxResponseBufferBytes. *taken: the bytes used (or ignored past the end).
bool ServerSession::parseResponse(Stream& st, const char* data, size_t size, size_t* taken) {
  *taken = 0;
  while (!st.responseDone && *taken < size) {
    const char* p = data + *taken;
    size_t n = size - *taken;
    if (!st.headSent) {
      size_t before = st.responseHead.size();
      size_t add = std::min(n, kMaxResponseHeadBytes + 1 - before);
      st.responseHead.append(p, add);
      static thread_local http1::MessageHead head;
      http1::ParseStatus ps =
          http1::parseResponseHead(st.responseHead.data(), st.responseHead.size(),
                                   kMaxResponseHeadBytes, st.methodHead, head);
      if (ps == http1::ParseStatus::Incomplete) {
        *taken += add;
        continue;
      }
      if (ps != http1::ParseStatus::Complete || head.status == 101) {
        // A target's answer tide cannot carry: 502 as ALB answers it.
        st.responseHead.clear();
        std::string bytes;
        http1::appendStatusLine(bytes, 502);
        http1::appendField(bytes, "content-length", uint64_t{0});
        http1::appendHeadEnd(bytes);
        bool wasHead = st.methodHead;
        st.methodHead = true;
        size_t t = 0;
        parseResponse(st, bytes.data(), bytes.size(), &t);
        st.methodHead = wasHead;
        *taken = size; // the rest of the target's bytes are dropped
        return false;
      }
      *taken += head.length - before;
      bool interim = head.status < 200;
      static thread_local std::string arena;
      static thread_local std::vector<nghttp2_nv> nva;
      buildResponseHeaders(head, arena, nva);
      if (interim) {
        nghttp2_submit_headers(session_, NGHTTP2_FLAG_NONE, st.id, nullptr, nva.data(), nva.size(),
                               nullptr);
        st.responseHead.clear();
        continue;
      }
      st.framing = head.framing;
      st.contentLeft = head.contentLength;
      st.headSent = true;
      if (st.framing == http1::BodyFraming::None) {
        st.responseDone = true;
        st.body.ended = true;
        nghttp2_submit_response(session_, st.id, nva.data(), nva.size(), nullptr);
      } else {
        st.chunks.reset();
        nghttp2_data_provider prd;
        prd.source.ptr = &st.body;
        prd.read_callback = OutgoingBody::readCallback;
        nghttp2_submit_response(session_, st.id, nva.data(), nva.size(), &prd);
      }
      std::string().swap(st.responseHead); // nghttp2 copied the fields
      continue;
    }
    // The body, up to the stream's buffer.
    size_t room = limits_.maxResponseBufferBytes > st.body.pending()
                      ? limits_.maxResponseBufferBytes - st.body.pending()
                      : 0;
    if (room == 0) {
      st.wantsWritable = true;
      break;
    }
    st.body.compact();
    size_t use = std::min(n, room);
    switch (st.framing) {
    case http1::BodyFraming::ContentLength: {
      use = static_cast<size_t>(std::min<uint64_t>(use, st.contentLeft));
      st.body.append(p, use);
      st.contentLeft -= use;
      if (st.contentLeft == 0) {
        st.body.ended = true;
        st.responseDone = true;
      }
      break;
    }
    case http1::BodyFraming::Chunked: {
      size_t used = 0;
      auto r = st.chunks.decode(p, use, &used, &st.body.bytes, &st.body.trailers);
      use = used;
      if (r == http1::ChunkedDecoder::Result::Done) {
        st.body.ended = true;
        st.responseDone = true;
      } else if (r != http1::ChunkedDecoder::Result::NeedMore) {
        st.responseDone = true;
        nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, st.id, NGHTTP2_INTERNAL_ERROR);
        *taken = size;
        return false;
      }
      break;
    }
    default: // UntilClose: endResponse() ends it
      st.body.append(p, use);
      break;
    }
    *taken += use;
    st.body.resume(session_);
    if (use < n && !st.responseDone) {
      st.wantsWritable = true;
      break;
    }
  }
  if (st.responseDone) {
    *taken = size; // bytes past the end are not the stream's
    st.body.resume(session_);
  }
  return true;
}

void ServerSession::consumeRequestBody(int32_t streamId, size_t credit) {
  Stream* st = stream(streamId);
  if (st == nullptr) {
    return; // closed: its credit went back when it closed
  }
  credit = std::min(credit, st->creditOut);
  st->creditOut -= credit;
  nghttp2_session_consume(session_, streamId, credit);
  pump();
}

void ServerSession::resetStream(int32_t streamId, ErrorCode code) {
  Stream* st = stream(streamId);
  if (st != nullptr) {
    st->responseDone = true;
  }
  nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, streamId, static_cast<uint32_t>(code));
  pump();
}

void ServerSession::goAway() {
  if (goingAway_ || failed_) {
    return;
  }
  goingAway_ = true;
  nghttp2_submit_goaway(session_, NGHTTP2_FLAG_NONE,
                        nghttp2_session_get_last_proc_stream_id(session_), NGHTTP2_NO_ERROR,
                        nullptr, 0);
  pump();
}

void ServerSession::tick(uint64_t nowMs) {
  nowMs_ = nowMs;
  int32_t connWindow = nghttp2_session_get_remote_window_size(session_);
  for (Stream* st = streams_; st != nullptr;) {
    Stream* next = st->next;
    bool waiting =
        st->headSent && st->body.pending() > 0 &&
        (connWindow <= 0 || nghttp2_session_get_stream_remote_window_size(session_, st->id) <= 0);
    if (!waiting) {
      st->stalledSinceMs = 0;
    } else if (st->stalledSinceMs == 0) {
      st->stalledSinceMs = nowMs == 0 ? 1 : nowMs;
    } else if (nowMs - st->stalledSinceMs >= limits_.stallTimeoutMs) {
      st->stalledSinceMs = 0;
      st->responseDone = true;
      st->body.clear();
      nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_CANCEL);
    }
    st = next;
  }
  pump();
}

bool ServerSession::wantsClose() const {
  if (!pendingOutput().empty()) {
    return false;
  }
  return failed_ || (!nghttp2_session_want_read(session_) && !nghttp2_session_want_write(session_));
}

size_t ServerSession::bufferedBytes() const {
  size_t n = output_.capacity() + scratch_.capacity();
  for (const Stream* st = streams_; st != nullptr; st = st->next) {
    n += sizeof(Stream) + st->body.capacity() + st->responseHead.capacity() +
         st->request.bufferedBytes();
  }
  return n;
}

} // namespace tide::h2
