// Listener rules on the request path: conditions prepared once per snapshot (patterns split at
// their stars and lowered where matching is case-insensitive, CIDRs parsed, weighted forwards
// turned into a schedule), then matched per request by pure functions over the parsed head.
// Matching never allocates and costs nothing for a listener without rules.
//
// Matching follows ALB: the first rule by priority whose conditions all match (AND) decides; a
// condition matches when one of its values does (OR). Host names compare case-insensitively
// (without the port), paths case-sensitively (without the query), header names and values,
// query keys and values case-insensitively; methods exactly. "*" matches any run of
// characters, "?" exactly one.
#pragma once

#include "balancer/snapshot.h"
#include "common/status.h"
#include "http1/parser.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tide::balancer {

using http1::MessageHead;

// A wildcard pattern split once at its stars: the runs between them (which may hold "?") are
// matched in order, the first at the start and the last at the end unless a star is there.
struct SplitPattern {
  std::string text; // the pattern (lowered where the comparison is case-insensitive)
  std::vector<std::pair<uint32_t, uint32_t>> runs; // offset and length of each run in text
  bool hasStar = false;                            // any "*" at all
  bool starFirst = false;                          // text starts with "*"
  bool starLast = false;                           // text ends with "*"
};

SplitPattern splitPattern(std::string pattern);
// Whether text matches; with `foldCase`, text is compared lowered (the pattern is already).
bool splitMatch(const SplitPattern& p, std::string_view text, bool foldCase);

struct PreparedCondition {
  RuleCondition::Field field = RuleCondition::Field::PathPattern;
  std::vector<SplitPattern> patterns; // lowered where the comparison is case-insensitive
  std::string headerName;             // HttpHeader: lowered
  std::vector<std::pair<SplitPattern, SplitPattern>> query; // QueryString: lowered key, value
  std::vector<std::pair<uint32_t, uint32_t>> cidrs;         // SourceIp: network, mask
};

// An action with what the request path needs of it, prepared once.
struct PreparedAction {
  const Action* action = nullptr;
  std::vector<uint32_t> schedule; // weighted Forward: target group index per turn (smooth
                                  // weighted round robin over one cycle of the weights)
  uint32_t counter = 0;           // weighted Forward: which per-worker turn counter to use
  uint32_t priority = 0;          // the rule's priority; 0: the default action (access log)
  std::string fixedHeadKeepAlive; // FixedResponse: response head
  std::string fixedHeadClose;     // the same with Connection: close
};

struct PreparedRule {
  const Rule* rule = nullptr;
  std::vector<PreparedCondition> conditions;
  PreparedAction action;
};

// Per-worker turn counters of weighted forwards, indexed by PreparedAction::counter.
inline constexpr uint32_t kWeightedCounters = 256;

// Checks and prepares an action; `groupCount` bounds target group indexes; `nextCounter`
// hands out per-worker counters. Errors are ValidationError naming what is wrong.
Result<PreparedAction> prepareAction(const Action& action, size_t groupCount,
                                     uint32_t& nextCounter);
// Checks and prepares a rule's conditions and action.
Result<PreparedRule> prepareRule(const Rule& rule, size_t groupCount, uint32_t& nextCounter);

// Whether `text` matches `pattern` with * and ? (the reference the split form must agree with);
// with `foldCase`, the pattern must be lowered already and text is compared lowered.
bool wildcardMatch(std::string_view pattern, std::string_view text, bool foldCase);

// The action of the first matching rule, or nullptr when none matches (the default action
// applies). `clientAddress` is the client's IPv4 address in host byte order.
const PreparedAction* matchRules(const std::vector<PreparedRule>& rules, const MessageHead& head,
                                 uint32_t clientAddress);

// The target group index a Forward action picks on this turn (turn counts up per worker).
inline uint32_t chooseTargetGroup(const PreparedAction& a, uint32_t turn) {
  return a.schedule.empty() ? a.action->targetGroup : a.schedule[turn % a.schedule.size()];
}

// The Location of a redirect for a request, from the tokens: #{protocol} is "http" ("https" on
// an HTTPS listener: `https`), #{host} the
// request's host without port, #{port} the listener's port, #{path} the path without its
// leading "/", #{query} the query without "?". The port is left out when it is the protocol's
// default; "?" only when the query is not empty.
std::string redirectLocation(const Redirect& r, const MessageHead& head, uint16_t listenerPort,
                             bool https = false);

// The Host header's value without its port (an IPv6 literal keeps its brackets); empty when
// the request has none.
std::string_view hostOf(const MessageHead& head);

// The whole redirect response (empty body).
std::string redirectResponse(int statusCode, std::string_view location, bool close);

} // namespace tide::balancer
