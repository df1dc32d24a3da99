#include "balancer/local_response.h"

#include <array>

namespace tide::balancer {
namespace {

std::string_view reasonPhrase(int status) {
  switch (status) {
  case 200:
    return "OK";
  case 201:
    return "Created";
  case 204:
    return "No Content";
  case 400:
    return "Bad Request";
  case 403:
    return "Forbidden";
  case 404:
    return "Not Found";
  case 408:
    return "Request Timeout";
  case 413:
    return "Content Too Large";
  case 414:
    return "URI Too Long";
  case 431:
    return "Request Header Fields Too Large";
  case 500:
    return "Internal Server Error";
  case 501:
    return "Not Implemented";
  case 502:
    return "Bad Gateway";
  case 503:
    return "Service Temporarily Unavailable";
  case 504:
    return "Gateway Time-out";
  default:
    return status < 300 ? "OK" : status < 500 ? "Client Error" : "Server Error";
  }
}

std::string build(int status, bool close) {
  std::string title = std::to_string(status) + " " + std::string(reasonPhrase(status));
  std::string body = "<html>\r\n<head><title>" + title +
                     "</title></head>\r\n<body>\r\n<center><h1>" + title +
                     "</h1></center>\r\n</body>\r\n</html>\r\n";
  return fixedResponseHead(status, "text/html", body.size(), close) + body;
}

constexpr std::array<int, 9> kStatuses = {400, 408, 431, 501, 502, 503, 504, 413, 414};

struct Pages {
  std::array<std::string, kStatuses.size() * 2> text;
  Pages() {
    for (size_t i = 0; i < kStatuses.size(); ++i) {
      text[2 * i] = build(kStatuses[i], false);
      text[2 * i + 1] = build(kStatuses[i], true);
    }
  }
};

} // namespace

std::string fixedResponseHead(int status, std::string_view contentType, size_t bodyBytes,
                              bool close) {
  std::string head = "HTTP/1.1 " + std::to_string(status) + " " +
                     std::string(reasonPhrase(status)) +
                     "\r\nServer: tide\r\nContent-Type: " + std::string(contentType) +
                     "\r\nContent-Length: " + std::to_string(bodyBytes) + "\r\n";
  if (close) {
    head += "Connection: close\r\n";
  }
  head += "\r\n";
  return head;
}

std::string_view errorResponse(int status, bool close) {
  static const Pages pages;
  for (size_t i = 0; i < kStatuses.size(); ++i) {
    if (kStatuses[i] == status) {
      return pages.text[2 * i + (close ? 1 : 0)];
    }
  }
  return pages.text[2 * 4 + 1]; // 502, close: "cannot happen" callers get a safe answer
}

} // namespace tide::balancer
