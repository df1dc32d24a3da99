#include "cli/client.h"

#include "api/http.h"

namespace tide::cli {

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
  return c;
}

Result<Json> ApiClient::call(const std::string& action, const Json& params) const {
  api::HttpRequest req;
  req.method = "POST";
  req.target = "/";
  req.headers = {{"content-type", "application/x-amz-json-1.1"}, {"x-amz-target", action}};
  req.body = params.dump();
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
  Json body = Json::parse(resp->body, nullptr, false);
  if (body.is_discarded()) {
    return internalError("the server at " + endpoint_ + " answered " +
                         std::to_string(resp->status) + " with a body that is not JSON");
  }
  if (resp->status != 200) {
    std::string code = body.value("__type", "HTTP" + std::to_string(resp->status));
    std::string message = body.value("message", std::string("no message"));
    return Status(code, message);
  }
  return body;
}

} // namespace tide::cli
