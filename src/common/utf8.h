// UTF-8 as untrusted input meets it: where a text stops being UTF-8, a printable form of text
// that is not, and line/column positions for messages. (isValidUtf8, in text.h, uses it.)
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace tide {

// The offset of the first byte of s that is not part of well-formed UTF-8 (RFC 3629: no overlong
// forms, no surrogates, at most U+10FFFF); npos when s is valid.
size_t invalidUtf8Offset(std::string_view s);

// s with every byte that is not part of well-formed UTF-8 written as the four characters \xNN
// (lowercase hex), the rest as it is: for messages that quote untrusted input and must stay
// UTF-8 (a JSON error body, an XML error, a terminal).
std::string escapeInvalidUtf8(std::string_view s);

// A place in a text as editors count it: line and column from 1, columns in characters (UTF-8
// continuation bytes do not count).
struct TextPosition {
  size_t line = 1;
  size_t column = 1;
};
// The position of the byte at offset (the end of s when offset is past it).
TextPosition textPosition(std::string_view s, size_t offset);

} // namespace tide
