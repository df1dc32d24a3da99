#include "balancer/local_response.h"

#include "http1/reason.h"
#include "http1/serializer.h"

#include <array>

namespace tide::balancer {
namespace {

std::string build(int status, bool close) {
  std::string title = std::to_string(status) + " " + std::string(http1::reasonPhrase(status));
  std::string body = "<html>\r\n<head><title>" + title +
                     "</title></head>\r\n<body>\r\n<center><h1>" + title +
                     "</h1></center>\r\n</body>\r\n</html>\r\n";
  return fixedResponseHead(status, "text/html", body.size(), close) + body;
}

constexpr std::array<int, 11> kStatuses = {400, 408, 431, 501, 502, 503, 504, 413, 414, 421, 464};

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
  std::string head;
  http1::appendStatusLine(head, status);
  http1::appendField(head, "Server", "tide");
  http1::appendField(head, "Content-Type", contentType);
  http1::appendField(head, "Content-Length", uint64_t(bodyBytes));
  if (close) {
    http1::appendField(head, "Connection", "close");
  }
  http1::appendHeadEnd(head);
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
