// Reason phrases of HTTP status codes (RFC 9110 §15), the one table every tide server uses.
#pragma once

#include <string_view>

namespace tide::http1 {

// The reason phrase for status. 503 and 504 read as an Application Load Balancer writes them
// ("Service Temporarily Unavailable", "Gateway Time-out"). An unknown code gets its class's
// word: "OK" below 300, "Redirection", "Client Error" or "Server Error".
std::string_view reasonPhrase(int status);

} // namespace tide::http1
