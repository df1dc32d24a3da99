// Auto Scaling's warm pools (issue 11, item 5): PutWarmPool, DeleteWarmPool, DescribeWarmPool.
// The pool is kept in its group's document (AutoScalingGroup::warmPool); its instances are the
// group's members in a Warmed:* state, which only DescribeWarmPool shows. The group controller
// fills and empties the pool (control/warm_pool.h).
#include "api/auto_scaling_shapes.h"
#include "api/handlers.h"
#include "api/params.h"
#include "operations/warm_pool.h"

namespace tide::api {

namespace {

// "1 validation error detected: Value 'V' at 'name' failed to satisfy constraint: Member must
// have value greater than or equal to MIN" (the AWS service's wording for a model range).
Status belowMinimum(const char* member, int64_t value, int minimum) {
  return validationError("1 validation error detected: Value '" + std::to_string(value) + "' at '" +
                         member +
                         "' failed to satisfy constraint: Member must have value greater than or "
                         "equal to " +
                         std::to_string(minimum));
}

} // namespace

Result<Json> putWarmPool(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(checkKnownParams(p, {"AutoScalingGroupName", "MaxGroupPreparedCapacity",
                                            "MinSize", "PoolState", "InstanceReusePolicy"}));
  auto name = reqString(p, "AutoScalingGroupName");
  auto prepared = optInt(p, "MaxGroupPreparedCapacity");
  auto minSize = optInt(p, "MinSize");
  auto state = optString(p, "PoolState");
  TIDE_RETURN_IF_ERROR(
      firstError({&name.status(), &prepared.status(), &minSize.status(), &state.status()}));
  model::WarmPoolConfiguration pool;
  if (*prepared) {
    if (**prepared < -1) {
      return belowMinimum("maxGroupPreparedCapacity", **prepared, -1);
    }
    if (**prepared > 1'000'000) {
      return validationError("MaxGroupPreparedCapacity must be at most 1000000");
    }
    if (**prepared >= 0) {
      pool.maxGroupPreparedCapacity = static_cast<int>(**prepared);
    }
  }
  if (*minSize) {
    if (**minSize < 0) {
      return belowMinimum("minSize", **minSize, 0);
    }
    if (**minSize > 1'000'000) {
      return validationError("MinSize must be at most 1000000");
    }
    pool.minSize = static_cast<int>(**minSize);
  }
  if (*state) {
    auto parsed = operations::parseWarmPoolState(**state);
    if (!parsed) {
      return validationError("1 validation error detected: Value '" + **state +
                             "' at 'poolState' failed to satisfy constraint: Member must satisfy "
                             "enum value set: [Stopped, Running, Hibernated]");
    }
    pool.poolState = *parsed;
  }
  if (auto it = p.find("InstanceReusePolicy"); it != p.end() && !it->is_null()) {
    if (!it->is_object()) {
      return validationError("InstanceReusePolicy must be a structure");
    }
    TIDE_RETURN_IF_ERROR(checkKnownParams(*it, {"ReuseOnScaleIn"}));
    TIDE_ASSIGN_OR_RETURN(auto reuse, optBool(*it, "ReuseOnScaleIn"));
    pool.reuseOnScaleIn = reuse.value_or(false);
  }
  TIDE_RETURN_IF_ERROR(operations::checkWarmPool(pool));
  TIDE_RETURN_IF_ERROR(ctx.store.transact([&](store::Tx& tx) -> Status {
    TIDE_ASSIGN_OR_RETURN(auto g, findLiveGroup(tx, *name));
    if (g.warmPool && g.warmPool->pendingDelete) {
      return validationError("The warm pool of AutoScalingGroup '" + *name +
                             "' is pending delete; it cannot be changed until it is deleted");
    }
    g.warmPool = pool;
    return tx.putAutoScalingGroup(g);
  }));
  return Json::object();
}

Result<Json> deleteWarmPool(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(checkKnownParams(p, {"AutoScalingGroupName", "ForceDelete"}));
  auto name = reqString(p, "AutoScalingGroupName");
  auto force = optBool(p, "ForceDelete");
  TIDE_RETURN_IF_ERROR(firstError({&name.status(), &force.status()}));
  TIDE_RETURN_IF_ERROR(ctx.store.transact([&](store::Tx& tx) -> Status {
    TIDE_ASSIGN_OR_RETURN(auto g, findLiveGroup(tx, *name));
    if (!g.warmPool) {
      return validationError("No warm pool found for AutoScalingGroup '" + *name + "'");
    }
    if (force->value_or(false)) {
      // At once: the group controller terminates its instances (a group without a pool keeps
      // none warm).
      g.warmPool.reset();
    } else {
      g.warmPool->pendingDelete = true; // removed once its last instance is terminated
    }
    return tx.putAutoScalingGroup(g);
  }));
  return Json::object();
}

// MaxRecords and NextToken are taken and the pool answered in one page: botocore's model has no
// paginator for it, and a pool holds at most the group's MaxSize instances.
Result<Json> describeWarmPool(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(checkKnownParams(p, {"AutoScalingGroupName", "MaxRecords", "NextToken"}));
  auto name = reqString(p, "AutoScalingGroupName");
  TIDE_RETURN_IF_ERROR(name.status());
  Json out = Json::object();
  TIDE_RETURN_IF_ERROR(ctx.store.transact(
      [&](store::Tx& tx) -> Status {
        TIDE_ASSIGN_OR_RETURN(auto g, findGroup(tx, *name));
        Json instances = Json::array();
        TIDE_ASSIGN_OR_RETURN(auto all, tx.instances());
        for (const model::Instance& i : all) {
          if (i.autoScalingGroupName == *name && operations::inWarmPool(i)) {
            instances.push_back(groupInstanceJson(i, tideZone(ctx)));
          }
        }
        if (g.warmPool) {
          out["WarmPoolConfiguration"] = warmPoolConfigurationJson(*g.warmPool);
        }
        out["Instances"] = instances;
        return Status::ok();
      },
      false));
  return out;
}

} // namespace tide::api
