// Small text helpers shared by several modules.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tide {

// Standard base64 (RFC 4648, with padding), as EC2 carries UserData.
std::string base64Encode(std::string_view data);
// nullopt when s is not valid padded base64.
std::optional<std::string> base64Decode(std::string_view s);

// Lowercase hex of bytes.
std::string hexEncode(std::string_view bytes);

// True when s is well-formed UTF-8 (RFC 3629: no overlong forms, no surrogates, at most
// U+10FFFF).
bool isValidUtf8(std::string_view s);

std::vector<std::string> splitString(std::string_view s, char sep);
// Without leading and trailing whitespace (SP, HTAB, CR, LF).
std::string_view trim(std::string_view s);

// HTTP text (inline: the balancer's parser calls them per header field).
// ASCII lowercase of one byte.
inline unsigned char asciiLower(unsigned char c) {
  return (c >= 'A' && c <= 'Z') ? c + 32 : c;
}

// ASCII case-insensitive equality (field names, tokens, cookie attribute names).
inline bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (size_t i = 0; i < a.size(); ++i) {
    if (asciiLower(a[i]) != asciiLower(b[i])) {
      return false;
    }
  }
  return true;
}

// Without leading and trailing optional whitespace (SP and HTAB, RFC 9110 §5.6.3).
inline std::string_view trimOws(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

// Reads a whole file; nullopt if it cannot be read.
std::optional<std::string> readFile(const std::string& path);

// The index-th ':'-separated field of an ARN (3: region, 4: account); "" when it has none.
std::string arnField(std::string_view arn, int index);

} // namespace tide
