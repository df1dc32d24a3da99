// The client side of the API: one action call over JSON/HTTP.
#pragma once

#include "common/status.h"

#include <nlohmann/json.hpp>

#include <string>

namespace tide::cli {

using Json = nlohmann::json;

class ApiClient {
public:
  // endpoint: "http://HOST:PORT" (a trailing "/" is fine).
  static Result<ApiClient> fromEndpoint(const std::string& endpoint);

  // Calls an action. API errors come back as their AWS code and message; a server that cannot
  // be reached is "EndpointConnectionError" with a hint.
  Result<Json> call(const std::string& action, const Json& params) const;

  const std::string& endpoint() const { return endpoint_; }

private:
  std::string endpoint_;
  std::string host_;
  uint16_t port_ = 0;
};

} // namespace tide::cli
