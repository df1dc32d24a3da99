// An HTTP/2 request head (RFC 9113 §8.3) as an HTTP/1.1 request head (RFC 9112 §3), for
// HTTP/1.1 targets: the request line from :method and :path, Host from :authority (or the host
// field when there is none), cookie crumbs joined with "; " (RFC 9113 §8.2.3), the other
// fields as they came (nghttp2 has already refused what HTTP/2 forbids: uppercase names,
// connection-specific fields, TE other than "trailers", invalid pseudo-headers), and the body
// framed with the client's content-length, else chunked when a body follows.
//
// Fields arrive one at a time; their decoded size (name + value + 32 each, RFC 9113 §6.5.2) is
// bounded: past the bound nothing more is kept and tooLarge() says so (the session answers 431).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace tide::h2 {

class RequestHeadBuilder {
public:
  // Starts a new head, bounded to maxBytes of decoded fields (head and trailers each).
  void reset(uint32_t maxBytes);
  // A field of the request head (pseudo-headers first, as nghttp2 makes sure).
  void addField(std::string_view name, std::string_view value);
  // A field of the trailer section (kept for a chunked body; framing fields are left out).
  void addTrailer(std::string_view name, std::string_view value);

  bool tooLarge() const { return tooLarge_; }
  // Whether :path and the authority read as an HTTP/1.1 request-target and Host do (http1's
  // target.h: nghttp2 lets through some that tide's parsers refuse, such as a stray '%').
  bool isForwardable() const;
  std::string_view method() const { return method_; }
  // Appends the HTTP/1.1 head, through its blank line, to out. endStream: no body follows.
  // Returns whether the body is to be sent chunked.
  bool buildHead(std::string& out, bool endStream) const;
  // The trailer field lines ("name: value\r\n" each) for the last chunk.
  std::string_view trailers() const { return trailers_; }

  // Frees what the head needed once it was built (streams can live long).
  void releaseFields();
  void releaseTrailers() { std::string().swap(trailers_); }
  size_t bufferedBytes() const;

private:
  uint32_t maxBytes_ = 0;
  uint32_t bytes_ = 0;        // decoded size of the head's fields so far
  uint32_t trailerBytes_ = 0; // and of the trailers'
  bool tooLarge_ = false;
  bool hasContentLength_ = false;
  std::string method_;
  std::string path_;
  std::string authority_;
  std::string host_;   // a host field (used when there is no :authority)
  std::string cookie_; // crumbs joined with "; "
  std::string fields_; // the other fields, "name: value\r\n" each
  std::string trailers_;
};

} // namespace tide::h2
