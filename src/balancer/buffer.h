// Byte buffers for connections, and the per-worker pool they come from (no allocation per
// request: a connection takes a block when it has bytes to hold and gives it back when empty).
#pragma once

#include <sys/uio.h>

#include <cassert>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace tide::balancer {

// A contiguous block with a readable window [begin, end). Not copyable; owned by one connection.
class Buffer {
public:
  Buffer() = default;
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;

  bool allocated() const { return base_ != nullptr; }
  bool empty() const { return begin_ == end_; }
  size_t size() const { return end_ - begin_; }
  size_t capacity() const { return cap_; }
  char* data() { return base_ + begin_; }
  const char* data() const { return base_ + begin_; }
  char* writePtr() { return base_ + end_; }
  size_t writable() const { return cap_ - end_; }
  // Bytes that compact() would make writable.
  size_t reclaimable() const { return begin_; }
  void produce(size_t n) {
    assert(n <= writable());
    end_ += n;
  }
  void consume(size_t n) {
    assert(n <= size());
    begin_ += n;
    if (begin_ == end_) {
      begin_ = end_ = 0;
    }
  }
  // Moves the readable bytes to the front.
  void compact() {
    if (begin_ != 0) {
      std::memmove(base_, base_ + begin_, end_ - begin_);
      end_ -= begin_;
      begin_ = 0;
    }
  }

private:
  friend class BufferPool;
  char* base_ = nullptr;
  size_t cap_ = 0;
  size_t begin_ = 0;
  size_t end_ = 0;
};

// Blocks of one size, reused LIFO (warm in cache). One per worker; not thread-safe.
class BufferPool {
public:
  explicit BufferPool(size_t blockSize) : blockSize_(blockSize) {}
  ~BufferPool() {
    for (char* b : free_) {
      std::free(b);
    }
  }
  BufferPool(const BufferPool&) = delete;
  BufferPool& operator=(const BufferPool&) = delete;

  size_t blockSize() const { return blockSize_; }
  // New blocks get this size; blocks of another size are freed when they come back.
  void setBlockSize(size_t n) {
    if (n != blockSize_) {
      for (char* b : free_) {
        std::free(b);
      }
      free_.clear();
      blockSize_ = n;
    }
  }

  void acquire(Buffer& b) {
    if (b.base_ != nullptr) {
      return;
    }
    if (free_.empty()) {
      b.base_ = static_cast<char*>(std::malloc(blockSize_));
      if (b.base_ == nullptr) {
        std::abort();
      }
    } else {
      b.base_ = free_.back();
      free_.pop_back();
    }
    b.cap_ = blockSize_;
    b.begin_ = b.end_ = 0;
  }

  void release(Buffer& b) {
    if (b.base_ == nullptr) {
      return;
    }
    if (b.cap_ == blockSize_ && free_.size() < kMaxFree) {
      free_.push_back(b.base_);
    } else {
      std::free(b.base_);
    }
    b.base_ = nullptr;
    b.cap_ = b.begin_ = b.end_ = 0;
  }

  // Appends bytes, taking or growing the block as needed (the slow path of partial writes).
  void append(Buffer& b, const char* p, size_t n) {
    acquire(b);
    if (b.writable() < n) {
      b.compact();
    }
    if (b.writable() < n) {
      size_t cap = b.cap_ * 2;
      while (cap - b.size() < n) {
        cap *= 2;
      }
      char* nb = static_cast<char*>(std::malloc(cap));
      if (nb == nullptr) {
        std::abort();
      }
      std::memcpy(nb, b.data(), b.size());
      size_t size = b.size();
      release(b);
      b.base_ = nb;
      b.cap_ = cap;
      b.begin_ = 0;
      b.end_ = size;
    }
    std::memcpy(b.writePtr(), p, n);
    b.produce(n);
  }

private:
  static constexpr size_t kMaxFree = 4096;
  size_t blockSize_;
  std::vector<char*> free_;
};

// The pieces of one outgoing message, for one writev. Adjacent pieces are merged.
class IoVector {
public:
  static constexpr int kMax = 320;
  void clear() {
    count_ = 0;
    bytes_ = 0;
  }
  void add(const char* p, size_t n) {
    if (n == 0) {
      return;
    }
    if (count_ > 0) {
      iovec& last = iov_[count_ - 1];
      if (static_cast<char*>(last.iov_base) + last.iov_len == p) {
        last.iov_len += n;
        bytes_ += n;
        return;
      }
    }
    assert(count_ < kMax);
    iov_[count_++] = iovec{const_cast<char*>(p), n};
    bytes_ += n;
  }
  const iovec* data() const { return iov_; }
  int count() const { return count_; }
  size_t bytes() const { return bytes_; }

private:
  iovec iov_[kMax];
  int count_ = 0;
  size_t bytes_ = 0;
};

} // namespace tide::balancer
