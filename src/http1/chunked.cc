#include "http1/chunked.h"

#include "http1/chars.h"

namespace tide::http1 {

ChunkedDecoder::Result ChunkedDecoder::decode(const char* data, size_t size, size_t* used,
                                              std::string* body, std::string* trailers) {
  size_t i = 0;
  while (i < size) {
    unsigned char c = static_cast<unsigned char>(data[i]);
    if (state_ == State::Size || state_ == State::SizeBws || state_ == State::Ext ||
        state_ == State::SizeLf) {
      if (++lineBytes_ > kMaxChunkSizeLineBytes) {
        return Result::Invalid;
      }
    }
    switch (state_) {
    case State::Size: {
      int8_t h = kChars.hex[c];
      if (h >= 0) {
        if (++digits_ > 15) {
          return Result::Invalid; // larger than any body we would accept
        }
        remaining_ = remaining_ * 16 + uint64_t(h);
      } else if (digits_ == 0) {
        return Result::Invalid;
      } else if (c == ';') {
        state_ = State::Ext;
      } else if (c == ' ' || c == '\t') {
        state_ = State::SizeBws;
      } else if (c == '\r') {
        state_ = State::SizeLf;
      } else {
        return Result::Invalid;
      }
      ++i;
      break;
    }
    case State::SizeBws:
      // chunk-ext = *( BWS ";" ...): whitespace after the size only before an extension.
      if (c == ';') {
        state_ = State::Ext;
      } else if (c != ' ' && c != '\t') {
        return Result::Invalid;
      }
      ++i;
      break;
    case State::Ext:
      if (c == '\r') {
        state_ = State::SizeLf;
      } else if (!kChars.fieldValue[c]) {
        return Result::Invalid;
      }
      ++i;
      break;
    case State::SizeLf:
      if (c != '\n') {
        return Result::Invalid;
      }
      if (remaining_ > limit_ - bodyBytes_) {
        *used = i;
        return Result::TooLarge;
      }
      ++i;
      state_ = remaining_ == 0 ? State::TrailerStart : State::Data;
      break;
    case State::Data: {
      size_t take = size - i < remaining_ ? size - i : static_cast<size_t>(remaining_);
      if (body != nullptr) {
        body->append(data + i, take);
      }
      i += take;
      remaining_ -= take;
      bodyBytes_ += take;
      if (remaining_ == 0) {
        state_ = State::DataCr;
      }
      break;
    }
    case State::DataCr:
      if (c != '\r') {
        return Result::Invalid;
      }
      ++i;
      state_ = State::DataLf;
      break;
    case State::DataLf:
      if (c != '\n') {
        return Result::Invalid;
      }
      ++i;
      state_ = State::Size;
      digits_ = 0;
      lineBytes_ = 0;
      break;
    case State::TrailerStart:
      ++i;
      state_ = c == '\r' ? State::FinalLf : State::TrailerName;
      if (c != '\r' && !kChars.token[c]) {
        return Result::Invalid; // obs-fold or a name that is not a token (RFC 9110 §5.1)
      }
      if (c != '\r' && trailers != nullptr) {
        trailers->push_back(char(c));
      }
      break;
    case State::TrailerName:
      if (++trailerBytes_ > kMaxTrailerBytes) {
        return Result::Invalid;
      }
      if (c == ':') {
        state_ = State::Trailer;
      } else if (!kChars.token[c]) {
        return Result::Invalid; // whitespace before the colon, no colon (RFC 9112 §5.1)
      }
      if (trailers != nullptr) {
        trailers->push_back(char(c));
      }
      ++i;
      break;
    case State::Trailer:
      if (++trailerBytes_ > kMaxTrailerBytes) {
        return Result::Invalid;
      }
      if (c == '\r') {
        state_ = State::TrailerLf;
      } else if (!kChars.fieldValue[c]) {
        return Result::Invalid;
      }
      if (trailers != nullptr) {
        trailers->push_back(char(c));
      }
      ++i;
      break;
    case State::TrailerLf:
      if (c != '\n') {
        return Result::Invalid;
      }
      if (trailers != nullptr) {
        trailers->push_back('\n');
      }
      ++i;
      state_ = State::TrailerStart;
      break;
    case State::FinalLf:
      if (c != '\n') {
        return Result::Invalid;
      }
      ++i;
      state_ = State::Done;
      *used = i;
      return Result::Done;
    case State::Done:
      *used = 0;
      return Result::Done;
    }
  }
  *used = i;
  return state_ == State::Done ? Result::Done : Result::NeedMore;
}

namespace {

void appendHex(std::string& out, uint64_t n) {
  char buf[16];
  size_t len = 0;
  do {
    buf[len++] = "0123456789abcdef"[n & 15];
    n >>= 4;
  } while (n != 0);
  while (len > 0) {
    out.push_back(buf[--len]);
  }
}

} // namespace

void appendChunk(std::string& out, std::string_view data) {
  if (data.empty()) {
    return;
  }
  appendHex(out, data.size());
  out += "\r\n";
  out += data;
  out += "\r\n";
}

void appendLastChunk(std::string& out, std::string_view trailerLines) {
  out += "0\r\n";
  out += trailerLines;
  out += "\r\n";
}

std::string encodeChunked(std::string_view body, size_t chunkBytes, std::string_view trailerLines) {
  std::string out;
  out.reserve(body.size() + (body.size() / chunkBytes + 1) * 12 + trailerLines.size() + 5);
  while (!body.empty()) {
    size_t n = body.size() < chunkBytes ? body.size() : chunkBytes;
    appendChunk(out, body.substr(0, n));
    body.remove_prefix(n);
  }
  appendLastChunk(out, trailerLines);
  return out;
}

} // namespace tide::http1
