#include "http1/parser.h"

#include "common/text.h"
#include "http1/chars.h"
#include "http1/target.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>

namespace tide::http1 {
namespace {

// Case-insensitive comparison against a lower-case literal.
bool equalsLower(std::string_view s, std::string_view lowerLiteral) {
  if (s.size() != lowerLiteral.size()) {
    return false;
  }
  for (size_t i = 0; i < s.size(); ++i) {
    if (asciiLower(s[i]) != static_cast<unsigned char>(lowerLiteral[i])) {
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

// Calls f(element) for each non-empty element of a comma-separated list.
template <typename F> void forEachListElement(std::string_view list, F&& f) {
  while (!list.empty()) {
    size_t comma = list.find(',');
    std::string_view e = trimOws(list.substr(0, comma));
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
  head.version = {};
  head.desync = DesyncVerdict{};
}

// Skips the empty lines a request may start with (RFC 9112 §2.2).
size_t skipEmptyLines(const char* data, size_t size) {
  size_t begin = 0;
  while (begin + 1 < size && data[begin] == '\r' && data[begin + 1] == '\n') {
    begin += 2;
  }
  return begin;
}

// Finds a head that starts at `begin` within maxBytes. Complete: the head is reset, with
// requestLineBegin = begin and length = the offset just past its blank line.
// Inlined: a call here cost about 30 instructions per proxied request (callgrind, `tiny`).
[[gnu::always_inline]] inline ParseStatus locateHead(const char* data, size_t size, size_t begin,
                                                     size_t maxBytes, MessageHead& head) {
  size_t end = findHeadEnd(data, size, begin);
  if (end == 0) {
    return size >= maxBytes ? ParseStatus::TooLarge : ParseStatus::Incomplete;
  }
  if (end > maxBytes) {
    return ParseStatus::TooLarge;
  }
  resetHead(head);
  head.requestLineBegin = static_cast<uint32_t>(begin);
  head.length = static_cast<uint32_t>(end);
  return ParseStatus::Complete;
}

// Parses header lines in [pos, blank) where `blank` is the offset of the blank line.
// Always inlined: on the balancer's response path (parseResponseHead) a call costs about 30
// instructions per response, measured with callgrind, since the strict request parser calls
// it too.
[[gnu::always_inline]] inline ParseStatus parseFields(const char* data, size_t pos, size_t blank,
                                                      MessageHead& head) {
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
    f.value = trimOws(std::string_view(data + valueBegin, pos - valueBegin));
    pos += 2;
    f.lineBegin = static_cast<uint32_t>(lineBegin);
    f.lineEnd = static_cast<uint32_t>(pos);
    f.kind = classify(name);
    f.hopByHop = isHopByHop(f.kind);
    head.anyHopByHop |= f.hopByHop;
  }
  return ParseStatus::Complete;
}

// Reads one Connection field's options: close, keep-alive, and the names of further hop-by-hop
// fields, which are marked for removal. Content-Length, Transfer-Encoding and Host are never
// removed that way: tide frames the message by them, so forwarding it without them would let the
// receiver split the stream elsewhere (`Connection: content-length` is request smuggling).
void applyConnectionOptions(MessageHead& head, std::string_view value, bool& close,
                            bool& keepAliveToken) {
  forEachListElement(value, [&](std::string_view token) {
    if (equalsLower(token, "close")) {
      close = true;
    } else if (equalsLower(token, "keep-alive")) {
      keepAliveToken = true;
    } else {
      for (size_t j = 0; j < head.fieldCount; ++j) {
        HeaderField& named = head.fields[j];
        bool framing = named.kind == HeaderKind::ContentLength ||
                       named.kind == HeaderKind::TransferEncoding || named.kind == HeaderKind::Host;
        if (!framing && equalsIgnoreCase(named.name, token)) {
          named.hopByHop = true;
        }
      }
    }
  });
}

// Applies the Connection rules and gathers what the Content-Length and Transfer-Encoding fields
// say (for messageFraming) and how many Host fields there are: the strict reading of requests
// and responses. Always inlined, as parseFields.
[[gnu::always_inline]] inline void interpretFields(MessageHead& head, FramingFields& ff,
                                                   int& hostCount) {
  bool close = false;
  bool keepAliveToken = false;
  for (size_t i = 0; i < head.fieldCount; ++i) {
    HeaderField& f = head.fields[i];
    switch (f.kind) {
    case HeaderKind::Connection:
      applyConnectionOptions(head, f.value, close, keepAliveToken);
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
          ff.conflictingLengths = true;
        }
        ff.hasContentLength = true;
        ff.contentLength = n;
        any = true;
      });
      ff.badContentLength |= bad || !any;
      break;
    }
    case HeaderKind::TransferEncoding:
      ff.hasTransferEncoding = true;
      forEachListElement(f.value, [&](std::string_view coding) {
        if (ff.chunkedFinal) {
          ff.chunkedNotFinal = true; // something follows chunked
        }
        ff.chunkedFinal = equalsLower(coding, "chunked");
      });
      break;
    case HeaderKind::Host:
      ++hostCount;
      break;
    default:
      break;
    }
  }
  head.keepAlive = head.versionMinor == 1 ? !close : (keepAliveToken && !close);
}

bool parseVersion(const char* p, int& minor) {
  if (std::memcmp(p, "HTTP/1.", 7) != 0 || (p[7] != '0' && p[7] != '1')) {
    return false;
  }
  minor = p[7] - '0';
  return true;
}

// ---- Requests: parsed and classified in one pass (desync.h). ----

inline unsigned char uc(char c) {
  return static_cast<unsigned char>(c);
}

bool isWhitespace(unsigned char c) {
  return c == ' ' || c == '\t';
}

// CR, LF and NUL: never acceptable in a name, value or request line.
bool isBadChar(unsigned char c) {
  return c == '\r' || c == '\n' || c == 0;
}

bool isAlnum(unsigned char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

size_t nextAlnum(std::string_view s, size_t i) {
  while (i < s.size() && !isAlnum(uc(s[i]))) {
    ++i;
  }
  return i;
}

// Skips whitespace and control characters (CTL: 0x00-0x1f and DEL).
size_t nextAboveSpace(std::string_view s, size_t i) {
  while (i < s.size() && (uc(s[i]) <= ' ' || uc(s[i]) == 0x7f)) {
    ++i;
  }
  return i;
}

enum class Similarity : uint8_t { Identical, SameLetters, Distant };

// How close `name` is to `framingName` (lower case letters and '-'), looking at letters and
// digits only: "Transfer_Encoding", "Transfer-Encoding\t" and " Content-Length" have the same
// letters. Two UTF-8 letters whose upper case is ASCII (U+017F long s, U+0131 dotless i) count
// as the letter they turn into.
Similarity similarity(std::string_view framingName, std::string_view name) {
  if (name.size() < framingName.size()) {
    return Similarity::Distant;
  }
  size_t i = nextAlnum(name, 0);
  bool identical = i == 0 && name.size() == framingName.size();
  for (char want : framingName) {
    if (i == name.size()) {
      return Similarity::Distant;
    }
    bool delimiter = want == '-';
    size_t next = i + 1;
    bool same = asciiLower(uc(name[i])) == uc(want);
    if (!same && i + 1 < name.size()) {
      unsigned char a = uc(name[i]), b = uc(name[i + 1]);
      if ((want == 's' && a == 0xc5 && b == 0xbf) || (want == 'i' && a == 0xc4 && b == 0xb1)) {
        same = true;
        next = i + 2;
      }
    }
    if (!same) {
      if (!delimiter) {
        break;
      }
      identical = false;
    }
    i = delimiter ? nextAlnum(name, next) : nextAboveSpace(name, next);
  }
  if (i == name.size()) {
    return identical ? Similarity::Identical : Similarity::SameLetters;
  }
  return nextAlnum(name, i) == name.size() ? Similarity::SameLetters : Similarity::Distant;
}

// Calls f(element) for every element of a comma-separated list, empty ones included.
template <typename F> void forEachElement(std::string_view list, F&& f) {
  for (;;) {
    size_t comma = list.find(',');
    f(trimOws(list.substr(0, comma)));
    if (comma == std::string_view::npos) {
      return;
    }
    list.remove_prefix(comma + 1);
  }
}

// A transfer coding tide knows (parameters after ';' are ignored). Sets *chunked.
bool knownCoding(std::string_view element, bool* chunked) {
  std::string_view coding = trimOws(element.substr(0, element.find(';')));
  *chunked = equalsLower(coding, "chunked");
  return *chunked || equalsLower(coding, "gzip") || equalsLower(coding, "deflate") ||
         equalsLower(coding, "compress") || equalsLower(coding, "identity");
}

// A Content-Length value: 1*DIGIT that fits in 64 bits.
bool contentLengthValue(std::string_view v, uint64_t* n) {
  if (v.empty()) {
    return false;
  }
  uint64_t x = 0;
  for (char c : v) {
    if (c < '0' || c > '9') {
      return false;
    }
    uint64_t d = uint64_t(c - '0');
    if (x > (UINT64_MAX - d) / 10) {
      return false;
    }
    x = x * 10 + d;
  }
  *n = x;
  return true;
}

DesyncTier charTier(unsigned char c) {
  return isBadChar(c) ? DesyncTier::Severe : DesyncTier::Acceptable;
}

// Removes a field from what is forwarded.
void removeField(MessageHead& head, HeaderField& f) {
  f.hopByHop = true;
  head.anyHopByHop = true;
}

// Whether a line starting with whitespace reads as a field of its own: whitespace, a token, ':'.
bool looksLikeField(const char* p) {
  while (isWhitespace(uc(*p))) {
    ++p;
  }
  const char* name = p;
  while (kChars.token[uc(*p)]) {
    ++p;
  }
  return p != name && *p == ':';
}

// Parses and classifies the header lines in [pos, blank) of a request.
ParseStatus parseRequestFields(const char* data, size_t pos, size_t blank, MessageHead& head) {
  DesyncVerdict& v = head.desync;
  head.fieldsBegin = static_cast<uint32_t>(pos);
  head.fieldsEnd = static_cast<uint32_t>(blank);
  while (pos < blank) {
    size_t lineBegin = pos;
    if (isWhitespace(uc(data[pos])) && head.fieldCount > 0 && !looksLikeField(data + pos)) {
      // obs-fold: the line continues the previous field. Never forwarded. (A line that looks
      // like a field of its own, " Content-Length: 5", is classified as one.)
      int index = int(head.fieldCount) - 1;
      HeaderField& f = head.fields[index];
      DesyncTier t = DesyncTier::Compliant;
      for (; !(data[pos] == '\r' && data[pos + 1] == '\n'); ++pos) {
        unsigned char c = uc(data[pos]);
        if (!kChars.fieldValue[c]) {
          t = std::max(t, charTier(c));
          v.unframeable |= c == '\r' || c == '\n';
        }
      }
      f.value = trimOws(std::string_view(f.value.data(), data + pos - f.value.data()));
      pos += 2;
      f.lineEnd = static_cast<uint32_t>(pos);
      removeField(head, f);
      v.malformed = true; // RFC 9112 §5.2: a server rejects obs-fold (or unfolds it)
      v.raise(t,
              t == DesyncTier::Severe ? DesyncReason::BadHeader : DesyncReason::NonCompliantHeader,
              index);
      v.raise(DesyncTier::Ambiguous, DesyncReason::MultilineHeader, index);
      // A folded Content-Length or Transfer-Encoding reads two ways.
      v.unframeable |=
          f.kind == HeaderKind::ContentLength || f.kind == HeaderKind::TransferEncoding;
      continue;
    }
    // The name: a token, up to the colon (the fast path); anything else is classified.
    DesyncTier nameTier = DesyncTier::Compliant;
    while (kChars.token[uc(data[pos])]) {
      ++pos;
    }
    for (; data[pos] != ':' && !(data[pos] == '\r' && data[pos + 1] == '\n'); ++pos) {
      unsigned char c = uc(data[pos]);
      if (!kChars.token[c]) {
        nameTier = std::max(nameTier, charTier(c));
        v.unframeable |= c == '\r' || c == '\n';
      }
    }
    bool colon = data[pos] == ':';
    std::string_view name(data + lineBegin, pos - lineBegin);
    if (colon) {
      ++pos;
    }
    size_t valueBegin = pos;
    DesyncTier valueTier = DesyncTier::Compliant;
    while (kChars.fieldValue[uc(data[pos])]) {
      ++pos;
    }
    for (; !(data[pos] == '\r' && data[pos + 1] == '\n'); ++pos) {
      unsigned char c = uc(data[pos]);
      if (!kChars.fieldValue[c]) {
        valueTier = std::max(valueTier, charTier(c));
        v.unframeable |= c == '\r' || c == '\n';
      }
    }
    if (head.fieldCount == kMaxHeaderFields) {
      return ParseStatus::TooLarge;
    }
    int index = int(head.fieldCount);
    HeaderField& f = head.fields[head.fieldCount++];
    f.name = name;
    f.value = trimOws(std::string_view(data + valueBegin, pos - valueBegin));
    pos += 2;
    f.lineBegin = static_cast<uint32_t>(lineBegin);
    f.lineEnd = static_cast<uint32_t>(pos);
    f.kind = nameTier == DesyncTier::Compliant && colon ? classify(name) : HeaderKind::Other;
    f.lookalike = HeaderKind::Other;
    f.hopByHop = isHopByHop(f.kind);
    head.anyHopByHop |= f.hopByHop;
    DesyncTier t = std::max(nameTier, valueTier);
    // RFC 9110 §5.1, §5.5: a name is a token (so no whitespace before the colon, RFC 9112 §5.1
    // MUST reject); a value holds no control character but HTAB.
    v.malformed |= t != DesyncTier::Compliant;
    if (t == DesyncTier::Severe) {
      v.raise(t, DesyncReason::BadHeader, index);
    } else if (t == DesyncTier::Acceptable) {
      v.raise(t, DesyncReason::NonCompliantHeader, index);
    }
    if (isWhitespace(uc(data[lineBegin]))) {
      // " X: y" is a field of its own here (the corpus's reading), but a receiver that unfolds
      // obs-fold reads it as part of the line before ("Content-Length: 5 X: y"), and RFC 9112
      // §2.2 says to skip it before the first field: never forwarded, whatever else it is.
      // Refused (§2.2: reject, or consume it unprocessed; tide rejects).
      removeField(head, f);
      v.malformed = true;
    }
    if (!colon) {
      v.raise(DesyncTier::Ambiguous, DesyncReason::MissingHeaderColon, index);
      removeField(head, f);
      v.malformed = true; // field-line = field-name ":" OWS field-value OWS (RFC 9112 §5)
    } else if (trimOws(name).empty()) {
      v.raise(DesyncTier::Ambiguous, DesyncReason::EmptyHeader, index);
      removeField(head, f);
      v.malformed = true;
    } else if (f.kind == HeaderKind::Other && name.size() >= 14) {
      // Also when the line holds a NUL (Severe, forwarded in monitor mode): a receiver that
      // stops at the NUL reads "Transfer-Encoding\0: chunked" as the real header.
      if (similarity("transfer-encoding", name) != Similarity::Distant) {
        f.lookalike = HeaderKind::TransferEncoding;
      } else if (similarity("content-length", name) != Similarity::Distant) {
        f.lookalike = HeaderKind::ContentLength;
      }
      if (f.lookalike != HeaderKind::Other) {
        v.raise(DesyncTier::Ambiguous, DesyncReason::SuspiciousHeader, index);
        removeField(head, f);
      }
    }
  }
  return ParseStatus::Complete;
}

// Host (RFC 9110 §7.2): the common forms, a reg-name or IPv4 address with an optional port and
// no percent-encoding, in one pass without bounds checks (a call to isValidHost cost 180
// instructions per request, callgrind, `tiny`); anything else (an IP literal, '%') goes to
// isValidHost. REQUIRES: `v` is a trimmed field value in its head: a CR, SP or HTAB (none of
// them a reg-name character or a digit) follows it.
inline bool validHostFast(std::string_view v) {
  const char* p = v.data();
  const char* end = p + v.size();
  while (kChars.regName[uc(*p)]) {
    ++p;
  }
  if (p == end) {
    return true;
  }
  if (*p == ':') {
    ++p;
    while (*p >= '0' && *p <= '9') {
      ++p;
    }
    if (p == end) {
      return true;
    }
  }
  return isValidHost(v);
}

bool isFraming(const HeaderField& f, HeaderKind k) {
  return f.kind == k || f.lookalike == k;
}

// Connection, Host, Expect, and the one framing rule for requests (RFC 9112 §6), with the
// classification of the framing fields (exact and look-alike ones).
ParseStatus interpretRequestFields(MessageHead& head, bool http09) {
  DesyncVerdict& v = head.desync;
  bool close = false;
  bool keepAliveToken = false;
  int hostCount = 0;
  int teFields = 0, clFields = 0, exactTe = 0, exactCl = 0;
  for (size_t i = 0; i < head.fieldCount; ++i) {
    HeaderField& f = head.fields[i];
    switch (f.kind) {
    case HeaderKind::Connection:
      applyConnectionOptions(head, f.value, close, keepAliveToken);
      break;
    case HeaderKind::Host:
      ++hostCount;
      v.malformed |= !validHostFast(f.value); // RFC 9112 §3.2: 400 for an invalid Host
      break;
    case HeaderKind::ContentLength:
      ++exactCl;
      break;
    case HeaderKind::TransferEncoding:
      ++exactTe;
      break;
    default:
      if (f.name.size() == 6 && equalsLower(f.name, "expect") &&
          equalsLower(f.value, "100-continue")) {
        head.expectContinue = true;
      }
      break;
    }
    teFields += f.lookalike == HeaderKind::TransferEncoding;
    clFields += f.lookalike == HeaderKind::ContentLength;
  }
  teFields += exactTe;
  clFields += exactCl;
  head.keepAlive = head.versionMinor == 1 ? !close : (keepAliveToken && !close);
  bool getOrHead = head.method == "GET" || head.method == "HEAD";

  bool chunkedFinal = false; // the final coding of the exact Transfer-Encoding fields
  int lastExactTe = -1, firstTe = -1;
  uint64_t length = 0; // the exact Content-Length
  int firstCl = -1, firstExactCl = -1;
  bool teUndefined = teFields > 0 && head.versionMinor == 0;
  if (teUndefined) {
    // RFC 9112 §6.1: Transfer-Encoding in HTTP/1.0 means faulty framing.
    v.raise(DesyncTier::Ambiguous, DesyncReason::UndefinedTransferEncodingSemantics);
    v.unframeable |= exactTe > 0;
  }
  if (teUndefined && (exactTe > 0 || exactCl == 0)) {
    // Unframeable, or only look-alikes (removed): nothing frames the body. With an exact
    // Content-Length beside look-alikes of Transfer-Encoding the rules below still apply, or it
    // would be forwarded while tide reads no body.
  } else if (clFields > 0 && http09) {
    v.raise(DesyncTier::Ambiguous, DesyncReason::UndefinedContentLengthSemantics);
    v.unframeable |= exactCl > 0;
  } else if (teFields > 0 || clFields > 0) {
    bool sawChunked = false;
    for (size_t i = 0; i < head.fieldCount && teFields > 0; ++i) {
      HeaderField& f = head.fields[i];
      if (!isFraming(f, HeaderKind::TransferEncoding)) {
        continue;
      }
      bool exact = f.kind == HeaderKind::TransferEncoding;
      lastExactTe = exact ? int(i) : lastExactTe;
      firstTe = firstTe < 0 ? int(i) : firstTe;
      forEachElement(f.value, [&](std::string_view element) {
        bool chunked = false;
        // Transfer parameters ("chunked;x", RFC 9112 §7): chunked defines none, and a receiver
        // that takes "chunked;x" for another coding cannot frame the body (tide's own strict
        // parser refuses it): refused rather than read two ways.
        v.malformed |= exact && element.find(';') != std::string_view::npos;
        if (!knownCoding(element, &chunked)) {
          v.raise(DesyncTier::Severe, DesyncReason::BadTransferEncoding, int(i));
          v.unframeable |= exact;
        } else if (chunked && sawChunked) {
          v.raise(DesyncTier::Severe, DesyncReason::MultipleTransferEncodingChunked, int(i));
          v.unframeable |= exact;
        }
        sawChunked |= chunked;
        if (exact) {
          chunkedFinal = chunked;
        }
      });
    }
    bool haveLength = false;
    uint64_t first = 0;
    for (size_t i = 0; i < head.fieldCount && clFields > 0; ++i) {
      HeaderField& f = head.fields[i];
      if (!isFraming(f, HeaderKind::ContentLength)) {
        continue;
      }
      bool exact = f.kind == HeaderKind::ContentLength;
      uint64_t n = 0;
      if (!contentLengthValue(f.value, &n)) {
        v.raise(DesyncTier::Severe, DesyncReason::BadContentLength, int(i));
        v.unframeable |= exact;
        continue;
      }
      firstCl = firstCl < 0 ? int(i) : firstCl;
      if (!haveLength) {
        haveLength = true;
        first = n;
      } else if (n != first) {
        v.raise(DesyncTier::Severe, DesyncReason::MultipleContentLength, int(i));
      } else {
        v.raise(DesyncTier::Ambiguous, DesyncReason::DuplicateContentLength, int(i));
      }
      if (exact && firstExactCl < 0) {
        firstExactCl = int(i);
        length = n;
      } else if (exact && n != length) {
        v.unframeable = true; // two lengths
      } else if (exact) {
        removeField(head, f); // keep the first of equal ones (RFC 9110 §8.6)
      }
    }
    if (getOrHead) {
      if (teFields > 0) {
        v.raise(DesyncTier::Ambiguous, DesyncReason::UndefinedTransferEncodingSemantics, firstTe);
        v.notNormalized |= exactTe > 0;
      }
      // The length forwarded is the exact field's, which a look-alike before it may hide
      // ("Cont\x7fent-Length: 0" then "Content-Length: 5").
      bool bodyForwarded = firstExactCl >= 0 && length > 0;
      if (haveLength && first == 0 && !bodyForwarded) {
        v.raise(DesyncTier::Acceptable, DesyncReason::GetHeadZeroContentLength, firstCl);
      } else if (haveLength) {
        v.raise(DesyncTier::Ambiguous, DesyncReason::UndefinedContentLengthSemantics, firstCl);
        v.number = bodyForwarded ? length : first;
        v.notNormalized |= bodyForwarded;
      }
    }
    if (haveLength && teFields > 0) {
      v.raise(DesyncTier::Ambiguous, DesyncReason::BothTeClPresent, firstCl);
    }
  }
  // RFC 9112 §3.2: 400 for an HTTP/1.1 request without Host, or with more than one.
  v.malformed |= hostCount > 1 || (hostCount == 0 && head.versionMinor == 1 && !http09);
  // RFC 9112 §6.1: after a request with both, the connection closes.
  v.mustClose |= exactTe > 0 && exactCl > 0;
  if (hostCount > 1) {
    return ParseStatus::Invalid; // which one would route? (one Host only, RFC 9110 §7.2)
  }
  // The length, by the one rule (framing.h), from the exact fields. Bad, conflicting and
  // look-alike lengths and codings were classified above (unframeable where exact).
  FramingFields ff;
  ff.hasContentLength = firstExactCl >= 0;
  ff.contentLength = length;
  ff.hasTransferEncoding = exactTe > 0;
  ff.chunkedFinal = chunkedFinal;
  Framing f = messageFraming(MessageKind{}, ff);
  if (f.error == FramingError::RequestNotChunked) {
    // RFC 9112 §6.3: the length cannot be determined: 400 and close.
    v.unframeable = true;
    if (v.tier < DesyncTier::Ambiguous) {
      v.raise(DesyncTier::Severe, DesyncReason::BadTransferEncoding, lastExactTe);
    }
  }
  if (exactTe > 0) {
    head.framing = BodyFraming::Chunked;
    for (size_t i = 0; i < head.fieldCount; ++i) {
      if (head.fields[i].kind == HeaderKind::ContentLength) {
        removeField(head, head.fields[i]); // RFC 9112 §6.3: chunked wins; never forward both
      }
    }
  } else {
    head.framing = f.framing;
    head.contentLength = f.contentLength;
  }
  return ParseStatus::Complete;
}

// "HTTP/1.x SP 3DIGIT [SP reason-phrase] CRLF" at data (the reason may be empty, the SP before
// it too). REQUIRES: a CRLF at or after data + 12, and 14 readable bytes. On success *pos is the
// offset of the line's CR.
inline bool statusLineAt(const char* data, int& versionMinor, int& status, size_t& pos) {
  if (!parseVersion(data, versionMinor) || data[8] != ' ') {
    return false;
  }
  for (int i = 9; i < 12; ++i) {
    if (data[i] < '0' || data[i] > '9') {
      return false;
    }
  }
  status = (data[9] - '0') * 100 + (data[10] - '0') * 10 + (data[11] - '0');
  if (status < 100) {
    return false;
  }
  pos = 12;
  if (data[pos] == ' ') {
    ++pos;
    while (kChars.fieldValue[static_cast<unsigned char>(data[pos])]) {
      ++pos;
    }
  }
  return data[pos] == '\r' && data[pos + 1] == '\n';
}

} // namespace

ParseStatus parseRequestHead(const char* data, size_t size, size_t maxBytes, MessageHead& head) {
  size_t begin = skipEmptyLines(data, size);
  if (ParseStatus located = locateHead(data, size, begin, maxBytes, head);
      located != ParseStatus::Complete) {
    return located;
  }
  size_t end = head.length;
  DesyncVerdict& v = head.desync;
  // method SP request-target SP HTTP-version CRLF. The fast path: a token, visible characters,
  // HTTP/1.x. Anything else takes the general path: the method ends at the first SP, the
  // version starts after the last one, what lies between is the target, and it is classified.
  size_t pos = begin;
  while (kChars.token[uc(data[pos])]) {
    ++pos;
  }
  bool badMethod = pos == begin;
  bool versionSpace = false, uriBad = false, uriSpace = false, uriControl = false;
  bool versionInUri = false;
  size_t lineEnd = 0;
  if (!badMethod && data[pos] == ' ' && data[pos + 1] == '/') {
    // An origin-form target of RFC 3986 characters (target.h).
    size_t q = size_t(scanPathChars(data + pos + 1) - data);
    if (data[q] == ' ' && q + 10 < end && std::memcmp(data + q + 1, "HTTP/1.", 7) == 0 &&
        data[q + 8] >= '0' && data[q + 8] <= '9' && data[q + 9] == '\r' && data[q + 10] == '\n') {
      head.method = std::string_view(data + begin, pos - begin);
      head.target = std::string_view(data + pos + 1, q - pos - 1);
      head.version = std::string_view(data + q + 1, 8);
      lineEnd = q + 9;
      v.malformed = pos - begin == 7 && head.method == "CONNECT"; // authority-form only
    }
  }
  if (lineEnd == 0) {
    lineEnd = static_cast<const char*>(memmem(data + begin, end - begin, "\r\n", 2)) - data;
    if (data[pos] != ' ') {
      const void* sp = memchr(data + pos, ' ', lineEnd - pos);
      if (sp == nullptr) {
        v.raise(DesyncTier::Severe, DesyncReason::BadUri); // no request target at all
        v.unframeable = true;
        return ParseStatus::Invalid;
      }
      badMethod = true;
      size_t spAt = static_cast<const char*>(sp) - data;
      v.unframeable |= memchr(data + pos, '\r', spAt - pos) || memchr(data + pos, '\n', spAt - pos);
      pos = spAt;
    }
    head.method = std::string_view(data + begin, pos - begin);
    size_t targetBegin = pos + 1;
    size_t last = lineEnd;
    while (last > targetBegin && isWhitespace(uc(data[last - 1]))) {
      --last;
      versionSpace = true;
    }
    size_t targetEnd = last;
    const void* sp2 = memrchr(data + targetBegin, ' ', last - targetBegin);
    if (sp2 != nullptr) {
      targetEnd = static_cast<const char*>(sp2) - data;
      head.version = std::string_view(data + targetEnd + 1, last - targetEnd - 1);
    }
    head.target = std::string_view(data + targetBegin, targetEnd - targetBegin);
    for (pos = targetBegin; pos < targetEnd; ++pos) {
      unsigned char c = uc(data[pos]);
      if (kChars.target[c]) {
        continue;
      }
      if (isBadChar(c)) {
        uriBad = true;
        v.unframeable |= c != 0;
      } else if (c == ' ') {
        uriSpace = true;
        versionInUri |= targetEnd - pos > 5 && std::memcmp(data + pos + 1, "HTTP/", 5) == 0;
      } else {
        uriControl = true;
      }
    }
    // RFC 9112 §3: method SP request-target SP HTTP-version, one SP each, a token method, a
    // target of the right form (§3.2, target.h) and a version: anything else is refused.
    v.malformed = badMethod || versionSpace || head.version.empty() || uriBad || uriSpace ||
                  uriControl || !isValidRequestTarget(head.method, head.target);
  }
  bool http09 = head.version.empty() || head.version == "HTTP/0.9";
  bool badVersion = false;
  if (http09) {
    head.versionMinor = 0;
    v.malformed = true; // RFC 9112 §2.3, §3: an HTTP/1.1 server reads HTTP/1.x request lines
  } else if (head.version.size() == 8 && std::memcmp(head.version.data(), "HTTP/1.", 7) == 0 &&
             head.version[7] >= '0' && head.version[7] <= '9') {
    head.versionMinor = head.version[7] == '0' ? 0 : 1;
  } else {
    badVersion = true;
  }
  ParseStatus st = parseRequestFields(data, lineEnd + 2, end - 2, head);
  if (st != ParseStatus::Complete) {
    return st;
  }
  // Two Host fields are Invalid, but the request line is still classified below: an unframeable
  // request line must not be left Compliant.
  ParseStatus fieldsStatus = interpretRequestFields(head, http09);
  // The request line, in the order http_desync_guardian checks it: method, version, URI.
  if (badMethod) {
    v.raise(DesyncTier::Severe, DesyncReason::BadMethod);
  }
  if (badVersion || versionInUri) {
    v.raise(DesyncTier::Severe, DesyncReason::BadVersion);
    v.unframeable = true;
  } else if (http09 || versionSpace || head.version[7] > '1') {
    v.raise(DesyncTier::Acceptable, DesyncReason::NonCompliantVersion);
  }
  if (uriBad || (http09 && uriControl)) {
    // CR, LF or NUL; or, without a version, a control character that another parser may take
    // for the space before one ("GET /a\tHTTP/1.1"): the request line reads two ways.
    v.raise(DesyncTier::Severe, DesyncReason::BadUri);
    v.unframeable |= http09 && uriControl;
  } else if (uriControl) {
    v.raise(DesyncTier::Ambiguous, DesyncReason::AmbiguousUri);
    v.notNormalized = true;
  } else if (uriSpace) {
    v.raise(DesyncTier::Acceptable, DesyncReason::SpaceInUri);
  }
  return v.unframeable || v.malformed ? ParseStatus::Invalid : fieldsStatus;
}

ParseStatus parseResponseHead(const char* data, size_t size, size_t maxBytes,
                              bool requestMethodHead, MessageHead& head) {
  if (ParseStatus located = locateHead(data, size, 0, maxBytes, head);
      located != ParseStatus::Complete) {
    return located;
  }
  size_t end = head.length;
  if (end < 14 + 2) {
    return ParseStatus::Invalid;
  }
  size_t pos = 0;
  if (!statusLineAt(data, head.versionMinor, head.status, pos)) {
    return ParseStatus::Invalid;
  }
  pos += 2;
  head.length = static_cast<uint32_t>(end);
  ParseStatus st = parseFields(data, pos, end - 2, head);
  if (st != ParseStatus::Complete) {
    return st;
  }
  FramingFields ff;
  int hostCount = 0;
  interpretFields(head, ff, hostCount);
  // CL beside TE is refused too (RFC 9112 §6.1: may be smuggling; reject and close).
  Framing f = messageFraming(MessageKind{false, requestMethodHead, head.status}, ff);
  if (f.error != FramingError::None) {
    return ParseStatus::Invalid;
  }
  head.framing = f.framing;
  head.contentLength = f.contentLength;
  if (head.framing == BodyFraming::UntilClose) {
    head.keepAlive = false;
  }
  return ParseStatus::Complete;
}

namespace {

// The parts of a request line (no MessageHead: checkRequestStart runs on every read of an
// unfinished head, and a MessageHead is 4.8 KB to construct).
struct RequestLine {
  std::string_view method;
  std::string_view target;
  std::string_view version;
  int versionMinor = 1;
};

// "METHOD SP target SP HTTP/d.d" in [begin, lineEnd) (lineEnd: the offset of its CR).
HeadError parseRequestLineStrict(const char* data, size_t begin, size_t lineEnd,
                                 RequestLine& head) {
  size_t pos = begin;
  while (pos < lineEnd && kChars.token[uc(data[pos])]) {
    ++pos;
  }
  if (pos == begin || pos == lineEnd || data[pos] != ' ') {
    return HeadError::RequestLine;
  }
  head.method = std::string_view(data + begin, pos - begin);
  size_t targetBegin = ++pos;
  while (pos < lineEnd && kChars.target[uc(data[pos])] && uc(data[pos]) < 0x80) {
    ++pos;
  }
  if (pos == targetBegin || pos == lineEnd || data[pos] != ' ') {
    return HeadError::RequestLine;
  }
  head.target = std::string_view(data + targetBegin, pos - targetBegin);
  if (!isValidRequestTarget(head.method, head.target)) {
    return HeadError::RequestLine; // empty, or not of the method's form (RFC 9112 §3.2)
  }
  ++pos;
  std::string_view version(data + pos, lineEnd - pos);
  if (version.size() != 8 || version.substr(0, 5) != "HTTP/" || version[6] != '.' ||
      version[5] < '0' || version[5] > '9' || version[7] < '0' || version[7] > '9') {
    return HeadError::RequestLine;
  }
  head.version = version;
  if (version[5] != '1') {
    return HeadError::UnsupportedVersion;
  }
  head.versionMinor = version[7] == '0' ? 0 : 1;
  return HeadError::None;
}

HeadError framingHeadError(FramingError e) {
  switch (e) {
  case FramingError::None:
    return HeadError::None;
  case FramingError::BadContentLength:
    return HeadError::BadContentLength;
  case FramingError::ConflictingLengths:
    return HeadError::ConflictingLengths;
  case FramingError::BothLengthAndChunked:
    return HeadError::BothLengthAndChunked;
  case FramingError::ChunkedNotFinal:
  case FramingError::RequestNotChunked:
    return HeadError::BadTransferEncoding;
  }
  return HeadError::BadTransferEncoding;
}

} // namespace

std::string_view headErrorText(HeadError e) {
  switch (e) {
  case HeadError::None:
    return "no error";
  case HeadError::RequestLine:
    return "malformed request line: expected 'METHOD target HTTP/1.1'";
  case HeadError::UnsupportedVersion:
    return "HTTP version not supported: only HTTP/1.0 and HTTP/1.1";
  case HeadError::Field:
    return "malformed header: expected 'name: value' (a token name, no whitespace before the "
           "colon, no line folding, no control characters)";
  case HeadError::TooManyFields:
    return "too many header fields";
  case HeadError::BadContentLength:
    return "invalid Content-Length";
  case HeadError::ConflictingLengths:
    return "conflicting Content-Length headers";
  case HeadError::BothLengthAndChunked:
    return "a request must not carry both Content-Length and Transfer-Encoding";
  case HeadError::BadTransferEncoding:
    return "Transfer-Encoding must end with chunked, once";
  case HeadError::TransferEncodingHttp10:
    return "Transfer-Encoding is not allowed in HTTP/1.0";
  case HeadError::MissingHost:
    return "missing Host header";
  case HeadError::DuplicateHost:
    return "more than one Host header";
  case HeadError::InvalidHost:
    return "invalid Host header: expected host[:port]";
  }
  return "malformed request";
}

ParseStatus parseRequestHeadStrict(const char* data, size_t size, size_t maxBytes,
                                   MessageHead& head, HeadError* error) {
  *error = HeadError::None;
  size_t begin = skipEmptyLines(data, size);
  if (ParseStatus located = locateHead(data, size, begin, maxBytes, head);
      located != ParseStatus::Complete) {
    return located;
  }
  size_t end = head.length;
  size_t lineEnd = static_cast<const char*>(memmem(data + begin, end - begin, "\r\n", 2)) - data;
  RequestLine line;
  *error = parseRequestLineStrict(data, begin, lineEnd, line);
  head.method = line.method;
  head.target = line.target;
  head.version = line.version;
  head.versionMinor = line.versionMinor;
  if (*error != HeadError::None) {
    return ParseStatus::Invalid;
  }
  ParseStatus st = parseFields(data, lineEnd + 2, end - 2, head);
  if (st != ParseStatus::Complete) {
    *error = st == ParseStatus::TooLarge ? HeadError::TooManyFields : HeadError::Field;
    return ParseStatus::Invalid;
  }
  FramingFields ff;
  int hostCount = 0;
  interpretFields(head, ff, hostCount);
  for (size_t i = 0; i < head.fieldCount; ++i) {
    const HeaderField& f = head.fields[i];
    if (f.name.size() == 6 && equalsLower(f.name, "expect") &&
        equalsLower(f.value, "100-continue")) {
      head.expectContinue = head.versionMinor == 1;
    }
  }
  Framing f = messageFraming(MessageKind{}, ff);
  if (f.error != FramingError::None) {
    *error = framingHeadError(f.error);
  } else if (ff.hasTransferEncoding && head.versionMinor == 0) {
    *error = HeadError::TransferEncodingHttp10;
  } else if (hostCount > 1) {
    *error = HeadError::DuplicateHost;
  } else if (hostCount == 0 && head.versionMinor == 1) {
    *error = HeadError::MissingHost;
  } else {
    for (size_t i = 0; i < head.fieldCount; ++i) {
      if (head.fields[i].kind == HeaderKind::Host && !isValidHost(head.fields[i].value)) {
        *error = HeadError::InvalidHost;
      }
    }
  }
  if (*error != HeadError::None) {
    return ParseStatus::Invalid;
  }
  head.framing = f.framing;
  head.contentLength = f.contentLength;
  return ParseStatus::Complete;
}

ParseStatus checkRequestStart(const char* data, size_t size, HeadError* error) {
  *error = HeadError::None;
  size_t begin = skipEmptyLines(data, size);
  const void* cr = memmem(data + begin, size - begin, "\r\n", 2);
  if (cr != nullptr) {
    size_t lineEnd = static_cast<const char*>(cr) - data;
    RequestLine line;
    *error = parseRequestLineStrict(data, begin, lineEnd, line);
    return *error == HeadError::None ? ParseStatus::Incomplete : ParseStatus::Invalid;
  }
  for (size_t i = begin; i < size && data[i] != ' '; ++i) {
    unsigned char c = uc(data[i]);
    if (!kChars.token[c] && c != '\r') {
      *error = HeadError::RequestLine;
      return ParseStatus::Invalid;
    }
  }
  return ParseStatus::Incomplete;
}

ParseStatus parseStatusLine(const char* data, size_t size, size_t maxBytes, int* versionMinor,
                            int* status, size_t* length) {
  const void* lf = std::memchr(data, '\n', size < maxBytes ? size : maxBytes);
  if (lf == nullptr) {
    return size >= maxBytes ? ParseStatus::TooLarge : ParseStatus::Incomplete;
  }
  size_t lineLength = static_cast<const char*>(lf) - data + 1;
  size_t pos = 0;
  if (lineLength < 14 || !statusLineAt(data, *versionMinor, *status, pos) ||
      pos + 2 != lineLength) {
    return ParseStatus::Invalid;
  }
  *length = lineLength;
  return ParseStatus::Complete;
}

bool isGrpcMessage(const MessageHead& head) {
  constexpr std::string_view kGrpc = "application/grpc";
  for (size_t i = 0; i < head.fieldCount; ++i) {
    const HeaderField& f = head.fields[i];
    if (equalsIgnoreCase(f.name, "content-type")) {
      std::string_view v = f.value;
      return v.size() >= kGrpc.size() && equalsIgnoreCase(v.substr(0, kGrpc.size()), kGrpc) &&
             (v.size() == kGrpc.size() || v[kGrpc.size()] == '+' || v[kGrpc.size()] == ';');
    }
  }
  return false;
}

} // namespace tide::http1
