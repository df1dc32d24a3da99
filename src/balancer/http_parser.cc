#include "balancer/http_parser.h"

#include <array>
#include <cstring>

namespace tide::balancer {
namespace {

struct CharTables {
  std::array<bool, 256> token{};      // tchar (RFC 9110 §5.6.2)
  std::array<bool, 256> fieldValue{}; // VCHAR, obs-text, SP, HTAB
  std::array<bool, 256> target{};     // visible, non-space
  std::array<int8_t, 256> hex{};      // -1 or the digit's value
  constexpr CharTables() {
    for (int c = 0; c < 256; ++c) {
      bool alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
      token[c] = alnum || (c != 0 && std::string_view("!#$%&'*+-.^_`|~").find(char(c)) !=
                                         std::string_view::npos);
      fieldValue[c] = (c >= 0x21 && c != 0x7f) || c == ' ' || c == '\t';
      target[c] = c > 0x20 && c != 0x7f;
      hex[c] = c >= '0' && c <= '9'   ? int8_t(c - '0')
               : c >= 'a' && c <= 'f' ? int8_t(c - 'a' + 10)
               : c >= 'A' && c <= 'F' ? int8_t(c - 'A' + 10)
                                      : int8_t(-1);
    }
  }
};
constexpr CharTables kChars;

inline unsigned char lower(unsigned char c) {
  return (c >= 'A' && c <= 'Z') ? c + 32 : c;
}

// Case-insensitive comparison against a lower-case literal.
bool equalsLower(std::string_view s, std::string_view lowerLiteral) {
  if (s.size() != lowerLiteral.size()) {
    return false;
  }
  for (size_t i = 0; i < s.size(); ++i) {
    if (lower(s[i]) != static_cast<unsigned char>(lowerLiteral[i])) {
      return false;
    }
  }
  return true;
}

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) {
      return false;
    }
  }
  return true;
}

HeaderKind classify(std::string_view name) {
  switch (name.size()) {
  case 2:
    return equalsLower(name, "te") ? HeaderKind::Te : HeaderKind::Other;
  case 4:
    return equalsLower(name, "host") ? HeaderKind::Host : HeaderKind::Other;
  case 7:
    if (equalsLower(name, "trailer")) {
      return HeaderKind::Trailer;
    }
    return equalsLower(name, "upgrade") ? HeaderKind::Upgrade : HeaderKind::Other;
  case 10:
    if (equalsLower(name, "connection")) {
      return HeaderKind::Connection;
    }
    return equalsLower(name, "keep-alive") ? HeaderKind::KeepAlive : HeaderKind::Other;
  case 14:
    return equalsLower(name, "content-length") ? HeaderKind::ContentLength : HeaderKind::Other;
  case 15:
    return equalsLower(name, "x-forwarded-for") ? HeaderKind::XForwardedFor : HeaderKind::Other;
  case 16:
    if (equalsLower(name, "proxy-connection")) {
      return HeaderKind::ProxyConnection;
    }
    if (equalsLower(name, "x-forwarded-port")) {
      return HeaderKind::XForwardedPort;
    }
    return HeaderKind::Other;
  case 17:
    if (equalsLower(name, "transfer-encoding")) {
      return HeaderKind::TransferEncoding;
    }
    return equalsLower(name, "x-forwarded-proto") ? HeaderKind::XForwardedProto : HeaderKind::Other;
  default:
    return HeaderKind::Other;
  }
}

bool isHopByHop(HeaderKind k) {
  switch (k) {
  case HeaderKind::Connection:
  case HeaderKind::KeepAlive:
  case HeaderKind::ProxyConnection:
  case HeaderKind::Te:
  case HeaderKind::Trailer:
  case HeaderKind::Upgrade:
    return true;
  default:
    return false;
  }
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

// Calls f(element) for each non-empty element of a comma-separated list.
template <typename F> void forEachListElement(std::string_view list, F&& f) {
  while (!list.empty()) {
    size_t comma = list.find(',');
    std::string_view e = trim(list.substr(0, comma));
    if (!e.empty()) {
      f(e);
    }
    if (comma == std::string_view::npos) {
      break;
    }
    list.remove_prefix(comma + 1);
  }
}

// Finds the end of the head (CRLFCRLF) starting at `from`. Returns the offset just past it, or 0.
// Jumps from LF to LF with memchr and looks back: on heads of a few hundred bytes this costs a
// fifth of the instructions of memmem, whose set-up dominates at that size.
size_t findHeadEnd(const char* data, size_t size, size_t from) {
  if (size < from + 4) {
    return 0;
  }
  const char* end = data + size;
  const char* p = data + from + 3; // the earliest possible final LF
  while (p < end) {
    p = static_cast<const char*>(std::memchr(p, '\n', size_t(end - p)));
    if (p == nullptr) {
      return 0;
    }
    if (p[-1] == '\r' && p[-2] == '\n' && p[-3] == '\r') {
      return size_t(p - data) + 1;
    }
    ++p;
  }
  return 0;
}

// Resets a head for parsing, except its field array: parseFields writes fields[0..fieldCount)
// before anything reads them, and assigning MessageHead{} (100 fields, 4.8 KB) cost about 700
// instructions per head, a tenth of a proxied request. Every scalar member is reset here.
void resetHead(MessageHead& head) {
  head.method = {};
  head.target = {};
  head.status = 0;
  head.versionMinor = 1;
  head.requestLineBegin = 0;
  head.length = 0;
  head.fieldsBegin = 0;
  head.fieldsEnd = 0;
  head.keepAlive = true;
  head.anyHopByHop = false;
  head.expectContinue = false;
  head.framing = BodyFraming::None;
  head.contentLength = 0;
  head.fieldCount = 0;
}

// Parses header lines in [pos, blank) where `blank` is the offset of the blank line.
ParseStatus parseFields(const char* data, size_t pos, size_t blank, MessageHead& head) {
  head.fieldsBegin = static_cast<uint32_t>(pos);
  head.fieldsEnd = static_cast<uint32_t>(blank);
  head.fieldCount = 0;
  while (pos < blank) {
    size_t lineBegin = pos;
    size_t nameBegin = pos;
    while (kChars.token[static_cast<unsigned char>(data[pos])]) {
      ++pos;
    }
    if (pos == nameBegin || data[pos] != ':') {
      return ParseStatus::Invalid; // empty name, space before colon, obs-fold, bad char
    }
    std::string_view name(data + nameBegin, pos - nameBegin);
    ++pos;
    size_t valueBegin = pos;
    while (kChars.fieldValue[static_cast<unsigned char>(data[pos])]) {
      ++pos;
    }
    if (data[pos] != '\r' || data[pos + 1] != '\n') {
      return ParseStatus::Invalid; // bare CR or LF, NUL or another control character
    }
    if (head.fieldCount == kMaxHeaderFields) {
      return ParseStatus::TooLarge;
    }
    HeaderField& f = head.fields[head.fieldCount++];
    f.name = name;
    f.value = trim(std::string_view(data + valueBegin, pos - valueBegin));
    pos += 2;
    f.lineBegin = static_cast<uint32_t>(lineBegin);
    f.lineEnd = static_cast<uint32_t>(pos);
    f.kind = classify(name);
    f.hopByHop = isHopByHop(f.kind);
    head.anyHopByHop |= f.hopByHop;
  }
  return ParseStatus::Complete;
}

// What the framing fields say, shared by both directions.
struct FramingFields {
  bool hasContentLength = false;
  uint64_t contentLength = 0;
  bool hasTransferEncoding = false;
  bool chunkedFinal = false;    // the final coding is chunked
  bool chunkedNotFinal = false; // chunked appears before another coding, or twice
  bool otherCoding = false;     // a coding other than chunked
  int hostCount = 0;
};

// Applies the Connection, Content-Length and Transfer-Encoding rules common to both sides.
ParseStatus interpretFields(MessageHead& head, FramingFields& ff) {
  bool close = false;
  bool keepAliveToken = false;
  for (size_t i = 0; i < head.fieldCount; ++i) {
    HeaderField& f = head.fields[i];
    switch (f.kind) {
    case HeaderKind::Connection:
      forEachListElement(f.value, [&](std::string_view token) {
        if (equalsLower(token, "close")) {
          close = true;
        } else if (equalsLower(token, "keep-alive")) {
          keepAliveToken = true;
        } else {
          for (size_t j = 0; j < head.fieldCount; ++j) {
            if (equalsIgnoreCase(head.fields[j].name, token)) {
              head.fields[j].hopByHop = true;
            }
          }
        }
      });
      break;
    case HeaderKind::ContentLength: {
      bool bad = false;
      bool any = false;
      forEachListElement(f.value, [&](std::string_view v) {
        uint64_t n = 0;
        if (v.size() > 18) {
          bad = true;
          return;
        }
        for (char c : v) {
          if (c < '0' || c > '9') {
            bad = true;
            return;
          }
          n = n * 10 + uint64_t(c - '0');
        }
        if (ff.hasContentLength && n != ff.contentLength) {
          bad = true;
        }
        ff.hasContentLength = true;
        ff.contentLength = n;
        any = true;
      });
      if (bad || !any) {
        return ParseStatus::Invalid;
      }
      break;
    }
    case HeaderKind::TransferEncoding:
      ff.hasTransferEncoding = true;
      forEachListElement(f.value, [&](std::string_view coding) {
        if (ff.chunkedFinal) {
          ff.chunkedNotFinal = true; // something follows chunked
        }
        ff.chunkedFinal = equalsLower(coding, "chunked");
        if (!ff.chunkedFinal) {
          ff.otherCoding = true;
        }
      });
      break;
    case HeaderKind::Host:
      ++ff.hostCount;
      break;
    default:
      break;
    }
  }
  head.keepAlive = head.versionMinor == 1 ? !close : (keepAliveToken && !close);
  if (ff.hasContentLength && ff.hasTransferEncoding) {
    return ParseStatus::Invalid; // RFC 9112 §6.1: may be smuggling; reject and close
  }
  return ParseStatus::Complete;
}

bool parseVersion(const char* p, int& minor) {
  if (std::memcmp(p, "HTTP/1.", 7) != 0 || (p[7] != '0' && p[7] != '1')) {
    return false;
  }
  minor = p[7] - '0';
  return true;
}

} // namespace

ParseStatus parseRequestHead(const char* data, size_t size, size_t maxBytes, MessageHead& head) {
  size_t begin = 0;
  while (begin + 1 < size && data[begin] == '\r' && data[begin + 1] == '\n') {
    begin += 2; // RFC 9112 §2.2: ignore empty lines before the request line
  }
  size_t end = findHeadEnd(data, size, begin);
  if (end == 0) {
    return size >= maxBytes ? ParseStatus::TooLarge : ParseStatus::Incomplete;
  }
  if (end > maxBytes) {
    return ParseStatus::TooLarge;
  }
  resetHead(head);
  // METHOD SP request-target SP HTTP-version CRLF
  size_t pos = begin;
  while (kChars.token[static_cast<unsigned char>(data[pos])]) {
    ++pos;
  }
  if (pos == begin || data[pos] != ' ') {
    return ParseStatus::Invalid;
  }
  head.method = std::string_view(data + begin, pos - begin);
  size_t targetBegin = ++pos;
  while (kChars.target[static_cast<unsigned char>(data[pos])]) {
    ++pos;
  }
  if (pos == targetBegin || data[pos] != ' ') {
    return ParseStatus::Invalid;
  }
  head.target = std::string_view(data + targetBegin, pos - targetBegin);
  ++pos;
  if (pos + 10 > end || !parseVersion(data + pos, head.versionMinor) || data[pos + 8] != '\r' ||
      data[pos + 9] != '\n') {
    return ParseStatus::Invalid;
  }
  pos += 10;
  head.length = static_cast<uint32_t>(end);
  ParseStatus st = parseFields(data, pos, end - 2, head);
  if (st != ParseStatus::Complete) {
    return st;
  }
  FramingFields ff;
  st = interpretFields(head, ff);
  if (st != ParseStatus::Complete) {
    return st;
  }
  if (ff.hostCount > 1 || (head.versionMinor == 1 && ff.hostCount == 0)) {
    return ParseStatus::Invalid;
  }
  if (ff.hasTransferEncoding) {
    if (head.versionMinor == 0 || ff.chunkedNotFinal || !ff.chunkedFinal) {
      return ParseStatus::Invalid; // RFC 9112 §6.1/§6.3: 400 and close
    }
    if (ff.otherCoding) {
      return ParseStatus::NotImplemented; // a coding besides chunked: 501
    }
    head.framing = BodyFraming::Chunked;
  } else if (ff.hasContentLength && ff.contentLength > 0) {
    head.framing = BodyFraming::ContentLength;
    head.contentLength = ff.contentLength;
  }
  for (size_t i = 0; i < head.fieldCount; ++i) {
    const HeaderField& f = head.fields[i];
    if (f.name.size() == 6 && equalsLower(f.name, "expect") &&
        equalsLower(f.value, "100-continue")) {
      head.expectContinue = true;
    }
  }
  head.requestLineBegin = static_cast<uint32_t>(begin);
  return ParseStatus::Complete;
}

ParseStatus parseResponseHead(const char* data, size_t size, size_t maxBytes,
                              bool requestMethodHead, MessageHead& head) {
  size_t end = findHeadEnd(data, size, 0);
  if (end == 0) {
    return size >= maxBytes ? ParseStatus::TooLarge : ParseStatus::Incomplete;
  }
  if (end > maxBytes) {
    return ParseStatus::TooLarge;
  }
  resetHead(head);
  // HTTP-version SP 3DIGIT SP reason-phrase CRLF (the reason may be empty; the SP before it too)
  if (end < 14 + 2 || !parseVersion(data, head.versionMinor) || data[8] != ' ') {
    return ParseStatus::Invalid;
  }
  for (int i = 9; i < 12; ++i) {
    if (data[i] < '0' || data[i] > '9') {
      return ParseStatus::Invalid;
    }
  }
  head.status = (data[9] - '0') * 100 + (data[10] - '0') * 10 + (data[11] - '0');
  if (head.status < 100) {
    return ParseStatus::Invalid;
  }
  size_t pos = 12;
  if (data[pos] == ' ') {
    ++pos;
    while (kChars.fieldValue[static_cast<unsigned char>(data[pos])]) {
      ++pos;
    }
  }
  if (data[pos] != '\r' || data[pos + 1] != '\n') {
    return ParseStatus::Invalid;
  }
  pos += 2;
  head.length = static_cast<uint32_t>(end);
  ParseStatus st = parseFields(data, pos, end - 2, head);
  if (st != ParseStatus::Complete) {
    return st;
  }
  FramingFields ff;
  st = interpretFields(head, ff);
  if (st != ParseStatus::Complete) {
    return st;
  }
  bool noBody = requestMethodHead || head.status < 200 || head.status == 204 || head.status == 304;
  if (noBody) {
    head.framing = BodyFraming::None;
  } else if (ff.hasTransferEncoding) {
    if (ff.chunkedNotFinal) {
      return ParseStatus::Invalid;
    }
    // RFC 9112 §6.3: a final coding other than chunked is delimited by closing the connection.
    head.framing = ff.chunkedFinal ? BodyFraming::Chunked : BodyFraming::UntilClose;
  } else if (ff.hasContentLength) {
    head.framing = ff.contentLength > 0 ? BodyFraming::ContentLength : BodyFraming::None;
    head.contentLength = ff.contentLength;
  } else {
    head.framing = BodyFraming::UntilClose;
  }
  if (head.framing == BodyFraming::UntilClose) {
    head.keepAlive = false;
  }
  return ParseStatus::Complete;
}

ChunkedScanner::Result ChunkedScanner::scan(const char* data, size_t size, size_t* used) {
  size_t i = 0;
  while (i < size) {
    unsigned char c = static_cast<unsigned char>(data[i]);
    switch (state_) {
    case State::Size: {
      int8_t h = kChars.hex[c];
      if (h >= 0) {
        if (++digits_ > 15) {
          return Result::Invalid; // larger than any body we would accept
        }
        remaining_ = remaining_ * 16 + uint64_t(h);
      } else if (digits_ == 0) {
        return Result::Invalid;
      } else if (c == ';' || c == ' ' || c == '\t') {
        state_ = State::Ext;
      } else if (c == '\r') {
        state_ = State::SizeLf;
      } else {
        return Result::Invalid;
      }
      ++i;
      break;
    }
    case State::Ext:
      if (c == '\r') {
        state_ = State::SizeLf;
      } else if (!kChars.fieldValue[c]) {
        return Result::Invalid;
      }
      ++i;
      break;
    case State::SizeLf:
      if (c != '\n') {
        return Result::Invalid;
      }
      ++i;
      state_ = remaining_ == 0 ? State::TrailerStart : State::Data;
      break;
    case State::Data: {
      size_t take = size - i < remaining_ ? size - i : static_cast<size_t>(remaining_);
      i += take;
      remaining_ -= take;
      if (remaining_ == 0) {
        state_ = State::DataCr;
      }
      break;
    }
    case State::DataCr:
      if (c != '\r') {
        return Result::Invalid;
      }
      ++i;
      state_ = State::DataLf;
      break;
    case State::DataLf:
      if (c != '\n') {
        return Result::Invalid;
      }
      ++i;
      state_ = State::Size;
      digits_ = 0;
      break;
    case State::TrailerStart:
      ++i;
      state_ = c == '\r' ? State::FinalLf : State::Trailer;
      if (c != '\r' && !kChars.token[c]) {
        return Result::Invalid;
      }
      break;
    case State::Trailer:
      if (++trailerBytes_ > kMaxTrailerBytes) {
        return Result::Invalid;
      }
      if (c == '\r') {
        state_ = State::TrailerLf;
      } else if (!kChars.fieldValue[c] && c != ':') {
        return Result::Invalid;
      }
      ++i;
      break;
    case State::TrailerLf:
      if (c != '\n') {
        return Result::Invalid;
      }
      ++i;
      state_ = State::TrailerStart;
      break;
    case State::FinalLf:
      if (c != '\n') {
        return Result::Invalid;
      }
      ++i;
      state_ = State::Done;
      *used = i;
      return Result::Done;
    case State::Done:
      *used = 0;
      return Result::Done;
    }
  }
  *used = i;
  return state_ == State::Done ? Result::Done : Result::NeedMore;
}

} // namespace tide::balancer
