// HTTP/1.1 message heads parsed in place (RFC 9112), and the one framing rule (§6) that decides
// where every message body ends, applied the same way to requests and responses so that nothing
// is ever read two ways (request smuggling).
//
// Parsing never allocates: a head is parsed into views over the caller's buffer, which must stay
// unchanged while the views are used. Lines end with CRLF.
//
// Responses are parsed strictly: bare CR or LF, obs-fold, whitespace before a colon and non-token
// header names are errors. Requests are classified as they are parsed (desync.h): what the RFC
// forbids but tide can still read one way only gets a tier and a reason in MessageHead::desync
// and is left to the load balancer's desync mitigation mode; what tide cannot read one way only
// (a bare CR or LF, conflicting or invalid lengths, a final coding other than chunked) is Invalid.
#pragma once

#include "balancer/desync.h"

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace tide::balancer {

// Headers the proxy looks at; everything else is Other and forwarded as is.
enum class HeaderKind : uint8_t {
  Other,            // forwarded unchanged
  ContentLength,    // framing
  TransferEncoding, // framing
  Connection,       // hop-by-hop, and names more hop-by-hop headers
  KeepAlive,        // hop-by-hop
  ProxyConnection,  // hop-by-hop (non-standard, still removed)
  Te,               // hop-by-hop
  Trailer,          // hop-by-hop
  Upgrade,          // hop-by-hop (no protocol upgrades through the proxy yet)
  Host,             // required once in HTTP/1.1 requests
  XForwardedFor,    // appended to
  XForwardedProto,  // replaced
  XForwardedPort,   // replaced
};

struct HeaderField {
  std::string_view name;                    // as received
  std::string_view value;                   // without leading and trailing whitespace
  uint32_t lineBegin = 0;                   // offset of the line in the head
  uint32_t lineEnd = 0;                     // offset just past its CRLF
  HeaderKind kind = HeaderKind::Other;      // see HeaderKind
  bool hopByHop = false;                    // removed when forwarding (also what desync
                                            // normalization removes from a request)
  HeaderKind lookalike = HeaderKind::Other; // requests: ContentLength or TransferEncoding when
                                            // the name is close to one but not it (removed)
};

// How the body of a message is delimited (RFC 9112 §6.3).
enum class BodyFraming : uint8_t {
  None,          // no body (no length in a request; HEAD, 1xx, 204, 304 responses)
  ContentLength, // exactly contentLength bytes
  Chunked,       // chunked transfer coding, ends with the last chunk and trailers
  UntilClose,    // response without a length: the body ends when the target closes
};

inline constexpr size_t kMaxHeaderFields = 100; // more fields: 431 (request) / 502 (response)

// The parts of a request or response head. Offsets are relative to the head's first byte.
struct MessageHead {
  // Request line (requests only).
  std::string_view method;
  std::string_view target;
  std::string_view version; // as received, without surrounding whitespace; empty: HTTP/0.9
  // Status line (responses only).
  int status = 0;
  // Both.
  int versionMinor = 1;          // HTTP/1.0 or HTTP/1.1 (requests: 0 for HTTP/0.9, 1 for 1.2+)
  uint32_t requestLineBegin = 0; // empty lines before the request line are skipped (and dropped)
  uint32_t length = 0;           // bytes of the head, through the blank line
  uint32_t fieldsBegin = 0;      // offset of the first header line
  uint32_t fieldsEnd = 0;        // offset of the blank line ending the head
  bool keepAlive = true;         // the sender allows keep-alive (version and Connection rules)
  bool anyHopByHop = false;      // some field must be removed when forwarding
  bool expectContinue = false;   // Expect: 100-continue (requests)
  BodyFraming framing = BodyFraming::None;
  uint64_t contentLength = 0; // framing == ContentLength
  DesyncVerdict desync;       // requests: the desync classification (desync.h)
  size_t fieldCount = 0;
  HeaderField fields[kMaxHeaderFields]; // [0, fieldCount) valid; a new member above also goes
                                        // into resetHead() (http_parser.cc)
};

enum class ParseStatus : uint8_t {
  Complete,       // the head is in `head`
  Incomplete,     // need more bytes; nothing is wrong yet
  Invalid,        // malformed: 400 for a request, 502 for a response
  TooLarge,       // longer than the limit or too many fields: 431 / 502
  NotImplemented, // kept for callers; no longer returned: codings before chunked are
                  // forwarded, unknown ones are Invalid (Severe BadTransferEncoding)
};

// Parses a request head at the start of data. `maxBytes` limits the head's size. Fills
// head.desync (also when it returns Invalid because the request cannot be framed), and marks
// the fields that make a request ambiguous (look-alikes of the framing headers, duplicate
// Content-Length, Content-Length beside chunked, folded or nameless lines) hopByHop, so that what
// is forwarded has one framing only.
ParseStatus parseRequestHead(const char* data, size_t size, size_t maxBytes, MessageHead& head);

// Parses a response head at the start of data. `requestMethodHead` (the request was HEAD) and
// the status code decide whether a body follows.
ParseStatus parseResponseHead(const char* data, size_t size, size_t maxBytes,
                              bool requestMethodHead, MessageHead& head);

// Finds the end of a chunked body while the bytes stream through. Feed it every body byte once,
// in order, in pieces of any size.
class ChunkedScanner {
public:
  enum class Result : uint8_t {
    NeedMore, // all bytes consumed, the body goes on
    Done,     // the body (with trailers) ended; *used bytes belong to it
    Invalid,  // malformed chunk framing
  };
  // Scans up to size bytes; *used is how many belong to the body.
  Result scan(const char* data, size_t size, size_t* used);
  void reset() { *this = ChunkedScanner(); }

private:
  enum class State : uint8_t {
    Size,
    Ext,
    SizeLf,
    Data,
    DataCr,
    DataLf,
    TrailerStart,
    Trailer,
    TrailerLf,
    FinalLf,
    Done
  };
  State state_ = State::Size;
  uint8_t digits_ = 0;
  uint64_t remaining_ = 0;
  uint32_t trailerBytes_ = 0;
};

// The limit on trailer bytes of one chunked body.
inline constexpr uint32_t kMaxTrailerBytes = 16 * 1024;

} // namespace tide::balancer
