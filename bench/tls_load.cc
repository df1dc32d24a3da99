// tide-tls-load: a load generator of new TLS connections, one HTTP/1.1 request each, for
// bench/tls_compare.py's tls-new and tls-resume cases.
//
// What it does: --connections connections are kept in flight at once (per thread: the
// connections are divided among --threads threads, each with its own epoll loop). Each one
// connects to --host:--port, makes a TLS handshake (a full one, or with --resume one that offers
// the session ticket its slot received on its previous connection; before the timed run, one
// connection per slot gets the ticket the slot offers on its first: a server may accept a
// TLS 1.3 ticket only once), sends
// `GET --path HTTP/1.1` with `Connection: close`, reads the whole response (Content-Length, or up
// to the end of the connection without one), sends close_notify, closes, and starts the next
// connection at once. It stops after --seconds and prints one line of JSON: completed
// connections, their rate, latency percentiles (from the start of connect() to the response's
// last byte), errors, how many handshakes were resumptions, the protocol, cipher and key
// exchange group of the first handshake, and the CPU time it used itself.
//
// Why not wrk: with `Connection: close` over TLS, wrk keeps one SSL object per connection slot
// and SSL_clear() keeps its session, so every reconnection after the first resumes (an nginx
// access log with $ssl_session_reused shows "r" on all of them): wrk cannot measure full
// handshakes. Why not openssl s_time: it makes one connection at a time (blocking I/O), so it
// measures the round trip, not what the server can do. Why not a Python client: a handshake
// through Python's ssl module costs tens of microseconds of interpreter time on top of the
// cryptography. This is one epoll loop per thread with non-blocking OpenSSL, no allocation per
// connection beyond OpenSSL's own, no certificate chain verification (SSL_VERIFY_NONE; the
// server's CertificateVerify signature is still checked, as TLS requires).
//
// What it costs: a client's side of a full TLS 1.3 handshake with an ECDSA P-256 certificate
// (verifying the signature, X25519) takes more CPU than the server's side (signing), so on a
// machine where the generator has one CPU it can be the limit; bench/tls_compare.py reports
// its CPU per connection and runs a "direct" contender (a TLS server with nothing behind it) to
// show that ceiling.
//
// Exit status: 0 when it ran (errors are counted in the JSON), 2 on bad options or when the
// TLS context cannot be made.
#include <CLI/CLI.hpp>

#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/ssl.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  std::string host = "127.0.0.1";                      // the server's IPv4 address
  int port = 0;                                        // the server's port (required)
  std::string path = "/ok";                            // the request's path
  int connections = 64;                                // connections in flight at once, all threads
  int threads = 1;                                     // epoll loops, each with its own share
  double seconds = 2;                                  // how long to run
  double timeout = 2;                                  // a connection older than this is an error
  bool resume = false;                                 // offer the slot's last session ticket
  std::string sni = "localhost";                       // server name sent; empty: none
  std::string tls = "1.3";                             // protocol version: 1.2 or 1.3
  std::string tls13Ciphers = "TLS_AES_128_GCM_SHA256"; // TLS 1.3 cipher suites offered
  std::string tls12Ciphers = "ECDHE-ECDSA-AES128-GCM-SHA256"; // TLS 1.2 ciphers offered
  std::string groups = "X25519:P-256"; // groups offered (TLS 1.2: the certificate's curve too)
};

enum class Phase {
  Connecting, // connect() in progress -> Handshake
  Handshake,  // SSL_do_handshake until it succeeds -> Writing
  Writing,    // the request being sent -> Reading
  Reading,    // the response being read -> done: the slot starts its next connection
};

struct Slot {
  int fd = -1;
  SSL* ssl = nullptr;
  Phase phase = Phase::Connecting;
  uint32_t events = 0;            // what epoll watches for this fd now
  Clock::time_point start;        // when connect() was called
  SSL_SESSION* session = nullptr; // the newest session this slot received (--resume)
  SSL_SESSION** latest = nullptr; // the newest session any slot of its loop received
  std::string response;           // bytes read so far
  size_t sent = 0;                // request bytes sent
};

struct Tally {
  uint64_t completed = 0;              // responses read whole, any status
  uint64_t non2xx = 0;                 // of those, status not 2xx/3xx
  uint64_t connectErrors = 0;          // connect() failed
  uint64_t tlsErrors = 0;              // handshake failed
  uint64_t ioErrors = 0;               // the connection ended or failed before the response
  uint64_t timeouts = 0;               // no response within --timeout
  uint64_t resumed = 0;                // completed connections whose handshake was a resumption
  std::vector<uint32_t> latencyUs;     // per completed connection
  std::string protocol, cipher, group; // of the first handshake
};

int gSlotIndex = -1; // SSL ex_data index of the Slot* (for the new-session callback)

int onNewSession(SSL* ssl, SSL_SESSION* session) {
  auto* slot = static_cast<Slot*>(SSL_get_ex_data(ssl, gSlotIndex));
  if (slot == nullptr) {
    return 0;
  }
  if (slot->session != nullptr) {
    SSL_SESSION_free(slot->session);
  }
  slot->session = session; // the callback's reference
  if (*slot->latest != nullptr) {
    SSL_SESSION_free(*slot->latest);
  }
  SSL_SESSION_up_ref(session);
  *slot->latest = session;
  return 1;
}

SSL_CTX* makeContext(const Options& o) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  if (ctx == nullptr) {
    return nullptr;
  }
  int version = o.tls == "1.2" ? TLS1_2_VERSION : TLS1_3_VERSION;
  SSL_CTX_set_min_proto_version(ctx, version);
  SSL_CTX_set_max_proto_version(ctx, version);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
  // No chain building at all (SSL_VERIFY_NONE alone still runs X509_verify_cert and ignores
  // its result): the benchmark trusts its own certificate. The CertificateVerify signature is
  // still checked by the handshake itself.
  SSL_CTX_set_cert_verify_callback(
      ctx, [](X509_STORE_CTX*, void*) { return 1; }, nullptr);
  if (SSL_CTX_set_ciphersuites(ctx, o.tls13Ciphers.c_str()) != 1 ||
      SSL_CTX_set_cipher_list(ctx, o.tls12Ciphers.c_str()) != 1 ||
      SSL_CTX_set1_groups_list(ctx, o.groups.c_str()) != 1) {
    SSL_CTX_free(ctx);
    return nullptr;
  }
  if (o.resume) {
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
    SSL_CTX_sess_set_new_cb(ctx, onNewSession);
  } else {
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    // TLS 1.2: no session ticket extension, so no ticket is made. TLS 1.3 servers still send
    // NewSessionTicket (as they do to any client); it is read and dropped.
    SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
  }
  return ctx;
}

class Loop {
public:
  Loop(const Options& o, SSL_CTX* ctx, int connections, Clock::time_point end)
      : o_(o), ctx_(ctx), end_(end), slots_(connections) {
    request_ = "GET " + o.path + " HTTP/1.1\r\nHost: " + o.host + ":" + std::to_string(o.port) +
               "\r\nConnection: close\r\n\r\n";
    addr_.sin_family = AF_INET;
    addr_.sin_port = htons(static_cast<uint16_t>(o.port));
    inet_pton(AF_INET, o.host.c_str(), &addr_.sin_addr);
  }

  ~Loop() {
    if (latest_ != nullptr) {
      SSL_SESSION_free(latest_);
    }
    for (SSL_SESSION* session : kept_) {
      SSL_SESSION_free(session);
    }
  }

  // --resume: the sessions the slots offer until they have their own (references taken).
  // Slot i offers sessions[(offset + i) % size] on its first connection (each slot its own
  // ticket where there are enough: a server may accept a TLS 1.3 ticket only once).
  void seed(const std::vector<SSL_SESSION*>& sessions, size_t offset) {
    if (sessions.empty()) {
      return;
    }
    for (size_t i = 0; i < slots_.size(); ++i) {
      SSL_SESSION* session = sessions[(offset + i) % sessions.size()];
      SSL_SESSION_up_ref(session);
      slots_[i].session = session;
    }
    SSL_SESSION_up_ref(sessions[offset % sessions.size()]);
    latest_ = sessions[offset % sessions.size()];
  }

  // The sessions the slots held when run() ended; the caller owns them.
  std::vector<SSL_SESSION*> takeSessions() { return std::move(kept_); }

  // Runs until the deadline, or until `stopAfter` connections are complete (0: no limit).
  Tally run(uint64_t stopAfter = 0) {
    ep_ = epoll_create1(EPOLL_CLOEXEC);
    for (auto& s : slots_) {
      s.latest = &latest_;
      begin(s);
    }
    std::vector<epoll_event> ready(256);
    while (Clock::now() < end_ && (stopAfter == 0 || t_.completed < stopAfter)) {
      int n = epoll_wait(ep_, ready.data(), static_cast<int>(ready.size()), 50);
      for (int i = 0; i < n; ++i) {
        step(*static_cast<Slot*>(ready[i].data.ptr));
      }
      expire();
    }
    for (auto& s : slots_) { // in flight at the end: not counted
      if (s.ssl != nullptr) {
        // Not a failure: without this, SSL_clear marks the session (whose ticket the slot
        // keeps for its next connection) not resumable.
        SSL_set_shutdown(s.ssl, SSL_SENT_SHUTDOWN);
      }
      finish(s);
      if (s.ssl != nullptr) {
        SSL_free(s.ssl);
        s.ssl = nullptr;
      }
      if (s.session != nullptr) {
        kept_.push_back(s.session);
        s.session = nullptr;
      }
    }
    close(ep_);
    return std::move(t_);
  }

private:
  void begin(Slot& s) {
    if (Clock::now() >= end_) {
      return;
    }
    s.start = Clock::now();
    s.response.clear();
    s.sent = 0;
    s.fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(s.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    s.phase = Phase::Connecting;
    s.events = 0;
    int rc = connect(s.fd, reinterpret_cast<sockaddr*>(&addr_), sizeof addr_);
    if (rc != 0 && errno != EINPROGRESS) {
      ++t_.connectErrors;
      finish(s); // idle until expire() begins it again (no retry loop here)
      return;
    }
    watch(s, EPOLLOUT, true);
  }

  void watch(Slot& s, uint32_t events, bool add = false) {
    if (!add && events == s.events) {
      return;
    }
    epoll_event ev{};
    ev.events = events;
    ev.data.ptr = &s;
    epoll_ctl(ep_, add ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, s.fd, &ev);
    s.events = events;
  }

  // Ends the slot's connection. Its SSL object is kept for the next one (SSL_clear instead of
  // SSL_free and SSL_new, which copies the context's settings each time: in one measurement on
  // a busy machine the client's CPU per full handshake went from about 720 to 640 us).
  void finish(Slot& s) {
    if (s.ssl != nullptr && SSL_clear(s.ssl) != 1) {
      SSL_free(s.ssl);
      s.ssl = nullptr;
    }
    if (s.fd >= 0) {
      close(s.fd); // also removes it from the epoll set
      s.fd = -1;
    }
  }

  void fail(Slot& s, uint64_t& counter) {
    ++counter;
    ERR_clear_error();
    finish(s);
    begin(s);
  }

  // Waits for what OpenSSL asked for; false when the error is not a want.
  bool wantOrFail(Slot& s, int rc, uint64_t& counter) {
    int e = SSL_get_error(s.ssl, rc);
    if (e == SSL_ERROR_WANT_READ) {
      watch(s, EPOLLIN);
      return true;
    }
    if (e == SSL_ERROR_WANT_WRITE) {
      watch(s, EPOLLOUT);
      return true;
    }
    fail(s, counter);
    return false;
  }

  void step(Slot& s) {
    if (s.phase == Phase::Connecting) {
      int err = 0;
      socklen_t len = sizeof err;
      getsockopt(s.fd, SOL_SOCKET, SO_ERROR, &err, &len);
      if (err != 0) {
        fail(s, t_.connectErrors);
        return;
      }
      if (s.ssl == nullptr) {
        s.ssl = SSL_new(ctx_);
        SSL_set_ex_data(s.ssl, gSlotIndex, &s);
      }
      SSL_set_fd(s.ssl, s.fd);
      if (!o_.sni.empty()) {
        SSL_set_tlsext_host_name(s.ssl, o_.sni.c_str());
      }
      // SSL_clear keeps the last session: a full handshake needs it dropped. A slot that has
      // none yet (its first connection) offers the loop's newest.
      SSL_SESSION* offer = o_.resume ? (s.session != nullptr ? s.session : latest_) : nullptr;
      SSL_set_session(s.ssl, offer);
      SSL_set_connect_state(s.ssl);
      s.phase = Phase::Handshake;
    }
    if (s.phase == Phase::Handshake) {
      int rc = SSL_do_handshake(s.ssl);
      if (rc != 1) {
        wantOrFail(s, rc, t_.tlsErrors);
        return;
      }
      if (t_.protocol.empty()) {
        t_.protocol = SSL_get_version(s.ssl);
        t_.cipher = SSL_get_cipher_name(s.ssl);
        int nid = SSL_get_negotiated_group(s.ssl);
        const char* name = nid != 0 ? OBJ_nid2sn(nid & ~TLSEXT_nid_unknown) : nullptr;
        t_.group = name != nullptr ? name : "?";
      }
      s.phase = Phase::Writing;
    }
    if (s.phase == Phase::Writing) {
      while (s.sent < request_.size()) {
        int rc =
            SSL_write(s.ssl, request_.data() + s.sent, static_cast<int>(request_.size() - s.sent));
        if (rc <= 0) {
          wantOrFail(s, rc, t_.ioErrors);
          return;
        }
        s.sent += static_cast<size_t>(rc);
      }
      s.phase = Phase::Reading;
    }
    // Reading
    char buf[16384];
    for (;;) {
      int rc = SSL_read(s.ssl, buf, sizeof buf);
      if (rc > 0) {
        s.response.append(buf, static_cast<size_t>(rc));
        if (complete(s, false)) {
          return;
        }
        continue;
      }
      int e = SSL_get_error(s.ssl, rc);
      if (e == SSL_ERROR_ZERO_RETURN || e == SSL_ERROR_SYSCALL) {
        if (!complete(s, true)) {
          fail(s, t_.ioErrors);
        }
        return;
      }
      wantOrFail(s, rc, t_.ioErrors);
      return;
    }
  }

  // True when the response in s is whole (then the connection is done and the next begun).
  bool complete(Slot& s, bool ended) {
    size_t head = s.response.find("\r\n\r\n");
    if (head == std::string::npos) {
      return false;
    }
    size_t length = std::string::npos;
    size_t at = 0;
    while ((at = s.response.find('\n', at)) != std::string::npos && at < head) {
      ++at;
      if (strncasecmp(s.response.c_str() + at, "content-length:", 15) == 0) {
        length = std::strtoul(s.response.c_str() + at + 15, nullptr, 10);
      }
    }
    size_t body = s.response.size() - head - 4;
    if (length == std::string::npos ? !ended : body < length) {
      return false;
    }
    auto us = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - s.start);
    int status = std::atoi(s.response.c_str() + s.response.find(' ') + 1);
    ++t_.completed;
    if (status < 200 || status >= 400) {
      ++t_.non2xx;
    }
    if (SSL_session_reused(s.ssl)) {
      ++t_.resumed;
    }
    t_.latencyUs.push_back(static_cast<uint32_t>(us.count()));
    SSL_shutdown(s.ssl); // close_notify, not waiting for the server's
    finish(s);
    begin(s);
    return true;
  }

  void expire() {
    auto now = Clock::now();
    auto limit = std::chrono::duration<double>(o_.timeout);
    for (auto& s : slots_) {
      if (s.fd >= 0 && now - s.start > limit) {
        fail(s, t_.timeouts);
      } else if (s.fd < 0) {
        begin(s); // its connect() failed at once
      }
    }
  }

  const Options& o_;
  SSL_CTX* ctx_;
  Clock::time_point end_;
  std::vector<Slot> slots_;
  std::string request_;
  sockaddr_in addr_{};
  int ep_ = -1;
  Tally t_;
  SSL_SESSION* latest_ = nullptr;  // the newest session of any slot (--resume)
  std::vector<SSL_SESSION*> kept_; // the slots' sessions when run() ended
};

double percentileMs(const std::vector<uint32_t>& sorted, double p) {
  if (sorted.empty()) {
    return 0;
  }
  size_t i = static_cast<size_t>(p / 100.0 * static_cast<double>(sorted.size() - 1) + 0.5);
  return sorted[std::min(i, sorted.size() - 1)] / 1000.0;
}

} // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{"tide-tls-load: new TLS connections, one HTTP/1.1 request each (see the comment "
               "at the top of bench/tls_load.cc)"};
  app.add_option("--host", o.host, "server IPv4 address");
  app.add_option("--port", o.port, "server port")->required();
  app.add_option("--path", o.path, "request path");
  app.add_option("-c,--connections", o.connections, "connections in flight at once");
  app.add_option("-t,--threads", o.threads, "epoll threads");
  app.add_option("-d,--seconds", o.seconds, "duration in seconds");
  app.add_option("--timeout", o.timeout, "seconds before a connection counts as a timeout");
  app.add_flag("--resume", o.resume, "resume: offer the slot's last session ticket");
  app.add_option("--sni", o.sni, "server name to send (empty: none)");
  app.add_option("--tls", o.tls, "protocol version")->check(CLI::IsMember({"1.2", "1.3"}));
  app.add_option("--tls13-ciphers", o.tls13Ciphers, "TLS 1.3 cipher suites");
  app.add_option("--ciphers", o.tls12Ciphers, "TLS 1.2 cipher list");
  app.add_option("--groups", o.groups, "key exchange groups");
  CLI11_PARSE(app, argc, argv);
  if (o.connections < 1 || o.threads < 1 || o.threads > o.connections || o.seconds <= 0) {
    std::fprintf(stderr, "need connections >= threads >= 1 and seconds > 0\n");
    return 2;
  }
  in_addr probe{};
  if (inet_pton(AF_INET, o.host.c_str(), &probe) != 1) {
    std::fprintf(stderr, "--host must be an IPv4 address\n");
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  gSlotIndex = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  SSL_CTX* ctx = makeContext(o);
  if (ctx == nullptr) {
    ERR_print_errors_fp(stderr);
    std::fprintf(stderr, "cannot make the TLS context (ciphers or groups?)\n");
    return 2;
  }

  // --resume: before the timed run, as many connections as slots, whose sessions the slots offer
  // on their first connections (else each slot's first connection would be a full handshake).
  std::vector<SSL_SESSION*> primed;
  if (o.resume) {
    Loop primer(o, ctx, o.connections, Clock::now() + std::chrono::seconds(5));
    primer.run(static_cast<uint64_t>(o.connections));
    primed = primer.takeSessions();
  }

  auto start = Clock::now();
  auto end =
      start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.seconds));
  std::vector<Tally> tallies(static_cast<size_t>(o.threads));
  std::vector<std::thread> threads;
  for (int i = 0; i < o.threads; ++i) {
    int share = o.connections / o.threads + (i < o.connections % o.threads ? 1 : 0);
    threads.emplace_back([&, i, share] {
      Loop loop(o, ctx, share, end);
      loop.seed(primed, static_cast<size_t>(i) * static_cast<size_t>(o.connections / o.threads));
      tallies[static_cast<size_t>(i)] = loop.run();
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  double cpu = static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
               static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;

  Tally all;
  for (auto& t : tallies) {
    all.completed += t.completed;
    all.non2xx += t.non2xx;
    all.connectErrors += t.connectErrors;
    all.tlsErrors += t.tlsErrors;
    all.ioErrors += t.ioErrors;
    all.timeouts += t.timeouts;
    all.resumed += t.resumed;
    all.latencyUs.insert(all.latencyUs.end(), t.latencyUs.begin(), t.latencyUs.end());
    if (all.protocol.empty()) {
      all.protocol = t.protocol;
      all.cipher = t.cipher;
      all.group = t.group;
    }
  }
  std::sort(all.latencyUs.begin(), all.latencyUs.end());
  std::printf(
      "{\"completed\": %llu, \"seconds\": %.3f, \"rate\": %.1f, \"p50_ms\": %.3f, "
      "\"p99_ms\": %.3f, \"max_ms\": %.3f, \"non2xx\": %llu, \"connect_errors\": %llu, "
      "\"tls_errors\": %llu, \"io_errors\": %llu, \"timeouts\": %llu, \"resumed\": %llu, "
      "\"client_cpu_s\": %.3f, \"protocol\": \"%s\", \"cipher\": \"%s\", "
      "\"group\": \"%s\"}\n",
      static_cast<unsigned long long>(all.completed), elapsed,
      static_cast<double>(all.completed) / elapsed, percentileMs(all.latencyUs, 50),
      percentileMs(all.latencyUs, 99), percentileMs(all.latencyUs, 100),
      static_cast<unsigned long long>(all.non2xx),
      static_cast<unsigned long long>(all.connectErrors),
      static_cast<unsigned long long>(all.tlsErrors), static_cast<unsigned long long>(all.ioErrors),
      static_cast<unsigned long long>(all.timeouts), static_cast<unsigned long long>(all.resumed),
      cpu, all.protocol.c_str(), all.cipher.c_str(), all.group.c_str());
  for (SSL_SESSION* session : primed) {
    SSL_SESSION_free(session);
  }
  SSL_CTX_free(ctx);
  return 0;
}
