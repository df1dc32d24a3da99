// CloudFormation's change sets: CreateChangeSet, DescribeChangeSet, ExecuteChangeSet,
// DeleteChangeSet, ListChangeSets, as `aws cloudformation deploy` uses them.
//
// A change set is kept in its stack's record (model::StackChangeSet) and computed when it is
// created: its Status is CREATE_COMPLETE at once (CloudFormation's CREATE_PENDING and
// CREATE_IN_PROGRESS pass before the action returns), or FAILED with CloudFormation's reason
// when the template and parameters are those the stack already has. A CREATE change set makes
// the stack in REVIEW_IN_PROGRESS, which the engine leaves alone until the change set is
// executed (or the stack deleted). Executing one starts the stack's create or update exactly as
// CreateStack and UpdateStack do, removes the stack's other change sets (as CloudFormation
// does), and the engine marks it EXECUTE_COMPLETE or EXECUTE_FAILED when the stack settles.
#include "api/params.h"
#include "stacks/engine.h"
#include "stacks/events.h"
#include "stacks/stack_requests.h"

#include <cctype>

namespace tide::stacks {

using api::optString;

namespace {

// DescribeChangeSet's StatusReason for an empty change set; the CLI's deploy reads this text.
constexpr const char* kNoChanges = "The submitted information didn't contain changes. Submit "
                                   "different information to create a change set.";

Status changeSetNotFound(const std::string& name) {
  return Status("ChangeSetNotFound", "ChangeSet [" + name + "] does not exist");
}

Status validateChangeSetName(const std::string& name) {
  bool ok =
      !name.empty() && name.size() <= 128 && std::isalpha(static_cast<unsigned char>(name[0]));
  for (char c : name) {
    ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '-');
  }
  if (!ok) {
    return validationError("1 validation error detected: Value '" + name +
                           "' at 'changeSetName' failed to satisfy constraint: Member must "
                           "satisfy regular expression pattern: [a-zA-Z][-a-zA-Z0-9]* (at most "
                           "128)");
  }
  return Status::ok();
}

// A change set named by ARN (StackName optional) or by name within StackName, and its stack.
struct FoundChangeSet {
  model::Stack stack;
  size_t index = 0; // in stack.changeSets
};

Result<FoundChangeSet> findChangeSet(store::Tx& tx, const std::string& changeSet,
                                     const std::optional<std::string>& stackName) {
  bool byArn = changeSet.rfind("arn:", 0) == 0;
  if (!byArn && !stackName) {
    return validationError(
        "StackName must be specified if ChangeSetName is not specified as an ARN.");
  }
  std::vector<model::Stack> candidates;
  if (stackName) {
    auto s = findStack(tx, *stackName);
    if (!s) {
      return s.status().code() == "ValidationError" ? changeSetNotFound(changeSet) : s.status();
    }
    candidates.push_back(std::move(*s));
  } else {
    TIDE_ASSIGN_OR_RETURN(auto all, tx.stacks());
    candidates = std::move(all);
  }
  for (auto& s : candidates) {
    for (size_t i = 0; i < s.changeSets.size(); ++i) {
      const auto& cs = s.changeSets[i];
      if (byArn ? cs.changeSetId == changeSet : cs.changeSetName == changeSet) {
        return FoundChangeSet{std::move(s), i};
      }
    }
  }
  return changeSetNotFound(changeSet);
}

// The changes of an update: Add, Modify (Replacement False in place, True replaced) and Remove,
// from the resources as planStackUpdate marked them.
std::vector<model::StackResourceChange>
updateChanges(const model::Stack& stack, const Template& next,
              const std::vector<model::StackResource>& plan) {
  auto find = [](const std::vector<model::StackResource>& list, const std::string& id) {
    const model::StackResource* found = nullptr;
    for (const auto& r : list) {
      if (r.logicalResourceId == id) {
        found = &r;
      }
    }
    return found;
  };
  std::vector<model::StackResourceChange> out;
  for (const auto& r : next.resources) {
    const model::StackResource* now = find(stack.resources, r.logicalId);
    const model::StackResource* planned = find(plan, r.logicalId);
    if (!now || now->physicalResourceId.empty()) {
      out.push_back({"Add", r.logicalId, "", r.type, ""});
    } else if (planned && planned->resourceStatus == "UPDATE_IN_PROGRESS") {
      out.push_back({"Modify", r.logicalId, now->physicalResourceId, r.type, "False"});
    } else if (planned && planned->resourceStatus == "DELETE_IN_PROGRESS") {
      out.push_back({"Modify", r.logicalId, now->physicalResourceId, r.type, "True"});
    }
  }
  for (const auto& r : stack.resources) {
    if (!next.resource(r.logicalResourceId) && !r.physicalResourceId.empty()) {
      out.push_back({"Remove", r.logicalResourceId, r.physicalResourceId, r.resourceType, ""});
    }
  }
  return out;
}

Json parametersJson(const std::vector<model::StackParameter>& parameters) {
  Json out = Json::array();
  for (const auto& p : parameters) {
    out.push_back({{"ParameterKey", p.key}, {"ParameterValue", p.value}});
  }
  return out;
}

Json summaryJson(const model::Stack& s, const model::StackChangeSet& cs) {
  Json j = {{"StackId", s.stackId},
            {"StackName", s.stackName},
            {"ChangeSetId", cs.changeSetId},
            {"ChangeSetName", cs.changeSetName},
            {"ExecutionStatus", cs.executionStatus},
            {"Status", cs.status},
            {"CreationTime", formatIso8601(cs.creationTime)},
            {"IncludeNestedStacks", false}};
  if (!cs.statusReason.empty()) {
    j["StatusReason"] = cs.statusReason;
  }
  if (!cs.description.empty()) {
    j["Description"] = cs.description;
  }
  return j;
}

// Writes a stack changed by a change set action, with its events.
Status putChanged(ActionContext& ctx, store::Tx& tx, const model::Stack& before,
                  model::Stack& after) {
  return putStackWithEvents(tx, &before, after, ctx.clock.now());
}

} // namespace

Result<Json> createChangeSet(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(checkStackParams(
      p, {"StackName", "ChangeSetName", "ChangeSetType", "TemplateBody", "TemplateURL",
          "UsePreviousTemplate", "Parameters", "Description", "TemplateBasePath", "ClientToken",
          "IncludeNestedStacks", "ResourcesToImport"}));
  auto name = requiredString(p, "StackName");
  auto csName = requiredString(p, "ChangeSetName");
  auto type = optString(p, "ChangeSetType");
  auto description = optString(p, "Description");
  TIDE_RETURN_IF_ERROR(
      firstError({&name.status(), &csName.status(), &type.status(), &description.status()}));
  TIDE_RETURN_IF_ERROR(validateChangeSetName(*csName));
  std::string csType = type->value_or("UPDATE");
  if (csType == "IMPORT" || p.contains("ResourcesToImport")) {
    return validationError("tide does not import resources (ChangeSetType IMPORT)");
  }
  if (csType != "CREATE" && csType != "UPDATE") {
    return validationError("1 validation error detected: Value '" + csType +
                           "' at 'changeSetType' failed to satisfy constraint: Member must "
                           "satisfy enum value set: [CREATE, UPDATE, IMPORT]");
  }
  model::StackChangeSet cs;
  cs.changeSetName = *csName;
  cs.changeSetType = csType;
  cs.description = description->value_or("");
  cs.creationTime = ctx.clock.now();
  cs.status = "CREATE_COMPLETE";
  cs.executionStatus = "AVAILABLE";

  // Read the stack, compute the change set, and write it if nothing moved in between: the
  // control thread runs actions one at a time, so one transaction does it all.
  Json out;
  TIDE_RETURN_IF_ERROR(ctx.store.transact([&](store::Tx& tx) -> Status {
    TIDE_ASSIGN_OR_RETURN(auto existing, tx.stack(*name));
    model::Stack s;
    if (csType == "CREATE") {
      TIDE_RETURN_IF_ERROR(validateStackName(*name));
      if (existing.has_value() && existing->stackStatus != "REVIEW_IN_PROGRESS") {
        return Status("AlreadyExistsException", "Stack [" + *name +
                                                    "] already exists and cannot be created "
                                                    "again with the changeSet [" +
                                                    *csName + "].");
      }
      if (p.contains("UsePreviousTemplate")) {
        return validationError("UsePreviousTemplate cannot be used with ChangeSetType CREATE");
      }
      TIDE_ASSIGN_OR_RETURN(auto t, requestTemplate(p));
      TIDE_ASSIGN_OR_RETURN(auto given, stackParameters(p, {}));
      TIDE_ASSIGN_OR_RETURN(auto values, resolveParameters(t.parsed, given));
      cs.templateBody = t.parsed.document.dump();
      cs.submittedTemplateBody = t.body;
      cs.parameters = values;
      for (const auto& r : t.parsed.resources) {
        cs.changes.push_back({"Add", r.logicalId, "", r.type, ""});
      }
      if (existing.has_value()) {
        s = *existing;
      } else {
        s.stackName = *name;
        s.stackId = newStackId(ctx, *name);
        s.stackStatus = "REVIEW_IN_PROGRESS";
        s.stackStatusReason = "User Initiated";
        s.creationTime = ctx.clock.now();
      }
    } else {
      if (!existing.has_value()) {
        return validationError("Stack [" + *name + "] does not exist");
      }
      s = *existing;
      if (!updatable(s.stackStatus)) {
        return validationError("Stack:" + s.stackId + " is in " + s.stackStatus +
                               " state and can not be updated.");
      }
      TIDE_ASSIGN_OR_RETURN(auto update, requestedUpdate(p, s));
      TIDE_ASSIGN_OR_RETURN(auto old, parseTemplate(s.templateBody));
      cs.templateBody = update.next.document.dump();
      cs.submittedTemplateBody = update.submittedBody;
      cs.parameters = update.parameters;
      if (old.document == update.next.document && s.parameters == update.parameters) {
        cs.status = "FAILED";
        cs.statusReason = kNoChanges;
        cs.executionStatus = "UNAVAILABLE";
      } else {
        TIDE_ASSIGN_OR_RETURN(auto plan, planStackUpdate(s, old, update.next, update.parameters));
        cs.changes = updateChanges(s, update.next, plan);
      }
    }
    for (const auto& other : s.changeSets) {
      if (other.changeSetName == cs.changeSetName) {
        return Status("AlreadyExistsException",
                      "ChangeSet [" + cs.changeSetName + "] already exists");
      }
    }
    cs.changeSetId = "arn:aws:cloudformation:" + ctx.region + ":" + ctx.accountId + ":changeSet/" +
                     cs.changeSetName + "/" + newUuid();
    model::Stack after = s;
    after.changeSets.push_back(cs);
    out = {{"Id", cs.changeSetId}, {"StackId", s.stackId}};
    return putStackWithEvents(tx, existing ? &s : nullptr, after, ctx.clock.now());
  }));
  return out;
}

Result<Json> describeChangeSet(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(api::checkKnownParams(
      p, {"ChangeSetName", "StackName", "NextToken", "IncludePropertyValues"}));
  auto csName = requiredString(p, "ChangeSetName");
  auto stackName = optString(p, "StackName");
  auto token = optString(p, "NextToken");
  TIDE_RETURN_IF_ERROR(firstError({&csName.status(), &stackName.status(), &token.status()}));
  if (*token) { // every change fits in one page
    return validationError("Invalid NextToken: " + **token);
  }
  FoundChangeSet found;
  TIDE_RETURN_IF_ERROR(ctx.store.transact(
      [&](store::Tx& tx) -> Status {
        TIDE_ASSIGN_OR_RETURN(found, findChangeSet(tx, *csName, *stackName));
        return Status::ok();
      },
      false));
  const model::Stack& s = found.stack;
  const model::StackChangeSet& cs = s.changeSets[found.index];
  Json changes = Json::array();
  for (const auto& c : cs.changes) {
    Json rc = {{"Action", c.action},
               {"LogicalResourceId", c.logicalResourceId},
               {"ResourceType", c.resourceType},
               {"Scope", Json::array()},
               {"Details", Json::array()}};
    if (!c.physicalResourceId.empty()) {
      rc["PhysicalResourceId"] = c.physicalResourceId;
    }
    if (!c.replacement.empty()) {
      rc["Replacement"] = c.replacement;
    }
    changes.push_back({{"Type", "Resource"}, {"ResourceChange", rc}});
  }
  Json out = summaryJson(s, cs);
  out.erase("IncludeNestedStacks");
  out["Parameters"] = parametersJson(cs.parameters);
  out["NotificationARNs"] = Json::array();
  out["Capabilities"] = Json::array();
  out["Tags"] = Json::array();
  out["Changes"] = changes;
  out["IncludeNestedStacks"] = false;
  return out;
}

Result<Json> executeChangeSet(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(api::checkKnownParams(p, {"ChangeSetName", "StackName", "ClientRequestToken",
                                                 "DisableRollback", "RetainExceptOnCreate"}));
  auto csName = requiredString(p, "ChangeSetName");
  auto stackName = optString(p, "StackName");
  auto disable = api::optBool(p, "DisableRollback");
  TIDE_RETURN_IF_ERROR(firstError({&csName.status(), &stackName.status(), &disable.status()}));
  if (disable->value_or(false)) {
    return validationError("tide always rolls a failed stack operation back (DisableRollback "
                           "false)");
  }
  TIDE_RETURN_IF_ERROR(ctx.store.transact([&](store::Tx& tx) -> Status {
    TIDE_ASSIGN_OR_RETURN(auto found, findChangeSet(tx, *csName, *stackName));
    const model::Stack& before = found.stack;
    model::StackChangeSet cs = before.changeSets[found.index];
    if (cs.status != "CREATE_COMPLETE" || cs.executionStatus != "AVAILABLE") {
      return Status("InvalidChangeSetStatus",
                    "ChangeSet [" + cs.changeSetId + "] cannot be executed in its current " +
                        (cs.status != "CREATE_COMPLETE"
                             ? "status of [" + cs.status + "]"
                             : "execution status of [" + cs.executionStatus + "]"));
    }
    model::Stack s = before;
    if (cs.changeSetType == "CREATE") {
      if (s.stackStatus != "REVIEW_IN_PROGRESS") {
        return Status("InvalidChangeSetStatus", "ChangeSet [" + cs.changeSetId +
                                                    "] cannot be executed: stack " + s.stackName +
                                                    " is in " + s.stackStatus);
      }
      s.stackStatus = "CREATE_IN_PROGRESS";
      s.creationTime = ctx.clock.now();
    } else {
      if (!updatable(s.stackStatus)) {
        return validationError("Stack:" + s.stackId + " is in " + s.stackStatus +
                               " state and can not be updated.");
      }
      TIDE_ASSIGN_OR_RETURN(auto old, parseTemplate(s.templateBody));
      TIDE_ASSIGN_OR_RETURN(auto next, parseTemplate(cs.templateBody));
      TIDE_ASSIGN_OR_RETURN(auto plan, planStackUpdate(s, old, next, cs.parameters));
      s.previousTemplateBody = s.templateBody;
      s.previousSubmittedTemplateBody = s.submittedTemplateBody;
      s.previousParameters = s.parameters;
      s.resources = std::move(plan);
      s.stackStatus = "UPDATE_IN_PROGRESS";
      s.lastUpdatedTime = ctx.clock.now();
    }
    s.templateBody = cs.templateBody;
    s.submittedTemplateBody = cs.submittedTemplateBody;
    s.parameters = cs.parameters;
    s.stackStatusReason = "User Initiated";
    cs.executionStatus = "EXECUTE_IN_PROGRESS";
    s.changeSets = {cs}; // executing one removes the others
    s.executingChangeSet = cs.changeSetId;
    return putChanged(ctx, tx, before, s);
  }));
  return Json::object();
}

Result<Json> deleteChangeSet(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(api::checkKnownParams(p, {"ChangeSetName", "StackName"}));
  auto csName = requiredString(p, "ChangeSetName");
  auto stackName = optString(p, "StackName");
  TIDE_RETURN_IF_ERROR(firstError({&csName.status(), &stackName.status()}));
  TIDE_RETURN_IF_ERROR(ctx.store.transact([&](store::Tx& tx) -> Status {
    TIDE_ASSIGN_OR_RETURN(auto found, findChangeSet(tx, *csName, *stackName));
    const model::Stack& before = found.stack;
    const model::StackChangeSet& cs = before.changeSets[found.index];
    if (cs.executionStatus == "EXECUTE_IN_PROGRESS") {
      return Status("InvalidChangeSetStatus",
                    "ChangeSet [" + cs.changeSetId +
                        "] cannot be deleted in its current execution status of "
                        "[EXECUTE_IN_PROGRESS]");
    }
    model::Stack s = before;
    s.changeSets.erase(s.changeSets.begin() + static_cast<std::ptrdiff_t>(found.index));
    return putChanged(ctx, tx, before, s);
  }));
  return Json::object();
}

Result<Json> listChangeSets(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(api::checkKnownParams(p, {"StackName", "NextToken"}));
  auto name = requiredString(p, "StackName");
  auto token = optString(p, "NextToken");
  TIDE_RETURN_IF_ERROR(firstError({&name.status(), &token.status()}));
  if (*token) { // every change set fits in one page
    return validationError("Invalid NextToken: " + **token);
  }
  Json out = Json::array();
  TIDE_RETURN_IF_ERROR(ctx.store.transact(
      [&](store::Tx& tx) -> Status {
        TIDE_ASSIGN_OR_RETURN(auto s, findStack(tx, *name));
        for (const auto& cs : s.changeSets) {
          out.push_back(summaryJson(s, cs));
        }
        return Status::ok();
      },
      false));
  return Json{{"Summaries", out}};
}

} // namespace tide::stacks
