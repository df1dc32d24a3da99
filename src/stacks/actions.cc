// CloudFormation's stack actions: CreateStack, UpdateStack, DeleteStack, DescribeStacks,
// DescribeStackResources, ValidateTemplate, and the table of every stack action (the queries
// are in stack_queries.cc, the change sets in change_sets.cc). The actions validate and record
// the desired state; the stack engine (engine.h) makes it so on the reconcile loop.
//
// tide's addition: TemplateBasePath (CreateStack, UpdateStack, ValidateTemplate), the absolute
// directory relative paths in the template (Tide::EC2::Image SourceDirectory) resolve against;
// `tide up` sends the stack file's directory. It is kept in the stored template as
// Metadata."Tide::TemplateBasePath".
#include "stacks/actions.h"

#include "api/params.h"
#include "model/public_parameters.h"
#include "stacks/engine.h"
#include "stacks/events.h"
#include "stacks/stack_requests.h"

#include <filesystem>

namespace tide::stacks {

using api::checkKnownParams;
using api::optBool;
using api::optString;

Status validateStackName(const std::string& name) {
  bool ok =
      !name.empty() && name.size() <= 128 && std::isalpha(static_cast<unsigned char>(name[0]));
  for (char c : name) {
    ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '-');
  }
  if (!ok) {
    return validationError("1 validation error detected: Value '" + name +
                           "' at 'stackName' failed to satisfy constraint: Member must satisfy "
                           "regular expression pattern: [a-zA-Z][-a-zA-Z0-9]* (at most 128)");
  }
  return Status::ok();
}

Result<std::string> requiredString(const Json& p, const char* name) {
  TIDE_ASSIGN_OR_RETURN(auto v, optString(p, name));
  if (!v.has_value() || v->empty()) {
    std::string member = name;
    member[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(member[0])));
    return validationError("1 validation error detected: Value null at '" + member +
                           "' failed to satisfy constraint: Member must not be null");
  }
  return std::move(*v);
}

Status stackNotFound(const std::string& nameOrId) {
  return validationError("Stack with id " + nameOrId + " does not exist");
}

// Parameters [{ParameterKey, ParameterValue | UsePreviousValue}].
Result<std::vector<model::StackParameter>>
stackParameters(const Json& p, const std::vector<model::StackParameter>& previous) {
  std::vector<model::StackParameter> out;
  if (!p.contains("Parameters")) {
    return out;
  }
  if (!p["Parameters"].is_array()) {
    return validationError("Parameters must be a list of {ParameterKey, ParameterValue}");
  }
  for (const Json& e : p["Parameters"]) {
    TIDE_RETURN_IF_ERROR(checkKnownParams(
        e, {"ParameterKey", "ParameterValue", "UsePreviousValue", "ResolvedValue"}));
    TIDE_ASSIGN_OR_RETURN(auto key, requiredString(e, "ParameterKey"));
    TIDE_ASSIGN_OR_RETURN(auto usePrevious, optBool(e, "UsePreviousValue"));
    if (usePrevious.value_or(false)) {
      for (const auto& prev : previous) {
        if (prev.key == key) {
          out.push_back(prev);
        }
      }
      continue;
    }
    const Json& v = e.contains("ParameterValue") ? e["ParameterValue"] : Json(nullptr);
    if (!v.is_string() && !v.is_number()) {
      return validationError("Parameter " + key + " needs a ParameterValue");
    }
    out.push_back({key, v.is_string() ? v.get<std::string>() : v.dump()});
  }
  return out;
}

Result<SubmittedTemplate> requestTemplate(const Json& p) {
  if (p.contains("TemplateURL")) {
    return validationError("TemplateURL is not supported: tide cannot fetch templates from S3; "
                           "send the template itself in TemplateBody");
  }
  auto body = requiredString(p, "TemplateBody");
  auto base = optString(p, "TemplateBasePath");
  TIDE_RETURN_IF_ERROR(firstError({&body.status(), &base.status()}));
  auto t = parseTemplate(*body);
  TIDE_RETURN_IF_ERROR(t.status());
  if (*base) {
    if (!std::filesystem::path(**base).is_absolute()) {
      return validationError("TemplateBasePath '" + **base + "' must be an absolute path");
    }
    t->document["Metadata"]["Tide::TemplateBasePath"] = **base;
  }
  return SubmittedTemplate{std::move(*t), *body};
}

std::string newStackId(const ActionContext& ctx, const std::string& name) {
  return "arn:aws:cloudformation:" + ctx.region + ":" + ctx.accountId + ":stack/" + name + "/" +
         newUuid();
}

Result<model::Stack> findStack(store::Tx& tx, const std::string& nameOrId, bool deleted) {
  if (nameOrId.rfind("arn:", 0) != 0) {
    TIDE_ASSIGN_OR_RETURN(auto s, tx.stack(nameOrId));
    if (!s.has_value()) {
      return stackNotFound(nameOrId);
    }
    return std::move(*s);
  }
  // arn:...:stack/NAME/UUID: the live stack of that name if it is this one, else a deleted one.
  size_t a = nameOrId.find(":stack/");
  size_t b = nameOrId.rfind('/');
  if (a != std::string::npos && b > a + 7) {
    TIDE_ASSIGN_OR_RETURN(auto s, tx.stack(nameOrId.substr(a + 7, b - a - 7)));
    if (s.has_value() && s->stackId == nameOrId) {
      return std::move(*s);
    }
  }
  if (deleted) {
    TIDE_ASSIGN_OR_RETURN(auto gone, tx.deletedStacks());
    for (auto& d : gone) {
      if (d.stackId == nameOrId) {
        return std::move(d);
      }
    }
  }
  return stackNotFound(nameOrId);
}

bool updatable(const std::string& status) {
  return status == "CREATE_COMPLETE" || status == "UPDATE_COMPLETE" ||
         status == "UPDATE_ROLLBACK_COMPLETE" || status == "UPDATE_FAILED";
}

Result<StackUpdate> requestedUpdate(const Json& p, const model::Stack& s) {
  Json request = p;
  TIDE_ASSIGN_OR_RETURN(auto usePrevious, optBool(p, "UsePreviousTemplate"));
  if (usePrevious.value_or(false)) {
    if (request.contains("TemplateBody") || request.contains("TemplateURL")) {
      return validationError("Give TemplateBody or UsePreviousTemplate, not both");
    }
    request["TemplateBody"] =
        s.submittedTemplateBody.empty() ? s.templateBody : s.submittedTemplateBody;
  }
  request.erase("UsePreviousTemplate");
  TIDE_ASSIGN_OR_RETURN(auto submitted, requestTemplate(request));
  Template& next = submitted.parsed;
  if (!request.contains("TemplateBasePath")) {
    // Keep the base path the stack was made with.
    Json prev = Json::parse(s.templateBody, nullptr, false);
    if (prev.is_object() && prev.contains("Metadata") && prev["Metadata"].is_object() &&
        prev["Metadata"].contains("Tide::TemplateBasePath") &&
        !(next.document.contains("Metadata") &&
          next.document["Metadata"].contains("Tide::TemplateBasePath"))) {
      next.document["Metadata"]["Tide::TemplateBasePath"] =
          prev["Metadata"]["Tide::TemplateBasePath"];
    }
  }
  TIDE_ASSIGN_OR_RETURN(auto given, stackParameters(request, s.parameters));
  TIDE_ASSIGN_OR_RETURN(auto values, resolveParameters(next, given));
  return StackUpdate{std::move(next), std::move(submitted.body), std::move(values)};
}

Json stackJson(const model::Stack& s) {
  Json params = Json::array();
  for (const auto& p : s.parameters) {
    Json j = {{"ParameterKey", p.key}, {"ParameterValue", p.value}};
    // A value naming a Systems Manager parameter (AWS::SSM::Parameter::Value<...> types) shows
    // what it resolved to, as CloudFormation's ResolvedValue.
    if (const model::PublicParameter* ssm = model::findPublicParameter(p.value)) {
      j["ResolvedValue"] = std::string(ssm->value);
    }
    params.push_back(j);
  }
  Json outputs = Json::array();
  for (const auto& o : s.outputs) {
    Json j = {{"OutputKey", o.outputKey}, {"OutputValue", o.outputValue}};
    if (!o.description.empty()) {
      j["Description"] = o.description;
    }
    outputs.push_back(j);
  }
  Json j = {{"StackName", s.stackName},     {"StackId", s.stackId},
            {"StackStatus", s.stackStatus}, {"CreationTime", formatIso8601(s.creationTime)},
            {"Parameters", params},         {"Outputs", outputs}};
  if (!s.stackStatusReason.empty()) {
    j["StackStatusReason"] = s.stackStatusReason;
  }
  if (s.lastUpdatedTime != 0) {
    j["LastUpdatedTime"] = formatIso8601(s.lastUpdatedTime);
  }
  if (s.deletionTime != 0) {
    j["DeletionTime"] = formatIso8601(s.deletionTime);
  }
  if (!s.executingChangeSet.empty()) {
    j["ChangeSetId"] = s.executingChangeSet;
  }
  j["DisableRollback"] = false;
  return j;
}

Status checkStackParams(const Json& p, std::initializer_list<std::string_view> own) {
  static const std::initializer_list<std::string_view> kIgnored = {
      "Capabilities", "Tags", "NotificationARNs", "ClientRequestToken", "RoleARN"};
  if (!p.is_object()) {
    return validationError("The request body must be a JSON object of parameters");
  }
  std::vector<std::string_view> all(own);
  all.insert(all.end(), kIgnored.begin(), kIgnored.end());
  for (auto it = p.begin(); it != p.end(); ++it) {
    if (std::find(all.begin(), all.end(), it.key()) == all.end()) {
      std::string list;
      for (std::string_view k : own) {
        list += (list.empty() ? "" : ", ") + std::string(k);
      }
      return Status("UnknownParameter",
                    "Unknown parameter '" + it.key() + "'; this action takes: " + list);
    }
  }
  return Status::ok();
}

namespace {

// DisableRollback true (or OnFailure other than ROLLBACK): tide always rolls back.
Status checkRollback(const Json& p) {
  TIDE_ASSIGN_OR_RETURN(auto disable, optBool(p, "DisableRollback"));
  TIDE_ASSIGN_OR_RETURN(auto onFailure, optString(p, "OnFailure"));
  if (disable.value_or(false) || onFailure.value_or("ROLLBACK") != "ROLLBACK") {
    return validationError("tide always rolls a failed stack operation back (DisableRollback "
                           "false, OnFailure ROLLBACK)");
  }
  return Status::ok();
}

Result<Json> createStack(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(checkStackParams(p, {"StackName", "TemplateBody", "TemplateURL",
                                            "Parameters", "TemplateBasePath", "OnFailure",
                                            "DisableRollback", "TimeoutInMinutes"}));
  TIDE_ASSIGN_OR_RETURN(auto name, requiredString(p, "StackName"));
  TIDE_RETURN_IF_ERROR(validateStackName(name));
  TIDE_RETURN_IF_ERROR(checkRollback(p));
  TIDE_ASSIGN_OR_RETURN(auto t, requestTemplate(p));
  TIDE_ASSIGN_OR_RETURN(auto given, stackParameters(p, {}));
  TIDE_ASSIGN_OR_RETURN(auto values, resolveParameters(t.parsed, given));
  model::Stack s;
  s.stackName = name;
  s.stackId = newStackId(ctx, name);
  s.templateBody = t.parsed.document.dump();
  s.submittedTemplateBody = t.body;
  s.parameters = values;
  s.stackStatus = "CREATE_IN_PROGRESS";
  s.stackStatusReason = "User Initiated";
  s.creationTime = ctx.clock.now();
  TIDE_RETURN_IF_ERROR(ctx.store.transact([&](store::Tx& tx) -> Status {
    TIDE_ASSIGN_OR_RETURN(auto existing, tx.stack(s.stackName));
    if (existing.has_value()) {
      return Status("AlreadyExistsException", "Stack [" + s.stackName + "] already exists");
    }
    return putStackWithEvents(tx, nullptr, s, ctx.clock.now());
  }));
  return Json{{"StackId", s.stackId}};
}

Result<Json> updateStack(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(
      checkStackParams(p, {"StackName", "TemplateBody", "TemplateURL", "UsePreviousTemplate",
                           "Parameters", "TemplateBasePath", "DisableRollback"}));
  TIDE_ASSIGN_OR_RETURN(auto name, requiredString(p, "StackName"));
  TIDE_RETURN_IF_ERROR(checkRollback(p));
  model::Stack s;
  TIDE_RETURN_IF_ERROR(ctx.store.transact(
      [&](store::Tx& tx) -> Status {
        TIDE_ASSIGN_OR_RETURN(auto found, findStack(tx, name));
        s = std::move(found);
        return Status::ok();
      },
      false));
  if (!updatable(s.stackStatus)) {
    return validationError("Stack:" + s.stackId + " is in " + s.stackStatus +
                           " state and can not be updated.");
  }
  TIDE_ASSIGN_OR_RETURN(auto update, requestedUpdate(p, s));
  auto old = parseTemplate(s.templateBody);
  if (!old) {
    return internalError("the stack's stored template does not parse: " + old.status().message());
  }
  TIDE_ASSIGN_OR_RETURN(auto plan, planStackUpdate(s, *old, update.next, update.parameters));
  model::Stack before = s;
  s.previousTemplateBody = s.templateBody;
  s.previousSubmittedTemplateBody = s.submittedTemplateBody;
  s.previousParameters = s.parameters;
  s.templateBody = update.next.document.dump();
  s.submittedTemplateBody = update.submittedBody;
  s.parameters = update.parameters;
  s.resources = plan;
  s.stackStatus = "UPDATE_IN_PROGRESS";
  s.stackStatusReason = "User Initiated";
  s.lastUpdatedTime = ctx.clock.now();
  TIDE_RETURN_IF_ERROR(ctx.store.transact([&](store::Tx& tx) -> Status {
    // Written only if nothing moved the stack since it was read.
    TIDE_ASSIGN_OR_RETURN(auto now, findStack(tx, s.stackId));
    if (now.stackStatus != before.stackStatus || now.resources != before.resources) {
      return validationError("Stack:" + s.stackId + " is in " + now.stackStatus +
                             " state and can not be updated.");
    }
    return putStackWithEvents(tx, &before, s, ctx.clock.now());
  }));
  return Json{{"StackId", s.stackId}};
}

Result<Json> deleteStack(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(checkStackParams(p, {"StackName", "RetainResources"}));
  TIDE_ASSIGN_OR_RETURN(auto name, requiredString(p, "StackName"));
  if (p.contains("RetainResources")) {
    return validationError("tide does not retain resources of a deleted stack");
  }
  TIDE_RETURN_IF_ERROR(ctx.store.transact([&](store::Tx& tx) -> Status {
    auto found = findStack(tx, name, true);
    if (!found) {
      // As CloudFormation: deleting a stack that does not exist succeeds.
      return found.status().code() == "ValidationError" ? Status::ok() : found.status();
    }
    const model::Stack& before = *found;
    if (before.stackStatus == "DELETE_IN_PROGRESS" || before.stackStatus == "DELETE_COMPLETE") {
      return Status::ok();
    }
    model::Stack s = before;
    s.stackStatus = "DELETE_IN_PROGRESS";
    s.stackStatusReason = "User Initiated";
    s.changeSets.clear();
    if (before.stackStatus != "REVIEW_IN_PROGRESS") {
      return putStackWithEvents(tx, &before, s, ctx.clock.now());
    }
    // Nothing was made yet (a CREATE change set never executed): gone at once.
    TIDE_RETURN_IF_ERROR(putStackWithEvents(tx, &before, s, ctx.clock.now()));
    model::Stack gone = s;
    gone.stackStatus = "DELETE_COMPLETE";
    gone.stackStatusReason = "";
    gone.deletionTime = ctx.clock.now();
    return putStackWithEvents(tx, &s, gone, ctx.clock.now());
  }));
  return Json::object();
}

Result<Json> describeStacks(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(checkKnownParams(p, {"StackName", "NextToken"}));
  TIDE_ASSIGN_OR_RETURN(auto name, optString(p, "StackName"));
  Json out = Json::array();
  TIDE_RETURN_IF_ERROR(ctx.store.transact(
      [&](store::Tx& tx) -> Status {
        if (name) {
          // By stack id a deleted stack is still described (DELETE_COMPLETE); by name only a
          // live one.
          TIDE_ASSIGN_OR_RETURN(auto s, findStack(tx, *name, true));
          out.push_back(stackJson(s));
          return Status::ok();
        }
        TIDE_ASSIGN_OR_RETURN(auto all, tx.stacks());
        for (const auto& s : all) {
          out.push_back(stackJson(s));
        }
        return Status::ok();
      },
      false));
  return Json{{"Stacks", out}};
}

Result<Json> describeStackResources(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(
      checkKnownParams(p, {"StackName", "LogicalResourceId", "PhysicalResourceId"}));
  auto name = optString(p, "StackName");
  auto logical = optString(p, "LogicalResourceId");
  auto physical = optString(p, "PhysicalResourceId");
  TIDE_RETURN_IF_ERROR(firstError({&name.status(), &logical.status(), &physical.status()}));
  if (!*name && !*physical) {
    return validationError("DescribeStackResources needs StackName or PhysicalResourceId");
  }
  Json out = Json::array();
  TIDE_RETURN_IF_ERROR(ctx.store.transact(
      [&](store::Tx& tx) -> Status {
        std::vector<model::Stack> stacks;
        if (*name) {
          TIDE_ASSIGN_OR_RETURN(auto s, findStack(tx, **name, true));
          stacks.push_back(std::move(s));
        } else {
          TIDE_ASSIGN_OR_RETURN(auto all, tx.stacks());
          stacks = std::move(all);
        }
        for (const auto& s : stacks) {
          for (const auto& r : s.resources) {
            if ((*logical && r.logicalResourceId != **logical) ||
                (*physical && r.physicalResourceId != **physical)) {
              continue;
            }
            Json j = {{"StackName", s.stackName},
                      {"StackId", s.stackId},
                      {"LogicalResourceId", r.logicalResourceId},
                      {"PhysicalResourceId", r.physicalResourceId},
                      {"ResourceType", r.resourceType},
                      {"ResourceStatus", r.resourceStatus},
                      {"Timestamp", formatIso8601(r.lastUpdatedTimestamp)}};
            if (!r.resourceStatusReason.empty()) {
              j["ResourceStatusReason"] = r.resourceStatusReason;
            }
            out.push_back(j);
          }
        }
        if (*physical && !*name && out.empty()) {
          return validationError("Stack for " + **physical + " does not exist");
        }
        return Status::ok();
      },
      false));
  return Json{{"StackResources", out}};
}

Result<Json> validateTemplate(ActionContext&, const Json& p) {
  TIDE_RETURN_IF_ERROR(checkKnownParams(p, {"TemplateBody", "TemplateURL", "TemplateBasePath"}));
  TIDE_ASSIGN_OR_RETURN(auto t, requestTemplate(p));
  Json params = Json::array();
  for (const auto& tp : t.parsed.parameters) {
    Json j = {{"ParameterKey", tp.name}, {"NoEcho", false}};
    if (tp.defaultValue) {
      j["DefaultValue"] = *tp.defaultValue;
    }
    if (!tp.description.empty()) {
      j["Description"] = tp.description;
    }
    params.push_back(j);
  }
  Json out = {{"Parameters", params}};
  const Json& doc = t.parsed.document;
  if (doc.contains("Description") && doc["Description"].is_string()) {
    out["Description"] = doc["Description"];
  }
  return out;
}

} // namespace

constexpr api::ActionEntry kActions[] = {
    {"CreateStack", "cloudformation", createStack},
    {"UpdateStack", "cloudformation", updateStack},
    {"DeleteStack", "cloudformation", deleteStack},
    {"DescribeStacks", "cloudformation", describeStacks},
    {"DescribeStackResources", "cloudformation", describeStackResources},
    {"ValidateTemplate", "cloudformation", validateTemplate},
    {"DescribeStackEvents", "cloudformation", describeStackEvents},
    {"DescribeStackResource", "cloudformation", describeStackResource},
    {"ListStackResources", "cloudformation", listStackResources},
    {"ListStacks", "cloudformation", listStacks},
    {"GetTemplate", "cloudformation", getTemplate},
    {"GetTemplateSummary", "cloudformation", getTemplateSummary},
    {"CreateChangeSet", "cloudformation", createChangeSet},
    {"DescribeChangeSet", "cloudformation", describeChangeSet},
    {"ExecuteChangeSet", "cloudformation", executeChangeSet},
    {"DeleteChangeSet", "cloudformation", deleteChangeSet},
    {"ListChangeSets", "cloudformation", listChangeSets},
};

std::span<const api::ActionEntry> stackActions() {
  return kActions;
}

} // namespace tide::stacks
