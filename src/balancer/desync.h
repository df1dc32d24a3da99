// HTTP desync protection: every request head gets a tier and a reason, as AWS's
// http_desync_guardian classifies requests (the tiers and reason names are its), and the load
// balancer's desync mitigation mode decides what happens to each tier.
//
// The classification is made by http1::parseRequestHead (src/http1/parser.cc) during the one
// parse of the head: it fills MessageHead::desync with the types of http1/desync_verdict.h. This
// header holds the mitigation modes, the mode table, the names, and the message that says why
// (built only when asked, for logs and tests; it allocates).
#pragma once

#include "http1/desync_verdict.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tide::http1 {
struct MessageHead; // parser.h
} // namespace tide::http1

namespace tide::balancer {

// The classification itself is http1's (made by the one parse of the head).
using http1::DesyncReason;
using http1::DesyncTier;
using http1::DesyncVerdict;
using http1::MessageHead;

// routing.http.desync_mitigation_mode.
enum class DesyncMitigationMode : uint8_t {
  Monitor,   // forward every request tide can frame unambiguously; only count
  Defensive, // forward Compliant and Acceptable, Ambiguous only normalized and then close
             // both connections, block Severe (the AWS default)
  Strictest, // forward only Compliant
};

// What the worker does with a classified request.
enum class DesyncAction : uint8_t {
  Forward,          // forward, keep both connections
  ForwardThenClose, // forward (normalized), then close the client and the target connection
  Block,            // answer 400 and close the client connection
};

// The mode table (AWS's, with tide's rule that an unframeable request is never forwarded).
DesyncAction desyncAction(DesyncMitigationMode mode, const DesyncVerdict& v);

std::string_view desyncTierName(DesyncTier t);
std::string_view desyncReasonName(DesyncReason r);
// Inline: the control plane uses these with the balancer's headers only.
inline std::string_view desyncModeName(DesyncMitigationMode m) {
  switch (m) {
  case DesyncMitigationMode::Monitor:
    return "monitor";
  case DesyncMitigationMode::Defensive:
    return "defensive";
  case DesyncMitigationMode::Strictest:
    return "strictest";
  }
  return "?";
}

// "monitor", "defensive" or "strictest" (the attribute's values); anything else: nullopt.
inline std::optional<DesyncMitigationMode> parseDesyncMitigationMode(std::string_view s) {
  for (auto m : {DesyncMitigationMode::Monitor, DesyncMitigationMode::Defensive,
                 DesyncMitigationMode::Strictest}) {
    if (s == desyncModeName(m)) {
      return m;
    }
  }
  return std::nullopt;
}

// Why the request was classified as it was: the method, the tier, the reason and what it is
// about ("\"POST\", Severe: MultipleContentLength \"Content-Length\": \"100\""). Values of
// headers other than Content-Length and Transfer-Encoding are obfuscated (only the characters
// at fault are shown). Allocates: for logs and tests, not for every request.
std::string describeDesync(const MessageHead& head);

} // namespace tide::balancer
