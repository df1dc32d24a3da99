#include "balancer/access_log_buffer.h"

namespace tide::balancer {

AccessLogBuffer::AccessLogBuffer(size_t loadBalancerSlots, AccessLogWriter* writer)
    : writer_(writer), byLoadBalancer_(loadBalancerSlots) {}

void AccessLogBuffer::append(uint32_t lbSlot, const std::string& path, const AccessLogEntry& e) {
  Lines& b = byLoadBalancer_[lbSlot];
  if (b.path != path) {
    handOver(b, false);
    drop(b);
    b.path = path;
  }
  formatAccessLogEntry(e, b.lines);
  pending_ = true;
  if (b.lines.size() >= kHandoverBytes) {
    handOver(b, false);
  }
}

void AccessLogBuffer::handOverAll(bool wait) {
  if (!pending_) {
    return;
  }
  bool pending = false;
  for (Lines& b : byLoadBalancer_) {
    handOver(b, wait);
    pending |= !b.lines.empty();
  }
  pending_ = pending;
}

// Hands b's lines to the writer without waiting (unless `wait`); drops them when the writer is
// too far behind for the buffer to keep them.
void AccessLogBuffer::handOver(Lines& b, bool wait) {
  if (b.lines.empty()) {
    return;
  }
  if (writer_ != nullptr && writer_->submit(b.path, b.lines, wait)) {
    return;
  }
  if (wait || b.lines.size() > kMaxBytes || writer_ == nullptr) {
    drop(b);
  }
}

void AccessLogBuffer::drop(Lines& b) {
  if (b.lines.empty()) {
    return;
  }
  uint64_t n = 0;
  for (char ch : b.lines) {
    n += ch == '\n';
  }
  if (writer_ != nullptr) {
    writer_->countDropped(n);
  }
  b.lines.clear();
}

} // namespace tide::balancer
