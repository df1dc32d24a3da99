#include "cli/client.h"

#include "api/auth.h"
#include "api/http.h"
#include "api/json_text.h"
#include "common/data_dir.h"
#include "common/text.h"
#include "common/utf8.h"

#include <cstdlib>

namespace tide::cli {

namespace {

// tide's answers nest less than 20 levels; this leaves room for what a newer server may add.
constexpr size_t kMaxResponseDepth = 512;

} // namespace

Result<ApiClient> ApiClient::fromEndpoint(const std::string& endpoint) {
  std::string rest = endpoint;
  if (rest.rfind("http://", 0) == 0) {
    rest = rest.substr(7);
  } else if (rest.find("://") != std::string::npos) {
    return validationError("endpoint '" + endpoint + "' must be http://HOST:PORT");
  }
  while (!rest.empty() && rest.back() == '/') {
    rest.pop_back();
  }
  size_t colon = rest.rfind(':');
  ApiClient c;
  c.endpoint_ = endpoint;
  if (colon == std::string::npos) {
    c.host_ = rest;
    c.port_ = 80;
  } else {
    c.host_ = rest.substr(0, colon);
    std::string p = rest.substr(colon + 1);
    if (p.empty() || p.size() > 5 || p.find_first_not_of("0123456789") != std::string::npos ||
        std::stoul(p) > 65535) {
      return validationError("endpoint '" + endpoint + "' has an invalid port");
    }
    c.port_ = static_cast<uint16_t>(std::stoul(p));
  }
  if (c.host_.empty() || c.host_.find('/') != std::string::npos) {
    return validationError("endpoint '" + endpoint + "' must be http://HOST:PORT");
  }
  auto env = [](const char* name) -> std::string {
    const char* v = std::getenv(name);
    return v != nullptr ? v : "";
  };
  std::string file = api::credentialsPath(defaultDataDir());
  Result<api::Credentials> fromFile = api::readCredentials(file);
  if (fromFile) {
    c.credentials_ = *fromFile;
    c.credentialsNote_ = "the key in " + file;
  } else if (!env("AWS_ACCESS_KEY_ID").empty() && !env("AWS_SECRET_ACCESS_KEY").empty()) {
    c.credentials_ = api::Credentials{env("AWS_ACCESS_KEY_ID"), env("AWS_SECRET_ACCESS_KEY")};
    c.sessionToken_ = env("AWS_SESSION_TOKEN");
    c.credentialsNote_ = "the key in AWS_ACCESS_KEY_ID";
  } else {
    c.credentialsNote_ = fromFile.status().code() == "NotFound"
                             ? "no key: " + file +
                                   " is absent (set TIDE_DATA_DIR to the server's data "
                                   "directory, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
                                   "from tide credentials)"
                             : "no key: " + fromFile.status().message();
  }
  c.region_ = !env("AWS_REGION").empty() ? env("AWS_REGION") : env("AWS_DEFAULT_REGION");
  return c;
}

std::string ApiClient::viewerToken() const {
  return credentials_ ? api::viewerToken(*credentials_) : std::string();
}

Result<Json> ApiClient::call(const std::string& action, const Json& params) const {
  api::HttpRequest req;
  req.method = "POST";
  req.target = "/";
  req.headers = {{"content-type", "application/x-amz-json-1.1"}, {"x-amz-target", action}};
  try {
    req.body = params.dump();
  } catch (const Json::type_error&) {
    // A string that is not UTF-8 (from a file or the environment): JSON cannot carry it.
    return validationError(
        "a parameter of " + action + " is not valid UTF-8 text: " +
        escapeInvalidUtf8(params.dump(-1, ' ', false, Json::error_handler_t::replace))
            .substr(0, 200));
  }
  if (credentials_) {
    req.headers.emplace_back("host", host_ + ":" + std::to_string(port_));
    if (!sessionToken_.empty()) {
      req.headers.emplace_back("x-amz-security-token", sessionToken_);
    }
    // tide's own protocol spans services: its scope's service is "tide"; an unset region is
    // the server's own.
    api::signRequest(req, *credentials_, region_.empty() ? "us-east-1" : region_, "tide",
                     RealClock().now());
  }
  auto resp = api::httpRequest(host_, port_, req, Millis(120'000));
  if (!resp) {
    if (resp.status().code() == "EndpointConnectionError") {
      return Status("EndpointConnectionError",
                    "cannot reach the tide server at " + endpoint_ +
                        " (is `tide server` running? choose another with --endpoint or "
                        "TIDE_ENDPOINT)");
    }
    return resp.status();
  }
  // Read with bounds: whatever answers at the endpoint cannot make the CLI recurse without end.
  Result<Json> parsed = api::parseJsonText(resp->body, {kMaxResponseDepth});
  if (!parsed) {
    return internalError("the server at " + endpoint_ + " answered " +
                         std::to_string(resp->status) +
                         " with a body that is not JSON: " + parsed.status().message());
  }
  Json body = std::move(*parsed);
  if (resp->status != 200) {
    std::string code = body.value("__type", "HTTP" + std::to_string(resp->status));
    std::string message = body.value("message", std::string("no message"));
    if (resp->status == 401 || resp->status == 403) {
      message += " (signed with " + credentialsNote_ + ")";
    }
    return Status(code, message);
  }
  return body;
}

} // namespace tide::cli
