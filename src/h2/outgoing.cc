#include "h2/outgoing.h"

#include "h2/response_head.h"

#include <algorithm>
#include <vector>

namespace tide::h2 {

void FrameOutput::consumed(size_t n) {
  start_ += std::min(n, out_.size() - start_);
  if (start_ == out_.size()) {
    out_.clear();
    start_ = 0;
    if (out_.capacity() > 2 * size_t{highWater_}) {
      std::string().swap(out_); // a burst's buffer is not kept by an idle connection
    }
  } else if (start_ > out_.size() / 2) {
    out_.erase(0, start_);
    start_ = 0;
  }
}

void OutgoingBody::compact() {
  if (off > 0 && off >= bytes.size() / 2) {
    bytes.erase(0, off);
    off = 0;
  }
}

void OutgoingBody::resume(nghttp2_session* session) {
  if (deferred && (pending() > 0 || ended)) {
    deferred = false;
    nghttp2_session_resume_data(session, streamId);
  }
}

ssize_t OutgoingBody::readCallback(nghttp2_session* session, int32_t, uint8_t*, size_t length,
                                   uint32_t* dataFlags, nghttp2_data_source* source, void*) {
  auto* b = static_cast<OutgoingBody*>(source->ptr);
  size_t avail = b->pending();
  if (avail == 0 && !b->ended) {
    b->deferred = true;
    return NGHTTP2_ERR_DEFERRED;
  }
  size_t n = std::min(length, avail);
  if (n > 0) {
    *dataFlags |= NGHTTP2_DATA_FLAG_NO_COPY;
  }
  if (n == avail && b->ended) {
    *dataFlags |= NGHTTP2_DATA_FLAG_EOF;
    if (!b->trailers.empty()) {
      // Trailers (gRPC's grpc-status) end the stream in a HEADERS frame after the data.
      static thread_local std::string arena;
      static thread_local std::vector<nghttp2_nv> nva;
      buildTrailerFields(b->trailers, arena, nva);
      std::string().swap(b->trailers);
      if (!nva.empty() &&
          nghttp2_submit_trailer(session, b->streamId, nva.data(), nva.size()) == 0) {
        *dataFlags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
      }
    }
  }
  return static_cast<ssize_t>(n);
}

int OutgoingBody::sendDataCallback(nghttp2_session*, nghttp2_frame* frame, const uint8_t* framehd,
                                   size_t length, nghttp2_data_source* source, void*) {
  auto* b = static_cast<OutgoingBody*>(source->ptr);
  FrameOutput& o = *b->output;
  if (o.full()) {
    return NGHTTP2_ERR_WOULDBLOCK;
  }
  o.append(reinterpret_cast<const char*>(framehd), 9);
  if (frame->data.padlen > 0) {
    o.append(1, static_cast<char>(frame->data.padlen - 1)); // no padding is chosen
  }
  o.append(b->bytes, b->off, length);
  if (frame->data.padlen > 1) {
    o.append(frame->data.padlen - 1, '\0');
  }
  b->off += length;
  if (b->off == b->bytes.size()) {
    b->clear();
  }
  return 0;
}

} // namespace tide::h2
