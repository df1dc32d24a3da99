#include "common/ids.h"

#include <mutex>
#include <random>

namespace tide {

namespace {
bool isLowerHex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return false;
    }
  }
  return true;
}
} // namespace

std::string randomHex(int digits) {
  static std::mutex mu;
  static std::mt19937_64 rng{std::random_device{}()};
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  std::lock_guard<std::mutex> lock(mu);
  for (int i = 0; i < digits; ++i) {
    out += kHex[rng() & 15];
  }
  return out;
}

std::string newId(std::string_view prefix) {
  std::string id(prefix);
  id += '-';
  return id + randomHex(17);
}

std::string newUuid() {
  std::string h = randomHex(32);
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) +
         "-" + h.substr(20, 12);
}

bool isIdOf(std::string_view s, std::string_view prefix) {
  if (s.size() != prefix.size() + 1 + 17 || s.substr(0, prefix.size()) != prefix ||
      s[prefix.size()] != '-') {
    return false;
  }
  return isLowerHex(s.substr(prefix.size() + 1));
}

bool isShortOrLongIdOf(std::string_view s, std::string_view prefix) {
  if (s.size() <= prefix.size() + 1 || s.substr(0, prefix.size()) != prefix ||
      s[prefix.size()] != '-') {
    return false;
  }
  std::string_view digits = s.substr(prefix.size() + 1);
  return (digits.size() == 8 || digits.size() == 17) && isLowerHex(digits);
}

} // namespace tide
