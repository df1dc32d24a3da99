#include "h2/response_head.h"

namespace tide::h2 {

namespace {

bool forbiddenInHttp2(const http1::HeaderField& f) {
  switch (f.kind) {
  case http1::HeaderKind::Connection:
  case http1::HeaderKind::KeepAlive:
  case http1::HeaderKind::ProxyConnection:
  case http1::HeaderKind::TransferEncoding:
  case http1::HeaderKind::Upgrade:
  case http1::HeaderKind::Te:
  case http1::HeaderKind::Trailer:
    return true;
  default:
    return f.hopByHop;
  }
}

char lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

} // namespace

void buildResponseHeaders(const http1::MessageHead& head, std::string& arena,
                          std::vector<nghttp2_nv>& nva) {
  arena.clear();
  nva.clear();
  // The arena is filled first, then the views are taken, so that it never moves under them.
  int status = head.status;
  arena.push_back(static_cast<char>('0' + status / 100 % 10));
  arena.push_back(static_cast<char>('0' + status / 10 % 10));
  arena.push_back(static_cast<char>('0' + status % 10));
  for (size_t i = 0; i < head.fieldCount; i++) {
    const http1::HeaderField& f = head.fields[i];
    if (forbiddenInHttp2(f) || f.name.empty()) {
      continue;
    }
    for (char c : f.name) {
      arena.push_back(lower(c));
    }
  }
  auto bytes = [](const char* p) { return reinterpret_cast<uint8_t*>(const_cast<char*>(p)); };
  static const char kStatus[] = ":status";
  nva.push_back(
      {bytes(kStatus), bytes(arena.data()), sizeof(kStatus) - 1, 3, NGHTTP2_NV_FLAG_NONE});
  size_t at = 3;
  for (size_t i = 0; i < head.fieldCount; i++) {
    const http1::HeaderField& f = head.fields[i];
    if (forbiddenInHttp2(f) || f.name.empty()) {
      continue;
    }
    nva.push_back({bytes(arena.data() + at), bytes(f.value.data()), f.name.size(), f.value.size(),
                   NGHTTP2_NV_FLAG_NONE});
    at += f.name.size();
  }
}

} // namespace tide::h2
