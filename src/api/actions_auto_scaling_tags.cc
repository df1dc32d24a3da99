// Auto Scaling's CreateOrUpdateTags, DescribeTags and DeleteTags, on groups (the only resource
// type Auto Scaling tags). A group keeps its tags in its own row (AutoScalingGroup::tags, with
// the keys not propagated at launch in unpropagatedTagKeys), so deleting the group deletes them.
#include "api/auto_scaling_shapes.h"
#include "api/handlers.h"
#include "api/params.h"

#include <algorithm>
#include <set>

namespace tide::api {

namespace {

constexpr size_t kMaxTagsPerGroup = 50; // Auto Scaling's limit

// The group's tags as DescribeTags and DescribeAutoScalingGroups show them.
Json tagDescription(const model::AutoScalingGroup& g, const model::Tag& t) {
  return {{"ResourceId", g.autoScalingGroupName},
          {"ResourceType", "auto-scaling-group"},
          {"Key", t.key},
          {"Value", t.value},
          {"PropagateAtLaunch", propagatesAtLaunch(g, t.key)}};
}

} // namespace

bool propagatesAtLaunch(const model::AutoScalingGroup& g, const std::string& key) {
  return std::find(g.unpropagatedTagKeys.begin(), g.unpropagatedTagKeys.end(), key) ==
         g.unpropagatedTagKeys.end();
}

Result<std::vector<GroupTag>> parseGroupTags(const Json& p, const std::string* groupName,
                                             bool keysOnly) {
  std::vector<GroupTag> out;
  auto it = p.find("Tags");
  if (it == p.end() || it->is_null()) {
    if (groupName != nullptr) {
      return out;
    }
    return validationError("The request must contain the parameter Tags");
  }
  const char* shape = "Tags must be a list of {ResourceId, ResourceType, Key, Value, "
                      "PropagateAtLaunch}";
  if (!it->is_array()) {
    return validationError(shape);
  }
  for (const Json& t : *it) {
    if (!t.is_object()) {
      return validationError(shape);
    }
    TIDE_RETURN_IF_ERROR(
        checkKnownParams(t, {"Key", "Value", "PropagateAtLaunch", "ResourceId", "ResourceType"}));
    auto key = reqString(t, "Key");
    auto value = optString(t, "Value");
    auto propagate = optBool(t, "PropagateAtLaunch");
    auto resourceId = optString(t, "ResourceId");
    auto resourceType = optString(t, "ResourceType");
    TIDE_RETURN_IF_ERROR(firstError({&key.status(), &value.status(), &propagate.status(),
                                     &resourceId.status(), &resourceType.status()}));
    GroupTag g;
    if (groupName != nullptr) {
      if (resourceId->has_value() && **resourceId != *groupName) {
        return validationError("Tag '" + *key + "': ResourceId must be the group's name");
      }
      g.groupName = *groupName;
    } else {
      if (!resourceId->has_value() || (*resourceId)->empty()) {
        return validationError("Tag '" + *key + "': ResourceId (the group's name) is required");
      }
      if (!resourceType->has_value()) {
        return validationError("Tag '" + *key + "': ResourceType is required (auto-scaling-group)");
      }
      g.groupName = **resourceId;
    }
    if (resourceType->has_value() && **resourceType != "auto-scaling-group") {
      return validationError("Tag '" + *key + "': ResourceType '" + **resourceType +
                             "' is not valid; Auto Scaling tags auto-scaling-group");
    }
    if (key->empty() || key->size() > 128) {
      return validationError("Tag key '" + *key + "' must be 1 to 128 characters long");
    }
    if (!keysOnly) {
      if (key->rfind("aws:", 0) == 0) {
        return validationError("Tag key '" + *key + "' uses the reserved prefix 'aws:'");
      }
      if (value->value_or("").size() > 256) {
        return validationError("Value of tag '" + *key + "' is longer than 256 characters");
      }
    }
    g.tag = {*key, value->value_or("")};
    // Unset: true in CreateAutoScalingGroup (what tide always did), false in
    // CreateOrUpdateTags (as Auto Scaling does).
    g.propagateAtLaunch = propagate->value_or(groupName != nullptr);
    out.push_back(std::move(g));
  }
  return out;
}

Status applyGroupTags(model::AutoScalingGroup& g, const std::vector<GroupTag>& tags) {
  for (const GroupTag& t : tags) {
    if (t.groupName != g.autoScalingGroupName) {
      continue;
    }
    auto same = std::find_if(g.tags.begin(), g.tags.end(),
                             [&](const model::Tag& x) { return x.key == t.tag.key; });
    if (same != g.tags.end()) {
      same->value = t.tag.value;
    } else {
      g.tags.push_back(t.tag);
    }
    std::erase(g.unpropagatedTagKeys, t.tag.key);
    if (!t.propagateAtLaunch) {
      g.unpropagatedTagKeys.push_back(t.tag.key);
    }
  }
  if (g.tags.size() > kMaxTagsPerGroup) {
    return Status("LimitExceeded", "The quota of " + std::to_string(kMaxTagsPerGroup) +
                                       " tags per group is exceeded for group " +
                                       g.autoScalingGroupName + " (it would have " +
                                       std::to_string(g.tags.size()) + ")");
  }
  return Status::ok();
}

Json groupTagsJson(const model::AutoScalingGroup& g) {
  Json out = Json::array();
  for (const model::Tag& t : g.tags) {
    out.push_back(tagDescription(g, t));
  }
  return out;
}

namespace {

// The distinct groups the tags name, in order.
std::vector<std::string> groupsOf(const std::vector<GroupTag>& tags) {
  std::vector<std::string> out;
  for (const GroupTag& t : tags) {
    if (std::find(out.begin(), out.end(), t.groupName) == out.end()) {
      out.push_back(t.groupName);
    }
  }
  return out;
}

// Applies `change` to each named group in one transaction: every group exists, or nothing
// changes.
Status changeGroups(ActionContext& ctx, const std::vector<GroupTag>& tags,
                    const std::function<Status(model::AutoScalingGroup&)>& change) {
  return ctx.store.transact([&](store::Tx& tx) -> Status {
    for (const std::string& name : groupsOf(tags)) {
      TIDE_ASSIGN_OR_RETURN(auto g, tx.autoScalingGroup(name));
      if (!g.has_value()) {
        return groupNotFound(name);
      }
      TIDE_RETURN_IF_ERROR(change(*g));
      TIDE_RETURN_IF_ERROR(tx.putAutoScalingGroup(*g));
    }
    return Status::ok();
  });
}

} // namespace

Result<Json> createOrUpdateTags(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(checkKnownParams(p, {"Tags"}));
  TIDE_ASSIGN_OR_RETURN(auto tags, parseGroupTags(p, nullptr, false));
  if (tags.empty()) {
    return validationError("The request must contain at least one tag in Tags");
  }
  TIDE_RETURN_IF_ERROR(
      changeGroups(ctx, tags, [&](model::AutoScalingGroup& g) { return applyGroupTags(g, tags); }));
  return Json::object();
}

Result<Json> deleteAutoScalingTags(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(checkKnownParams(p, {"Tags"}));
  TIDE_ASSIGN_OR_RETURN(auto tags, parseGroupTags(p, nullptr, true));
  if (tags.empty()) {
    return validationError("The request must contain at least one tag in Tags");
  }
  // A tag goes by its key (whatever its value); a key the group does not have is no error.
  TIDE_RETURN_IF_ERROR(changeGroups(ctx, tags, [&](model::AutoScalingGroup& g) -> Status {
    for (const GroupTag& t : tags) {
      if (t.groupName == g.autoScalingGroupName) {
        std::erase_if(g.tags, [&](const model::Tag& x) { return x.key == t.tag.key; });
        std::erase(g.unpropagatedTagKeys, t.tag.key);
      }
    }
    return Status::ok();
  }));
  return Json::object();
}

Result<Json> describeAutoScalingTags(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(checkKnownParams(p, {"Filters", "MaxRecords", "NextToken"}));
  TIDE_ASSIGN_OR_RETURN(auto fs, filters(p));
  static const std::set<std::string> kNames = {"auto-scaling-group", "key", "value",
                                               "propagate-at-launch"};
  for (const Filter& f : fs) {
    if (!kNames.count(f.name)) {
      return validationError("Filter name '" + f.name +
                             "' is not valid; use auto-scaling-group, key, value or "
                             "propagate-at-launch");
    }
    if (f.values.empty()) {
      return validationError("Filter '" + f.name + "' must have at least one value");
    }
  }
  std::vector<model::AutoScalingGroup> groups;
  TIDE_RETURN_IF_ERROR(ctx.store.transact(
      [&](store::Tx& tx) -> Status {
        TIDE_ASSIGN_OR_RETURN(groups, tx.autoScalingGroups());
        return Status::ok();
      },
      false));
  // AWS lists tags by group name, then key.
  std::sort(groups.begin(), groups.end(), [](const auto& a, const auto& b) {
    return a.autoScalingGroupName < b.autoScalingGroupName;
  });
  Json out = Json::array();
  for (const model::AutoScalingGroup& g : groups) {
    std::vector<model::Tag> tags = g.tags;
    std::sort(tags.begin(), tags.end(),
              [](const model::Tag& a, const model::Tag& b) { return a.key < b.key; });
    for (const model::Tag& t : tags) {
      bool keep = std::all_of(fs.begin(), fs.end(), [&](const Filter& f) {
        std::string have = f.name == "auto-scaling-group" ? g.autoScalingGroupName
                           : f.name == "key"              ? t.key
                           : f.name == "value"            ? t.value
                           : propagatesAtLaunch(g, t.key) ? "true"
                                                          : "false";
        return std::find(f.values.begin(), f.values.end(), have) != f.values.end();
      });
      if (keep) {
        out.push_back(tagDescription(g, t));
      }
    }
  }
  return Json{{"Tags", out}};
}

} // namespace tide::api
