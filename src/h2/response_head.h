// An HTTP/1.1 response head from a target (parsed by src/http1) as an HTTP/2 header list
// (RFC 9113 §8.3.2): :status, then the fields with lowercase names, without the
// connection-specific ones (Connection and what it names, Keep-Alive, Proxy-Connection,
// Transfer-Encoding, Upgrade, TE, Trailer), which HTTP/2 forbids.
#pragma once

#include "http1/parser.h"

#include <nghttp2/nghttp2.h>

#include <string>
#include <string_view>
#include <vector>

namespace tide::h2 {

// Fills nva (cleared first) with views into arena (cleared and rewritten), valid until either
// changes. The head's views must still be valid.
void buildResponseHeaders(const http1::MessageHead& head, std::string& arena,
                          std::vector<nghttp2_nv>& nva);

// The trailer field lines of a chunked body ("name: value\r\n" each, as http1::ChunkedDecoder
// gives them) as an HTTP/2 trailer list: names lowercased; lines that are not a valid field,
// and the fields a trailer section must not carry (framing, connection-specific, Host), are
// left out.
void buildTrailerFields(std::string_view lines, std::string& arena, std::vector<nghttp2_nv>& nva);

} // namespace tide::h2
