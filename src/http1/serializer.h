// Writing HTTP/1.1 heads: status lines, request lines and header fields (RFC 9112 §3, §4, §5).
// The caller owns the framing: it writes Content-Length or Transfer-Encoding itself (framing.h,
// chunked.h), and never both.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace tide::http1 {

// "HTTP/1.1 <status> <reason>\r\n"; the reason from reason.h unless one is given.
// "Sun, 06 Nov 1994 08:49:37 GMT" (RFC 9110 IMF-fixdate) for Unix time sec; 29 characters:
// the Date field of tide's servers, and the Expires of the balancer's cookies.
inline constexpr size_t kHttpDateChars = 29;
void formatHttpDate(int64_t unixSec, char* out);

void appendStatusLine(std::string& out, int status, std::string_view reason = {});
// "<method> <target> HTTP/1.<versionMinor>\r\n".
void appendRequestLine(std::string& out, std::string_view method, std::string_view target,
                       int versionMinor = 1);
// "<name>: <value>\r\n". The caller checks what came from outside (isFieldName, isFieldValue).
void appendField(std::string& out, std::string_view name, std::string_view value);
void appendField(std::string& out, std::string_view name, uint64_t value);
// The blank line that ends a head.
inline void appendHeadEnd(std::string& out) {
  out += "\r\n";
}

// What may be sent: a field name is a token; a field value has no CR, LF, NUL or other control
// character but HTAB.
bool isFieldName(std::string_view name);
bool isFieldValue(std::string_view value);
// A method (a token) and a request target (visible ASCII, no space).
bool isMethod(std::string_view method);
bool isRequestTarget(std::string_view target);

} // namespace tide::http1
