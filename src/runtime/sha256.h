// SHA-256 over streamed bytes (OpenSSL EVP), for content addressing of images.
#pragma once

#include "common/status.h"

#include <memory>
#include <string>
#include <string_view>

namespace tide::runtime {

// Incremental SHA-256. Not thread-safe; one object per digest.
class Sha256 {
public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void update(std::string_view bytes);
  // Lowercase hex of the digest (64 characters). Call once.
  std::string finishHex();

private:
  struct Ctx;
  std::unique_ptr<Ctx> ctx_;
};

// Hex SHA-256 of a byte string.
std::string sha256Hex(std::string_view bytes);

} // namespace tide::runtime
