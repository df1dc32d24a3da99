// The request-target and Host syntax of RFC 9112 §3.2 and RFC 9110 §7.2 (with RFC 3986's
// characters): what tide's request parsers accept. A request whose target or Host field fails
// these is refused with 400 and a closed connection (RFC 9112 §3, §3.2), never forwarded.
#pragma once

#include <string_view>

namespace tide::http1 {

// Whether `target` is a request-target `method` may carry (RFC 9112 §3.2):
//   origin-form    "/" path [ "?" query ]         any method but CONNECT
//   absolute-form  scheme ":" hier-part [ "?" query ]   any method but CONNECT
//   authority-form host ":" port                  CONNECT only
//   asterisk-form  "*"                            OPTIONS only
// Characters are RFC 3986's: unreserved, sub-delims, ":@/?", '%' with two hex digits, and '['
// ']' around an IP literal in an authority. Empty, '#' (a fragment), spaces, controls, non-ASCII
// and `"<>\^{|}` are refused.
bool isValidRequestTarget(std::string_view method, std::string_view target);

// Whether `value` is a valid Host field value: uri-host [ ":" port ] (RFC 9110 §7.2), where
// uri-host is an IP literal in brackets, an IPv4 address or a reg-name. Empty is valid (a target
// without an authority).
bool isValidHost(std::string_view value);

} // namespace tide::http1
