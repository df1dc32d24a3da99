// The one rule for where an HTTP/1.1 message body ends (RFC 9112 §6), for requests and for
// responses alike, so that nothing tide reads or forwards is ever read two ways (request
// smuggling). The head parser (parser.h) gathers what the framing fields say into a
// FramingFields and calls messageFraming(); whoever reads a body follows the answer.
//
// Inline: the balancer's parser calls it once per head on its hot path.
#pragma once

#include <cstdint>

namespace tide::http1 {

// How the body of a message is delimited (RFC 9112 §6.3).
enum class BodyFraming : uint8_t {
  None,          // no body (no length in a request; HEAD, 1xx, 204, 304 responses)
  ContentLength, // exactly contentLength bytes
  Chunked,       // chunked transfer coding, ends with the last chunk and trailers
  UntilClose,    // response without a length: the body ends when the sender closes
};

// What the framing fields of one head say (gathered by the parser).
struct FramingFields {
  bool hasContentLength = false;    // a valid Content-Length (all of them agree)
  uint64_t contentLength = 0;       // its value
  bool conflictingLengths = false;  // Content-Length fields (or list elements) that differ
  bool badContentLength = false;    // a Content-Length that is not 1*DIGIT in 64 bits
  bool hasTransferEncoding = false; // a Transfer-Encoding field
  bool chunkedFinal = false;        // its final coding is chunked
  bool chunkedNotFinal = false;     // chunked before another coding, or chunked twice
};

// Why a message cannot be framed (RFC 9112 §6.3), or None.
enum class FramingError : uint8_t {
  None,                 // the length is known
  BadContentLength,     // not a number (rule 5: unrecoverable)
  ConflictingLengths,   // several different Content-Length values (rule 5)
  BothLengthAndChunked, // Transfer-Encoding beside Content-Length (rule 3: "ought to be
                        // handled as an error"); `framing` still gives the chunked reading,
                        // which a proxy may forward after removing Content-Length
  ChunkedNotFinal,      // chunked applied twice or not last
  RequestNotChunked,    // a request whose final coding is not chunked (rule 4: 400 and close)
};

struct Framing {
  BodyFraming framing = BodyFraming::None;
  uint64_t contentLength = 0;              // framing == ContentLength
  FramingError error = FramingError::None; // None, or why the message is refused
};

// What kind of message is framed, and what the rule needs to know about it.
struct MessageKind {
  bool request = true;            // a request (else a response)
  bool requestMethodHead = false; // responses: the request was HEAD
  int status = 0;                 // responses: the status code
};

// RFC 9112 §6.3, in its order. A response to HEAD, a 1xx, 204 or 304 has no body whatever its
// fields say (after the checks of rules 3 and 5 that make it unsafe to read at all).
inline Framing messageFraming(const MessageKind& kind, const FramingFields& ff) {
  Framing f;
  if (ff.badContentLength) {
    f.error = FramingError::BadContentLength;
    return f;
  }
  if (ff.conflictingLengths) {
    f.error = FramingError::ConflictingLengths;
    return f;
  }
  bool both = ff.hasTransferEncoding && ff.hasContentLength;
  if (!kind.request &&
      (kind.requestMethodHead || kind.status < 200 || kind.status == 204 || kind.status == 304)) {
    f.error = both ? FramingError::BothLengthAndChunked : FramingError::None;
    return f; // rule 1
  }
  if (ff.hasTransferEncoding) {
    if (ff.chunkedNotFinal) {
      f.error = FramingError::ChunkedNotFinal;
    } else if (ff.chunkedFinal) {
      f.framing = BodyFraming::Chunked;
    } else if (kind.request) {
      f.error = FramingError::RequestNotChunked;
    } else {
      f.framing = BodyFraming::UntilClose; // rule 4, responses
    }
    if (f.error == FramingError::None && both) {
      f.error = FramingError::BothLengthAndChunked;
    }
    return f;
  }
  if (ff.hasContentLength) {
    f.framing = ff.contentLength > 0 ? BodyFraming::ContentLength : BodyFraming::None;
    f.contentLength = ff.contentLength;
    return f;
  }
  f.framing = kind.request ? BodyFraming::None : BodyFraming::UntilClose; // rules 7 and 8
  return f;
}

} // namespace tide::http1
