// An h2c test target (HTTP/2 with prior knowledge: no TLS, no Upgrade) for the tests of HTTP/2
// to targets (h2_upstream_test). It is built directly on nghttp2's server API, not on tide's
// h2::ServerSession, so what it sees and how it answers do not depend on tide's own
// translation. A thread per connection (test_net::ThreadedServer: blocking sockets with 10 s
// timeouts, 127.0.0.1, an ephemeral port); it records what each stream brought (pseudo-headers,
// fields, body, trailers) and answers by the request's :path (H2Backend::behaviourFor). Every
// wait is bounded: a connection ends after 10 s without a byte or an event.
//
// Thread-safety: the accessors and release() may be called from any thread.
#pragma once

#include "balancer/endpoint.h"
#include "balancer/test_net.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <nghttp2/nghttp2.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tide::balancer::test_net {

class H2Backend {
public:
  // What the target does with a request, chosen by its :path.
  enum class Behaviour : uint8_t {
    Echo,         // 200 with content-length, x-echo-method and x-echo-path, the body back (none:
                  // the HEADERS ends the stream)
    Grpc,         // 200 content-type application/grpc, the body (a gRPC message) back as DATA,
                  // then trailers grpc-status 0 and grpc-message
    TrailersOnly, // one HEADERS with END_STREAM: 200, application/grpc, grpc-status 5 (NOT_FOUND)
    Large,        // 200 without content-length, kLargeBytes of a pattern (under flow control)
    RefuseOnce,   // the first such request: RST_STREAM REFUSED_STREAM as its head comes; then Echo
    GoawayFirst,  // the first such request: GOAWAY (NO_ERROR) whose last stream is before it, and
                  // the connection closes unanswered; then Echo
    GoawayAfter,  // Echo, then GOAWAY (NO_ERROR, last stream this one): the connection closes
                  // once the response is written
    PingWhenIdle, // Echo; then, once the connection has no open stream, a PING and a SETTINGS
    ResetMid,     // the head and kPartialBytes of body, then, once released, RST_STREAM
                  // INTERNAL_ERROR
    CloseMid,     // the head and kPartialBytes of body, then, once released, the connection
                  // closes
    Held,         // Echo, its body only once released
    EndLater,     // Echo (the body whole by its content-length at once), the END_STREAM (an
                  // empty DATA frame) only once released
  };
  static constexpr size_t kLargeBytes = 1 << 20;
  static constexpr size_t kPartialBytes = 16 * 1024;

  static Behaviour behaviourFor(std::string_view path) {
    static const std::pair<std::string_view, Behaviour> kPaths[] = {
        {"/test.Echo/Unary", Behaviour::Grpc},
        {"/test.Echo/Missing", Behaviour::TrailersOnly},
        {"/large", Behaviour::Large},
        {"/refuse-once", Behaviour::RefuseOnce},
        {"/goaway-first", Behaviour::GoawayFirst},
        {"/goaway-after", Behaviour::GoawayAfter},
        {"/ping-when-idle", Behaviour::PingWhenIdle},
        {"/reset-mid", Behaviour::ResetMid},
        {"/close-mid", Behaviour::CloseMid},
        {"/held", Behaviour::Held},
        {"/end-later", Behaviour::EndLater},
    };
    path = path.substr(0, path.find('?'));
    for (const auto& [p, b] : kPaths) {
      if (path == p) {
        return b;
      }
    }
    return Behaviour::Echo;
  }

  // One request as it reached the target.
  struct Request {
    int connection = 0; // the accepted connection it came on (1: the first)
    int32_t streamId = 0;
    std::string method, path, authority, scheme;               // the pseudo-headers
    std::vector<std::pair<std::string, std::string>> fields;   // the others, in order
    std::vector<std::pair<std::string, std::string>> trailers; // a second HEADERS
    std::string body;
    bool refused = false; // answered RST_STREAM REFUSED_STREAM (RefuseOnce)
    // The first value of a field (name in lowercase), or "" when absent.
    std::string field(std::string_view name) const {
      for (const auto& [n, v] : fields) {
        if (n == name) {
          return v;
        }
      }
      return "";
    }
    bool has(std::string_view name) const {
      return std::any_of(fields.begin(), fields.end(),
                         [&](const auto& f) { return f.first == name; });
    }
  };

  H2Backend() {
    if (pipe(gate_) != 0) {
      gate_[0] = gate_[1] = -1;
    }
    server_ = std::make_unique<ThreadedServer>([this](int fd) { serve(fd); });
  }
  ~H2Backend() {
    server_.reset(); // every connection's thread is joined before the gate goes
    close(gate_[0]);
    close(gate_[1]);
  }
  H2Backend(const H2Backend&) = delete;
  H2Backend& operator=(const H2Backend&) = delete;

  Endpoint endpoint() const { return Endpoint{kLoopback, server_->port()}; }
  // Connections accepted so far.
  int connections() const { return connections_.load(); }
  // Requests whose end (or, refused, whose head) came so far.
  size_t requestCount() const {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_.size();
  }
  std::vector<Request> requests() const {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }
  // Request body bytes (DATA payload) received so far, on every stream.
  size_t bodyBytes() const { return bodyBytes_.load(); }
  // The most request streams ever open at once on one connection.
  int maxStreamsAtOnce() const { return maxStreamsAtOnce_.load(); }
  // PING frames the target sent that came back acknowledged.
  int pingAcks() const { return pingAcks_.load(); }
  // SETTINGS frames the target sent that came back acknowledged.
  int settingsAcks() const { return settingsAcks_.load(); }
  // Lets Held, EndLater, ResetMid and CloseMid go on (once for this backend's life).
  void release() {
    released_ = true;
    char one = 1;
    [[maybe_unused]] ssize_t n = write(gate_[1], &one, 1);
  }

private:
  static constexpr size_t kMaxRecordedBody = 8 << 20;
  static constexpr size_t kMaxRecordedFields = 256;
  static constexpr size_t kMaxRequests = 10'000;

  struct Stream {
    Request request;
    Behaviour behaviour = Behaviour::Echo;
    bool answered = false;             // a response (or a reset) was submitted
    std::string out;                   // the response body
    size_t sent = 0;                   // of out
    size_t holdAt = std::string::npos; // until released, no body past this
    bool deferred = false;             // the body waits for release()
    bool endHeld = false; // until released, the body's last bytes do not end the stream
    bool resumed = false; // released: holdAt and endHeld no longer hold it
    std::vector<std::pair<std::string, std::string>> trailers; // sent after out
  };
  struct Connection {
    H2Backend* backend = nullptr;
    int fd = -1;
    int index = 0;
    nghttp2_session* session = nullptr;
    std::map<int32_t, Stream> streams; // (nodes stay put: the body's source points at one)
    int open = 0;                      // request streams not closed yet
    bool closeNow = false;             // close once what is pending is written
    bool pingWhenIdle = false;         // PING and SETTINGS once no stream is open
    bool pingDue = false;
  };

  static Connection& conn(void* user) { return *static_cast<Connection*>(user); }
  static nghttp2_nv nv(const std::string& name, const std::string& value) {
    return nghttp2_nv{reinterpret_cast<uint8_t*>(const_cast<char*>(name.data())),
                      reinterpret_cast<uint8_t*>(const_cast<char*>(value.data())), name.size(),
                      value.size(), NGHTTP2_NV_FLAG_NONE};
  }

  static int onBeginHeaders(nghttp2_session*, const nghttp2_frame* frame, void* user) {
    Connection& c = conn(user);
    if (frame->hd.type == NGHTTP2_HEADERS && frame->headers.cat == NGHTTP2_HCAT_REQUEST) {
      Stream& st = c.streams[frame->hd.stream_id];
      st.request.connection = c.index;
      st.request.streamId = frame->hd.stream_id;
      ++c.open;
      int seen = c.backend->maxStreamsAtOnce_.load();
      while (c.open > seen && !c.backend->maxStreamsAtOnce_.compare_exchange_weak(seen, c.open)) {
      }
    }
    return 0;
  }

  static int onHeader(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name,
                      size_t nameLength, const uint8_t* value, size_t valueLength, uint8_t,
                      void* user) {
    Connection& c = conn(user);
    auto it = c.streams.find(frame->hd.stream_id);
    if (it == c.streams.end() || frame->hd.type != NGHTTP2_HEADERS) {
      return 0;
    }
    Request& r = it->second.request;
    std::string n(reinterpret_cast<const char*>(name), nameLength);
    std::string v(reinterpret_cast<const char*>(value), valueLength);
    if (frame->headers.cat != NGHTTP2_HCAT_REQUEST) { // a second HEADERS: trailers
      if (r.trailers.size() < kMaxRecordedFields) {
        r.trailers.emplace_back(std::move(n), std::move(v));
      }
    } else if (n == ":method") {
      r.method = v;
    } else if (n == ":path") {
      r.path = v;
    } else if (n == ":authority") {
      r.authority = v;
    } else if (n == ":scheme") {
      r.scheme = v;
    } else if (r.fields.size() < kMaxRecordedFields) {
      r.fields.emplace_back(std::move(n), std::move(v));
    }
    return 0;
  }

  static int onData(nghttp2_session*, uint8_t, int32_t id, const uint8_t* data, size_t size,
                    void* user) {
    Connection& c = conn(user);
    auto it = c.streams.find(id);
    if (it != c.streams.end()) {
      c.backend->bodyBytes_ += size;
      std::string& b = it->second.request.body;
      b.append(reinterpret_cast<const char*>(data), std::min(size, kMaxRecordedBody - b.size()));
    }
    return 0;
  }

  static int onFrameRecv(nghttp2_session* session, const nghttp2_frame* frame, void* user) {
    Connection& c = conn(user);
    const uint8_t type = frame->hd.type;
    if (type == NGHTTP2_PING && (frame->hd.flags & NGHTTP2_FLAG_ACK) != 0) {
      ++c.backend->pingAcks_;
      return 0;
    }
    if (type == NGHTTP2_SETTINGS && (frame->hd.flags & NGHTTP2_FLAG_ACK) != 0) {
      ++c.backend->settingsAcks_;
      return 0;
    }
    if (type != NGHTTP2_HEADERS && type != NGHTTP2_DATA) {
      return 0;
    }
    auto it = c.streams.find(frame->hd.stream_id);
    if (it == c.streams.end() || it->second.answered) {
      return 0;
    }
    Stream& st = it->second;
    if (type == NGHTTP2_HEADERS && frame->headers.cat == NGHTTP2_HCAT_REQUEST) {
      st.behaviour = behaviourFor(st.request.path);
      if (st.behaviour == Behaviour::RefuseOnce && !c.backend->refused_.exchange(true)) {
        st.answered = true;
        st.request.refused = true;
        c.backend->record(st.request);
        nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, frame->hd.stream_id,
                                  NGHTTP2_REFUSED_STREAM);
        return 0;
      }
    }
    if ((frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0) {
      st.answered = true;
      c.backend->record(st.request);
      answer(c, frame->hd.stream_id, st);
    }
    return 0;
  }

  static int onStreamClose(nghttp2_session*, int32_t id, uint32_t, void* user) {
    Connection& c = conn(user);
    if (c.streams.erase(id) != 0) {
      --c.open;
      if (c.open == 0 && c.pingWhenIdle) {
        c.pingWhenIdle = false;
        c.pingDue = true;
      }
    }
    return 0;
  }

  static ssize_t readBody(nghttp2_session* session, int32_t id, uint8_t* buf, size_t length,
                          uint32_t* flags, nghttp2_data_source* source, void*) {
    Stream& st = *static_cast<Stream*>(source->ptr);
    // (Only onReleased lets a held stream go on, so that a stream is held whenever release()
    // comes: ResetMid and CloseMid never send their whole body.)
    size_t limit = st.resumed ? st.out.size() : std::min(st.out.size(), st.holdAt);
    size_t n = std::min(length, limit - st.sent);
    bool endHeld = st.endHeld && !st.resumed;
    if (n == 0 && (st.sent < st.out.size() || endHeld)) {
      st.deferred = true;
      return NGHTTP2_ERR_DEFERRED;
    }
    std::memcpy(buf, st.out.data() + st.sent, n);
    st.sent += n;
    if (st.sent == st.out.size() && !endHeld) {
      *flags |= NGHTTP2_DATA_FLAG_EOF;
      if (!st.trailers.empty()) {
        std::vector<nghttp2_nv> t;
        for (const auto& [name, value] : st.trailers) {
          t.push_back(nv(name, value));
        }
        *flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
        nghttp2_submit_trailer(session, id, t.data(), t.size());
      }
    }
    return ssize_t(n);
  }

  // Submits the answer of a request whose end came.
  static void answer(Connection& c, int32_t id, Stream& st) {
    const Request& r = st.request;
    std::vector<std::pair<std::string, std::string>> head = {{":status", "200"}};
    bool withBody = true;
    switch (st.behaviour) {
    case Behaviour::Grpc:
      head.emplace_back("content-type", "application/grpc");
      st.out = r.body;
      st.trailers = {{"grpc-status", "0"}, {"grpc-message", "all good"}};
      break;
    case Behaviour::TrailersOnly:
      head.emplace_back("content-type", "application/grpc");
      head.emplace_back("grpc-status", "5");
      head.emplace_back("grpc-message", "no such thing");
      withBody = false;
      break;
    case Behaviour::Large:
      st.out.resize(kLargeBytes);
      for (size_t i = 0; i < st.out.size(); ++i) {
        st.out[i] = char('a' + i % 26);
      }
      break;
    case Behaviour::ResetMid:
    case Behaviour::CloseMid:
      st.out.assign(2 * kPartialBytes, 'p');
      st.holdAt = kPartialBytes;
      break;
    case Behaviour::GoawayFirst:
      if (!c.backend->goawayFirstDone_.exchange(true)) {
        nghttp2_submit_goaway(c.session, NGHTTP2_FLAG_NONE, std::max(0, id - 2), NGHTTP2_NO_ERROR,
                              nullptr, 0);
        c.closeNow = true;
        return;
      }
      [[fallthrough]];
    default: // Echo, and the echoes of the others
      head.emplace_back("content-length", std::to_string(r.body.size()));
      head.emplace_back("x-echo-method", r.method);
      head.emplace_back("x-echo-path", r.path);
      st.out = r.body;
      st.holdAt = st.behaviour == Behaviour::Held ? 0 : std::string::npos;
      st.endHeld = st.behaviour == Behaviour::EndLater;
      withBody = !st.out.empty() || st.holdAt == 0 || st.endHeld;
      break;
    }
    std::vector<nghttp2_nv> h;
    for (const auto& [name, value] : head) {
      h.push_back(nv(name, value));
    }
    nghttp2_data_provider body{};
    body.source.ptr = &st;
    body.read_callback = readBody;
    nghttp2_submit_response(c.session, id, h.data(), h.size(), withBody ? &body : nullptr);
    if (st.behaviour == Behaviour::GoawayAfter) {
      nghttp2_submit_goaway(c.session, NGHTTP2_FLAG_NONE, id, NGHTTP2_NO_ERROR, nullptr, 0);
    } else if (st.behaviour == Behaviour::PingWhenIdle) {
      c.pingWhenIdle = true;
    }
  }

  void record(const Request& r) {
    std::lock_guard<std::mutex> lock(mu_);
    if (requests_.size() < kMaxRequests) {
      requests_.push_back(r);
    }
  }

  // Streams whose body waits for release() go on: ResetMid is reset, CloseMid closes the
  // connection, the others resume.
  static void onReleased(Connection& c) {
    for (auto& [id, st] : c.streams) {
      if (!st.deferred) {
        continue;
      }
      st.deferred = false;
      st.resumed = true;
      if (st.behaviour == Behaviour::ResetMid) {
        nghttp2_submit_rst_stream(c.session, NGHTTP2_FLAG_NONE, id, NGHTTP2_INTERNAL_ERROR);
      } else if (st.behaviour == Behaviour::CloseMid) {
        c.closeNow = true;
      } else {
        nghttp2_session_resume_data(c.session, id);
      }
    }
  }
  static bool anyDeferred(const Connection& c) {
    return std::any_of(c.streams.begin(), c.streams.end(),
                       [](const auto& s) { return s.second.deferred; });
  }

  // Writes every frame nghttp2 has; false when the connection failed.
  static bool flush(Connection& c) {
    for (;;) {
      const uint8_t* data = nullptr;
      ssize_t n = nghttp2_session_mem_send(c.session, &data);
      if (n < 0) {
        return false;
      }
      if (n == 0) {
        return true;
      }
      for (ssize_t off = 0; off < n;) {
        ssize_t w = send(c.fd, data + off, size_t(n - off), MSG_NOSIGNAL);
        if (w <= 0) {
          return false;
        }
        off += w;
      }
    }
  }

  void serve(int fd) {
    Connection c;
    c.backend = this;
    c.fd = fd;
    c.index = ++connections_;
    int one = 1; // (small frames go at once: no Nagle delay behind a WINDOW_UPDATE)
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    nghttp2_session_callbacks* callbacks = nullptr;
    nghttp2_session_callbacks_new(&callbacks);
    nghttp2_session_callbacks_set_on_begin_headers_callback(callbacks, onBeginHeaders);
    nghttp2_session_callbacks_set_on_header_callback(callbacks, onHeader);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks, onData);
    nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks, onFrameRecv);
    nghttp2_session_callbacks_set_on_stream_close_callback(callbacks, onStreamClose);
    nghttp2_session_server_new(&c.session, callbacks, &c);
    nghttp2_session_callbacks_del(callbacks);
    nghttp2_settings_entry settings[] = {{NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, 100}};
    nghttp2_submit_settings(c.session, NGHTTP2_FLAG_NONE, settings, 1);
    for (;;) {
      if (released_ && anyDeferred(c)) {
        onReleased(c);
      }
      if (c.pingDue) {
        c.pingDue = false;
        const uint8_t opaque[8] = {'i', 'd', 'l', 'e', 'p', 'i', 'n', 'g'};
        nghttp2_submit_ping(c.session, NGHTTP2_FLAG_NONE, opaque);
        nghttp2_settings_entry again[] = {{NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, 100}};
        nghttp2_submit_settings(c.session, NGHTTP2_FLAG_NONE, again, 1);
      }
      if (!flush(c) || c.closeNow ||
          (nghttp2_session_want_read(c.session) == 0 &&
           nghttp2_session_want_write(c.session) == 0)) {
        break;
      }
      if (c.pingDue || (released_ && anyDeferred(c))) {
        continue; // (the flush closed the last stream, or deferred a body: no input needed)
      }
      pollfd p[2] = {{fd, POLLIN, 0}, {gate_[0], POLLIN, 0}};
      nfds_t count = anyDeferred(c) ? 2 : 1; // (the gate stays readable once released)
      if (poll(p, count, 10'000) <= 0) {
        break; // (10 s without a byte: the test is over)
      }
      if (p[0].revents != 0) {
        uint8_t buf[65536];
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n <= 0 || nghttp2_session_mem_recv(c.session, buf, size_t(n)) < 0) {
          break;
        }
      }
    }
    nghttp2_session_del(c.session);
    shutdown(fd, SHUT_RDWR); // (ThreadedServer closes the descriptor when it stops)
  }

  mutable std::mutex mu_;
  std::vector<Request> requests_; // guarded by mu_
  std::atomic<int> connections_{0};
  std::atomic<int> maxStreamsAtOnce_{0};
  std::atomic<size_t> bodyBytes_{0};
  std::atomic<int> pingAcks_{0};
  std::atomic<int> settingsAcks_{0};
  std::atomic<bool> refused_{false};         // RefuseOnce refused its first
  std::atomic<bool> goawayFirstDone_{false}; // GoawayFirst went away from its first
  std::atomic<bool> released_{false};
  int gate_[2] = {-1, -1};                 // a pipe: readable once released
  std::unique_ptr<ThreadedServer> server_; // made last, stopped first (~H2Backend)
};

} // namespace tide::balancer::test_net
