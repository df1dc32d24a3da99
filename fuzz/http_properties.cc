#include "http_properties.h"

#include "balancer/http_parser.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

namespace tide::fuzz {
namespace {

using balancer::BodyFraming;
using balancer::ChunkedScanner;
using balancer::HeaderField;
using balancer::HeaderKind;
using balancer::MessageHead;
using balancer::ParseStatus;

// A property check: returns the violation from the enclosing function when cond is false.
#define PROPERTY(cond, what)                                                                       \
  do {                                                                                             \
    if (!(cond)) {                                                                                 \
      return Violation{what, __LINE__};                                                            \
    }                                                                                              \
  } while (0)

// Returns the violation a nested check found, if any.
#define PROPAGATE(expr)                                                                            \
  do {                                                                                             \
    if (Violation nested = (expr)) {                                                               \
      return nested;                                                                               \
    }                                                                                              \
  } while (0)

constexpr size_t kWorkerLimit = 16 * 1024;     // the balancer's default maxHeaderBytes
constexpr size_t kUnlimited = size_t(1) << 40; // a limit no input reaches
constexpr size_t kFixedLimits[] = {0, 1, 18, 64, 1024, kWorkerLimit, 1024 * 1024};
constexpr int kMaxMessages = 16; // messages walked per connection stream
constexpr int kSplitRounds = 4;  // pseudo-random ways of cutting a chunked body

// ---- small independent readings of the grammar (not the parser's code) ----

bool isTchar(unsigned char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c != 0 && std::strchr("!#$%&'*+-.^_`|~", c) != nullptr);
}
bool isFieldVchar(unsigned char c) {
  return (c > 0x20 && c != 0x7f);
} // VCHAR and obs-text
bool isFieldChar(unsigned char c) {
  return isFieldVchar(c) || c == ' ' || c == '\t';
}
bool isSpace(char c) {
  return c == ' ' || c == '\t';
}
bool isHexDigit(unsigned char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

char lowerAscii(char c) {
  return (c >= 'A' && c <= 'Z') ? char(c + 32) : c;
}
bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (size_t i = 0; i < a.size(); ++i) {
    if (lowerAscii(a[i]) != lowerAscii(b[i])) {
      return false;
    }
  }
  return true;
}

std::string_view trimmed(std::string_view s) {
  while (!s.empty() && isSpace(s.front())) {
    s.remove_prefix(1);
  }
  while (!s.empty() && isSpace(s.back())) {
    s.remove_suffix(1);
  }
  return s;
}

// Calls f(element) for every non-empty element of a comma-separated field value.
template <typename F> void eachElement(std::string_view list, F&& f) {
  size_t from = 0;
  while (from <= list.size()) {
    size_t comma = list.find(',', from);
    size_t end = comma == std::string_view::npos ? list.size() : comma;
    std::string_view e = trimmed(list.substr(from, end - from));
    if (!e.empty()) {
      f(e);
    }
    from = end + 1;
  }
}

HeaderKind expectedKind(std::string_view name) {
  static constexpr struct {
    std::string_view name;
    HeaderKind kind;
  } kKinds[] = {
      {"content-length", HeaderKind::ContentLength},
      {"transfer-encoding", HeaderKind::TransferEncoding},
      {"connection", HeaderKind::Connection},
      {"keep-alive", HeaderKind::KeepAlive},
      {"proxy-connection", HeaderKind::ProxyConnection},
      {"te", HeaderKind::Te},
      {"trailer", HeaderKind::Trailer},
      {"upgrade", HeaderKind::Upgrade},
      {"host", HeaderKind::Host},
      {"x-forwarded-for", HeaderKind::XForwardedFor},
      {"x-forwarded-proto", HeaderKind::XForwardedProto},
      {"x-forwarded-port", HeaderKind::XForwardedPort},
  };
  for (const auto& k : kKinds) {
    if (equalsIgnoreCase(name, k.name)) {
      return k.kind;
    }
  }
  return HeaderKind::Other;
}

bool alwaysHopByHop(HeaderKind k) {
  return k == HeaderKind::Connection || k == HeaderKind::KeepAlive ||
         k == HeaderKind::ProxyConnection || k == HeaderKind::Te || k == HeaderKind::Trailer ||
         k == HeaderKind::Upgrade;
}

// What a head's fields say, read independently of the parser.
struct FieldFacts {
  int contentLengthFields = 0;
  bool contentLengthDecimal = true; // every element of every Content-Length is digits
  bool contentLengthAgrees = true;  // all elements have one value
  uint64_t contentLength = 0;
  int transferEncodingFields = 0;
  int codings = 0; // transfer codings listed, in order, over all fields
  bool lastCodingChunked = false;
  bool chunkedBeforeLast = false;
  int hostFields = 0;
  bool connectionClose = false;
  bool connectionKeepAlive = false;
  bool expectContinue = false;
};

FieldFacts readFields(const MessageHead& h) {
  FieldFacts ff;
  bool haveLength = false;
  for (size_t i = 0; i < h.fieldCount; ++i) {
    const HeaderField& f = h.fields[i];
    switch (expectedKind(f.name)) {
    case HeaderKind::ContentLength:
      ++ff.contentLengthFields;
      eachElement(f.value, [&](std::string_view e) {
        uint64_t n = 0;
        for (char c : e) {
          if (c < '0' || c > '9' || e.size() > 19) {
            ff.contentLengthDecimal = false;
            return;
          }
          n = n * 10 + uint64_t(c - '0');
        }
        if (haveLength && n != ff.contentLength) {
          ff.contentLengthAgrees = false;
        }
        haveLength = true;
        ff.contentLength = n;
      });
      break;
    case HeaderKind::TransferEncoding:
      ++ff.transferEncodingFields;
      eachElement(f.value, [&](std::string_view e) {
        if (ff.lastCodingChunked) {
          ff.chunkedBeforeLast = true;
        }
        ff.lastCodingChunked = equalsIgnoreCase(e, "chunked");
        ++ff.codings;
      });
      break;
    case HeaderKind::Host:
      ++ff.hostFields;
      break;
    case HeaderKind::Connection:
      eachElement(f.value, [&](std::string_view e) {
        ff.connectionClose |= equalsIgnoreCase(e, "close");
        ff.connectionKeepAlive |= equalsIgnoreCase(e, "keep-alive");
      });
      break;
    default:
      if (equalsIgnoreCase(f.name, "expect") && equalsIgnoreCase(f.value, "100-continue")) {
        ff.expectContinue = true;
      }
      break;
    }
  }
  return ff;
}

// True when some Connection field names `name` (other than the close/keep-alive options).
bool namedByConnection(const MessageHead& h, std::string_view name) {
  bool named = false;
  for (size_t i = 0; i < h.fieldCount; ++i) {
    if (expectedKind(h.fields[i].name) == HeaderKind::Connection) {
      eachElement(h.fields[i].value, [&](std::string_view e) {
        named |= !equalsIgnoreCase(e, "close") && !equalsIgnoreCase(e, "keep-alive") &&
                 equalsIgnoreCase(e, name);
      });
    }
  }
  return named;
}

// ---- the side of the connection a head is parsed for ----

struct Side {
  bool request = true;
  bool methodHead = false; // responses: the request was HEAD

  ParseStatus parse(const char* p, size_t n, size_t limit, MessageHead& h) const {
    return request ? balancer::parseRequestHead(p, n, limit, h)
                   : balancer::parseResponseHead(p, n, limit, methodHead, h);
  }
};

size_t offsetIn(std::string_view v, const char* base) {
  return size_t(v.data() - base);
}

// Same head, comparing views by their offsets from each head's own buffer.
bool sameHead(const MessageHead& a, const char* baseA, const MessageHead& b, const char* baseB) {
  auto sameView = [&](std::string_view x, std::string_view y) {
    return x.size() == y.size() && (x.empty() || offsetIn(x, baseA) == offsetIn(y, baseB));
  };
  if (!sameView(a.method, b.method) || !sameView(a.target, b.target) || a.status != b.status ||
      a.versionMinor != b.versionMinor || a.requestLineBegin != b.requestLineBegin ||
      a.length != b.length || a.fieldsBegin != b.fieldsBegin || a.fieldsEnd != b.fieldsEnd ||
      a.keepAlive != b.keepAlive || a.anyHopByHop != b.anyHopByHop ||
      a.expectContinue != b.expectContinue || a.framing != b.framing ||
      a.contentLength != b.contentLength || a.fieldCount != b.fieldCount) {
    return false;
  }
  for (size_t i = 0; i < a.fieldCount; ++i) {
    const HeaderField& x = a.fields[i];
    const HeaderField& y = b.fields[i];
    if (!sameView(x.name, y.name) || !sameView(x.value, y.value) || x.lineBegin != y.lineBegin ||
        x.lineEnd != y.lineEnd || x.kind != y.kind || x.hopByHop != y.hopByHop) {
      return false;
    }
  }
  return true;
}

// Same header fields by content (for heads parsed from different buffers and start lines).
bool sameFields(const MessageHead& a, const MessageHead& b) {
  if (a.fieldCount != b.fieldCount || a.anyHopByHop != b.anyHopByHop) {
    return false;
  }
  for (size_t i = 0; i < a.fieldCount; ++i) {
    const HeaderField& x = a.fields[i];
    const HeaderField& y = b.fields[i];
    if (x.name != y.name || x.value != y.value || x.kind != y.kind || x.hopByHop != y.hopByHop ||
        x.lineEnd - x.lineBegin != y.lineEnd - y.lineBegin) {
      return false;
    }
  }
  return true;
}

bool inside(std::string_view v, const char* p, size_t begin, size_t end) {
  return v.data() >= p + begin && v.data() + v.size() <= p + end;
}

uint64_t fnv1a(const uint8_t* d, size_t n) {
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < n; ++i) {
    h = (h ^ d[i]) * 1099511628211ull;
  }
  return h;
}

uint64_t splitmix(uint64_t& s) {
  uint64_t z = (s += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// ---- one complete head ----

// The start line, the field lines and what the head says, against the bytes.
Violation checkShape(const Side& side, const char* p, size_t n, const MessageHead& h) {
  const size_t len = h.length;
  PROPERTY(len >= 4 && len <= n, "a complete head lies inside the input");
  PROPERTY(std::memcmp(p + len - 4, "\r\n\r\n", 4) == 0, "a complete head ends with CRLF CRLF");
  PROPERTY(h.fieldsEnd + 2 == len, "the blank line ends the head");
  PROPERTY(h.requestLineBegin < h.fieldsBegin && h.fieldsBegin <= h.fieldsEnd,
           "start line, fields and blank line are in order");
  PROPERTY(std::memcmp(p + h.fieldsBegin - 2, "\r\n", 2) == 0, "the start line ends with CRLF");
  const void* firstEnd = memmem(p + h.requestLineBegin, len - h.requestLineBegin, "\r\n\r\n", 4);
  PROPERTY(firstEnd == p + len - 4, "the head ends at the first CRLF CRLF");
  PROPERTY(h.versionMinor == 0 || h.versionMinor == 1, "the version is HTTP/1.0 or HTTP/1.1");
  PROPERTY(h.fieldCount <= balancer::kMaxHeaderFields, "at most kMaxHeaderFields fields");

  size_t versionAt = 0;
  if (side.request) {
    PROPERTY(h.requestLineBegin % 2 == 0, "only whole empty lines precede the request line");
    for (size_t i = 0; i < h.requestLineBegin; i += 2) {
      PROPERTY(p[i] == '\r' && p[i + 1] == '\n', "only empty lines precede the request line");
    }
    PROPERTY(inside(h.method, p, 0, h.fieldsBegin) && inside(h.target, p, 0, h.fieldsBegin),
             "method and target lie inside the request line");
    PROPERTY(!h.method.empty() && h.method.data() == p + h.requestLineBegin,
             "the method starts the request line");
    for (char c : h.method) {
      PROPERTY(isTchar(c), "the method is a token");
    }
    size_t targetAt = h.requestLineBegin + h.method.size() + 1;
    PROPERTY(p[targetAt - 1] == ' ' && h.target.data() == p + targetAt && !h.target.empty(),
             "one space separates method and target");
    for (char c : h.target) {
      PROPERTY(isFieldVchar(c), "the target has no whitespace or control characters");
    }
    versionAt = targetAt + h.target.size() + 1;
    PROPERTY(p[versionAt - 1] == ' ' && versionAt + 10 == h.fieldsBegin,
             "one space, then the version ends the request line");
    PROPERTY(h.status == 0, "a request has no status");
  } else {
    PROPERTY(h.requestLineBegin == 0 && h.method.empty() && h.target.empty(),
             "a response starts with its status line");
    PROPERTY(p[8] == ' ' && h.status >= 100 && h.status <= 999 &&
                 h.status == (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0'),
             "the status is the three digits after the version");
    PROPERTY(h.fieldsBegin == 14 || p[12] == ' ', "the reason follows a space");
    for (size_t i = 13; i + 2 < h.fieldsBegin; ++i) {
      PROPERTY(isFieldChar(p[i]), "the reason has no control characters");
    }
  }
  PROPERTY(std::memcmp(p + versionAt, "HTTP/1.", 7) == 0 &&
               p[versionAt + 7] - '0' == h.versionMinor,
           "the version is the one in the start line");

  // The field lines tile [fieldsBegin, fieldsEnd), each one well formed.
  size_t at = h.fieldsBegin;
  bool anyHop = false;
  for (size_t i = 0; i < h.fieldCount; ++i) {
    const HeaderField& f = h.fields[i];
    PROPERTY(f.lineBegin == at && f.lineEnd > f.lineBegin && f.lineEnd <= h.fieldsEnd,
             "field lines follow each other inside the head");
    PROPERTY(std::memcmp(p + f.lineEnd - 2, "\r\n", 2) == 0, "a field line ends with CRLF");
    PROPERTY(!f.name.empty() && f.name.data() == p + f.lineBegin, "the name starts the line");
    for (char c : f.name) {
      PROPERTY(isTchar(c), "a field name is a token");
    }
    size_t valueFrom = f.lineBegin + f.name.size() + 1;
    PROPERTY(p[valueFrom - 1] == ':', "a colon follows the name");
    PROPERTY(inside(f.value, p, valueFrom, f.lineEnd - 2), "the value lies inside its line");
    for (size_t j = valueFrom; j + 2 < f.lineEnd; ++j) {
      PROPERTY(isFieldChar(p[j]), "a field line has no CR, LF or control characters");
      bool inValue = p + j >= f.value.data() && p + j < f.value.data() + f.value.size();
      PROPERTY(inValue || isSpace(p[j]), "only whitespace surrounds the value");
    }
    PROPERTY(f.value.empty() || (!isSpace(f.value.front()) && !isSpace(f.value.back())),
             "the value is trimmed");
    PROPERTY(f.kind == expectedKind(f.name), "the kind matches the name");
    bool hop = alwaysHopByHop(f.kind) || namedByConnection(h, f.name);
    PROPERTY(f.hopByHop == hop, "hop-by-hop means a hop-by-hop kind or named by Connection");
    anyHop |= f.hopByHop;
    at = f.lineEnd;
  }
  PROPERTY(at == h.fieldsEnd, "the field lines fill the head");
  PROPERTY(h.anyHopByHop == anyHop, "anyHopByHop says whether some field is hop-by-hop");

  // What the fields say about framing and the connection.
  FieldFacts ff = readFields(h);
  PROPERTY(ff.contentLengthFields == 0 || ff.transferEncodingFields == 0,
           "Content-Length with Transfer-Encoding is rejected");
  PROPERTY(ff.contentLengthFields == 0 || (ff.contentLengthDecimal && ff.contentLengthAgrees),
           "Content-Length is one decimal value");
  PROPERTY(h.contentLength == 0 || h.framing == BodyFraming::ContentLength,
           "contentLength is set only for Content-Length framing");
  bool expectKeepAlive = !ff.connectionClose && (h.versionMinor == 1 || ff.connectionKeepAlive);
  if (side.request) {
    PROPERTY(ff.hostFields == 1 || (h.versionMinor == 0 && ff.hostFields == 0),
             "a request has one Host (HTTP/1.1) or at most one (HTTP/1.0)");
    PROPERTY(h.expectContinue == ff.expectContinue, "expectContinue is Expect: 100-continue");
    PROPERTY(h.keepAlive == expectKeepAlive, "keep-alive follows the version and Connection");
    if (ff.transferEncodingFields > 0) {
      PROPERTY(h.versionMinor == 1 && ff.codings == 1 && ff.lastCodingChunked,
               "a request's only transfer coding is chunked");
      PROPERTY(h.framing == BodyFraming::Chunked, "Transfer-Encoding: chunked frames a request");
    } else if (ff.contentLengthFields > 0 && ff.contentLength > 0) {
      PROPERTY(h.framing == BodyFraming::ContentLength && h.contentLength == ff.contentLength,
               "Content-Length frames a request");
    } else {
      PROPERTY(h.framing == BodyFraming::None, "a request without a length has no body");
    }
  } else {
    bool noBody = side.methodHead || h.status < 200 || h.status == 204 || h.status == 304;
    BodyFraming expected = BodyFraming::UntilClose;
    if (noBody) {
      expected = BodyFraming::None;
    } else if (ff.transferEncodingFields > 0) {
      PROPERTY(!ff.chunkedBeforeLast, "chunked is only ever the final coding");
      expected = ff.lastCodingChunked ? BodyFraming::Chunked : BodyFraming::UntilClose;
    } else if (ff.contentLengthFields > 0) {
      expected = ff.contentLength > 0 ? BodyFraming::ContentLength : BodyFraming::None;
    }
    PROPERTY(h.framing == expected, "a response is framed by RFC 9112 §6.3");
    PROPERTY(h.framing != BodyFraming::ContentLength || h.contentLength == ff.contentLength,
             "contentLength is the Content-Length");
    PROPERTY(h.keepAlive == (expectKeepAlive && h.framing != BodyFraming::UntilClose),
             "keep-alive follows the version, Connection and the framing");
    PROPERTY(!h.expectContinue, "responses do not expect 100-continue");
  }
  return {};
}

// Field lines in a head built by checkForwarded (every line after the start line is one).
size_t forwardedFields(std::string_view head) {
  size_t lines = 0;
  for (size_t at = head.find("\r\n"); at != std::string_view::npos;
       at = head.find("\r\n", at + 2)) {
    ++lines;
  }
  return lines - 2; // the start line and the blank line
}

// The head parsed again from what the worker forwards (hop-by-hop fields removed, its own
// fields added) is framed the same way: the next hop finds the body where the balancer did.
Violation checkForwarded(const Side& side, const char* p, const MessageHead& h) {
  std::string out(p + h.requestLineBegin, h.fieldsBegin - h.requestLineBegin);
  std::string forwardedFor;
  for (size_t i = 0; i < h.fieldCount; ++i) {
    const HeaderField& f = h.fields[i];
    bool forwardedField = f.kind == HeaderKind::XForwardedFor ||
                          f.kind == HeaderKind::XForwardedProto ||
                          f.kind == HeaderKind::XForwardedPort;
    if (!f.hopByHop && !(side.request && forwardedField)) {
      out.append(p + f.lineBegin, f.lineEnd - f.lineBegin);
    }
    if (side.request && f.kind == HeaderKind::XForwardedFor && !f.value.empty()) {
      forwardedFor.append(f.value).append(", ");
    }
  }
  if (side.request) {
    out += "X-Forwarded-For: " + forwardedFor + "127.0.0.1\r\nX-Forwarded-Proto: http\r\n";
    out += "X-Forwarded-Port: 80\r\n";
  }
  if (h.versionMinor == 0) {
    out += "Connection: keep-alive\r\n";
  }
  out += "\r\n";
  MessageHead again;
  ParseStatus st = side.parse(out.data(), out.size(), kUnlimited, again);
  if (st == ParseStatus::TooLarge && forwardedFields(out) > balancer::kMaxHeaderFields) {
    return {}; // the added fields pass the field limit: for the next hop to refuse or take
  }
  PROPERTY(st == ParseStatus::Complete, "the forwarded head parses");
  PROPERTY(again.length == out.size(), "the forwarded head is one head");
  PROPERTY(again.framing == h.framing && again.contentLength == h.contentLength,
           "the forwarded head frames the body as the balancer did");
  PROPERTY(again.method == h.method && again.target == h.target && again.status == h.status &&
               again.versionMinor == h.versionMinor,
           "the forwarded start line is the received one");
  return {};
}

// The same header fields behind a request line and behind a 200 status line: where RFC 9112's
// rules are the same for both, both sides decide the same.
Violation checkFramingAgreement(std::string_view fields, int versionMinor) {
  std::string version = versionMinor == 1 ? "HTTP/1.1" : "HTTP/1.0";
  std::string req = "POST / " + version + "\r\n" + std::string(fields);
  std::string rsp = version + " 200 OK\r\n" + std::string(fields);
  MessageHead q;
  MessageHead r;
  ParseStatus qs = balancer::parseRequestHead(req.data(), req.size(), kUnlimited, q);
  ParseStatus rs = balancer::parseResponseHead(rsp.data(), rsp.size(), kUnlimited, false, r);
  PROPERTY((qs == ParseStatus::TooLarge) == (rs == ParseStatus::TooLarge),
           "both sides count the same fields");
  PROPERTY(qs != ParseStatus::Complete || rs == ParseStatus::Complete,
           "fields a request may carry, a response may carry");
  PROPERTY(rs != ParseStatus::Invalid || qs == ParseStatus::Invalid,
           "fields a response may not carry, a request may not carry");
  if (rs != ParseStatus::Complete) {
    return {};
  }
  FieldFacts ff = readFields(r);
  if (qs == ParseStatus::NotImplemented) {
    PROPERTY(ff.transferEncodingFields > 0, "only a transfer coding is not implemented");
    return {};
  }
  if (qs != ParseStatus::Complete) {
    bool hostRule = ff.hostFields > 1 || (versionMinor == 1 && ff.hostFields == 0);
    bool codingRule = ff.transferEncodingFields > 0 &&
                      (versionMinor == 0 || r.framing == BodyFraming::UntilClose);
    PROPERTY(hostRule || codingRule, "a request is refused only by request-only rules");
    return {};
  }
  PROPERTY(sameFields(q, r), "both sides read the same fields");
  PROPERTY((q.framing == BodyFraming::Chunked) == (r.framing == BodyFraming::Chunked),
           "chunked framing agrees");
  PROPERTY((q.framing == BodyFraming::ContentLength) == (r.framing == BodyFraming::ContentLength) &&
               q.contentLength == r.contentLength,
           "Content-Length framing agrees");
  PROPERTY(r.framing != BodyFraming::None || q.framing == BodyFraming::None,
           "no body in a response with these fields, none in a request");
  PROPERTY(r.framing == BodyFraming::UntilClose || q.keepAlive == r.keepAlive, "keep-alive agrees");
  return {};
}

// The parse of p[0, n) under every limit, against its prefixes and extensions.
Violation checkHead(const Side& side, const char* p, size_t n) {
  MessageHead ref;
  ParseStatus refSt = side.parse(p, n, kUnlimited, ref);
  if (refSt == ParseStatus::Complete) {
    PROPAGATE(checkShape(side, p, n, ref));
    PROPAGATE(checkForwarded(side, p, ref));
    if (side.request || !side.methodHead) {
      PROPAGATE(checkFramingAgreement(
          std::string_view(p + ref.fieldsBegin, ref.length - ref.fieldsBegin), ref.versionMinor));
    }
  }

  // Limits: Complete exactly when the head fits; otherwise the same answer or TooLarge.
  size_t relative[] = {ref.length - 1, ref.length, ref.length + 1, n - 1, n, n + 1};
  auto checkLimit = [&](size_t limit) -> Violation {
    MessageHead h;
    ParseStatus st = side.parse(p, n, limit, h);
    if (refSt == ParseStatus::Complete) {
      if (ref.length <= limit) {
        PROPERTY(st == ParseStatus::Complete && sameHead(h, p, ref, p),
                 "a head within the limit parses the same under any limit");
      } else {
        PROPERTY(st == ParseStatus::TooLarge, "a head beyond the limit is TooLarge");
      }
    } else if (refSt == ParseStatus::Incomplete) {
      PROPERTY(st == (n < limit ? ParseStatus::Incomplete : ParseStatus::TooLarge),
               "an unfinished head is Incomplete below the limit, TooLarge at it");
    } else {
      PROPERTY(st == refSt || st == ParseStatus::TooLarge,
               "a refused head is refused under any limit");
    }
    return {};
  };
  for (size_t limit : kFixedLimits) {
    PROPAGATE(checkLimit(limit));
  }
  if (refSt == ParseStatus::Complete) {
    for (size_t limit : relative) {
      PROPAGATE(checkLimit(limit));
    }
  }

  // Prefix stability: more bytes never change a decided parse.
  if (refSt != ParseStatus::Incomplete) {
    for (int variant = 0; variant < 2; ++variant) {
      std::string longer(p, n);
      longer += variant == 0 ? std::string_view("\r\n\r\nGET / HTTP/1.1\r\n\r\n")
                             : std::string_view(p, n);
      MessageHead h;
      ParseStatus st = side.parse(longer.data(), longer.size(), kUnlimited, h);
      PROPERTY(st == refSt, "more bytes do not change a decided parse");
      PROPERTY(st != ParseStatus::Complete || sameHead(h, longer.data(), ref, p),
               "more bytes do not change a complete head");
    }
  }
  // Prefixes of a complete head are Incomplete (never Invalid); the head alone parses the same.
  if (refSt == ParseStatus::Complete) {
    MessageHead h;
    PROPERTY(side.parse(p, ref.length, ref.length, h) == ParseStatus::Complete &&
                 sameHead(h, p, ref, p),
             "the head alone parses the same");
    // Short heads: every prefix; longer ones: the last four and 24 pseudo-random ones.
    const size_t len = ref.length;
    uint64_t seed = fnv1a(reinterpret_cast<const uint8_t*>(p), len);
    size_t count = len <= 96 ? len : 28;
    for (size_t i = 0; i < count; ++i) {
      size_t k = len <= 96 ? i : i < 4 ? len - 1 - i : size_t(splitmix(seed) % len);
      PROPERTY(side.parse(p, k, len, h) == ParseStatus::Incomplete,
               "a prefix of a complete head is Incomplete");
    }
  }
  return {};
}

// ---- chunked bodies ----

enum class RefResult : uint8_t { NeedMore, Done, Invalid };
struct RefScan {
  RefResult result;
  size_t used; // Done: bytes of the body
};

// Reads a chunked body by RFC 9112 §7.1's grammar, strictly and without size limits.
RefScan referenceChunked(const uint8_t* d, size_t n) {
  size_t i = 0;
  auto more = [&] { return RefScan{RefResult::NeedMore, n}; };
  auto bad = [&] { return RefScan{RefResult::Invalid, i}; };
  auto skipWs = [&] {
    while (i < n && isSpace(char(d[i]))) {
      ++i;
    }
  };
  auto skipToken = [&] {
    size_t from = i;
    while (i < n && isTchar(d[i])) {
      ++i;
    }
    return i > from;
  };
  for (;;) {
    // chunk-size
    uint64_t size = 0;
    size_t digits = 0;
    for (; i < n && isHexDigit(d[i]); ++i, ++digits) {
      if (size >> 60) {
        return bad();
      }
      size = size * 16 + uint64_t(d[i] <= '9' ? d[i] - '0' : (d[i] | 0x20) - 'a' + 10);
    }
    if (i == n) {
      return more();
    }
    if (digits == 0) {
      return bad();
    }
    // *( BWS ";" BWS ext-name [ BWS "=" BWS ( token / quoted-string ) ] )
    for (;;) {
      skipWs();
      if (i == n) {
        return more();
      }
      if (d[i] != ';') {
        break;
      }
      ++i;
      skipWs();
      if (!skipToken()) {
        return i == n ? more() : bad();
      }
      skipWs();
      if (i < n && d[i] == '=') {
        ++i;
        skipWs();
        if (i < n && d[i] == '"') {
          for (++i; i < n && d[i] != '"'; ++i) {
            if (d[i] == '\\' && ++i == n) {
              return more();
            }
            if (!isFieldChar(d[i])) {
              return bad(); // qdtext or quoted-pair: no CR, LF or controls
            }
          }
          if (i == n) {
            return more();
          }
          ++i;
        } else if (!skipToken()) {
          return i == n ? more() : bad();
        }
      }
    }
    if (i > 0 && isSpace(char(d[i - 1])) && d[i] == '\r') {
      return bad(); // BWS must be followed by ";"
    }
    if (d[i] != '\r') {
      return bad();
    }
    if (++i == n) {
      return more();
    }
    if (d[i++] != '\n') {
      return bad();
    }
    if (size == 0) {
      break;
    }
    if (n - i <= size) {
      return more();
    }
    i += size;
    if (d[i] != '\r') {
      return bad();
    }
    if (++i == n) {
      return more();
    }
    if (d[i++] != '\n') {
      return bad();
    }
  }
  // trailer-section CRLF; field-line = field-name ":" OWS field-value OWS
  for (;;) {
    if (i == n) {
      return more();
    }
    if (d[i] == '\r') {
      if (++i == n) {
        return more();
      }
      return d[i] == '\n' ? RefScan{RefResult::Done, i + 1} : bad();
    }
    if (!skipToken()) {
      return bad();
    }
    if (i == n) {
      return more();
    }
    if (d[i++] != ':') {
      return bad();
    }
    while (i < n && isFieldChar(d[i])) {
      ++i;
    }
    if (i == n) {
      return more();
    }
    if (d[i] != '\r') {
      return bad();
    }
    if (++i == n) {
      return more();
    }
    if (d[i++] != '\n') {
      return bad();
    }
  }
}

struct Scan {
  ChunkedScanner::Result result;
  size_t used; // Done: bytes of the body; NeedMore: all of them
};

// Feeds the scanner pieces of sizes from `next(remaining)` until it decides or the bytes end.
template <typename NextPiece>
Violation scanInPieces(const uint8_t* d, size_t n, NextPiece&& next, Scan& out) {
  ChunkedScanner s;
  size_t at = 0;
  while (at < n) {
    size_t piece = next(n - at);
    size_t used = ~size_t(0);
    ChunkedScanner::Result r = s.scan(reinterpret_cast<const char*>(d + at), piece, &used);
    if (r == ChunkedScanner::Result::Invalid) {
      out = {r, at};
      return {};
    }
    PROPERTY(used <= piece, "the scanner uses at most the bytes it is given");
    PROPERTY(r == ChunkedScanner::Result::Done || used == piece,
             "NeedMore means every byte was used");
    at += used;
    if (r == ChunkedScanner::Result::Done) {
      size_t again = ~size_t(0);
      PROPERTY(s.scan(reinterpret_cast<const char*>(d), n, &again) ==
                       ChunkedScanner::Result::Done &&
                   again == 0,
               "a finished body takes no more bytes");
      out = {r, at};
      return {};
    }
  }
  out = {ChunkedScanner::Result::NeedMore, n};
  return {};
}

Violation checkChunked(const uint8_t* d, size_t n, Scan& whole) {
  PROPAGATE(scanInPieces(
      d, n, [](size_t rest) { return rest; }, whole));
  Scan other;
  PROPAGATE(scanInPieces(
      d, n, [](size_t) { return size_t(1); }, other));
  PROPERTY(other.result == whole.result &&
               (other.result == ChunkedScanner::Result::Invalid || other.used == whole.used),
           "byte by byte gives the same result and length as one piece");
  uint64_t seed = fnv1a(d, n);
  for (int round = 0; round < kSplitRounds; ++round) {
    uint64_t maxPiece = round == 0 ? 3 : round == 1 ? 17 : 1 + splitmix(seed) % 300;
    PROPAGATE(scanInPieces(
        d, n, [&](size_t rest) { return std::min<size_t>(rest, 1 + splitmix(seed) % maxPiece); },
        other));
    PROPERTY(other.result == whole.result &&
                 (other.result == ChunkedScanner::Result::Invalid || other.used == whole.used),
             "random pieces give the same result and length as one piece");
  }
  if (whole.result == ChunkedScanner::Result::Done) {
    PROPERTY(whole.used >= 5 && std::memcmp(d + whole.used - 2, "\r\n", 2) == 0,
             "a chunked body ends with CRLF");
    Scan prefix;
    size_t k = whole.used - 1;
    PROPAGATE(scanInPieces(
        d, k, [](size_t rest) { return rest; }, prefix));
    PROPERTY(prefix.result == ChunkedScanner::Result::NeedMore,
             "a prefix of a finished body needs more");
  }
  RefScan ref = referenceChunked(d, n);
  PROPERTY(!(ref.result == RefResult::Done && whole.result == ChunkedScanner::Result::Done) ||
               ref.used == whole.used,
           "the scanner ends the body where RFC 9112's grammar does");
  PROPERTY(!(ref.result == RefResult::Done && whole.result == ChunkedScanner::Result::NeedMore),
           "the scanner does not read past the end of a body");
  PROPERTY(!(ref.result == RefResult::NeedMore && whole.result == ChunkedScanner::Result::Done),
           "the scanner does not end a body the grammar continues");
  return {};
}

// ---- connection streams ----

Violation walkStream(const Side& side, const uint8_t* data, size_t size) {
  const char* p = reinterpret_cast<const char*>(data);
  size_t at = 0;
  for (int message = 0; message < kMaxMessages && at < size; ++message) {
    PROPAGATE(checkHead(side, p + at, size - at));
    MessageHead h;
    if (side.parse(p + at, size - at, kWorkerLimit, h) != ParseStatus::Complete) {
      return {};
    }
    if (!side.request && h.status == 101) {
      return {}; // the worker refuses protocol switches
    }
    if (!side.request && h.status < 200) {
      at += h.length; // an interim response; the final one follows
      continue;
    }
    const uint8_t* body = data + at + h.length;
    size_t avail = size - at - h.length;
    switch (h.framing) {
    case BodyFraming::None:
      at += h.length;
      break;
    case BodyFraming::ContentLength:
      if (avail < h.contentLength) {
        return {};
      }
      at += h.length + h.contentLength;
      break;
    case BodyFraming::Chunked: {
      Scan s;
      PROPAGATE(checkChunked(body, avail, s));
      if (s.result != ChunkedScanner::Result::Done) {
        return {};
      }
      at += h.length + s.used;
      break;
    }
    case BodyFraming::UntilClose:
      return {};
    }
    if (!h.keepAlive) {
      return {};
    }
  }
  return {};
}

} // namespace

Violation checkRequestStream(const uint8_t* data, size_t size) {
  return walkStream(Side{true, false}, data, size);
}

Violation checkResponseStream(const uint8_t* data, size_t size) {
  PROPAGATE(walkStream(Side{false, false}, data, size));
  PROPAGATE(walkStream(Side{false, true}, data, size));
  // The same head for a GET and for a HEAD: only the framing differs.
  const char* p = reinterpret_cast<const char*>(data);
  MessageHead get;
  MessageHead head;
  ParseStatus gs = balancer::parseResponseHead(p, size, kWorkerLimit, false, get);
  ParseStatus hs = balancer::parseResponseHead(p, size, kWorkerLimit, true, head);
  PROPERTY(gs != ParseStatus::Complete || hs == ParseStatus::Complete,
           "a response to a GET parses as a response to a HEAD");
  PROPERTY(hs != ParseStatus::Invalid || gs == ParseStatus::Invalid,
           "a response refused for a HEAD is refused for a GET");
  if (gs == ParseStatus::Complete) {
    PROPERTY(head.framing == BodyFraming::None && head.status == get.status &&
                 head.length == get.length && sameFields(head, get),
             "a response to a HEAD has the same head and no body");
  }
  return {};
}

Violation checkChunkedBody(const uint8_t* data, size_t size) {
  Scan s;
  return checkChunked(data, size, s);
}

void abortOnViolation(const Violation& v) {
  if (v) {
    std::fprintf(stderr, "property failed: %s (fuzz/http_properties.cc:%d)\n", v.property, v.line);
    std::abort();
  }
}

} // namespace tide::fuzz
