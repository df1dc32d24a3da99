#include "http_properties.h"

#include "balancer/desync.h"
#include "http1/chunked.h"
#include "http1/parser.h"
#include "http1/request_reader.h"
#include "http1/target.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tide::fuzz {
namespace {

using http1::BodyFraming;
using ChunkedScanner = http1::ChunkedDecoder;
using balancer::DesyncAction;
using balancer::DesyncMitigationMode;
using http1::DesyncReason;
using http1::DesyncTier;
using http1::DesyncVerdict;
using http1::HeaderField;
using http1::HeaderKind;
using http1::MessageHead;
using http1::ParseStatus;

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
// The checks' own text helpers, written apart from common/text.h on purpose: an oracle that
// called the parser's helpers would share their mistakes.
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
    switch (f.kind) {
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

// True when some Connection field names `name` (other than the close/keep-alive options) and
// the field may be removed that way: Content-Length, Transfer-Encoding and Host never are (the
// message is framed and routed by them; dropping one would let the next hop frame it otherwise).
bool namedByConnection(const MessageHead& h, std::string_view name) {
  HeaderKind k = expectedKind(name);
  if (k == HeaderKind::ContentLength || k == HeaderKind::TransferEncoding ||
      k == HeaderKind::Host) {
    return false;
  }
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

// 1*DIGIT that fits in 64 bits (a request's Content-Length value, one number, no list).
bool decimal64(std::string_view v, uint64_t* out) {
  if (v.empty()) {
    return false;
  }
  uint64_t n = 0;
  for (char c : v) {
    if (c < '0' || c > '9') {
      return false;
    }
    uint64_t d = uint64_t(c - '0');
    if (n > (UINT64_MAX - d) / 10) {
      return false;
    }
    n = n * 10 + d;
  }
  *out = n;
  return true;
}

// The framing header a name could be taken for by a lenient reader, independently of the
// parser's look-alike rule (docs/load-balancer.md "Desync protection"): whitespace and control
// characters (NUL too) anywhere, punctuation around the name and any run of non-alphanumeric
// characters where the '-' is; U+017F and U+0131 read as 's' and 'i'. Other when it is neither.
HeaderKind framingLike(std::string_view name) {
  std::string s;
  for (size_t i = 0; i < name.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(name[i]);
    if (i + 1 < name.size() && c == 0xc5 && static_cast<unsigned char>(name[i + 1]) == 0xbf) {
      s += 's';
      ++i;
    } else if (i + 1 < name.size() && c == 0xc4 &&
               static_cast<unsigned char>(name[i + 1]) == 0xb1) {
      s += 'i';
      ++i;
    } else if (c > 0x20 && c != 0x7f) {
      s += lowerAscii(char(c));
    }
  }
  auto alnum = [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z'); };
  size_t b = 0;
  size_t e = s.size();
  while (b < e && !alnum(s[b])) {
    ++b;
  }
  while (e > b && !alnum(s[e - 1])) {
    --e;
  }
  std::string_view core(s.data() + b, e - b);
  auto matches = [&](std::string_view first, std::string_view second) {
    if (core.size() <= first.size() + second.size() || core.substr(0, first.size()) != first ||
        core.substr(core.size() - second.size()) != second) {
      return false;
    }
    for (size_t i = first.size(); i < core.size() - second.size(); ++i) {
      if (alnum(core[i])) {
        return false;
      }
    }
    return true;
  };
  if (matches("content", "length")) {
    return HeaderKind::ContentLength;
  }
  if (matches("transfer", "encoding")) {
    return HeaderKind::TransferEncoding;
  }
  return HeaderKind::Other;
}

// ---- the side of the connection a head is parsed for ----

struct Side {
  bool request = true;
  bool methodHead = false; // responses: the request was HEAD

  ParseStatus parse(const char* p, size_t n, size_t limit, MessageHead& h) const {
    return request ? http1::parseRequestHead(p, n, limit, h)
                   : http1::parseResponseHead(p, n, limit, methodHead, h);
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
      a.contentLength != b.contentLength || a.fieldCount != b.fieldCount ||
      !sameView(a.version, b.version) || a.desync.tier != b.desync.tier ||
      a.desync.reason != b.desync.reason || a.desync.field != b.desync.field ||
      a.desync.number != b.desync.number || a.desync.unframeable != b.desync.unframeable ||
      a.desync.notNormalized != b.desync.notNormalized ||
      a.desync.malformed != b.desync.malformed || a.desync.mustClose != b.desync.mustClose) {
    return false;
  }
  for (size_t i = 0; i < a.fieldCount; ++i) {
    const HeaderField& x = a.fields[i];
    const HeaderField& y = b.fields[i];
    if (!sameView(x.name, y.name) || !sameView(x.value, y.value) || x.lineBegin != y.lineBegin ||
        x.lineEnd != y.lineEnd || x.kind != y.kind || x.hopByHop != y.hopByHop ||
        x.lookalike != y.lookalike) {
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
        x.lookalike != y.lookalike || x.lineEnd - x.lineBegin != y.lineEnd - y.lineBegin) {
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

// Calls f(element) for every element of a comma-separated list, empty ones included.
template <typename F> void eachElementWithEmpty(std::string_view list, F&& f) {
  for (;;) {
    size_t comma = list.find(',');
    f(trimmed(list.substr(0, comma)));
    if (comma == std::string_view::npos) {
      return;
    }
    list.remove_prefix(comma + 1);
  }
}

// A transfer coding the balancer forwards (parameters after ';' do not matter).
bool knownCoding(std::string_view element, bool* chunked) {
  std::string_view c = trimmed(element.substr(0, element.find(';')));
  *chunked = equalsIgnoreCase(c, "chunked");
  return *chunked || equalsIgnoreCase(c, "gzip") || equalsIgnoreCase(c, "deflate") ||
         equalsIgnoreCase(c, "compress") || equalsIgnoreCase(c, "identity");
}

// A Complete request's framing, Host, keep-alive and Expect, read independently: RFC 9112 §6.3
// with tide's desync rules (docs/load-balancer.md "Desync protection"). Only the exact
// Content-Length and Transfer-Encoding fields frame; what is ambiguous about them is removed.
Violation checkRequestFraming(const MessageHead& h, const FieldFacts& ff, bool expectKeepAlive) {
  const DesyncVerdict& v = h.desync;
  PROPERTY(ff.hostFields <= 1, "a request has at most one Host (two are refused)");
  PROPERTY(h.expectContinue == ff.expectContinue, "expectContinue is Expect: 100-continue");
  PROPERTY(h.keepAlive == expectKeepAlive, "keep-alive follows the version and Connection");
  int exactCl = 0;
  int exactTe = 0;
  bool lengthsAgree = true;
  uint64_t length = 0;
  int chunkedCount = 0;
  bool lastChunked = false;
  bool codingsKnown = true;
  for (size_t i = 0; i < h.fieldCount; ++i) {
    const HeaderField& f = h.fields[i];
    if (f.kind == HeaderKind::ContentLength) {
      uint64_t n = 0;
      lengthsAgree &= decimal64(f.value, &n) && (exactCl == 0 || n == length);
      if (exactCl++ == 0) {
        length = n;
      }
    } else if (f.kind == HeaderKind::TransferEncoding) {
      ++exactTe;
      eachElementWithEmpty(f.value, [&](std::string_view e) {
        bool chunked = false;
        codingsKnown &= knownCoding(e, &chunked);
        chunkedCount += chunked;
        lastChunked = chunked;
      });
    }
  }
  bool getOrHead = h.method == "GET" || h.method == "HEAD";
  if (exactTe > 0) {
    PROPERTY(h.versionMinor == 1, "Transfer-Encoding before HTTP/1.1 is never forwarded");
    PROPERTY(codingsKnown && chunkedCount == 1 && lastChunked,
             "a forwarded request's codings are known and chunked is the final one, once");
    PROPERTY(h.framing == BodyFraming::Chunked && h.contentLength == 0,
             "Transfer-Encoding: ...chunked frames a request");
    for (size_t i = 0; i < h.fieldCount; ++i) {
      PROPERTY(h.fields[i].kind != HeaderKind::ContentLength || h.fields[i].hopByHop,
               "Content-Length beside chunked is removed");
    }
    PROPERTY(exactCl == 0 || v.tier >= DesyncTier::Ambiguous,
             "Transfer-Encoding with Content-Length is at least Ambiguous");
    PROPERTY(!getOrHead || (v.tier >= DesyncTier::Ambiguous && v.notNormalized),
             "Transfer-Encoding on GET or HEAD cannot be normalized");
  } else if (exactCl > 0) {
    PROPERTY(lengthsAgree, "Content-Length fields are one 64-bit decimal number, all the same");
    PROPERTY(!h.version.empty() && h.version != "HTTP/0.9",
             "Content-Length in HTTP/0.9 is never forwarded");
    BodyFraming expected = length > 0 ? BodyFraming::ContentLength : BodyFraming::None;
    PROPERTY(h.framing == expected && h.contentLength == (length > 0 ? length : 0),
             "Content-Length frames a request");
    bool first = true;
    for (size_t i = 0; i < h.fieldCount; ++i) {
      if (h.fields[i].kind == HeaderKind::ContentLength) {
        PROPERTY(h.fields[i].hopByHop != first, "of equal Content-Length fields the first is kept");
        first = false;
      }
    }
    PROPERTY(exactCl == 1 || v.tier >= DesyncTier::Ambiguous,
             "duplicate Content-Length is at least Ambiguous");
    PROPERTY(!getOrHead || length == 0 || (v.tier >= DesyncTier::Ambiguous && v.notNormalized),
             "a body on GET or HEAD cannot be normalized");
  } else {
    PROPERTY(h.framing == BodyFraming::None && h.contentLength == 0,
             "a request without a length has no body");
  }
  if (v.tier == DesyncTier::Compliant) {
    PROPERTY(exactCl <= 1 && (exactCl == 0 || exactTe == 0),
             "a Compliant request has one framing field at most (or only Transfer-Encoding)");
    PROPERTY(!getOrHead || exactCl + exactTe == 0, "a Compliant GET or HEAD has no length");
  }
  return {};
}

// ---- one complete head ----

// The start line, the field lines and what the head says, against the bytes. Responses are
// read strictly (a name is a token, a value has no control characters); requests are classified
// instead (desync.h), and only a Compliant request must look as strict as a response.
Violation checkShape(const Side& side, const char* p, size_t n, const MessageHead& h) {
  const size_t len = h.length;
  const DesyncVerdict& v = h.desync;
  const bool strict = !side.request || v.tier == DesyncTier::Compliant;
  PROPERTY(len >= 4 && len <= n, "a complete head lies inside the input");
  PROPERTY(std::memcmp(p + len - 4, "\r\n\r\n", 4) == 0, "a complete head ends with CRLF CRLF");
  PROPERTY(h.fieldsEnd + 2 == len, "the blank line ends the head");
  PROPERTY(h.requestLineBegin < h.fieldsBegin && h.fieldsBegin <= h.fieldsEnd,
           "start line, fields and blank line are in order");
  PROPERTY(std::memcmp(p + h.fieldsBegin - 2, "\r\n", 2) == 0, "the start line ends with CRLF");
  const void* firstEnd = memmem(p + h.requestLineBegin, len - h.requestLineBegin, "\r\n\r\n", 4);
  PROPERTY(firstEnd == p + len - 4, "the head ends at the first CRLF CRLF");
  PROPERTY(h.versionMinor == 0 || h.versionMinor == 1, "the version is HTTP/1.0 or HTTP/1.1");
  PROPERTY(h.fieldCount <= http1::kMaxHeaderFields, "at most kMaxHeaderFields fields");
  const size_t lineEnd = h.fieldsBegin - 2; // the start line's CRLF
  PROPERTY(memmem(p + h.requestLineBegin, lineEnd - h.requestLineBegin, "\r\n", 2) == nullptr,
           "the start line is one line");

  if (side.request) {
    PROPERTY(h.requestLineBegin % 2 == 0, "only whole empty lines precede the request line");
    for (size_t i = 0; i < h.requestLineBegin; i += 2) {
      PROPERTY(p[i] == '\r' && p[i + 1] == '\n', "only empty lines precede the request line");
    }
    PROPERTY(h.status == 0, "a request has no status");
    // Method, target and version: views in this order inside the request line.
    PROPERTY(h.method.data() == p + h.requestLineBegin && inside(h.method, p, 0, lineEnd),
             "the method starts the request line");
    PROPERTY(h.target.data() == h.method.data() + h.method.size() + 1 &&
                 p[h.requestLineBegin + h.method.size()] == ' ' && inside(h.target, p, 0, lineEnd),
             "one space separates method and target, inside the request line");
    const char* afterTarget = h.target.data() + h.target.size();
    if (!h.version.empty()) {
      PROPERTY(h.version.data() == afterTarget + 1 && *afterTarget == ' ' &&
                   inside(h.version, p, 0, lineEnd),
               "a space separates target and version, inside the request line");
      for (const char* q = h.version.data() + h.version.size(); q < p + lineEnd; ++q) {
        PROPERTY(isSpace(*q), "only whitespace follows the version");
      }
    } else {
      for (const char* q = afterTarget; q < p + lineEnd; ++q) {
        PROPERTY(isSpace(*q), "only whitespace follows a target without version");
      }
    }
    bool http09 = h.version.empty() || h.version == "HTTP/0.9";
    PROPERTY(http09 || (h.version.size() == 8 && h.version.substr(0, 7) == "HTTP/1." &&
                        h.version[7] >= '0' && h.version[7] <= '9'),
             "a forwardable request is HTTP/0.9 or HTTP/1.x (another version is unframeable)");
    PROPERTY(h.versionMinor == (http09 || h.version[7] == '0' ? 0 : 1),
             "versionMinor is 0 for HTTP/0.9 and 1.0, 1 for HTTP/1.1 and later");
    if (strict) {
      PROPERTY(!h.method.empty(), "a Compliant method is not empty");
      for (char c : h.method) {
        PROPERTY(isTchar(c), "a Compliant method is a token");
      }
      // (An empty target is Compliant: the desync corpus says so, "Empty URI".)
      for (char c : h.target) {
        PROPERTY(isFieldVchar(c), "a Compliant target has no whitespace or control characters");
      }
      PROPERTY(!http09 && h.version[7] <= '1' && h.version.data() + h.version.size() == p + lineEnd,
               "a Compliant request line ends with HTTP/1.0 or HTTP/1.1");
    }
    // The verdict is consistent.
    PROPERTY((v.tier == DesyncTier::Compliant) == (v.reason == DesyncReason::Compliant),
             "a reason is given exactly when the request is not Compliant");
    PROPERTY(v.field >= -1 && v.field < int(h.fieldCount), "the verdict's field is a field");
    PROPERTY(!v.notNormalized || v.tier >= DesyncTier::Ambiguous,
             "only an Ambiguous or Severe finding can fail to be normalized");
    PROPERTY(!v.unframeable, "an unframeable request is never Complete");
    // What RFC 9112 says to reject is never Complete (docs/security.md "HTTP parsing").
    PROPERTY(!v.malformed, "a malformed request is never Complete");
    PROPERTY(!http09, "HTTP/0.9 is refused");
    PROPERTY(http1::isValidRequestTarget(h.method, h.target),
             "a Complete request's target is of its method's form");
    for (char c : h.method) {
      PROPERTY(isTchar(c), "a Complete request's method is a token");
    }
    PROPERTY(h.version.data() + h.version.size() == p + lineEnd,
             "nothing follows the version of a Complete request");
    for (size_t i = 0; i < h.fieldCount; ++i) {
      const HeaderField& f = h.fields[i];
      bool token = !f.name.empty() && p[f.lineBegin + f.name.size()] == ':';
      for (char c : f.name) {
        token &= isTchar(c);
      }
      PROPERTY(token, "every field of a Complete request is a token name and a colon");
      for (const char* q = p + f.lineBegin + f.name.size() + 1; q < p + f.lineEnd - 2; ++q) {
        PROPERTY(isFieldChar(*q), "no control character in a Complete request's field value");
      }
      PROPERTY(f.kind != HeaderKind::Host || http1::isValidHost(f.value),
               "a Complete request's Host is host[:port]");
    }
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
    PROPERTY(std::memcmp(p, "HTTP/1.", 7) == 0 && p[7] - '0' == h.versionMinor,
             "the version is the one in the status line");
  }

  // The field lines tile [fieldsBegin, fieldsEnd); strict heads: each one well formed.
  size_t at = h.fieldsBegin;
  bool anyHop = false;
  for (size_t i = 0; i < h.fieldCount; ++i) {
    const HeaderField& f = h.fields[i];
    PROPERTY(f.lineBegin == at && f.lineEnd > f.lineBegin && f.lineEnd <= h.fieldsEnd,
             "field lines follow each other inside the head");
    PROPERTY(std::memcmp(p + f.lineEnd - 2, "\r\n", 2) == 0, "a field line ends with CRLF");
    PROPERTY(f.name.data() == p + f.lineBegin && inside(f.name, p, f.lineBegin, f.lineEnd - 2),
             "the name starts the line");
    PROPERTY(inside(f.value, p, f.lineBegin + f.name.size(), f.lineEnd - 2),
             "the value lies inside its line, after the name");
    PROPERTY(f.value.empty() || (!isSpace(f.value.front()) && !isSpace(f.value.back())),
             "the value is trimmed");
    bool colon = p[f.lineBegin + f.name.size()] == ':';
    bool tokenName = !f.name.empty() && colon;
    for (char c : f.name) {
      tokenName &= isTchar(c);
    }
    if (strict) {
      PROPERTY(tokenName, "a field name is a token followed by a colon");
      size_t valueFrom = f.lineBegin + f.name.size() + 1;
      for (size_t j = valueFrom; j + 2 < f.lineEnd; ++j) {
        PROPERTY(isFieldChar(p[j]), "a field line has no CR, LF or control characters");
        bool inValue = p + j >= f.value.data() && p + j < f.value.data() + f.value.size();
        PROPERTY(inValue || isSpace(p[j]), "only whitespace surrounds the value");
      }
      PROPERTY(f.lookalike == HeaderKind::Other, "a strict head has no look-alike names");
    }
    PROPERTY(f.kind == (tokenName ? expectedKind(f.name) : HeaderKind::Other),
             "the kind matches the name (Other when the name is not a token with a colon)");
    bool hop = alwaysHopByHop(f.kind) || namedByConnection(h, f.name);
    if (!side.request) {
      PROPERTY(f.hopByHop == hop, "hop-by-hop means a hop-by-hop kind or named by Connection");
    } else {
      PROPERTY(!hop || f.hopByHop, "hop-by-hop kinds and fields named by Connection are removed");
      bool leadingSpace = isSpace(p[f.lineBegin]);
      PROPERTY(!leadingSpace || f.hopByHop, "a line starting with whitespace is removed");
      PROPERTY(f.hopByHop == hop || leadingSpace || v.tier >= DesyncTier::Ambiguous,
               "a field is removed for normalization only from an Ambiguous or Severe request");
      PROPERTY(f.lookalike == HeaderKind::Other ||
                   (f.kind == HeaderKind::Other && f.hopByHop && v.tier >= DesyncTier::Ambiguous),
               "a look-alike of a framing header is removed, and makes the request Ambiguous");
      PROPERTY(colon || (f.hopByHop && v.tier >= DesyncTier::Ambiguous),
               "a line without colon is removed, and makes the request Ambiguous");
    }
    anyHop |= f.hopByHop;
    at = f.lineEnd;
  }
  PROPERTY(at == h.fieldsEnd, "the field lines fill the head");
  PROPERTY(h.anyHopByHop == anyHop, "anyHopByHop says whether some field is hop-by-hop");
  PROPERTY(h.contentLength == 0 || h.framing == BodyFraming::ContentLength,
           "contentLength is set only for Content-Length framing");

  FieldFacts ff = readFields(h);
  bool expectKeepAlive = !ff.connectionClose && (h.versionMinor == 1 || ff.connectionKeepAlive);
  if (side.request) {
    return checkRequestFraming(h, ff, expectKeepAlive);
  }
  // What the fields say about framing and the connection (responses: as strict as before).
  PROPERTY(ff.contentLengthFields == 0 || ff.transferEncodingFields == 0,
           "Content-Length with Transfer-Encoding is rejected");
  PROPERTY(ff.contentLengthFields == 0 || (ff.contentLengthDecimal && ff.contentLengthAgrees),
           "Content-Length is one decimal value");
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

// The head the worker sends for h (exchange.cc sendRequestHead; responses: only hop-by-hop fields
// removed): the start line, the fields not removed, then with addForwarded the X-Forwarded-*
// fields (X-Forwarded-For appends to the values of the X-Forwarded-For fields not removed), and
// for HTTP/1.0 keep-alive.
std::string forwardedHead(const Side& side, const char* p, const MessageHead& h,
                          bool addForwarded) {
  addForwarded &= side.request;
  std::string out(p + h.requestLineBegin, h.fieldsBegin - h.requestLineBegin);
  for (size_t i = 0; i < h.fieldCount; ++i) {
    const HeaderField& f = h.fields[i];
    bool forwardedField = f.kind == HeaderKind::XForwardedFor ||
                          f.kind == HeaderKind::XForwardedProto ||
                          f.kind == HeaderKind::XForwardedPort;
    if (!f.hopByHop && !(addForwarded && forwardedField)) {
      out.append(p + f.lineBegin, f.lineEnd - f.lineBegin);
    }
  }
  if (addForwarded) {
    out += "X-Forwarded-For: ";
    for (size_t i = 0; i < h.fieldCount; ++i) {
      const HeaderField& f = h.fields[i];
      if (f.kind == HeaderKind::XForwardedFor && !f.hopByHop && !f.value.empty()) {
        out.append(f.value).append(", ");
      }
    }
    out += "127.0.0.1\r\nX-Forwarded-Proto: http\r\nX-Forwarded-Port: 80\r\n";
  }
  if (h.versionMinor == 0) {
    out += "Connection: keep-alive\r\n";
  }
  out += "\r\n";
  return out;
}

// The head parsed again from what the worker forwards is framed the same way (the next hop
// finds the body where the balancer did), and carries one framing header kind at most, with
// its exact name: no look-alike, no second Content-Length, not Content-Length beside chunked.
Violation checkForwarded(const Side& side, const char* p, const MessageHead& h, bool addForwarded) {
  std::string out = forwardedHead(side, p, h, addForwarded);
  // The field lines as a lenient next hop could read them, line by line.
  int lengths = 0;
  int codings = 0;
  size_t start = h.fieldsBegin - h.requestLineBegin;
  for (size_t at = start; at + 2 < out.size();) {
    size_t eol = out.find("\r\n", at);
    PROPERTY(eol != std::string::npos && eol > at, "forwarded field lines are not empty");
    std::string_view line(out.data() + at, eol - at);
    std::string_view name = line.substr(0, line.find(':'));
    PROPERTY(line.find('\n') == std::string_view::npos && line.find('\r') == std::string_view::npos,
             "forwarded field lines hold no CR or LF");
    PROPERTY(name.size() < line.size(), "every forwarded field line has a colon");
    PROPERTY(!isSpace(line.front()), "no forwarded field line continues another (obs-fold)");
    HeaderKind like = framingLike(name);
    bool exact = expectedKind(name) == like;
    PROPERTY(like == HeaderKind::Other || exact || !side.request,
             "no look-alike of Content-Length or Transfer-Encoding is forwarded");
    lengths += side.request ? like == HeaderKind::ContentLength
                            : expectedKind(name) == HeaderKind::ContentLength;
    codings += side.request ? like == HeaderKind::TransferEncoding
                            : expectedKind(name) == HeaderKind::TransferEncoding;
    at = eol + 2;
  }
  // (A response may repeat one Content-Length value: RFC 9110 §8.6 lets its recipient accept it.)
  PROPERTY(lengths <= 1 || !side.request, "one Content-Length at most is forwarded");
  PROPERTY(lengths == 0 || codings == 0, "never Content-Length and Transfer-Encoding together");
  if (h.framing == BodyFraming::Chunked) {
    PROPERTY(codings > 0, "a chunked body is forwarded with its Transfer-Encoding");
  } else if (h.framing == BodyFraming::ContentLength && side.request) {
    PROPERTY(lengths == 1 && codings == 0, "a body of known length is forwarded with it");
  } else if (side.request) {
    PROPERTY(codings == 0, "a request without a chunked body is forwarded without a coding");
  }

  MessageHead again;
  ParseStatus st = side.parse(out.data(), out.size(), kUnlimited, again);
  if (st == ParseStatus::TooLarge && forwardedFields(out) > http1::kMaxHeaderFields) {
    return {}; // the added fields pass the field limit: for the next hop to refuse or take
  }
  PROPERTY(st == ParseStatus::Complete, "the forwarded head parses");
  PROPERTY(again.length == out.size(), "the forwarded head is one head");
  PROPERTY(again.framing == h.framing && again.contentLength == h.contentLength,
           "the forwarded head frames the body as the balancer did");
  PROPERTY(again.method == h.method && again.target == h.target && again.status == h.status &&
               again.versionMinor == h.versionMinor && again.version == h.version,
           "the forwarded start line is the received one");
  if (side.request) {
    PROPERTY(again.desync.tier <= h.desync.tier, "forwarding never makes a request riskier");
    if (desyncAction(DesyncMitigationMode::Defensive, h.desync) == DesyncAction::ForwardThenClose) {
      PROPERTY(again.desync.tier <= DesyncTier::Acceptable,
               "an Ambiguous request is forwarded normalized: no longer Ambiguous");
    }
    for (size_t i = 0; i < again.fieldCount; ++i) {
      PROPERTY(!again.fields[i].hopByHop || alwaysHopByHop(again.fields[i].kind) ||
                   namedByConnection(again, again.fields[i].name),
               "the forwarded head needs no normalization");
    }
  }
  return {};
}

// The mitigation mode table (desync.h, docs/load-balancer.md) for the verdict of a request
// head, in all three modes. Complete: what the worker does; Invalid: always blocked.
Violation checkDesyncActions(ParseStatus st, const DesyncVerdict& v) {
  using M = DesyncMitigationMode;
  using A = DesyncAction;
  DesyncVerdict unframeable = v;
  unframeable.unframeable = true;
  for (M m : {M::Monitor, M::Defensive, M::Strictest}) {
    PROPERTY(desyncAction(m, unframeable) == A::Block,
             "an unframeable request is blocked in every mode, monitor included");
  }
  if (st != ParseStatus::Complete) {
    return {};
  }
  DesyncVerdict malformed = v;
  malformed.malformed = true;
  for (M m : {M::Monitor, M::Defensive, M::Strictest}) {
    PROPERTY(desyncAction(m, malformed) == A::Block,
             "what RFC 9112 says to reject is blocked in every mode, monitor included");
  }
  A monitor = desyncAction(M::Monitor, v);
  A defensive = desyncAction(M::Defensive, v);
  A strictest = desyncAction(M::Strictest, v);
  PROPERTY(monitor == (v.mustClose ? A::ForwardThenClose : A::Forward),
           "monitor forwards every request tide can frame one way (and closes after "
           "Transfer-Encoding beside Content-Length)");
  PROPERTY(!v.mustClose || v.tier >= DesyncTier::Ambiguous,
           "Transfer-Encoding beside Content-Length is Ambiguous");
  PROPERTY(strictest == (v.tier == DesyncTier::Compliant ? A::Forward : A::Block),
           "strictest forwards only Compliant requests");
  A expected = A::Forward;
  if (v.tier == DesyncTier::Severe) {
    expected = A::Block;
  } else if (v.tier == DesyncTier::Ambiguous) {
    expected = v.notNormalized ? A::Block : A::ForwardThenClose;
  }
  PROPERTY(defensive == expected,
           "defensive forwards Compliant and Acceptable, Ambiguous normalized then closes, "
           "blocks Severe and what cannot be normalized");
  PROPERTY(v.tier != DesyncTier::Severe || (defensive == A::Block && strictest == A::Block),
           "a Severe request is blocked in defensive and strictest mode");
  return {};
}

// The same header fields behind a request line and behind a 200 status line: where RFC 9112's
// rules are the same for both, both sides decide the same. The request side is classified
// rather than refused (desync.h), so a response may refuse what a request only classifies.
Violation checkFramingAgreement(std::string_view fields, int versionMinor) {
  std::string version = versionMinor == 1 ? "HTTP/1.1" : "HTTP/1.0";
  std::string req = "POST / " + version + "\r\n" + std::string(fields);
  std::string rsp = version + " 200 OK\r\n" + std::string(fields);
  MessageHead q;
  MessageHead r;
  ParseStatus qs = http1::parseRequestHead(req.data(), req.size(), kUnlimited, q);
  ParseStatus rs = http1::parseResponseHead(rsp.data(), rsp.size(), kUnlimited, false, r);
  PROPERTY(qs != ParseStatus::NotImplemented, "NotImplemented is no longer returned");
  PROPERTY(rs != ParseStatus::TooLarge || qs == ParseStatus::TooLarge,
           "both sides count the same fields");
  PROPERTY(qs != ParseStatus::TooLarge || rs != ParseStatus::Complete,
           "both sides count the same fields");
  if (rs == ParseStatus::Invalid && qs == ParseStatus::Complete) {
    bool longLength = false; // the response side keeps its old limit of 18 digits
    for (size_t i = 0; i < q.fieldCount; ++i) {
      longLength |= q.fields[i].kind == HeaderKind::ContentLength && q.fields[i].value.size() > 18;
    }
    PROPERTY(q.desync.tier != DesyncTier::Compliant || longLength,
             "fields a response may not carry make a request non-Compliant");
  }
  if (rs != ParseStatus::Complete) {
    return {};
  }
  FieldFacts ff = readFields(r);
  if (qs != ParseStatus::Complete) {
    PROPERTY(qs == ParseStatus::Invalid, "a request is refused as Invalid");
    // Host (RFC 9112 §3.2): two, none in HTTP/1.1, or one that is not host[:port].
    bool hostRule = ff.hostFields > 1 || (ff.hostFields == 0 && versionMinor == 1);
    for (size_t i = 0; i < r.fieldCount; ++i) {
      hostRule |= r.fields[i].kind == HeaderKind::Host && !http1::isValidHost(r.fields[i].value);
    }
    bool listRule = false;
    bool unknownCoding = false;
    bool chunkedTwice = false; // with parameters: "chunked;x=1, chunked" is chunked twice
    for (size_t i = 0; i < r.fieldCount; ++i) {
      const HeaderField& f = r.fields[i];
      listRule |= f.kind == HeaderKind::ContentLength && f.value.find(',') != std::string::npos;
    }
    // A chunked element of an exact Transfer-Encoding after an earlier chunked one, also of a
    // look-alike (`Transfer_Encoding: chunked`), which only the request side reads: a target
    // that takes the look-alike for the real one would see chunked twice.
    bool sawChunked = false;
    for (size_t i = 0; i < q.fieldCount; ++i) {
      const HeaderField& f = q.fields[i];
      bool exact = f.kind == HeaderKind::TransferEncoding;
      if (!exact && f.lookalike != HeaderKind::TransferEncoding) {
        continue;
      }
      eachElementWithEmpty(f.value, [&](std::string_view e) {
        bool chunked = false;
        bool known = knownCoding(e, &chunked);
        unknownCoding |= exact && !known;
        chunkedTwice |= exact && chunked && sawChunked;
        sawChunked |= chunked;
      });
    }
    bool codingRule = ff.transferEncodingFields > 0 &&
                      (versionMinor == 0 || r.framing == BodyFraming::UntilClose || unknownCoding ||
                       chunkedTwice);
    PROPERTY(hostRule || listRule || codingRule, "a request is refused only by request-only rules");
    PROPERTY(q.desync.unframeable || q.desync.malformed,
             "a request is refused when unframeable or malformed");
    return {};
  }
  if (q.desync.tier == DesyncTier::Compliant) {
    PROPERTY(sameFields(q, r), "both sides read the same fields");
  }
  bool codingParameters = false; // "chunked;x=1": a request reads chunked, a response does not
  for (size_t i = 0; i < r.fieldCount; ++i) {
    codingParameters |= r.fields[i].kind == HeaderKind::TransferEncoding &&
                        r.fields[i].value.find(';') != std::string_view::npos;
  }
  if (codingParameters) {
    return {};
  }
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
  PROPERTY(refSt != ParseStatus::NotImplemented, "NotImplemented is no longer returned");
  if (side.request && (refSt == ParseStatus::Complete || refSt == ParseStatus::Invalid)) {
    PROPAGATE(checkDesyncActions(refSt, ref.desync));
    // What the worker logs and counts reads the views of a refused head too: inside the input.
    auto within = [&](std::string_view v) { return v.empty() || inside(v, p, 0, n); };
    PROPERTY(within(ref.method) && within(ref.target) && within(ref.version),
             "the request line's views lie inside the input");
    for (size_t i = 0; i < ref.fieldCount; ++i) {
      PROPERTY(within(ref.fields[i].name) && within(ref.fields[i].value) &&
                   ref.fields[i].lineEnd <= n,
               "the fields' views lie inside the input");
    }
    PROPERTY(!balancer::describeDesync(ref).empty(), "the verdict can be described");
    if (refSt == ParseStatus::Invalid && !ref.desync.unframeable) {
      int hosts = 0;
      for (size_t i = 0; i < ref.fieldCount; ++i) {
        hosts += ref.fields[i].kind == HeaderKind::Host;
      }
      PROPERTY(hosts > 1 || ref.desync.malformed,
               "a request is Invalid only when unframeable, malformed (what RFC 9112 says to "
               "reject) or with two Host fields");
    }
    if (refSt == ParseStatus::Invalid && ref.desync.unframeable) {
      PROPERTY(ref.desync.tier >= DesyncTier::Ambiguous,
               "an unframeable request is at least Ambiguous");
    }
  }
  if (refSt == ParseStatus::Complete) {
    PROPAGATE(checkShape(side, p, n, ref));
    PROPAGATE(checkForwarded(side, p, ref, /*addForwarded=*/true));
    PROPAGATE(checkForwarded(side, p, ref, /*addForwarded=*/false));
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
  // CRLF at i: nullopt once past it, else the verdict (NeedMore or Invalid).
  auto crlf = [&]() -> std::optional<RefScan> {
    if (d[i] != '\r') {
      return bad();
    }
    if (++i == n) {
      return more();
    }
    if (d[i++] != '\n') {
      return bad();
    }
    return std::nullopt;
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
    if (auto r = crlf()) {
      return *r;
    }
    if (size == 0) {
      break;
    }
    if (n - i <= size) {
      return more();
    }
    i += size;
    if (auto r = crlf()) {
      return *r;
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
    if (auto r = crlf()) {
      return *r;
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

// ---- the API server's request reader (http1::RequestReader) ----

// What reading one connection's bytes gave: the requests, where each ended in the input, and
// how the reading stopped.
struct ReadOutcome {
  std::vector<http1::Request> requests;
  std::vector<size_t> ends; // offset just past each request
  bool failed = false;      // refused: status and code say why
  int status = 0;
  std::string code;
  std::string left; // not failed: the bytes not consumed (an unfinished head)
};

// Reads d as a server does: the bytes arrive in pieces of next(remaining) bytes, each appended
// to a buffer that the reader drains; what it consumed is dropped.
template <typename NextPiece>
Violation readConnection(const char* d, size_t n, const http1::RequestReaderLimits& limits,
                         NextPiece&& next, ReadOutcome& out) {
  out = ReadOutcome{};
  http1::RequestReader reader(limits);
  std::string buffer;
  size_t base = 0; // input offset of buffer[0]
  size_t at = 0;   // input bytes appended so far
  for (;;) {
    for (;;) {
      size_t consumed = ~size_t(0);
      http1::RequestReader::Step step = reader.read(buffer, &consumed);
      PROPERTY(consumed <= buffer.size(), "the reader uses at most the bytes it is given");
      buffer.erase(0, consumed);
      base += consumed;
      if (step == http1::RequestReader::Step::Request) {
        out.requests.push_back(reader.request());
        out.ends.push_back(base);
        continue;
      }
      if (step == http1::RequestReader::Step::Error) {
        PROPERTY(reader.read(buffer, &consumed) == http1::RequestReader::Step::Error &&
                     consumed == 0,
                 "a refused connection stays refused and reads nothing more");
        out.failed = true;
        out.status = reader.error().status;
        out.code = reader.error().code;
        PROPERTY(!reader.error().message.empty(), "a refusal says why");
        return {};
      }
      PROPERTY(!reader.inBody() || buffer.empty(), "NeedMore in a body means every byte was used");
      break;
    }
    if (at == n) {
      out.left = buffer;
      return {};
    }
    size_t piece = next(n - at);
    buffer.append(d + at, piece);
    at += piece;
  }
}

// Each request took exactly its head and the body its framing names, no byte more: read again
// on its own with the parser and the chunked scanner (and RFC 9112's chunked grammar).
Violation checkReadFraming(const char* d, const ReadOutcome& r,
                           const http1::RequestReaderLimits& limits) {
  size_t start = 0;
  for (size_t i = 0; i < r.requests.size(); ++i) {
    const http1::Request& q = r.requests[i];
    size_t length = r.ends[i] - start;
    MessageHead h;
    http1::HeadError why = http1::HeadError::None;
    PROPERTY(http1::parseRequestHeadStrict(d + start, length, limits.maxHeadBytes, h, &why) ==
                 ParseStatus::Complete,
             "a request read starts with a head the strict parser accepts");
    PROPERTY(h.length <= length && h.length <= limits.maxHeadBytes,
             "the head lies inside the request");
    PROPERTY(q.method == h.method && q.target == h.target && q.headers.size() == h.fieldCount,
             "the request carries its head");
    PROPERTY(q.body.size() <= limits.maxBodyBytes, "a body is within the limit");
    const char* body = d + start + h.length;
    size_t bodyBytes = length - h.length;
    switch (h.framing) {
    case BodyFraming::None:
      PROPERTY(bodyBytes == 0 && q.body.empty() && !q.chunked, "no framing, no body");
      break;
    case BodyFraming::ContentLength:
      PROPERTY(bodyBytes == h.contentLength && q.body == std::string_view(body, bodyBytes) &&
                   !q.chunked,
               "a Content-Length body is exactly that many bytes");
      break;
    case BodyFraming::Chunked: {
      PROPERTY(q.chunked, "a chunked head gives a chunked request");
      http1::ChunkedDecoder scanner;
      size_t used = 0;
      PROPERTY(scanner.scan(body, bodyBytes, &used) == http1::ChunkedDecoder::Result::Done &&
                   used == bodyBytes && scanner.bodyBytes() == q.body.size(),
               "a chunked body ends where the scanner ends it");
      RefScan ref = referenceChunked(reinterpret_cast<const uint8_t*>(body), bodyBytes);
      PROPERTY(ref.result != RefResult::Done || ref.used == bodyBytes,
               "a chunked body ends where RFC 9112's grammar ends it");
      break;
    }
    case BodyFraming::UntilClose:
      PROPERTY(false, "a request is never framed by the end of the connection");
    }
    start = r.ends[i];
  }
  return {};
}

bool sameOutcome(const ReadOutcome& a, const ReadOutcome& b) {
  return a.requests == b.requests && a.ends == b.ends && a.failed == b.failed &&
         a.status == b.status && a.code == b.code && (a.failed || a.left == b.left);
}

Violation checkReader(const char* d, size_t n, const http1::RequestReaderLimits& limits) {
  ReadOutcome whole;
  PROPAGATE(readConnection(
      d, n, limits, [](size_t rest) { return rest; }, whole));
  PROPAGATE(checkReadFraming(d, whole, limits));
  // The same bytes split differently read the same.
  ReadOutcome other;
  PROPAGATE(readConnection(
      d, n, limits, [](size_t) { return size_t(1); }, other));
  PROPERTY(sameOutcome(whole, other), "byte by byte reads the same requests as one piece");
  uint64_t seed = fnv1a(reinterpret_cast<const uint8_t*>(d), n);
  for (int round = 0; round < kSplitRounds; ++round) {
    uint64_t maxPiece = round == 0 ? 3 : round == 1 ? 17 : 1 + splitmix(seed) % 300;
    PROPAGATE(readConnection(
        d, n, limits,
        [&](size_t rest) { return std::min<size_t>(rest, 1 + splitmix(seed) % maxPiece); }, other));
    PROPERTY(sameOutcome(whole, other), "random pieces read the same requests as one piece");
  }
  // Serialized again and read again, every request is the same request.
  http1::RequestReaderLimits roomy = limits;
  roomy.maxHeadBytes = limits.maxHeadBytes * 2 + 4 * http1::kMaxHeaderFields;
  std::string again;
  for (const http1::Request& q : whole.requests) {
    again += http1::serializeRequest(q);
  }
  ReadOutcome reread;
  PROPAGATE(readConnection(
      again.data(), again.size(), roomy, [](size_t rest) { return rest; }, reread));
  PROPERTY(!reread.failed && reread.left.empty() && reread.requests == whole.requests,
           "requests serialized and read again are the same requests");
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
  ParseStatus gs = http1::parseResponseHead(p, size, kWorkerLimit, false, get);
  ParseStatus hs = http1::parseResponseHead(p, size, kWorkerLimit, true, head);
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

Violation checkRequestReader(const uint8_t* data, size_t size) {
  const char* d = reinterpret_cast<const char*>(data);
  // The API server's limits, and small ones that the inputs reach.
  PROPAGATE(checkReader(d, size, http1::RequestReaderLimits{}));
  PROPAGATE(checkReader(d, size, http1::RequestReaderLimits{200, 40}));
  return {};
}

void abortOnViolation(const Violation& v) {
  if (v) {
    std::fprintf(stderr, "property failed: %s (%s:%d)\n", v.property, v.file, v.line);
    std::abort();
  }
}

} // namespace tide::fuzz
