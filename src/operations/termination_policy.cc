#include "operations/termination_policy.h"

#include <algorithm>
#include <map>

namespace tide::operations {

namespace {

using Pool = std::vector<const ScaleInCandidate*>;

// Keeps the candidates whose key is least (ties kept); a pool of one is left alone.
template <typename Key> void keepLeast(Pool& pool, Key key) {
  if (pool.size() < 2) {
    return;
  }
  auto best = key(*pool.front());
  for (const auto* c : pool) {
    best = std::min(best, key(*c));
  }
  std::erase_if(pool, [&](const ScaleInCandidate* c) { return key(*c) != best; });
}

struct PolicyContext {
  const model::AutoScalingGroup& group;
  TimeMs now;
};

void oldestInstance(Pool& pool, const PolicyContext&) {
  keepLeast(pool, [](const ScaleInCandidate& c) { return c.launchTime; });
}
void newestInstance(Pool& pool, const PolicyContext&) {
  keepLeast(pool, [](const ScaleInCandidate& c) { return -c.launchTime; });
}
void oldestLaunchTemplate(Pool& pool, const PolicyContext& ctx) {
  // Not the current template first (0), then the current template by version.
  keepLeast(pool, [&](const ScaleInCandidate& c) {
    bool current = !c.launchTemplateId.empty() && c.launchTemplateId == ctx.group.launchTemplateId;
    return std::pair<int, int64_t>(current ? 1 : 0, current ? c.launchTemplateVersion : 0);
  });
}
void closestToNextInstanceHour(Pool& pool, const PolicyContext& ctx) {
  keepLeast(pool, [&](const ScaleInCandidate& c) {
    TimeMs ran = std::max<TimeMs>(0, ctx.now - c.launchTime) / 1000; // whole seconds
    return 3600 - ran % 3600;                                        // seconds to the next hour
  });
}
void noPreference(Pool&, const PolicyContext&) {}
void defaultPolicy(Pool& pool, const PolicyContext& ctx) {
  noPreference(pool, ctx); // OldestLaunchConfiguration: tide launches from templates only
  oldestLaunchTemplate(pool, ctx);
  closestToNextInstanceHour(pool, ctx);
}

struct PolicyRow {
  std::string_view name;
  void (*narrow)(Pool&, const PolicyContext&);
};

// Alphabetical, as DescribeTerminationPolicyTypes lists them.
const PolicyRow kPolicies[] = {
    {"AllocationStrategy", noPreference}, // one instance type, one market
    {"ClosestToNextInstanceHour", closestToNextInstanceHour},
    {"Default", defaultPolicy},
    {"NewestInstance", newestInstance},
    {"OldestInstance", oldestInstance},
    {"OldestLaunchConfiguration", noPreference}, // no launch configurations in tide
    {"OldestLaunchTemplate", oldestLaunchTemplate},
};

const PolicyRow* findPolicy(std::string_view name) {
  for (const auto& row : kPolicies) {
    if (row.name == name) {
      return &row;
    }
  }
  return nullptr;
}

// The candidates of the zones with the most instances among those with an unprotected one;
// only the unprotected ones.
Pool balancedPool(const std::vector<ScaleInCandidate>& all) {
  std::map<std::string, int> perZone, unprotected;
  for (const auto& c : all) {
    ++perZone[c.availabilityZone];
    unprotected[c.availabilityZone] += c.protectedFromScaleIn ? 0 : 1;
  }
  int most = 0;
  for (const auto& [zone, n] : perZone) {
    if (unprotected[zone] > 0) {
      most = std::max(most, n);
    }
  }
  Pool pool;
  for (const auto& c : all) {
    if (!c.protectedFromScaleIn && perZone[c.availabilityZone] == most) {
      pool.push_back(&c);
    }
  }
  return pool;
}

} // namespace

ScaleInCandidate scaleInCandidate(const model::Instance& i) {
  return {i.instanceId,       "local-1a",
          i.launchTemplateId, i.launchTemplateVersion,
          i.launchTime,       i.protectedFromScaleIn};
}

const std::vector<std::string_view>& terminationPolicyTypes() {
  static const std::vector<std::string_view> names = [] {
    std::vector<std::string_view> out;
    for (const auto& row : kPolicies) {
      out.push_back(row.name);
    }
    return out;
  }();
  return names;
}

bool isTerminationPolicyType(std::string_view name) {
  return findPolicy(name) != nullptr;
}

std::vector<std::string> chooseScaleInVictims(const model::AutoScalingGroup& group,
                                              std::vector<ScaleInCandidate> candidates, int count,
                                              TimeMs now) {
  PolicyContext ctx{group, now};
  std::vector<std::string> victims;
  while (static_cast<int>(victims.size()) < count) {
    Pool pool = balancedPool(candidates);
    if (pool.empty()) {
      break; // every one left is protected
    }
    for (const std::string& name : group.terminationPolicies) {
      if (const PolicyRow* row = findPolicy(name)) {
        row->narrow(pool, ctx);
      }
    }
    defaultPolicy(pool, ctx);
    const ScaleInCandidate* chosen =
        *std::min_element(pool.begin(), pool.end(), [](const auto* a, const auto* b) {
          return a->instanceId < b->instanceId;
        });
    std::string id = chosen->instanceId;
    victims.push_back(id);
    std::erase_if(candidates, [&](const ScaleInCandidate& c) { return c.instanceId == id; });
  }
  return victims;
}

} // namespace tide::operations
