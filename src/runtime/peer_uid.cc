#include "runtime/peer_uid.h"

#include "common/text.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <charconv>
#include <cstdio>
#include <cstring>
#include <vector>

namespace tide::runtime {

namespace {

// The "ADDR:PORT" text the kernel prints for a socket address: each 32-bit word of the address
// as the host holds it, in %08X, and the port in %04X.
std::optional<std::string> kernelForm(const std::string& peer) {
  size_t colon = peer.rfind(':');
  if (colon == std::string::npos) {
    return std::nullopt;
  }
  std::string host = peer.substr(0, colon);
  unsigned port = 0;
  auto [p, ec] = std::from_chars(peer.data() + colon + 1, peer.data() + peer.size(), port);
  if (ec != std::errc() || p != peer.data() + peer.size() || port > 65535) {
    return std::nullopt;
  }
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  char text[64];
  in_addr a4;
  in6_addr a6;
  if (inet_pton(AF_INET, host.c_str(), &a4) == 1) {
    uint32_t w;
    memcpy(&w, &a4, 4);
    snprintf(text, sizeof text, "%08X:%04X", w, port);
    return std::string(text);
  }
  if (inet_pton(AF_INET6, host.c_str(), &a6) == 1) {
    uint32_t w[4];
    memcpy(w, &a6, 16);
    snprintf(text, sizeof text, "%08X%08X%08X%08X:%04X", w[0], w[1], w[2], w[3], port);
    return std::string(text);
  }
  return std::nullopt;
}

} // namespace

std::optional<uid_t> socketOwnerIn(std::string_view table, const std::string& peer) {
  auto want = kernelForm(peer);
  if (!want) {
    return std::nullopt;
  }
  std::optional<uid_t> found;
  bool first = true;
  for (const std::string& line : splitString(table, '\n')) {
    if (first) {
      first = false; // the header
      continue;
    }
    std::vector<std::string> f;
    for (std::string& w : splitString(trim(line), ' ')) {
      if (!w.empty()) {
        f.push_back(std::move(w));
      }
    }
    // sl local rem st tx:rx tr:when retrnsmt uid ...
    if (f.size() < 8 || f[1] != *want) {
      continue;
    }
    uid_t uid = 0;
    auto [p, ec] = std::from_chars(f[7].data(), f[7].data() + f[7].size(), uid);
    if (ec != std::errc() || p != f[7].data() + f[7].size()) {
      continue;
    }
    if (found && *found != uid) {
      return std::nullopt; // ambiguous
    }
    found = uid;
  }
  return found;
}

std::optional<uid_t> loopbackPeerUid(const std::string& peer) {
  const bool v6 = !peer.empty() && peer.front() == '[';
  auto table = readFile(v6 ? "/proc/net/tcp6" : "/proc/net/tcp");
  if (!table) {
    return std::nullopt;
  }
  return socketOwnerIn(*table, peer);
}

} // namespace tide::runtime
