// Responses the balancer writes itself: ALB-style error pages and fixed responses.
#pragma once

#include <string>
#include <string_view>

namespace tide::balancer {

// A complete response (head and small HTML body) for 400, 408, 431, 501, 502, 503 or 504.
// `close` adds "Connection: close". The views point to static storage.
std::string_view errorResponse(int status, bool close);

// The head of a fixed response (ends with the blank line), for a body of bodyBytes bytes.
std::string fixedResponseHead(int status, std::string_view contentType, size_t bodyBytes,
                              bool close);

} // namespace tide::balancer
