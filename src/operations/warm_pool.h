// Auto Scaling warm pools (PutWarmPool, the group controller's pool pass): the rules both the API
// and the controller read. A group's pool is kept in its group's document
// (AutoScalingGroup::warmPool); its instances are the group's members in a Warmed:* lifecycle
// state. They are not capacity, not in the group's Instances and not in its aggregated metrics.
#pragma once

#include "common/status.h"
#include "model/auto_scaling.h"

#include <optional>
#include <string_view>

namespace tide::operations {

// Whether a lifecycle state is one of the warm pool's (Warmed:*).
bool isWarmed(model::LifecycleState s);
// Whether an instance is in its group's warm pool (any Warmed:* state but Warmed:Terminated).
bool inWarmPool(const model::Instance& i);

// "Stopped", "Running", "Hibernated".
std::string_view warmPoolStateName(model::WarmPoolState s);
std::optional<model::WarmPoolState> parseWarmPoolState(std::string_view s);

// How many instances the group's pool holds, as Auto Scaling computes it: MaxGroupPreparedCapacity
// (unset: the group's MaxSize) minus the desired capacity, at least MinSize. 0 when the group has
// no pool, its pool is being deleted, or the group is.
int warmPoolTargetSize(const model::AutoScalingGroup& group);

// Checks a pool as PutWarmPool receives it: MaxGroupPreparedCapacity (when set) at least MinSize.
// Errors: ValidationError with Auto Scaling's wording.
Status checkWarmPool(const model::WarmPoolConfiguration& pool);

} // namespace tide::operations
