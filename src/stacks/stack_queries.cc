// CloudFormation's read-only stack actions beyond DescribeStacks: DescribeStackEvents,
// DescribeStackResource, ListStackResources, ListStacks, GetTemplate, GetTemplateSummary.
#include "api/params.h"
#include "stacks/stack_requests.h"

#include <algorithm>
#include <set>

namespace tide::stacks {

using api::checkKnownParams;
using api::optString;
using api::optStringList;

namespace {

constexpr size_t kEventsPerPage = 100; // as CloudFormation pages DescribeStackEvents
constexpr size_t kStacksPerPage = 100; // ListStacks

// Reads a stack (live by name or id, deleted by id) in a read-only transaction.
Result<model::Stack> readStack(ActionContext& ctx, const std::string& nameOrId) {
  model::Stack s;
  TIDE_RETURN_IF_ERROR(ctx.store.transact(
      [&](store::Tx& tx) -> Status {
        TIDE_ASSIGN_OR_RETURN(auto found, findStack(tx, nameOrId, true));
        s = std::move(found);
        return Status::ok();
      },
      false));
  return s;
}

const model::StackResource* resourceOf(const model::Stack& s, const std::string& logicalId) {
  for (const auto& r : s.resources) {
    if (r.logicalResourceId == logicalId) {
      return &r;
    }
  }
  return nullptr;
}

Json resourceSummary(const model::StackResource& r) {
  Json j = {{"LogicalResourceId", r.logicalResourceId},
            {"PhysicalResourceId", r.physicalResourceId},
            {"ResourceType", r.resourceType},
            {"LastUpdatedTimestamp", formatIso8601(r.lastUpdatedTimestamp)},
            {"ResourceStatus", r.resourceStatus},
            {"DriftInformation", {{"StackResourceDriftStatus", "NOT_CHECKED"}}}};
  if (!r.resourceStatusReason.empty()) {
    j["ResourceStatusReason"] = r.resourceStatusReason;
  }
  return j;
}

// NextToken of the offset-paged lists: the offset, as text.
Result<size_t> pageOffset(const Json& p) {
  TIDE_ASSIGN_OR_RETURN(auto token, optString(p, "NextToken"));
  if (!token) {
    return size_t{0};
  }
  size_t offset = 0;
  bool ok = !token->empty() && token->size() < 10;
  for (char c : *token) {
    ok = ok && c >= '0' && c <= '9';
    offset = offset * 10 + static_cast<size_t>(c - '0');
  }
  if (!ok) {
    return validationError("Invalid NextToken: " + *token);
  }
  return offset;
}

} // namespace

Result<Json> describeStackEvents(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(checkKnownParams(p, {"StackName", "NextToken"}));
  // CloudFormation's model leaves StackName optional, but the service requires it.
  TIDE_ASSIGN_OR_RETURN(auto name, requiredString(p, "StackName"));
  TIDE_ASSIGN_OR_RETURN(auto token, optString(p, "NextToken"));
  std::vector<model::StackEvent> events;
  TIDE_RETURN_IF_ERROR(ctx.store.transact(
      [&](store::Tx& tx) -> Status {
        TIDE_ASSIGN_OR_RETURN(auto s, findStack(tx, name, true));
        TIDE_ASSIGN_OR_RETURN(auto all, tx.stackEvents(s.stackId));
        events = std::move(all);
        return Status::ok();
      },
      false));
  // The token is the id of the first event of the next page: pages stay put while new events
  // arrive at the front.
  size_t from = 0;
  if (token) {
    auto it = std::find_if(events.begin(), events.end(),
                           [&](const model::StackEvent& e) { return e.eventId == *token; });
    if (it == events.end()) {
      return validationError("Invalid NextToken: " + *token);
    }
    from = static_cast<size_t>(it - events.begin());
  }
  Json out = Json::array();
  for (size_t i = from; i < events.size() && i < from + kEventsPerPage; ++i) {
    const model::StackEvent& e = events[i];
    Json j = {{"StackId", e.stackId},
              {"EventId", e.eventId},
              {"StackName", e.stackName},
              {"LogicalResourceId", e.logicalResourceId},
              {"PhysicalResourceId", e.physicalResourceId},
              {"ResourceType", e.resourceType},
              {"Timestamp", formatIso8601(e.timestamp)},
              {"ResourceStatus", e.resourceStatus}};
    if (!e.resourceStatusReason.empty()) {
      j["ResourceStatusReason"] = e.resourceStatusReason;
    }
    out.push_back(j);
  }
  Json result = {{"StackEvents", out}};
  if (from + kEventsPerPage < events.size()) {
    result["NextToken"] = events[from + kEventsPerPage].eventId;
  }
  return result;
}

Result<Json> describeStackResource(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(checkKnownParams(p, {"StackName", "LogicalResourceId"}));
  auto name = requiredString(p, "StackName");
  auto logical = requiredString(p, "LogicalResourceId");
  TIDE_RETURN_IF_ERROR(firstError({&name.status(), &logical.status()}));
  TIDE_ASSIGN_OR_RETURN(auto s, readStack(ctx, *name));
  const model::StackResource* r = resourceOf(s, *logical);
  if (!r) {
    return validationError("Resource " + *logical + " does not exist for stack " + *name);
  }
  Json j = resourceSummary(*r);
  j["StackName"] = s.stackName;
  j["StackId"] = s.stackId;
  return Json{{"StackResourceDetail", j}};
}

Result<Json> listStackResources(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(checkKnownParams(p, {"StackName", "NextToken"}));
  TIDE_ASSIGN_OR_RETURN(auto name, requiredString(p, "StackName"));
  TIDE_ASSIGN_OR_RETURN(auto token, optString(p, "NextToken"));
  if (token) { // every resource fits in one page
    return validationError("Invalid NextToken: " + *token);
  }
  TIDE_ASSIGN_OR_RETURN(auto s, readStack(ctx, name));
  Json out = Json::array();
  for (const auto& r : s.resources) {
    out.push_back(resourceSummary(r));
  }
  return Json{{"StackResourceSummaries", out}};
}

Result<Json> listStacks(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(checkKnownParams(p, {"StackStatusFilter", "NextToken"}));
  TIDE_ASSIGN_OR_RETURN(auto filter, optStringList(p, "StackStatusFilter"));
  TIDE_ASSIGN_OR_RETURN(size_t offset, pageOffset(p));
  std::set<std::string> wanted(filter.begin(), filter.end());
  std::vector<model::Stack> stacks;
  TIDE_RETURN_IF_ERROR(ctx.store.transact(
      [&](store::Tx& tx) -> Status {
        TIDE_ASSIGN_OR_RETURN(auto live, tx.stacks());
        TIDE_ASSIGN_OR_RETURN(auto gone, tx.deletedStacks());
        // Newest first, as CloudFormation lists them: live stacks by creation, then the deleted.
        stacks.assign(std::make_move_iterator(live.rbegin()), std::make_move_iterator(live.rend()));
        for (auto& d : gone) {
          stacks.push_back(std::move(d));
        }
        return Status::ok();
      },
      false));
  std::erase_if(stacks, [&](const model::Stack& s) {
    return !wanted.empty() && !wanted.count(s.stackStatus);
  });
  if (offset > stacks.size()) {
    return validationError("Invalid NextToken: " + std::to_string(offset));
  }
  Json out = Json::array();
  for (size_t i = offset; i < stacks.size() && i < offset + kStacksPerPage; ++i) {
    const model::Stack& s = stacks[i];
    Json j = {{"StackId", s.stackId},
              {"StackName", s.stackName},
              {"CreationTime", formatIso8601(s.creationTime)},
              {"StackStatus", s.stackStatus},
              {"DriftInformation", {{"StackDriftStatus", "NOT_CHECKED"}}}};
    Json doc = Json::parse(s.templateBody, nullptr, false);
    if (doc.is_object() && doc.contains("Description") && doc["Description"].is_string()) {
      j["TemplateDescription"] = doc["Description"];
    }
    if (s.lastUpdatedTime != 0) {
      j["LastUpdatedTime"] = formatIso8601(s.lastUpdatedTime);
    }
    if (s.deletionTime != 0) {
      j["DeletionTime"] = formatIso8601(s.deletionTime);
    }
    if (!s.stackStatusReason.empty()) {
      j["StackStatusReason"] = s.stackStatusReason;
    }
    out.push_back(j);
  }
  Json result = {{"StackSummaries", out}};
  if (offset + kStacksPerPage < stacks.size()) {
    result["NextToken"] = std::to_string(offset + kStacksPerPage);
  }
  return result;
}

Result<Json> getTemplate(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(checkKnownParams(p, {"StackName", "ChangeSetName", "TemplateStage"}));
  auto name = optString(p, "StackName");
  auto changeSet = optString(p, "ChangeSetName");
  auto stage = optString(p, "TemplateStage");
  TIDE_RETURN_IF_ERROR(firstError({&name.status(), &changeSet.status(), &stage.status()}));
  if (*stage && **stage != "Original" && **stage != "Processed") {
    return validationError("1 validation error detected: Value '" + **stage +
                           "' at 'templateStage' failed to satisfy constraint: Member must "
                           "satisfy enum value set: [Original, Processed]");
  }
  if (!*name) {
    return validationError("GetTemplate needs StackName");
  }
  TIDE_ASSIGN_OR_RETURN(auto s, readStack(ctx, **name));
  std::string body = s.submittedTemplateBody.empty() ? s.templateBody : s.submittedTemplateBody;
  if (*changeSet) {
    const model::StackChangeSet* found = nullptr;
    for (const auto& cs : s.changeSets) {
      if (cs.changeSetName == **changeSet || cs.changeSetId == **changeSet) {
        found = &cs;
      }
    }
    if (!found) {
      return Status("ChangeSetNotFound", "ChangeSet [" + **changeSet + "] does not exist");
    }
    body = found->submittedTemplateBody;
  }
  // tide runs no transforms: the processed template is the original one.
  return Json{{"TemplateBody", body}, {"StagesAvailable", Json::array({"Original", "Processed"})}};
}

Result<Json> getTemplateSummary(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(checkKnownParams(p, {"TemplateBody", "TemplateURL", "StackName",
                                            "StackSetName", "CallAs", "TemplateBasePath"}));
  if (p.contains("StackSetName")) {
    return validationError("tide has no stack sets (StackSetName)");
  }
  int given = p.contains("TemplateBody") + p.contains("TemplateURL") + p.contains("StackName");
  if (given != 1) {
    return validationError("Exactly one of TemplateBody, TemplateURL or StackName must be given");
  }
  Template t;
  if (p.contains("StackName")) {
    TIDE_ASSIGN_OR_RETURN(auto name, requiredString(p, "StackName"));
    TIDE_ASSIGN_OR_RETURN(auto s, readStack(ctx, name));
    if (s.templateBody.empty()) { // REVIEW_IN_PROGRESS: no template yet
      return validationError("Stack with id " + name + " has no template yet");
    }
    TIDE_ASSIGN_OR_RETURN(auto parsed, parseTemplate(s.templateBody));
    t = std::move(parsed);
  } else {
    TIDE_ASSIGN_OR_RETURN(auto submitted, requestTemplate(p));
    t = std::move(submitted.parsed);
  }
  Json params = Json::array();
  for (const auto& tp : t.parameters) {
    Json j = {{"ParameterKey", tp.name},
              {"ParameterType", tp.type},
              {"NoEcho", false},
              {"ParameterConstraints", Json::object()}};
    if (tp.defaultValue) {
      j["DefaultValue"] = *tp.defaultValue;
    }
    if (!tp.description.empty()) {
      j["Description"] = tp.description;
    }
    if (!tp.allowedValues.empty()) {
      j["ParameterConstraints"]["AllowedValues"] = tp.allowedValues;
    }
    params.push_back(j);
  }
  std::set<std::string> types;
  for (const auto& r : t.resources) {
    types.insert(r.type);
  }
  Json out = {{"Parameters", params},
              {"ResourceTypes", Json(std::vector<std::string>(types.begin(), types.end()))},
              {"Version", "2010-09-09"},
              {"DeclaredTransforms", Json::array()}};
  if (t.document.contains("Description") && t.document["Description"].is_string()) {
    out["Description"] = t.document["Description"];
  }
  // The template's own version when it gives one as text (the parser does not check its type).
  if (t.document.contains("AWSTemplateFormatVersion") &&
      t.document["AWSTemplateFormatVersion"].is_string()) {
    out["Version"] = t.document["AWSTemplateFormatVersion"];
  }
  return out;
}

} // namespace tide::stacks
