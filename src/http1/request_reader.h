// Reading requests as tide's own servers do (the API server): strict heads
// (parseRequestHeadStrict), bodies framed by Content-Length or the chunked coding, and any
// number of requests one after another on a connection (pipelining). The reader owns no socket:
// a server hands it the bytes it has, drops the ones it used, and gets whole requests back, so
// the same code runs under the fuzzer (fuzz/fuzz_request_reader.cc).
#pragma once

#include "http1/chunked.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tide::http1 {

// One request, with owned bytes.
struct Request {
  std::string method;                                       // "GET", "POST", ...
  std::string target;                                       // as sent ("/", "/a?b=c")
  int versionMinor = 1;                                     // HTTP/1.0 or HTTP/1.1
  std::vector<std::pair<std::string, std::string>> headers; // names lowercased, values trimmed,
                                                            // in order, framing fields included
  std::string body;                                         // decoded (chunked: the data only)
  bool chunked = false;                                     // the body came chunked
  std::string trailers;        // chunked: trailer field lines, each with its CRLF, as received
  bool keepAlive = true;       // the client allows another request (version, Connection)
  bool expectContinue = false; // "Expect: 100-continue" in an HTTP/1.1 request

  // The first header with this (lowercase) name, or nullptr.
  const std::string* header(std::string_view lowercaseName) const;
  bool operator==(const Request&) const = default;
};

struct RequestReaderLimits {
  size_t maxHeadBytes = 16 * 1024;   // request line and fields; more gets 431
  size_t maxBodyBytes = 1024 * 1024; // decoded body; more gets 413 (as soon as it is known)
};

// Why a request was refused: the status to answer with (then close), an error code and words.
struct RequestError {
  int status = 400;                      // 400, 413, 417, 431, 505
  std::string code = "MalformedRequest"; // "MalformedRequest", "RequestEntityTooLarge", ...
  std::string message;                   // what was wrong, for the client
};

// Reads requests from a connection's bytes. Not thread-safe: one per connection.
//
//   Head -> (Content-Length or chunked) Body -> Head ...    any state -error-> Failed
class RequestReader {
public:
  enum class Step : uint8_t {
    NeedMore, // every byte given was used (or is an incomplete head kept in place); call again
              // with more
    Request,  // a whole request: request(); bytes after *consumed belong to the next one
    Error,    // refused: error(); the reader stays Failed (answer, then close the connection)
  };
  explicit RequestReader(RequestReaderLimits limits = {});

  // Reads from `in`: the connection's bytes not consumed by earlier calls. *consumed is how many
  // of them were used; the caller drops them before the next call. An incomplete head is left in
  // `in` (not consumed); body bytes are consumed as they arrive.
  Step read(std::string_view in, size_t* consumed);

  // The request of the last Step::Request (the caller may move from it).
  Request& request() { return request_; }
  const RequestError& error() const { return error_; }
  // A head was read and its body is still arriving.
  bool inBody() const { return state_ == State::Body; }
  // In the body of a request whose client waits for "100 Continue".
  bool awaitingContinue() const { return state_ == State::Body && request_.expectContinue; }

private:
  enum class State : uint8_t {
    Head,   // waiting for a whole head
    Body,   // reading the body of request_
    Failed, // refused; nothing more is read
  };
  Step fail(int status, std::string code, std::string message);

  RequestReaderLimits limits_;
  State state_ = State::Head;
  Request request_;
  uint64_t remaining_ = 0; // Content-Length bytes still to come
  ChunkedDecoder chunks_;
  RequestError error_;
};

// A request as bytes: the request line, the headers as they are (framing fields included) and
// the body in the framing they name (re-chunked with its trailers when it came chunked).
// Reading the result gives the same request back.
std::string serializeRequest(const Request& request);

} // namespace tide::http1
