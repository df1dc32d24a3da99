#include "http1/request_reader.h"

#include "common/text.h"
#include "http1/parser.h"
#include "http1/serializer.h"

namespace tide::http1 {

namespace {

std::string lowercase(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    c = char(asciiLower(static_cast<unsigned char>(c)));
  }
  return out;
}

// Whether every Content-Length value is a list of numbers, some too large for 64 bits (which
// the parser refuses as not a length): a body too large to accept rather than a malformed head.
bool onlyHugeLengths(const MessageHead& head) {
  bool any = false;
  for (size_t i = 0; i < head.fieldCount; ++i) {
    const HeaderField& f = head.fields[i];
    if (f.kind != HeaderKind::ContentLength) {
      continue;
    }
    std::string_view list = f.value;
    for (;;) {
      size_t comma = list.find(',');
      std::string_view digits = trimOws(list.substr(0, comma));
      if (digits.empty() || digits.find_first_not_of("0123456789") != std::string_view::npos) {
        return false;
      }
      any = true;
      if (comma == std::string_view::npos) {
        break;
      }
      list.remove_prefix(comma + 1);
    }
  }
  return any;
}

} // namespace

const std::string* Request::header(std::string_view lowercaseName) const {
  for (const auto& [name, value] : headers) {
    if (name == lowercaseName) {
      return &value;
    }
  }
  return nullptr;
}

RequestReader::RequestReader(RequestReaderLimits limits) : limits_(limits) {}

RequestReader::Step RequestReader::fail(int status, std::string code, std::string message) {
  state_ = State::Failed;
  error_ = RequestError{status, std::move(code), std::move(message)};
  return Step::Error;
}

RequestReader::Step RequestReader::read(std::string_view in, size_t* consumed) {
  *consumed = 0;
  if (state_ == State::Failed) {
    return Step::Error;
  }
  if (state_ == State::Head) {
    // One scratch head per thread: constructing a MessageHead (4.8 KB) on every read of an
    // unfinished head would cost more than parsing it. Nothing here re-enters read().
    thread_local MessageHead head;
    HeadError why = HeadError::None;
    ParseStatus st = parseRequestHeadStrict(in.data(), in.size(), limits_.maxHeadBytes, head, &why);
    if (st == ParseStatus::Incomplete || st == ParseStatus::TooLarge) {
      // Garbage is refused as soon as it shows (also before the head's end or the limit), and
      // by looking no further than the limit, so that where the bytes split never matters.
      size_t n = in.size() < limits_.maxHeadBytes ? in.size() : limits_.maxHeadBytes;
      if (checkRequestStart(in.data(), n, &why) == ParseStatus::Invalid) {
        st = ParseStatus::Invalid;
      } else if (st == ParseStatus::Incomplete) {
        return Step::NeedMore;
      }
    }
    if (st == ParseStatus::TooLarge) {
      return fail(431, "RequestHeaderFieldsTooLarge",
                  "request line and headers exceed the limit of " +
                      std::to_string(limits_.maxHeadBytes) + " bytes");
    }
    if (st != ParseStatus::Complete) {
      if (why == HeadError::BadContentLength && onlyHugeLengths(head)) {
        return fail(413, "RequestEntityTooLarge",
                    "request body exceeds the limit of " + std::to_string(limits_.maxBodyBytes) +
                        " bytes");
      }
      if (why == HeadError::UnsupportedVersion) {
        return fail(505, "HttpVersionNotSupported", std::string(headErrorText(why)));
      }
      return fail(400, "MalformedRequest", std::string(headErrorText(why)));
    }
    request_ = Request{};
    request_.method = std::string(head.method);
    request_.target = std::string(head.target);
    request_.versionMinor = head.versionMinor;
    request_.keepAlive = head.keepAlive;
    request_.expectContinue = head.expectContinue;
    request_.headers.reserve(head.fieldCount);
    for (size_t i = 0; i < head.fieldCount; ++i) {
      const HeaderField& f = head.fields[i];
      request_.headers.emplace_back(lowercase(f.name), std::string(f.value));
    }
    if (const std::string* expect = request_.header("expect")) {
      if (!equalsIgnoreCase(*expect, "100-continue")) {
        return fail(417, "ExpectationFailed",
                    "unsupported expectation '" + expect->substr(0, 64) + "'");
      }
    }
    *consumed = head.length;
    if (head.framing == BodyFraming::ContentLength) {
      if (head.contentLength > limits_.maxBodyBytes) {
        return fail(413, "RequestEntityTooLarge",
                    "request body exceeds the limit of " + std::to_string(limits_.maxBodyBytes) +
                        " bytes");
      }
      remaining_ = head.contentLength;
      request_.body.reserve(size_t(remaining_));
    } else if (head.framing == BodyFraming::Chunked) {
      request_.chunked = true;
      chunks_.reset();
      chunks_.setBodyLimit(limits_.maxBodyBytes);
    } else {
      return Step::Request; // no body
    }
    state_ = State::Body;
    in.remove_prefix(*consumed);
  }
  // State::Body
  if (!request_.chunked) {
    size_t take = in.size() < remaining_ ? in.size() : size_t(remaining_);
    request_.body.append(in.data(), take);
    remaining_ -= take;
    *consumed += take;
    if (remaining_ > 0) {
      return Step::NeedMore;
    }
    state_ = State::Head;
    return Step::Request;
  }
  size_t used = 0;
  ChunkedDecoder::Result r =
      chunks_.decode(in.data(), in.size(), &used, &request_.body, &request_.trailers);
  *consumed += used;
  if (r == ChunkedDecoder::Result::Invalid) {
    return fail(400, "MalformedRequest", "malformed chunked body");
  }
  if (r == ChunkedDecoder::Result::TooLarge) {
    return fail(413, "RequestEntityTooLarge",
                "request body exceeds the limit of " + std::to_string(limits_.maxBodyBytes) +
                    " bytes");
  }
  if (r == ChunkedDecoder::Result::NeedMore) {
    return Step::NeedMore;
  }
  state_ = State::Head;
  return Step::Request;
}

std::string serializeRequest(const Request& request) {
  std::string out;
  out.reserve(128 + request.body.size() * 2);
  appendRequestLine(out, request.method, request.target, request.versionMinor);
  for (const auto& [name, value] : request.headers) {
    appendField(out, name, value);
  }
  appendHeadEnd(out);
  if (request.chunked) {
    out += encodeChunked(request.body, 16 * 1024, request.trailers);
  } else {
    out += request.body;
  }
  return out;
}

} // namespace tide::http1
