#include "http1/target.h"

#include "http1/chars.h"

namespace tide::http1 {
namespace {

bool isAlpha(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

bool isDigit(unsigned char c) {
  return c >= '0' && c <= '9';
}

// Whether s is only characters of `table` (or `extra`) and percent-encodings.
bool onlyEncoded(std::string_view s, const std::array<bool, 256>& table, char extra = 0) {
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (table[c] || (extra != 0 && s[i] == extra)) {
      continue;
    }
    if (c != '%' || i + 2 >= s.size() || kChars.hex[static_cast<unsigned char>(s[i + 1])] < 0 ||
        kChars.hex[static_cast<unsigned char>(s[i + 2])] < 0) {
      return false;
    }
    i += 2;
  }
  return true;
}

bool isPort(std::string_view s) {
  for (char c : s) {
    if (!isDigit(static_cast<unsigned char>(c))) {
      return false;
    }
  }
  return true;
}

// host [ ":" port ] where host is "[" IP-literal "]" or a reg-name / IPv4 address; `needPort`:
// the port must be there (authority-form).
bool isHostPort(std::string_view s, bool needPort) {
  std::string_view host = s, port;
  bool hasPort = false;
  if (!s.empty() && s[0] == '[') {
    size_t close = s.find(']');
    if (close == std::string_view::npos || close < 2) {
      return false;
    }
    for (char c : s.substr(1, close - 1)) {
      unsigned char u = static_cast<unsigned char>(c);
      if (kChars.hex[u] < 0 && u != ':' && u != '.' && !kChars.regName[u]) {
        return false; // IPv6address or IPvFuture
      }
    }
    std::string_view rest = s.substr(close + 1);
    if (!rest.empty() && rest[0] != ':') {
      return false;
    }
    hasPort = !rest.empty();
    port = hasPort ? rest.substr(1) : rest;
    host = {};
  } else {
    size_t colon = s.find(':');
    if (colon != std::string_view::npos) {
      host = s.substr(0, colon);
      port = s.substr(colon + 1);
      hasPort = true;
    }
    if (!onlyEncoded(host, kChars.regName)) {
      return false;
    }
  }
  if (needPort && (!hasPort || port.empty() || (host.empty() && s[0] != '['))) {
    return false;
  }
  return isPort(port);
}

// scheme ":" hier-part [ "?" query ] (RFC 3986 absolute-URI).
bool isAbsoluteForm(std::string_view t) {
  size_t colon = t.find(':');
  if (colon == 0 || colon == std::string_view::npos || !isAlpha(static_cast<unsigned char>(t[0]))) {
    return false;
  }
  for (char c : t.substr(1, colon - 1)) {
    unsigned char u = static_cast<unsigned char>(c);
    if (!isAlpha(u) && !isDigit(u) && u != '+' && u != '-' && u != '.') {
      return false;
    }
  }
  std::string_view rest = t.substr(colon + 1);
  if (rest.substr(0, 2) == "//") {
    rest.remove_prefix(2);
    size_t end = rest.find_first_of("/?");
    std::string_view authority = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end);
    size_t at = authority.rfind('@');
    if (at != std::string_view::npos) {
      if (!onlyEncoded(authority.substr(0, at), kChars.regName, ':')) {
        return false; // userinfo
      }
      authority.remove_prefix(at + 1);
    }
    if (!isHostPort(authority, false)) {
      return false;
    }
  }
  return onlyEncoded(rest, kChars.path);
}

} // namespace

bool isValidRequestTarget(std::string_view method, std::string_view target) {
  if (target.empty()) {
    return false;
  }
  if (method == "CONNECT") {
    return isHostPort(target, true);
  }
  if (target == "*") {
    return method == "OPTIONS";
  }
  if (target[0] == '/') {
    return onlyEncoded(target, kChars.path);
  }
  return isAbsoluteForm(target);
}

bool isValidHost(std::string_view value) {
  return value.empty() || isHostPort(value, false);
}

} // namespace tide::http1
