// Properties of the HTTP/1.1 layer (src/http1) that must hold for every input.
// The libFuzzer targets in fuzz/ check them on generated inputs (clang, scripts/fuzz); the unit
// test fuzz/corpus_test.cc checks them on every file of the seed corpus in the normal g++ build.
//
// Only the public functions of src/http1 (and the balancer's desync mode table) are used. The
// checks are deterministic: the same bytes always take the same path (the "random" splits come from
// a hash of the input).
#pragma once

#include <cstddef>
#include <cstdint>

namespace tide::fuzz {

// The first property that did not hold, or none (property == nullptr).
struct Violation {
  const char* property = nullptr;               // what should have held, in words
  int line = 0;                                 // where the file below checks it
  const char* file = "fuzz/http_properties.cc"; // the file of the check
  explicit operator bool() const { return property != nullptr; }
};

// Parses data as the bytes a client sends on one connection, the way the worker does: a request
// head, then its body (Content-Length or chunked) on the bytes after it, then the next request.
// Checks each head under several header size limits, its prefixes and extensions, the head the
// worker would forward, and that a response with the same header fields is framed the same way.
Violation checkRequestStream(const uint8_t* data, size_t size);

// Parses data as the bytes a target sends on one connection, once as the answer to a GET and once
// to a HEAD request: interim (1xx) heads, the final head, its body, then the next response.
Violation checkResponseStream(const uint8_t* data, size_t size);

// Scans data as a chunked body in one piece, byte by byte and in pseudo-random pieces (the same
// result and the same count of used bytes each time), and against a reference reading of the
// chunked grammar (RFC 9112 §7.1): where both find an end, it is the same.
Violation checkChunkedBody(const uint8_t* data, size_t size);

// Reads data as the bytes a client sends to tide's API server, through the same
// http1::RequestReader, under its limits and under small ones: every request takes exactly its
// head and the body its framing names (checked again with the parser, the chunked scanner and
// RFC 9112's chunked grammar); the same bytes in one piece, byte by byte and in pseudo-random
// pieces give the same requests, ends and refusal; requests serialized and read again are the
// same requests.
Violation checkRequestReader(const uint8_t* data, size_t size);

// For the libFuzzer targets: prints the violation to stderr and aborts (libFuzzer then saves the
// input as a crash artifact). Returns when there is no violation.
void abortOnViolation(const Violation& v);

} // namespace tide::fuzz
