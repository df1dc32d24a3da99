#include "h2/client_session.h"

#include "h2/outgoing.h"
#include "h2/response_head.h"
#include "http1/chunked.h"
#include "http1/parser.h"
#include "http1/serializer.h"

#include <nghttp2/nghttp2.h>

#include <algorithm>

namespace tide::h2 {

struct ClientSession::Stream {
  int32_t id = 0;
  Stream* prev = nullptr;
  Stream* next = nullptr;
  // The request body, in HTTP/2 DATA, then its trailers (a chunked body's trailer section).
  http1::BodyFraming framing = http1::BodyFraming::None;
  uint64_t contentLeft = 0;
  http1::ChunkedDecoder chunks;
  OutgoingBody body;
  bool wantsWritable = false;
  bool methodHead = false;
  // The response.
  int blockStatus = -1;    // :status of the header block being read (-1: none, trailers)
  uint32_t blockBytes = 0; // its decoded size
  bool blockTooLarge = false;
  bool hasContentLength = false;
  std::string blockFields; // "name: value\r\n" lines of the block
  bool finalHead = false;  // the final head was given
  bool chunked = false;    // the response body goes chunked
  bool responseEnded = false;
  size_t creditOut = 0; // response payload given, not yet consumed
};

struct ClientCallbacks {
  static ClientSession& self(void* p) { return *static_cast<ClientSession*>(p); }
  static ClientSession::Stream* streamOf(nghttp2_session* session, int32_t id) {
    return static_cast<ClientSession::Stream*>(nghttp2_session_get_stream_user_data(session, id));
  }

  static int beginHeaders(nghttp2_session* session, const nghttp2_frame* frame, void*) {
    ClientSession::Stream* st = streamOf(session, frame->hd.stream_id);
    if (st != nullptr) {
      st->blockStatus = -1;
      st->blockBytes = 0;
      st->blockTooLarge = false;
      st->blockFields.clear();
    }
    return 0;
  }

  static int header(nghttp2_session* session, const nghttp2_frame* frame, const uint8_t* name,
                    size_t nameLen, const uint8_t* value, size_t valueLen, uint8_t, void* user) {
    ClientSession::Stream* st = streamOf(session, frame->hd.stream_id);
    if (st == nullptr || st->blockTooLarge) {
      return 0;
    }
    std::string_view n(reinterpret_cast<const char*>(name), nameLen);
    std::string_view v(reinterpret_cast<const char*>(value), valueLen);
    uint64_t size = uint64_t{st->blockBytes} + nameLen + valueLen + 32;
    if (size > self(user).limits_.maxHeaderListBytes) {
      st->blockTooLarge = true;
      std::string().swap(st->blockFields);
      return 0;
    }
    st->blockBytes = static_cast<uint32_t>(size);
    if (n == ":status") {
      int status = 0;
      for (char c : v) {
        status = status * 10 + (c - '0'); // nghttp2 checked: three digits
      }
      st->blockStatus = status;
      return 0;
    }
    if (n == "content-length" && st->blockStatus >= 200) {
      if (self(user).limits_.chunkedResponses) {
        return 0; // (nghttp2 still holds the body to it)
      }
      st->hasContentLength = true;
    }
    http1::appendField(st->blockFields, n, v);
    return 0;
  }

  static int frameRecv(nghttp2_session* session, const nghttp2_frame* frame, void* user) {
    ClientSession& s = self(user);
    ClientSession::Stream* st = streamOf(session, frame->hd.stream_id);
    if (st == nullptr || (frame->hd.type != NGHTTP2_HEADERS && frame->hd.type != NGHTTP2_DATA)) {
      return 0;
    }
    bool end = (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;
    if (frame->hd.type == NGHTTP2_HEADERS) {
      if (st->blockTooLarge) {
        nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_PROTOCOL_ERROR);
        return 0;
      }
      if (st->blockStatus >= 0 && (st->blockStatus < 100 || st->blockStatus > 599)) {
        // "000" or "096": three digits to nghttp2, no status to HTTP (RFC 9110 §15).
        nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_PROTOCOL_ERROR);
        return 0;
      }
      if (st->blockStatus >= 0) {
        s.responseHead(*st, end);
      } else if (end) {
        s.scratch_.clear();
        if (st->chunked) {
          http1::appendLastChunk(s.scratch_, st->blockFields); // trailers carried
        }
        s.responseEnd(*st);
      }
      return 0;
    }
    if (end) {
      s.scratch_.clear();
      if (st->chunked) {
        http1::appendLastChunk(s.scratch_);
      }
      s.responseEnd(*st);
    }
    return 0;
  }

  static int dataChunk(nghttp2_session* session, uint8_t, int32_t id, const uint8_t* data,
                       size_t len, void* user) {
    ClientSession& s = self(user);
    ClientSession::Stream* st = streamOf(session, id);
    if (st == nullptr || !st->finalHead || st->responseEnded || len == 0) {
      nghttp2_session_consume(session, id, len);
      return 0;
    }
    std::string_view bytes(reinterpret_cast<const char*>(data), len);
    if (st->chunked) {
      s.scratch_.clear();
      http1::appendChunk(s.scratch_, bytes);
      bytes = s.scratch_;
    }
    st->creditOut += len;
    s.handler_.onResponseBytes(id, bytes, len);
    return 0;
  }

  static int streamClose(nghttp2_session* session, int32_t id, uint32_t code, void* user) {
    ClientSession& s = self(user);
    ClientSession::Stream* st = streamOf(session, id);
    if (st == nullptr) {
      return 0;
    }
    ErrorCode ec = static_cast<ErrorCode>(code);
    if (ec == ErrorCode::NoError && !st->responseEnded) {
      ec = ErrorCode::InternalError; // closed without a whole response
    }
    bool known = st != s.submitting_; // the owner has its id
    s.dropStream(st);
    if (known) {
      s.handler_.onStreamClosed(id, ec);
    } else {
      s.submitting_ = nullptr; // submitRequest() refuses it instead
    }
    return 0;
  }
};

namespace {

const nghttp2_session_callbacks* clientCallbacks() {
  static nghttp2_session_callbacks* cbs = [] {
    nghttp2_session_callbacks* c = nullptr;
    if (nghttp2_session_callbacks_new(&c) != 0) {
      abort();
    }
    nghttp2_session_callbacks_set_send_callback(c, FrameOutput::sendCallback<ClientSession>);
    nghttp2_session_callbacks_set_send_data_callback(c, OutgoingBody::sendDataCallback);
    nghttp2_session_callbacks_set_on_begin_headers_callback(c, ClientCallbacks::beginHeaders);
    nghttp2_session_callbacks_set_on_header_callback(c, ClientCallbacks::header);
    nghttp2_session_callbacks_set_on_frame_recv_callback(c, ClientCallbacks::frameRecv);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(c, ClientCallbacks::dataChunk);
    nghttp2_session_callbacks_set_on_stream_close_callback(c, ClientCallbacks::streamClose);
    return c;
  }();
  return cbs;
}

char lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

bool equalsLower(std::string_view a, std::string_view lowerB) {
  if (a.size() != lowerB.size()) {
    return false;
  }
  for (size_t i = 0; i < a.size(); i++) {
    if (lower(a[i]) != lowerB[i]) {
      return false;
    }
  }
  return true;
}

} // namespace

ClientSession::ClientSession(ClientHandler& handler, const ClientLimits& limits)
    : handler_(handler), limits_(limits), output_(limits.outputHighWaterBytes) {
  nghttp2_option* opt = nullptr;
  if (nghttp2_option_new(&opt) != 0) {
    abort();
  }
  nghttp2_option_set_no_auto_window_update(opt, 1);
  nghttp2_option_set_no_closed_streams(opt, 1);
  nghttp2_option_set_max_deflate_dynamic_table_size(opt, limits_.maxHeaderTableBytes);
  int rv = nghttp2_session_client_new2(&session_, clientCallbacks(), this, opt);
  nghttp2_option_del(opt);
  if (rv != 0) {
    abort();
  }
  nghttp2_settings_entry settings[] = {
      {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, limits_.initialWindowBytes},
      {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, limits_.maxHeaderListBytes},
      {NGHTTP2_SETTINGS_HEADER_TABLE_SIZE, limits_.maxHeaderTableBytes},
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

ClientSession::~ClientSession() {
  nghttp2_session_del(session_);
  while (streams_ != nullptr) {
    Stream* next = streams_->next;
    delete streams_;
    streams_ = next;
  }
}

ClientSession::Stream* ClientSession::stream(int32_t streamId) const {
  return static_cast<Stream*>(nghttp2_session_get_stream_user_data(session_, streamId));
}

void ClientSession::dropStream(Stream* st) {
  if (st->creditOut > 0) {
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
  openStreams_--;
  delete st;
}

void ClientSession::responseHead(Stream& st, bool endStream) {
  scratch_.clear();
  int status = st.blockStatus;
  http1::appendStatusLine(scratch_, status);
  scratch_ += st.blockFields;
  if (status < 200) {
    http1::appendHeadEnd(scratch_); // an interim head (nghttp2 refuses 101 on HTTP/2)
    handler_.onResponseBytes(st.id, scratch_, 0);
    return;
  }
  st.finalHead = true;
  bool noBody = st.methodHead || status == 204 || status == 304;
  if (!noBody && !st.hasContentLength) {
    if (endStream) {
      http1::appendField(scratch_, "content-length", uint64_t{0});
    } else {
      http1::appendField(scratch_, "transfer-encoding", "chunked");
      st.chunked = true;
    }
  }
  http1::appendHeadEnd(scratch_);
  handler_.onResponseBytes(st.id, scratch_, 0);
  if (endStream) {
    scratch_.clear();
    responseEnd(st);
  }
}

void ClientSession::responseEnd(Stream& st) {
  if (st.responseEnded) {
    return;
  }
  st.responseEnded = true;
  if (!scratch_.empty()) {
    handler_.onResponseBytes(st.id, scratch_, 0);
  }
  handler_.onResponseEnd(st.id);
}

Result<int32_t> ClientSession::submitRequest(const char* data, size_t size, size_t* taken) {
  *taken = 0;
  if (failed_ || goingAway_ || !nghttp2_session_check_request_allowed(session_)) {
    return Status("H2ConnectionError", "the connection to the target takes no new requests");
  }
  static thread_local http1::MessageHead head;
  http1::ParseStatus ps = http1::parseRequestHead(data, size, 64 * 1024, head);
  if (ps != http1::ParseStatus::Complete) {
    return Status("InvalidRequest", "not a whole HTTP/1.1 request head");
  }
  // The header list: pseudo-headers first, then the fields with lowercase names. The arena is
  // filled before any view into it is taken.
  static thread_local std::string arena;
  static thread_local std::vector<nghttp2_nv> nva;
  arena.clear();
  nva.clear();
  std::string_view authority;
  struct Piece {
    size_t name, nameLen;
    std::string_view value;
  };
  std::vector<Piece> pieces;
  for (size_t i = 0; i < head.fieldCount; i++) {
    const http1::HeaderField& f = head.fields[i];
    if (f.kind == http1::HeaderKind::Host) {
      authority = f.value;
      continue;
    }
    if (f.kind == http1::HeaderKind::Te) {
      if (equalsLower(f.value, "trailers")) {
        pieces.push_back({arena.size(), 2, "trailers"});
        arena += "te";
      }
      continue;
    }
    if (f.hopByHop || f.name.empty() || f.kind == http1::HeaderKind::TransferEncoding ||
        f.kind == http1::HeaderKind::Connection || f.kind == http1::HeaderKind::KeepAlive ||
        f.kind == http1::HeaderKind::ProxyConnection || f.kind == http1::HeaderKind::Upgrade ||
        f.kind == http1::HeaderKind::Trailer) {
      continue;
    }
    pieces.push_back({arena.size(), f.name.size(), f.value});
    for (char c : f.name) {
      arena.push_back(lower(c));
    }
  }
  if (limits_.teTrailers && std::none_of(pieces.begin(), pieces.end(), [&](const Piece& p) {
        return arena.compare(p.name, p.nameLen, "te") == 0;
      })) {
    pieces.push_back({arena.size(), 2, "trailers"});
    arena += "te";
  }
  auto u8 = [](const char* p) { return reinterpret_cast<uint8_t*>(const_cast<char*>(p)); };
  auto pseudo = [&](const char* name, std::string_view value) {
    nva.push_back({u8(name), u8(value.data()), std::char_traits<char>::length(name), value.size(),
                   NGHTTP2_NV_FLAG_NONE});
  };
  pseudo(":method", head.method);
  pseudo(":scheme", "http");
  pseudo(":path", head.target);
  if (!authority.empty()) {
    pseudo(":authority", authority);
  }
  for (const Piece& p : pieces) {
    nva.push_back({u8(arena.data() + p.name), u8(p.value.data()), p.nameLen, p.value.size(),
                   NGHTTP2_NV_FLAG_NONE});
  }

  auto* st = new Stream;
  st->framing = head.framing;
  st->contentLeft = head.contentLength;
  st->methodHead = head.method == "HEAD";
  st->body.ended = head.framing == http1::BodyFraming::None;
  st->body.output = &output_;
  nghttp2_data_provider prd;
  prd.source.ptr = &st->body;
  prd.read_callback = OutgoingBody::readCallback;
  int32_t id = nghttp2_submit_request(session_, nullptr, nva.data(), nva.size(),
                                      st->body.ended ? nullptr : &prd, st);
  if (id < 0) {
    delete st;
    return Status("H2StreamRefused", nghttp2_strerror(id));
  }
  st->id = id;
  st->body.streamId = id;
  st->next = streams_;
  if (streams_ != nullptr) {
    streams_->prev = st;
  }
  streams_ = st;
  openStreams_++;
  *taken = head.length;
  size_t more = 0;
  takeBody(*st, data + head.length, size - head.length, &more);
  *taken += more;
  // A stream nghttp2 closes while it is being sent (the target's GOAWAY came first, a head too
  // large to send) is refused here, never announced by onStreamClosed for an id not yet known.
  submitting_ = st;
  pump();
  if (submitting_ == nullptr) {
    *taken = 0;
    return Status("H2StreamRefused", "the target's connection did not take the request");
  }
  submitting_ = nullptr;
  return id;
}

size_t ClientSession::submitRequestBody(int32_t streamId, const char* data, size_t size) {
  Stream* st = stream(streamId);
  if (st == nullptr) {
    return size; // the stream is gone: its bytes go nowhere
  }
  size_t taken = 0;
  takeBody(*st, data, size, &taken);
  pump();
  return taken;
}

bool ClientSession::takeBody(Stream& st, const char* data, size_t size, size_t* taken) {
  *taken = 0;
  if (st.body.ended) {
    return true;
  }
  size_t room = limits_.maxRequestBufferBytes > st.body.pending()
                    ? limits_.maxRequestBufferBytes - st.body.pending()
                    : 0;
  size_t use = std::min(size, room);
  if (st.framing == http1::BodyFraming::ContentLength) {
    use = static_cast<size_t>(std::min<uint64_t>(use, st.contentLeft));
    st.body.append(data, use);
    st.contentLeft -= use;
    st.body.ended = st.contentLeft == 0;
  } else {
    size_t used = 0;
    st.body.compact();
    auto r = st.chunks.decode(data, use, &used, &st.body.bytes, &st.body.trailers);
    use = used;
    if (r == http1::ChunkedDecoder::Result::Done) {
      st.body.ended = true;
    } else if (r != http1::ChunkedDecoder::Result::NeedMore) {
      nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, st.id, NGHTTP2_CANCEL);
      *taken = size;
      return false;
    }
  }
  *taken = use;
  if (use < size && !st.body.ended) {
    st.wantsWritable = true;
  }
  st.body.resume(session_);
  return true;
}

Status ClientSession::feed(const uint8_t* data, size_t size) {
  if (failed_) {
    return Status("H2ConnectionError", "the connection to the target failed");
  }
  receiving_ = true;
  ssize_t rv = nghttp2_session_mem_recv(session_, data, size);
  receiving_ = false;
  if (rv < 0) {
    failed_ = true;
    nghttp2_session_terminate_session(session_, NGHTTP2_PROTOCOL_ERROR);
  }
  pump();
  if (rv < 0 || (!nghttp2_session_want_read(session_) && !nghttp2_session_want_write(session_))) {
    // The connection is over (an error, or the target's GOAWAY): streams still open are cut.
    bool cut = openStreams_ > 0;
    failed_ = failed_ || cut;
    while (streams_ != nullptr) {
      int32_t id = streams_->id;
      dropStream(streams_);
      handler_.onStreamClosed(id, ErrorCode::ProtocolError);
    }
    if (rv < 0 || cut) {
      return Status("H2ConnectionError", rv < 0 ? nghttp2_strerror(static_cast<int>(rv))
                                                : "the target ended the connection mid-stream");
    }
  }
  return Status::ok();
}

void ClientSession::consumed(size_t n) {
  output_.consumed(n);
  pump();
}

void ClientSession::pump() {
  sendAndNotify(
      session_, receiving_, notifying_, failed_, streams_, limits_.maxRequestBufferBytes, writable_,
      [this](int32_t id) { return stream(id) != nullptr; },
      [this](int32_t id) { handler_.onRequestWritable(id); });
}

void ClientSession::consumeResponseBody(int32_t streamId, size_t credit) {
  Stream* st = stream(streamId);
  if (st == nullptr) {
    return;
  }
  credit = std::min(credit, st->creditOut);
  st->creditOut -= credit;
  nghttp2_session_consume(session_, streamId, credit);
  pump();
}

void ClientSession::resetStream(int32_t streamId, ErrorCode code) {
  nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, streamId, static_cast<uint32_t>(code));
  pump();
}

void ClientSession::goAway() {
  if (goingAway_) {
    return;
  }
  goingAway_ = true;
  nghttp2_submit_goaway(session_, NGHTTP2_FLAG_NONE, 0, NGHTTP2_NO_ERROR, nullptr, 0);
  pump();
}

bool ClientSession::wantsClose() const {
  if (!pendingOutput().empty()) {
    return false;
  }
  return failed_ || (goingAway_ && openStreams_ == 0) ||
         (!nghttp2_session_want_read(session_) && !nghttp2_session_want_write(session_));
}

} // namespace tide::h2
