// The chunked transfer coding (RFC 9112 §7.1): an incremental decoder that finds where a chunked
// body ends as its bytes stream through (and, when asked, hands out the chunk data and the
// trailer section), and an encoder.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace tide::http1 {

// The limit on trailer bytes of one chunked body.
inline constexpr uint32_t kMaxTrailerBytes = 16 * 1024;
// The limit on one chunk-size line: the size, its extensions and the CRLF.
inline constexpr uint32_t kMaxChunkSizeLineBytes = 4 * 1024;

// Decodes one chunked body. Feed it every body byte once, in order, in pieces of any size; the
// result does not depend on where the pieces split. Allocates nothing itself; decode() appends
// to the strings it is given. Not thread-safe (one per message).
class ChunkedDecoder {
public:
  enum class Result : uint8_t {
    NeedMore, // all bytes consumed, the body goes on
    Done,     // the body (with trailers) ended; *used bytes belong to it
    Invalid,  // malformed chunk framing, or a chunk-size line or trailer section over its limit
    TooLarge, // a chunk size took the data past the body limit (setBodyLimit); nothing of that
              // chunk was used
  };
  // Refuse bodies whose chunk data would exceed maxBodyBytes, as soon as a chunk size says so
  // (the same byte whatever the split). No limit unless set.
  void setBodyLimit(uint64_t maxBodyBytes) { limit_ = maxBodyBytes; }
  // Scans up to size bytes; *used is how many belong to the body (all of them unless Done).
  Result scan(const char* data, size_t size, size_t* used) {
    return decode(data, size, used, nullptr, nullptr);
  }
  // As scan(), and appends the chunk data to *body and the trailer field lines (each with its
  // CRLF, without the final blank line) to *trailers, for those that are not null.
  Result decode(const char* data, size_t size, size_t* used, std::string* body,
                std::string* trailers);
  // Chunk data bytes seen so far.
  uint64_t bodyBytes() const { return bodyBytes_; }
  // Starts a new body (keeps the limit).
  void reset() {
    uint64_t limit = limit_;
    *this = ChunkedDecoder();
    limit_ = limit;
  }

private:
  enum class State : uint8_t {
    Size,         // hex digits of a chunk size
    SizeBws,      // whitespace after the size: only before a ';' (RFC 9112 §7.1.1 BWS)
    Ext,          // a chunk extension, up to its CR
    SizeLf,       // the LF ending the chunk-size line
    Data,         // remaining_ more bytes of chunk data
    DataCr,       // the CRLF after chunk data
    DataLf,       //
    TrailerStart, // after the last chunk: a trailer field or the final CRLF
    TrailerName,  // a trailer field's name: a token up to its colon
    Trailer,      // a trailer field's value, up to its CR
    TrailerLf,    // its LF
    FinalLf,      // the LF of the final CRLF
    Done          // the body ended
  };
  State state_ = State::Size;
  uint8_t digits_ = 0;
  uint32_t lineBytes_ = 0; // bytes of the current chunk-size line
  uint64_t remaining_ = 0;
  uint64_t bodyBytes_ = 0;
  uint32_t trailerBytes_ = 0;
  uint64_t limit_ = UINT64_MAX;
};

// Appends data as one chunk (nothing when data is empty: an empty chunk would end the body).
void appendChunk(std::string& out, std::string_view data);
// Appends the last chunk, the trailer field lines (each "name: value\r\n", may be empty) and the
// final CRLF.
void appendLastChunk(std::string& out, std::string_view trailerLines = {});
// A whole body in the chunked coding, in chunks of at most chunkBytes (> 0).
std::string encodeChunked(std::string_view body, size_t chunkBytes = 16 * 1024,
                          std::string_view trailerLines = {});

} // namespace tide::http1
