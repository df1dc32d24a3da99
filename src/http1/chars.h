// Character classes of HTTP/1.1 (RFC 9110 §5.6), as tables indexed by byte. Internal to http1.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace tide::http1 {

struct CharTables {
  std::array<bool, 256> token{};      // tchar (RFC 9110 §5.6.2)
  std::array<bool, 256> fieldValue{}; // VCHAR, obs-text, SP, HTAB
  std::array<bool, 256> target{};     // visible, non-space
  std::array<int8_t, 256> hex{};      // -1 or the digit's value
  constexpr CharTables() {
    for (int c = 0; c < 256; ++c) {
      bool alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
      token[c] = alnum || (c != 0 && std::string_view("!#$%&'*+-.^_`|~").find(char(c)) !=
                                         std::string_view::npos);
      fieldValue[c] = (c >= 0x21 && c != 0x7f) || c == ' ' || c == '\t';
      target[c] = c > 0x20 && c != 0x7f;
      hex[c] = c >= '0' && c <= '9'   ? int8_t(c - '0')
               : c >= 'a' && c <= 'f' ? int8_t(c - 'a' + 10)
               : c >= 'A' && c <= 'F' ? int8_t(c - 'A' + 10)
                                      : int8_t(-1);
    }
  }
};
inline constexpr CharTables kChars;

// A token (RFC 9110 §5.6.2): one or more tchar.
inline bool isToken(std::string_view s) {
  if (s.empty()) {
    return false;
  }
  for (char c : s) {
    if (!kChars.token[static_cast<unsigned char>(c)]) {
      return false;
    }
  }
  return true;
}

// Only field-value characters: VCHAR, obs-text, SP and HTAB.
inline bool onlyFieldValueChars(std::string_view s) {
  for (char c : s) {
    if (!kChars.fieldValue[static_cast<unsigned char>(c)]) {
      return false;
    }
  }
  return true;
}

} // namespace tide::http1
