// Resource ids shaped as in AWS: a prefix, a dash and 17 lowercase hex digits
// ("ami-0123456789abcdef0", "i-...", "lt-...").
#pragma once

#include <string>
#include <string_view>

namespace tide {

// A new random id with the given prefix ("ami", "i", "lt", "r"). Thread-safe.
std::string newId(std::string_view prefix);

// `digits` random lowercase hex digits (the tail of ELBv2 ARNs has 16). Thread-safe.
std::string randomHex(int digits);

// A new random UUID (8-4-4-4-12 lowercase hex), as ActivityIds, ARNs and request ids carry.
// Thread-safe.
std::string newUuid();

// True when s is prefix + "-" + exactly 17 lowercase hex digits.
bool isIdOf(std::string_view s, std::string_view prefix);

// True when s is prefix + "-" + 8 or 17 lowercase hex digits (EC2 accepts both lengths for
// older resources, for example security group ids "sg-1a2b3c4d").
bool isShortOrLongIdOf(std::string_view s, std::string_view prefix);

} // namespace tide
