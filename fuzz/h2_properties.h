// Properties of the HTTP/2 server session (src/h2: h2::ServerSession over nghttp2) that must hold
// for every input. The libFuzzer target fuzz_h2_server checks them on generated inputs (clang,
// scripts/fuzz); fuzz/corpus_test.cc checks them on every file of fuzz/corpus/fuzz_h2_server/ in
// the normal build.
#pragma once

#include "http_properties.h" // Violation, abortOnViolation

#include <cstddef>
#include <cstdint>

namespace tide::fuzz {

// Reads data as a script of records, each led by one byte whose low 3 bits say what it is:
//   0  client bytes: 2 bytes of length (little endian, at most 4095), then the bytes, fed to the
//      session (the connection preface goes before the first ones)
//   1  target response bytes for one open stream (the lead byte's high bits pick it): 2 bytes
//      of length, then the bytes, given with submitResponse() (what it does not take is kept
//      and given again first next time)
//   2  endResponse() on a stream     3  resetStream() on a stream (high bits: the code)
//   4  the client reads: 2 bytes of how many output bytes
//   5  the clock moves (high bits: seconds), tick()
//   6  goAway()                       7  the target took the request bytes: consumeRequestBody()
// Small limits make every bound reachable. Checked: each forwarded request head is an HTTP/1.1
// head tide's strict parser accepts, with one framing, whose body bytes and end frame exactly
// the body (chunked bodies end where the chunked decoder ends them, content-length ones carry
// that many bytes); events come in order (head, body, end, closed once, nothing after);
// openStreams() counts the heads not closed and never passes the stream limit; the output is
// whole frames within the client's frame size, whose header blocks decode to fields HTTP/2
// allows (lowercase token names, no connection-specific field, no CR, LF or NUL in values); the
// session's buffers stay within their bounds; a connection error stays one and ends in wantsClose()
// once the output is read.
Violation checkH2Server(const uint8_t* data, size_t size);

// Reads data as a script for h2::ClientSession (HTTP/2 to a target), records led by one byte
// whose low 2 bits say what it is:
//   0  target bytes: 2 bytes of length (little endian, at most 4095), then the bytes, fed to
//      the session (the target's SETTINGS are the seeds' first bytes)
//   1  a request (the lead byte's high bits pick one of a fixed set: GET, HEAD, POST with a
//      length, PUT chunked with trailers), submitted whole
//   2  the target reads: 2 bytes of how many output bytes
//   3  response credit handed back, or (high bits) a reset or goAway()
// Checked: what each stream gives back is an HTTP/1.1 response tide's strict parser reads:
// interim heads, then one final head (no body for HEAD, 204, 304), then exactly the body its
// framing names, ending when onResponseEnd says so (a chunked body with its trailer section
// ends where ChunkedDecoder ends it); events in order, each stream closed once; submitRequest
// takes the whole request or refuses it.
Violation checkH2Client(const uint8_t* data, size_t size);

} // namespace tide::fuzz
