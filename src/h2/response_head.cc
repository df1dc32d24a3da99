#include "h2/response_head.h"

#include "http1/serializer.h"

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
  // A gRPC answer without a body is trailers-only (its grpc-status among these fields, the stream
  // ended by this HEADERS): sent as the target sent it, without the content-length: 0 that its
  // HTTP/1.1 form needed (gRPC clients would take it for trailing metadata).
  bool dropLength = head.framing == http1::BodyFraming::None && http1::isGrpcMessage(head);
  auto skip = [&](const http1::HeaderField& f) {
    return forbiddenInHttp2(f) || f.name.empty() ||
           (dropLength && f.kind == http1::HeaderKind::ContentLength);
  };
  arena.push_back(static_cast<char>('0' + status / 100 % 10));
  arena.push_back(static_cast<char>('0' + status / 10 % 10));
  arena.push_back(static_cast<char>('0' + status % 10));
  for (size_t i = 0; i < head.fieldCount; i++) {
    const http1::HeaderField& f = head.fields[i];
    if (skip(f)) {
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
    if (skip(f)) {
      continue;
    }
    nva.push_back({bytes(arena.data() + at), bytes(f.value.data()), f.name.size(), f.value.size(),
                   NGHTTP2_NV_FLAG_NONE});
    at += f.name.size();
  }
}

void buildTrailerFields(std::string_view lines, std::string& arena, std::vector<nghttp2_nv>& nva) {
  arena.clear();
  nva.clear();
  struct Piece {
    size_t name, nameLen, value, valueLen;
  };
  std::vector<Piece> pieces; // offsets first: the arena must not move under the views
  while (!lines.empty()) {
    size_t end = lines.find("\r\n");
    std::string_view line = lines.substr(0, end);
    lines = end == std::string_view::npos ? std::string_view() : lines.substr(end + 2);
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
      continue;
    }
    std::string_view name = line.substr(0, colon);
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) {
      value.remove_prefix(1);
    }
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) {
      value.remove_suffix(1);
    }
    if (!http1::isFieldName(name) || !http1::isFieldValue(value)) {
      continue;
    }
    std::string lowerName;
    for (char c : name) {
      lowerName.push_back(lower(c));
    }
    if (lowerName == "content-length" || lowerName == "transfer-encoding" ||
        lowerName == "connection" || lowerName == "keep-alive" || lowerName == "proxy-connection" ||
        lowerName == "upgrade" || lowerName == "te" || lowerName == "trailer" ||
        lowerName == "host") {
      continue;
    }
    Piece p{arena.size(), name.size(), 0, value.size()};
    arena += lowerName;
    p.value = arena.size();
    arena += value;
    pieces.push_back(p);
  }
  auto bytes = [&](size_t at) { return reinterpret_cast<uint8_t*>(arena.data() + at); };
  for (const Piece& p : pieces) {
    nva.push_back({bytes(p.name), bytes(p.value), p.nameLen, p.valueLen, NGHTTP2_NV_FLAG_NONE});
  }
}

} // namespace tide::h2
