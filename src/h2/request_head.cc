#include "h2/request_head.h"

#include "http1/serializer.h"
#include "http1/target.h"

namespace tide::h2 {

namespace {

// RFC 9113 §6.5.2: the size of a field is its name, its value and 32 bytes of overhead.
constexpr uint32_t kFieldOverhead = 32;

} // namespace

void RequestHeadBuilder::reset(uint32_t maxBytes) {
  *this = RequestHeadBuilder();
  maxBytes_ = maxBytes;
}

void RequestHeadBuilder::addField(std::string_view name, std::string_view value) {
  if (tooLarge_) {
    return;
  }
  uint64_t size = uint64_t{bytes_} + name.size() + value.size() + kFieldOverhead;
  if (size > maxBytes_) {
    tooLarge_ = true;
    releaseFields();
    return;
  }
  bytes_ = static_cast<uint32_t>(size);
  if (!name.empty() && name[0] == ':') {
    if (name == ":method") {
      method_.assign(value);
    } else if (name == ":path") {
      path_.assign(value);
    } else if (name == ":authority") {
      authority_.assign(value);
    }
    // :scheme: the balancer says it in X-Forwarded-Proto; :protocol is never enabled.
    return;
  }
  if (name == "cookie") {
    if (!cookie_.empty()) {
      cookie_ += "; ";
    }
    cookie_.append(value);
    return;
  }
  if (name == "host") {
    host_.assign(value);
    return;
  }
  if (name == "te") {
    return; // "trailers" only (nghttp2 checks); hop-by-hop in HTTP/1.1
  }
  if (name == "content-length") {
    if (hasContentLength_) {
      return; // nghttp2 refuses differing values; one is enough
    }
    hasContentLength_ = true;
  }
  http1::appendField(fields_, name, value);
}

void RequestHeadBuilder::addTrailer(std::string_view name, std::string_view value) {
  uint64_t size = uint64_t{trailerBytes_} + name.size() + value.size() + kFieldOverhead;
  if (size > maxBytes_) {
    return; // trailers past the bound are dropped
  }
  trailerBytes_ = static_cast<uint32_t>(size);
  if (name == "content-length" || name == "host" || name == "te" || name == "trailer") {
    return; // not allowed in a trailer section (RFC 9110 §6.5.1)
  }
  http1::appendField(trailers_, name, value);
}

bool RequestHeadBuilder::isForwardable() const {
  return http1::isValidRequestTarget(method_, path_) &&
         http1::isValidHost(authority_.empty() ? host_ : authority_);
}

bool RequestHeadBuilder::buildHead(std::string& out, bool endStream) const {
  http1::appendRequestLine(out, method_, path_.empty() ? std::string_view("/") : path_);
  http1::appendField(out, "Host", authority_.empty() ? host_ : authority_);
  out += fields_;
  if (!cookie_.empty()) {
    http1::appendField(out, "cookie", cookie_);
  }
  bool chunked = false;
  if (!hasContentLength_) {
    if (!endStream) {
      http1::appendField(out, "transfer-encoding", "chunked");
      chunked = true;
    } else if (method_ == "POST" || method_ == "PUT" || method_ == "PATCH") {
      http1::appendField(out, "content-length", uint64_t{0}); // RFC 9110 §8.6
    }
  }
  http1::appendHeadEnd(out);
  return chunked;
}

void RequestHeadBuilder::releaseFields() {
  std::string().swap(path_);
  std::string().swap(authority_);
  std::string().swap(host_);
  std::string().swap(cookie_);
  std::string().swap(fields_);
}

size_t RequestHeadBuilder::bufferedBytes() const {
  return method_.capacity() + path_.capacity() + authority_.capacity() + host_.capacity() +
         cookie_.capacity() + fields_.capacity() + trailers_.capacity();
}

} // namespace tide::h2
