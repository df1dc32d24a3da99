// The client side of the API: one action call over JSON/HTTP.
#pragma once

#include "api/credentials.h"
#include "common/status.h"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>

namespace tide::cli {

using Json = nlohmann::json;

class ApiClient {
public:
  // endpoint: "http://HOST:PORT" (a trailing "/" is fine). Requests are signed (SigV4) with
  // the first of: the credentials file of the data directory (TIDE_DATA_DIR, else the server's
  // default), AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (with AWS_SESSION_TOKEN); unsigned
  // when neither is there (a server run with --auth none accepts that). The region is
  // AWS_REGION, else AWS_DEFAULT_REGION, else the server's own.
  static Result<ApiClient> fromEndpoint(const std::string& endpoint);

  // Calls an action. API errors come back as their AWS code and message; a server that cannot
  // be reached is "EndpointConnectionError" with a hint.
  Result<Json> call(const std::string& action, const Json& params) const;

  const std::string& endpoint() const { return endpoint_; }
  const std::string& host() const { return host_; }
  uint16_t port() const { return port_; }
  // The viewer token (api::viewerToken) of the key requests are signed with, for the paths that
  // are read rather than called (GET /events); empty when there is no key.
  std::string viewerToken() const;

private:
  std::string endpoint_;
  std::string host_;
  uint16_t port_ = 0;
  std::optional<api::Credentials> credentials_;
  std::string sessionToken_;
  std::string region_;
  std::string credentialsNote_; // where the key came from, or why there is none
};

} // namespace tide::cli
