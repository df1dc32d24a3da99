// What the CLI's commands share: the outcome of a command (its AWS-shaped JSON and how to show
// it as a table), dying with one error line, and small formatting helpers.
#pragma once

#include "cli/client.h"
#include "common/status.h"

#include <csignal>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace tide::cli {

struct Globals {
  std::string endpoint;         // the API, from --endpoint or TIDE_ENDPOINT
  std::string output = "table"; // "table" or "json"
};

// A command's outcome: the JSON to print (AWS shape) and how to show it as a table.
struct Outcome {
  Json json;
  std::function<void(const Json&)> table;
};

// Prints "tide: Code: message" and exits (3 when the server cannot be reached, else 1).
[[noreturn]] void die(const Status& s);

template <typename T> T orDie(Result<T> r) {
  if (!r) {
    die(r.status());
  }
  return std::move(*r);
}

// "KEY=VALUE" → {key, value}; dies naming `what` otherwise.
std::pair<std::string, std::string> keyValue(const std::string& s, const char* what);
// EC2's TagSpecifications for --tag KEY=VALUE flags (null when none).
Json tagSpecs(const std::vector<std::string>& tags, const char* resourceType);
// A file's content as base64 (EC2's UserData); dies when it cannot be read.
std::string readUserData(const std::string& path);
// 1536 → "1.5K"; negative → "-".
std::string bytes(int64_t n);
// A field as text ("-" or dflt when absent; numbers and objects as JSON).
std::string str(const Json& j, const char* key, const char* dflt = "-");

// Installs `handler` for SIGINT and SIGTERM while alive (no SA_RESTART: a blocked poll or wait
// returns EINTR); restores the handlers that were there after.
class SignalScope {
public:
  explicit SignalScope(void (*handler)(int));
  ~SignalScope();
  SignalScope(const SignalScope&) = delete;
  SignalScope& operator=(const SignalScope&) = delete;

private:
  struct sigaction oldInt_ {};
  struct sigaction oldTerm_ {};
};

} // namespace tide::cli
