#include "cli/support.h"

#include "common/text.h"

#include <cstdio>
#include <cstdlib>

namespace tide::cli {

[[noreturn]] void die(const Status& s) {
  std::fprintf(stderr, "tide: %s: %s\n", s.code().c_str(), s.message().c_str());
  std::exit(s.code() == "EndpointConnectionError" ? 3 : 1);
}

// "KEY=VALUE" → {key, value}.
std::pair<std::string, std::string> keyValue(const std::string& s, const char* what) {
  size_t eq = s.find('=');
  if (eq == std::string::npos || eq == 0) {
    die(validationError(std::string(what) + " '" + s + "' must be KEY=VALUE"));
  }
  return {s.substr(0, eq), s.substr(eq + 1)};
}

Json tagSpecs(const std::vector<std::string>& tags, const char* resourceType) {
  if (tags.empty()) {
    return nullptr;
  }
  Json list = Json::array();
  for (const auto& t : tags) {
    auto [k, v] = keyValue(t, "--tag");
    list.push_back({{"Key", k}, {"Value", v}});
  }
  return Json::array({{{"ResourceType", resourceType}, {"Tags", list}}});
}

std::string readUserData(const std::string& path) {
  auto content = readFile(path);
  if (!content) {
    die(validationError("cannot read the user data file '" + path + "'"));
  }
  return base64Encode(*content);
}

std::string bytes(int64_t n) {
  if (n < 0) {
    return "-";
  }
  char buf[32];
  if (n >= 1024 * 1024 * 1024) {
    snprintf(buf, sizeof buf, "%.1fG", n / (1024.0 * 1024 * 1024));
  } else if (n >= 1024 * 1024) {
    snprintf(buf, sizeof buf, "%.1fM", n / (1024.0 * 1024));
  } else if (n >= 1024) {
    snprintf(buf, sizeof buf, "%.1fK", n / 1024.0);
  } else {
    snprintf(buf, sizeof buf, "%lldB", static_cast<long long>(n));
  }
  return buf;
}

std::string str(const Json& j, const char* key, const char* dflt) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) {
    return dflt;
  }
  if (it->is_string()) {
    return it->get<std::string>();
  }
  return it->dump();
}

SignalScope::SignalScope(void (*handler)(int)) {
  struct sigaction sa {};
  sa.sa_handler = handler;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, &oldInt_);
  sigaction(SIGTERM, &sa, &oldTerm_);
}

SignalScope::~SignalScope() {
  sigaction(SIGINT, &oldInt_, nullptr);
  sigaction(SIGTERM, &oldTerm_, nullptr);
}

} // namespace tide::cli
