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
  std::array<bool, 256> path{};       // what a request-target may hold as it is (RFC 3986
                                      // unreserved, sub-delims, ":@/?"); '%' only before two
                                      // hex digits (see scanPathChars), '[' ']' only in an
                                      // authority
  std::array<bool, 256> regName{};    // a Host's reg-name or IPv4 address: unreserved and
                                      // sub-delims (RFC 3986 §3.2.2); '%' as above
  std::array<int8_t, 256> hex{};      // -1 or the digit's value
  constexpr CharTables() {
    for (int c = 0; c < 256; ++c) {
      bool alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
      token[c] = alnum || (c != 0 && std::string_view("!#$%&'*+-.^_`|~").find(char(c)) !=
                                         std::string_view::npos);
      fieldValue[c] = (c >= 0x21 && c != 0x7f) || c == ' ' || c == '\t';
      target[c] = c > 0x20 && c != 0x7f;
      bool unreserved =
          alnum || (c != 0 && std::string_view("-._~").find(char(c)) != std::string_view::npos);
      bool subDelim =
          c != 0 && std::string_view("!$&'()*+,;=").find(char(c)) != std::string_view::npos;
      regName[c] = unreserved || subDelim;
      path[c] = regName[c] ||
                (c != 0 && std::string_view(":@/?").find(char(c)) != std::string_view::npos);
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

// The end of the run of request-target characters that starts at p: `path` characters and
// percent-encodings ('%' and two hex digits). REQUIRES: the run is followed by a character that
// is neither (a SP or CR of the head), and two bytes after a '%' are readable.
inline const char* scanPathChars(const char* p) {
  for (;;) {
    while (kChars.path[static_cast<unsigned char>(*p)]) {
      ++p;
    }
    if (*p != '%' || kChars.hex[static_cast<unsigned char>(p[1])] < 0 ||
        kChars.hex[static_cast<unsigned char>(p[2])] < 0) {
      return p;
    }
    p += 3;
  }
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
