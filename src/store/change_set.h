// What a committed transaction wrote: one Change per row put or deleted, so that listeners
// (the reconcile scheduler) wake only the controllers that watch those rows. Type-only and
// light: anything may include it.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

namespace tide::store {

// The kinds of rows the store writes (one per table).
enum class Kind : uint8_t {
  Image,                 // key: image id
  LaunchTemplate,        // key: launch template id
  LaunchTemplateVersion, // key: "<template id>:<version>"; parent: the template id
  Instance,              // key: instance id; parent: its Auto Scaling group name (or empty)
  LoadBalancer,          // key: load balancer ARN
  Listener,              // key: listener ARN (its rules live in it); parent: load balancer ARN
  TargetGroup,           // key: target group ARN
  Target,                // key: "<target id>:<port>"; parent: its target group ARN
  AutoScalingGroup,      // key: group name
  ScalingPolicy,         // key: policy ARN; parent: its group name
  ScalingActivity,       // key: activity id; parent: its group name
  Alarm,                 // key: alarm name
  Stack,                 // key: stack name
  Vpc,                   // key: VPC id
  Subnet,                // key: subnet id; parent: its VPC id
  SecurityGroup,         // key: group id; parent: its VPC id
  KeyPair,               // key: key pair id
  Certificate,           // key: ACM certificate ARN
};
inline constexpr int kKindCount = static_cast<int>(Kind::Certificate) + 1;

// "Instance", "TargetGroup", ... (for logs and tests).
std::string_view kindName(Kind kind);

// One row written (inserted, updated or deleted).
struct Change {
  Kind kind;          // the row's table
  std::string key;    // the row's key (see Kind)
  std::string parent; // the row's owner, when it has one (see Kind), else empty

  bool operator==(const Change&) const = default;
};

// The rows one transaction wrote, each once, in the order first written.
class ChangeSet {
public:
  void add(Kind kind, std::string key, std::string parent = {}) {
    Change c{kind, std::move(key), std::move(parent)};
    if (seen_.insert({c.kind, c.key, c.parent}).second) {
      changes_.push_back(std::move(c));
    }
  }
  const std::vector<Change>& changes() const { return changes_; }
  bool empty() const { return changes_.empty(); }
  // Whether a row of this kind was written.
  bool touches(Kind kind) const {
    for (const Change& c : changes_) {
      if (c.kind == kind) {
        return true;
      }
    }
    return false;
  }

private:
  std::vector<Change> changes_;
  std::set<std::tuple<Kind, std::string, std::string>> seen_;
};

} // namespace tide::store
