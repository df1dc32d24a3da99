// What a session sends, shared by ServerSession and ClientSession: the frames waiting to be
// written (FrameOutput), and a message body sent in DATA frames without nghttp2 copying it
// (OutgoingBody, through NGHTTP2_DATA_FLAG_NO_COPY: the frame header and the body bytes go
// straight from here into the output).
#pragma once

#include <nghttp2/nghttp2.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tide::h2 {

// Frames produced for the peer and not yet written. nghttp2's send callbacks append until it
// holds highWater bytes; then they answer "would block" and nghttp2 keeps the rest queued, so a
// peer that does not read makes nothing grow here past one frame over the mark.
class FrameOutput {
public:
  explicit FrameOutput(uint32_t highWater) : highWater_(highWater) {}
  bool full() const { return out_.size() - start_ >= highWater_; }
  void append(const char* p, size_t n) { out_.append(p, n); }
  void append(size_t n, char c) { out_.append(n, c); }
  void append(const std::string& s, size_t pos, size_t n) { out_.append(s, pos, n); }
  std::string_view pending() const { return {out_.data() + start_, out_.size() - start_}; }
  // n bytes of pending() were written.
  void consumed(size_t n);
  size_t capacity() const { return out_.capacity(); }

  // nghttp2_send_callback for a session whose user data is `Owner`, with a member `output_`.
  template <typename Owner>
  static ssize_t sendCallback(nghttp2_session*, const uint8_t* data, size_t length, int,
                              void* user) {
    FrameOutput& o = static_cast<Owner*>(user)->output_;
    if (o.full()) {
      return NGHTTP2_ERR_WOULDBLOCK;
    }
    o.append(reinterpret_cast<const char*>(data), length);
    return static_cast<ssize_t>(length);
  }

private:
  std::string out_;
  size_t start_ = 0;
  uint32_t highWater_;
};

// One stream's outgoing body: bytes waiting (from `off`), whether the last one is among them,
// and trailer lines ("name: value\r\n" each) that end the stream after it. The data provider's
// source.ptr points at it.
struct OutgoingBody {
  FrameOutput* output = nullptr; // where sendDataCallback writes
  int32_t streamId = 0;
  std::string bytes;
  size_t off = 0;
  bool ended = false;    // the body's last byte is in `bytes` (or there is none)
  bool deferred = false; // nghttp2 waits for bytes (resume() wakes it)
  std::string trailers;

  size_t pending() const { return bytes.size() - off; }
  // Drops what was sent when it is most of the buffer (before appending).
  void compact();
  void append(const char* p, size_t n) {
    compact();
    bytes.append(p, n);
  }
  void clear() {
    bytes.clear();
    off = 0;
  }
  // Tells nghttp2 that bytes or the end arrived, when it waits for them.
  void resume(nghttp2_session* session);
  size_t capacity() const { return bytes.capacity() + trailers.capacity(); }

  // nghttp2_data_source_read_callback: lengths only (NO_COPY); at the end, the trailers.
  static ssize_t readCallback(nghttp2_session* session, int32_t streamId, uint8_t* buf,
                              size_t length, uint32_t* dataFlags, nghttp2_data_source* source,
                              void* user);
  // nghttp2_send_data_callback: the frame header and the bytes into `output`.
  static int sendDataCallback(nghttp2_session* session, nghttp2_frame* frame,
                              const uint8_t* framehd, size_t length, nghttp2_data_source* source,
                              void* user);
};

// The send step both sessions take after every change (pump): nghttp2 sends what it can, then
// the streams waiting for room (wantsWritable, a body buffer below half of `bufferLimit`) are
// told so by `notify(id)`, which may give more bytes, close streams or change the list; up to
// four rounds. Not inside nghttp2_session_mem_recv (`receiving`: the caller sends when it
// returns), and not again from inside a notification (`notifying`). `streams` is the head of
// the session's list, read again each round; `find(id)` says whether a stream is still there.
template <typename Stream, typename Find, typename Notify>
void sendAndNotify(nghttp2_session* session, bool receiving, bool& notifying, bool& failed,
                   Stream* const& streams, size_t bufferLimit, std::vector<int32_t>& writable,
                   Find find, Notify notify) {
  if (receiving) {
    return;
  }
  if (nghttp2_session_send(session) != 0) {
    failed = true; // only a callback failure, which the sessions' never return: it is broken
  }
  if (notifying) {
    return;
  }
  notifying = true;
  for (int round = 0; round < 4; round++) {
    writable.clear(); // ids first: a notification may close streams
    for (Stream* st = streams; st != nullptr; st = st->next) {
      if (st->wantsWritable && st->body.pending() < bufferLimit / 2) {
        st->wantsWritable = false;
        writable.push_back(st->id);
      }
    }
    if (writable.empty()) {
      break;
    }
    for (int32_t id : writable) {
      if (find(id)) {
        notify(id);
      }
    }
    if (nghttp2_session_send(session) != 0) {
      failed = true;
    }
  }
  notifying = false;
}

} // namespace tide::h2
