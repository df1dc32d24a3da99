#include "balancer/sticky_cookie.h"
#include "common/text.h"

#include <sys/random.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>

namespace tide::balancer {
namespace {

inline uint64_t rotl(uint64_t x, int b) {
  return (x << b) | (x >> (64 - b));
}

struct SipState {
  uint64_t v0, v1, v2, v3;
  void round() {
    v0 += v1;
    v1 = rotl(v1, 13);
    v1 ^= v0;
    v0 = rotl(v0, 32);
    v2 += v3;
    v3 = rotl(v3, 16);
    v3 ^= v2;
    v0 += v3;
    v3 = rotl(v3, 21);
    v3 ^= v0;
    v2 += v1;
    v1 = rotl(v1, 17);
    v1 ^= v2;
    v2 = rotl(v2, 32);
  }
};

uint64_t load64(const unsigned char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) {
    v = (v << 8) | p[i];
  }
  return v;
}

void store32(unsigned char* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) {
    p[i] = static_cast<unsigned char>(v >> (8 * i));
  }
}

uint32_t load32(const unsigned char* p) {
  return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}

void store64(unsigned char* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) {
    p[i] = static_cast<unsigned char>(v >> (8 * i));
  }
}

// The tag over the binding and the target's id.
uint64_t bindingTag(const CookieKey& key, const StickyBinding& b, std::string_view targetId) {
  unsigned char msg[21];
  store32(msg, b.groupSlot);
  store32(msg + 4, b.targetSlot);
  store32(msg + 8, b.expirySec);
  store64(msg + 12, sipHash24(key, targetId.data(), targetId.size()));
  msg[20] = 'T'; // domain separation from the key stream below
  return sipHash24(key, msg, sizeof msg);
}

// 16 bytes of key stream for a tag.
void keyStream(const CookieKey& key, uint64_t tag, unsigned char out[16]) {
  unsigned char msg[9];
  store64(msg, tag);
  msg[8] = 'S';
  store64(out, sipHash24(key, msg, sizeof msg));
  msg[8] = 'U';
  store64(out + 8, sipHash24(key, msg, sizeof msg));
}

constexpr char kHex[] = "0123456789abcdef";

int hexValue(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  return -1;
}

char* append(char* p, std::string_view s) {
  std::memcpy(p, s.data(), s.size());
  return p + s.size();
}

} // namespace

CookieKey randomCookieKey() {
  uint64_t words[2];
  size_t got = 0;
  auto* bytes = reinterpret_cast<unsigned char*>(words);
  while (got < sizeof words) {
    ssize_t n = getrandom(bytes + got, sizeof words - got, 0);
    if (n <= 0) {
      std::abort(); // no kernel randomness: cookies could be forged; cannot happen on Linux >= 3.17
    }
    got += size_t(n);
  }
  return {words[0], words[1]};
}

uint64_t sipHash24(const CookieKey& key, const void* data, size_t size) {
  const auto* in = static_cast<const unsigned char*>(data);
  SipState s{key.k0 ^ 0x736f6d6570736575ULL, key.k1 ^ 0x646f72616e646f6dULL,
             key.k0 ^ 0x6c7967656e657261ULL, key.k1 ^ 0x7465646279746573ULL};
  size_t full = size - size % 8;
  for (size_t i = 0; i < full; i += 8) {
    uint64_t m = load64(in + i);
    s.v3 ^= m;
    s.round();
    s.round();
    s.v0 ^= m;
  }
  uint64_t last = uint64_t(size & 0xff) << 56;
  for (size_t i = 0; i < size % 8; ++i) {
    last |= uint64_t(in[full + i]) << (8 * i);
  }
  s.v3 ^= last;
  s.round();
  s.round();
  s.v0 ^= last;
  s.v2 ^= 0xff;
  for (int i = 0; i < 4; ++i) {
    s.round();
  }
  return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}

void encodeStickyValue(const CookieKey& key, const StickyBinding& b, std::string_view targetId,
                       char* out) {
  uint64_t tag = bindingTag(key, b, targetId);
  unsigned char raw[20];
  store64(raw, tag);
  unsigned char stream[16];
  keyStream(key, tag, stream);
  store32(raw + 8, b.groupSlot);
  store32(raw + 12, b.targetSlot);
  store32(raw + 16, b.expirySec);
  for (int i = 0; i < 12; ++i) {
    raw[8 + i] ^= stream[i];
  }
  for (size_t i = 0; i < sizeof raw; ++i) {
    out[2 * i] = kHex[raw[i] >> 4];
    out[2 * i + 1] = kHex[raw[i] & 15];
  }
}

bool decodeStickyValue(const CookieKey& key, std::string_view value, StickyBinding* b,
                       uint64_t* tag) {
  if (value.size() != kStickyValueChars) {
    return false;
  }
  unsigned char raw[20];
  for (size_t i = 0; i < sizeof raw; ++i) {
    int hi = hexValue(value[2 * i]);
    int lo = hexValue(value[2 * i + 1]);
    if (hi < 0 || lo < 0) {
      return false;
    }
    raw[i] = static_cast<unsigned char>(hi << 4 | lo);
  }
  *tag = load64(raw);
  unsigned char stream[16];
  keyStream(key, *tag, stream);
  for (int i = 0; i < 12; ++i) {
    raw[8 + i] ^= stream[i];
  }
  b->groupSlot = load32(raw + 8);
  b->targetSlot = load32(raw + 12);
  b->expirySec = load32(raw + 16);
  return true;
}

bool stickyValueAuthentic(const CookieKey& key, const StickyBinding& b, std::string_view targetId,
                          uint64_t tag) {
  return bindingTag(key, b, targetId) == tag;
}

std::string_view findRequestCookie(const MessageHead& head, std::string_view name) {
  for (size_t i = 0; i < head.fieldCount; ++i) {
    const http1::HeaderField& f = head.fields[i];
    if (!equalsIgnoreCase(f.name, "cookie")) {
      continue;
    }
    std::string_view rest = f.value;
    while (!rest.empty()) {
      size_t semi = rest.find(';');
      std::string_view pair = trimOws(rest.substr(0, semi));
      rest = semi == std::string_view::npos ? std::string_view() : rest.substr(semi + 1);
      size_t eq = pair.find('=');
      if (eq != std::string_view::npos && trimOws(pair.substr(0, eq)) == name) {
        std::string_view v = trimOws(pair.substr(eq + 1));
        if (v.size() >= 2 && v.front() == '"' && v.back() == '"') {
          v = v.substr(1, v.size() - 2);
        }
        return v;
      }
    }
  }
  return {};
}

bool responseSetsCookie(const MessageHead& head, std::string_view name) {
  for (size_t i = 0; i < head.fieldCount; ++i) {
    const http1::HeaderField& f = head.fields[i];
    if (!equalsIgnoreCase(f.name, "set-cookie")) {
      continue;
    }
    size_t eq = f.value.find('=');
    if (eq != std::string_view::npos && trimOws(f.value.substr(0, eq)) == name) {
      return true;
    }
  }
  return false;
}

size_t formatStickySetCookie(Stickiness::Type type, std::string_view value,
                             std::string_view httpDate, char* out) {
  char* p = out;
  auto line = [&](std::string_view name, std::string_view extra) {
    p = append(p, "Set-Cookie: ");
    p = append(p, name);
    p = append(p, "=");
    p = append(p, value);
    p = append(p, "; Expires=");
    p = append(p, httpDate);
    p = append(p, "; Path=/");
    p = append(p, extra);
    p = append(p, "\r\n");
  };
  switch (type) {
  case Stickiness::Type::None:
    return 0;
  case Stickiness::Type::LbCookie:
    line("AWSALB", "");
    line("AWSALBCORS", "; SameSite=None; Secure");
    break;
  case Stickiness::Type::AppCookie:
    line("AWSALBAPP-0", "");
    break;
  }
  return size_t(p - out);
}

} // namespace tide::balancer
