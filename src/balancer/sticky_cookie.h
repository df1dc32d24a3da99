// Sticky session cookies (target group stickiness): the balancer's own cookie value, its
// encoding and check, and finding cookies in parsed heads without allocating.
//
// A value binds a client to (target group slot, target slot) until an expiry (seconds of the
// workers' CLOCK_MONOTONIC). It is opaque and authenticated: 20 bytes as 40 hex digits, a 64-bit
// SipHash-2-4 tag under the balancer's random key over slots, expiry and the target's id, then
// the slots and expiry masked with a key stream derived from the tag. A client cannot name a
// target of its choosing or extend an expiry; a value for a target whose slot now holds another
// target fails the check. The key is made at start and never leaves the process, so values do
// not outlive it (ALB rotates its key too). Everything here is pure and thread-safe.
#pragma once

#include "balancer/snapshot.h"
#include "http1/parser.h"

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace tide::balancer {

using http1::MessageHead;

// A 128-bit SipHash key.
struct CookieKey {
  uint64_t k0 = 0;
  uint64_t k1 = 0;
};

// A key from the kernel's random source (getrandom); at start-up only.
CookieKey randomCookieKey();

// SipHash-2-4 (Aumasson and Bernstein) of data under key.
uint64_t sipHash24(const CookieKey& key, const void* data, size_t size);

// What a cookie value says.
struct StickyBinding {
  uint32_t groupSlot = 0;  // TargetGroup::slot
  uint32_t targetSlot = 0; // Target::slot
  uint32_t expirySec = 0;  // CLOCK_MONOTONIC seconds after which the binding no longer holds
};

inline constexpr size_t kStickyValueChars = 40;

// Writes the value binding b to the target with id targetId (kStickyValueChars characters).
void encodeStickyValue(const CookieKey& key, const StickyBinding& b, std::string_view targetId,
                       char* out);

// Reads a value: false when it is not one of ours in shape. *tag is what stickyValueAuthentic
// checks once the caller has found the target the value names.
bool decodeStickyValue(const CookieKey& key, std::string_view value, StickyBinding* b,
                       uint64_t* tag);

// Whether tag authenticates b for the target with id targetId.
bool stickyValueAuthentic(const CookieKey& key, const StickyBinding& b, std::string_view targetId,
                          uint64_t tag);

// Whether a binding (authentic or not) is for that group and unexpired at nowMs
// (CLOCK_MONOTONIC milliseconds).
inline bool stickyBindingCurrent(const StickyBinding& b, uint32_t groupSlot, int64_t nowMs) {
  return b.groupSlot == groupSlot && int64_t(b.expirySec) * 1000 > nowMs;
}

// The value of the cookie `name` in the request's Cookie header field(s), or an empty view.
std::string_view findRequestCookie(const MessageHead& head, std::string_view name);

// Whether the response sets the cookie `name` (a Set-Cookie field for it).
bool responseSetsCookie(const MessageHead& head, std::string_view name);

// The Set-Cookie field line(s) for a binding: "AWSALB" and "AWSALBCORS" (SameSite=None; Secure)
// for LbCookie, "AWSALBAPP-0" for AppCookie, each with Expires=httpDate and Path=/. Returns the
// length written to out (at most kSetCookieMaxChars), or 0 for Type::None.
inline constexpr size_t kSetCookieMaxChars = 320;
size_t formatStickySetCookie(Stickiness::Type type, std::string_view value,
                             std::string_view httpDate, char* out);

} // namespace tide::balancer
