// `tide balance`: the engine over fixed targets, in the foreground, until SIGTERM or SIGINT.
//
//   tide balance --port P --targets HOST:PORT[,HOST:PORT...] [--host H] [--threads N]
//                [--algorithm NAME] [--forwarded-headers] [--desync-mitigation-mode MODE]
//                [--idle-timeout S] [--request-header-timeout S] [--max-uri-bytes N]
//                [--max-request-body-bytes N] [--max-connections N]
//                [--max-connections-per-client N] [--access-log FILE]
//                [--max-concurrency adaptive|N] [--queue-length N] [--queue-timeout-ms N]
//                [--https-cert FILE --https-key FILE [--ssl-policy NAME]]
//                [--protocol-version HTTP1|HTTP2|GRPC]
//
// Prints exactly one line once it listens. Scripts (and the proxy benchmark) rely on this.
#include "balancer/balance_main.h"

#include "balancer/balancer.h"
#include "balancer/endpoint.h"
#include "balancer/lb_algorithm.h"
#include "balancer/tls_context.h"
#include "model/ssl_policies.h"

#include <CLI/CLI.hpp>
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace tide::balancer {
namespace {

int usageError(const std::string& message) {
  std::fprintf(stderr, "tide balance: UsageError: %s (see tide balance --help)\n", message.c_str());
  return 2;
}

// "HOST:PORT" with a numeric IPv4 address or a name resolved once, now (start-up may block).
Result<Endpoint> resolveEndpoint(const std::string& text, bool allowZeroPort) {
  Result<Endpoint> numeric = parseEndpoint(text, allowZeroPort);
  if (numeric) {
    return numeric;
  }
  size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    return numeric.status();
  }
  addrinfo hints{};
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (getaddrinfo(text.substr(0, colon).c_str(), nullptr, &hints, &res) != 0 || res == nullptr) {
    return numeric.status();
  }
  uint32_t address = ntohl(reinterpret_cast<sockaddr_in*>(res->ai_addr)->sin_addr.s_addr);
  freeaddrinfo(res);
  Result<Endpoint> withPort = parseEndpoint("0.0.0.0" + text.substr(colon), allowZeroPort);
  TIDE_RETURN_IF_ERROR(withPort.status());
  withPort->address = address;
  return withPort;
}

// With --port 0: a free port, held by a bound (not listening) SO_REUSEPORT socket that the
// workers' listeners join; it gets no connections itself.
int reservePort(const Endpoint& host, uint16_t* port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(host.address);
  socklen_t len = sizeof addr;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    close(fd);
    return -1;
  }
  *port = ntohs(addr.sin_port);
  return fd;
}

// A whole file, or nullopt when it cannot be read.
std::optional<std::string> readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return std::nullopt;
  }
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// An HTTPS listener's TLS side from a certificate (with its chain), its key and a security
// policy (model/ssl_policies.h), as the publisher makes it for an ALB listener.
TlsConfig tlsConfig(const model::SslPolicy& policy, std::string certificatePem,
                    std::string keyPem) {
  TlsConfig out;
  out.policyName = std::string(policy.name);
  TlsCertificate c;
  // (no ARN: the access log's chosen_cert_arn is "-")
  c.certificatePem = std::move(certificatePem);
  c.privateKeyPem = std::move(keyPem);
  out.certificates.push_back(std::move(c));
  out.minVersion = 0xffff;
  out.maxVersion = 0;
  for (std::string_view p : policy.protocols) {
    uint16_t v = p == "TLSv1" ? 0x0301 : p == "TLSv1.1" ? 0x0302 : p == "TLSv1.2" ? 0x0303 : 0x0304;
    out.minVersion = std::min(out.minVersion, v);
    out.maxVersion = std::max(out.maxVersion, v);
  }
  for (std::string_view cipher : policy.ciphers) {
    std::string& list = cipher.starts_with("TLS_") ? out.cipherSuites : out.cipherList;
    list += list.empty() ? "" : ":";
    list += cipher;
  }
  return out;
}

} // namespace

int balanceMain(int argc, char** argv) {
  CLI::App app("Runs tide's load balancer engine over fixed targets, in the foreground, until "
               "SIGTERM or SIGINT.",
               "tide balance");
  std::string host = "127.0.0.1";
  int port = -1;
  std::string targets;
  unsigned threads = 1;
  std::string algorithm = "round_robin";
  bool forwardedHeaders = false;
  std::string desyncMode = "defensive";
  LoadBalancer defaults; // limits as a load balancer has them by default
  double idleTimeout = defaults.idleTimeout.count() / 1000.0;
  double headerTimeout = defaults.requestHeaderTimeout.count() / 1000.0;
  uint32_t maxUriBytes = defaults.maxUriBytes;
  uint64_t maxBodyBytes = defaults.maxRequestBodyBytes;
  uint32_t maxConnections = defaults.maxConnectionsPerListener;
  uint32_t maxConnectionsPerClient = defaults.maxConnectionsPerClient;
  std::string accessLog;
  TargetGroup groupDefaults; // overload protection as a target group has it by default
  std::string maxConcurrency = "adaptive"; // groupDefaults.maxConcurrency
  uint32_t queueLength = groupDefaults.queueMaxLength;
  int64_t queueTimeoutMs = groupDefaults.queueTimeout.count();
  std::string httpsCert;
  std::string httpsKey;
  std::string sslPolicy = "ELBSecurityPolicy-TLS13-1-2-2021-06";
  app.add_option("--host", host, "Address to listen on (IPv4)")->capture_default_str();
  app.add_option("--port", port, "Port to listen on (0: any free port)")->required();
  app.add_option("--targets", targets, "Targets, HOST:PORT[,HOST:PORT...]")->required();
  app.add_option("--threads", threads, "Worker threads (0: one per core)")->capture_default_str();
  app.add_option("--algorithm", algorithm,
                 "round_robin, least_outstanding_requests or weighted_random")
      ->capture_default_str();
  app.add_flag("--forwarded-headers", forwardedHeaders,
               "Add X-Forwarded-For/-Proto/-Port to requests (off: forward requests unchanged)");
  app.add_option("--desync-mitigation-mode", desyncMode,
                 "monitor, defensive or strictest (docs/load-balancer.md, Desync protection)")
      ->capture_default_str();
  app.add_option("--idle-timeout", idleTimeout,
                 "Seconds a client connection may stay idle between requests")
      ->capture_default_str();
  app.add_option("--request-header-timeout", headerTimeout,
                 "Seconds a client has to send a whole request head (else 408 and close)")
      ->capture_default_str();
  app.add_option("--max-uri-bytes", maxUriBytes, "Longest request target (longer: 414)")
      ->capture_default_str();
  app.add_option("--max-request-body-bytes", maxBodyBytes,
                 "Largest request body (larger: 413); 0: unlimited")
      ->capture_default_str();
  app.add_option("--max-connections", maxConnections,
                 "Client connections on the listener; at the bound the oldest idle ones close "
                 "for new ones, and with none idle new ones are closed at once")
      ->capture_default_str();
  app.add_option("--max-connections-per-client", maxConnectionsPerClient,
                 "The same bound for one client address (0: a quarter of --max-connections)")
      ->capture_default_str();
  app.add_option("--access-log", accessLog,
                 "Append an ALB-format access log entry per request to FILE (off when empty)");
  app.add_option("--max-concurrency", maxConcurrency,
                 "Requests outstanding on one target at most (tide.target.max_concurrency): "
                 "adaptive (follows its latency), a number, or 0: unlimited")
      ->capture_default_str();
  app.add_option("--queue-length", queueLength,
                 "Requests waiting for a target slot, per worker (tide.queue.max_length)")
      ->capture_default_str();
  app.add_option("--queue-timeout-ms", queueTimeoutMs,
                 "A request waiting this long gets 503 (tide.queue.timeout_ms)")
      ->capture_default_str();
  app.add_option(
      "--https-cert", httpsCert,
      "Serve HTTPS (TLS) instead of HTTP with this PEM certificate (its chain after it)");
  app.add_option("--https-key", httpsKey, "The PEM private key of --https-cert");
  std::string protocolVersion = "HTTP1";
  app.add_option("--protocol-version", protocolVersion,
                 "How the targets speak (a target group's ProtocolVersion): HTTP1, or HTTP2 / "
                 "GRPC for HTTP/2 with prior knowledge (h2c); HTTP2 and GRPC take requests that "
                 "came over HTTP/2 only (HTTPS with ALPN h2), others get 464")
      ->capture_default_str();
  app.add_option("--ssl-policy", sslPolicy,
                 "With --https-cert: the ALB security policy (protocols and ciphers), by name "
                 "(aws elbv2 describe-ssl-policies lists them)")
      ->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    std::fputs(app.help().c_str(), stdout);
    return 0;
  } catch (const CLI::ParseError& e) {
    return usageError(e.what());
  }
  if (port < 0 || port > 65535) {
    return usageError("--port must be within 0..65535");
  }
  if (findLbAlgorithm(algorithm) == nullptr) {
    return usageError("unknown --algorithm '" + algorithm +
                      "' (round_robin, least_outstanding_requests, weighted_random)");
  }
  std::optional<DesyncMitigationMode> mode = parseDesyncMitigationMode(desyncMode);
  if (!mode) {
    return usageError("--desync-mitigation-mode must be monitor, defensive or strictest, got '" +
                      desyncMode + "'");
  }
  if (!(idleTimeout >= 0.001 && idleTimeout <= 4000)) {
    return usageError("--idle-timeout must be within 0.001..4000 seconds");
  }
  if (!(headerTimeout >= 0.001 && headerTimeout <= 4000)) {
    return usageError("--request-header-timeout must be within 0.001..4000 seconds");
  }
  if (maxUriBytes < 1 || maxConnections < 1) {
    return usageError("--max-uri-bytes and --max-connections must be at least 1");
  }
  uint32_t concurrency = groupDefaults.maxConcurrency;
  if (maxConcurrency != "adaptive") {
    char* end = nullptr;
    unsigned long n = std::strtoul(maxConcurrency.c_str(), &end, 10);
    if (maxConcurrency.empty() || *end != '\0' || maxConcurrency[0] == '-' || n > 100000) {
      return usageError("--max-concurrency must be adaptive or 0..100000, got '" + maxConcurrency +
                        "'");
    }
    concurrency = static_cast<uint32_t>(n);
  }
  if (queueTimeoutMs < 1 || queueTimeoutMs > 600000) {
    return usageError("--queue-timeout-ms must be within 1..600000");
  }
  if (protocolVersion != "HTTP1" && protocolVersion != "HTTP2" && protocolVersion != "GRPC") {
    return usageError("--protocol-version must be HTTP1, HTTP2 or GRPC, got '" + protocolVersion +
                      "'");
  }
  if (httpsCert.empty() != httpsKey.empty()) {
    return usageError("--https-cert and --https-key go together");
  }
  const model::SslPolicy* policy = model::findSslPolicy(sslPolicy);
  if (policy == nullptr) {
    return usageError("unknown --ssl-policy '" + sslPolicy + "'");
  }
  std::optional<TlsConfig> tls;
  if (!httpsCert.empty()) {
    std::optional<std::string> certificatePem = readFile(httpsCert);
    std::optional<std::string> keyPem = readFile(httpsKey);
    if (!certificatePem || !keyPem) {
      return usageError("cannot read " + (!certificatePem ? httpsCert : httpsKey));
    }
    tls = tlsConfig(*policy, std::move(*certificatePem), std::move(*keyPem));
    auto contexts = TlsContexts::build(*tls); // a refused certificate fails here, said
    if (!contexts) {
      std::fprintf(stderr, "tide balance: %s and %s: %s\n", httpsCert.c_str(), httpsKey.c_str(),
                   contexts.status().toString().c_str());
      return 1;
    }
  }
  Result<uint32_t> hostAddress = parseIpv4(host);
  if (!hostAddress) {
    return usageError("--host: " + hostAddress.status().message());
  }

  auto snapshot = std::make_shared<Snapshot>();
  snapshot->version = 1;
  TargetGroup group;
  group.name = "balance";
  group.algorithm = algorithm;
  group.maxConcurrency = concurrency;
  group.queueMaxLength = queueLength;
  group.queueTimeout = std::chrono::milliseconds(queueTimeoutMs);
  group.protocolVersion = protocolVersion == "GRPC"    ? ProtocolVersion::Grpc
                          : protocolVersion == "HTTP2" ? ProtocolVersion::Http2
                                                       : ProtocolVersion::Http1;
  size_t begin = 0;
  while (begin <= targets.size()) {
    size_t comma = targets.find(',', begin);
    std::string item =
        targets.substr(begin, comma == std::string::npos ? std::string::npos : comma - begin);
    if (!item.empty()) {
      Result<Endpoint> e = resolveEndpoint(item, false);
      if (!e) {
        return usageError("--targets: " + e.status().message());
      }
      Target t;
      t.id = item;
      t.endpoint = *e;
      t.slot = static_cast<uint32_t>(group.targets.size());
      group.targets.push_back(std::move(t));
    }
    if (comma == std::string::npos) {
      break;
    }
    begin = comma + 1;
  }
  if (group.targets.empty()) {
    return usageError("--targets lists no target");
  }
  size_t targetCount = group.targets.size();
  snapshot->targetGroups.push_back(std::move(group));

  int reserved = -1;
  uint16_t listenPort = static_cast<uint16_t>(port);
  if (port == 0) {
    reserved = reservePort(Endpoint{*hostAddress, 0}, &listenPort);
    if (reserved < 0) {
      std::fprintf(stderr, "tide balance: cannot find a free port on %s\n", host.c_str());
      return 1;
    }
  }
  LoadBalancer lb;
  lb.name = "balance";
  lb.addForwardedHeaders = forwardedHeaders;
  lb.desyncMitigationMode = *mode;
  lb.idleTimeout = std::chrono::milliseconds(int64_t(idleTimeout * 1000));
  lb.requestHeaderTimeout = std::chrono::milliseconds(int64_t(headerTimeout * 1000));
  lb.maxUriBytes = maxUriBytes;
  lb.maxRequestBodyBytes = maxBodyBytes;
  lb.maxConnectionsPerListener = maxConnections;
  lb.maxConnectionsPerClient = maxConnectionsPerClient;
  lb.accessLogPath = accessLog;
  Listener listener;
  listener.endpoint = Endpoint{*hostAddress, listenPort};
  if (tls) {
    listener.https = true;
    listener.tls = std::move(*tls);
  }
  lb.listeners.push_back(listener);
  snapshot->loadBalancers.push_back(std::move(lb));

  // Block the signals before any thread starts, so that only sigwait below receives them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  BalancerOptions options;
  options.threads = threads;
  options.capacity.targets = std::max<uint32_t>(options.capacity.targets, uint32_t(targetCount));
  Balancer balancer(options);
  Status st = balancer.apply(snapshot);
  if (st.isOk()) {
    st = balancer.start();
  }
  if (!st.isOk()) {
    std::fprintf(stderr, "tide balance: %s\n", st.toString().c_str());
    return 1;
  }
  std::printf("tide balance listening on %s:%u (%u thread%s, %s, %zu target%s%s%s)\n", host.c_str(),
              unsigned(listenPort), balancer.threadCount(), balancer.threadCount() == 1 ? "" : "s",
              algorithm.c_str(), targetCount, targetCount == 1 ? "" : "s",
              httpsCert.empty() ? "" : ", https ", httpsCert.empty() ? "" : sslPolicy.c_str());
  std::fflush(stdout);

  int received = 0;
  while (sigwait(&signals, &received) != 0) {
  }
  balancer.stop();
  if (reserved >= 0) {
    close(reserved);
  }
  return 0;
}

} // namespace tide::balancer
