// CloudFormation's stack actions: CreateStack, UpdateStack, DeleteStack, DescribeStacks,
// DescribeStackResources, ValidateTemplate. The actions validate and record the desired state;
// the stack engine (engine.h) makes it so on the reconcile loop.
//
// tide's addition: TemplateBasePath (CreateStack, UpdateStack, ValidateTemplate), the absolute
// directory relative paths in the template (Tide::EC2::Image SourceDirectory) resolve against;
// `tide up` sends the stack file's directory. It is kept in the stored template as
// Metadata."Tide::TemplateBasePath".
#include "stacks/actions.h"

#include "api/params.h"
#include "common/ids.h"
#include "stacks/engine.h"

#include <filesystem>

namespace tide::stacks {

namespace {

using api::checkKnownParams;
using api::optString;
using api::reqString;

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

Status stackNotFound(const std::string& name) {
  return validationError("Stack with id " + name + " does not exist");
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
    TIDE_ASSIGN_OR_RETURN(auto key, reqString(e, "ParameterKey"));
    if (e.value("UsePreviousValue", false)) {
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

// The template of a request, with TemplateBasePath kept in its Metadata.
Result<Template> requestTemplate(const Json& p) {
  auto body = reqString(p, "TemplateBody");
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
  return t;
}

std::string newStackId(const std::string& name) {
  std::string h = randomHex(32);
  return "arn:aws:cloudformation:local:000000000000:stack/" + name + "/" + h.substr(0, 8) + "-" +
         h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) + "-" + h.substr(20);
}

Result<model::Stack> findStack(store::Tx& tx, const std::string& nameOrId) {
  std::string name = nameOrId;
  if (name.rfind("arn:", 0) == 0) { // arn:...:stack/NAME/UUID
    size_t a = name.find(":stack/");
    size_t b = name.rfind('/');
    name = a == std::string::npos ? name : name.substr(a + 7, b - a - 7);
  }
  TIDE_ASSIGN_OR_RETURN(auto s, tx.stack(name));
  if (!s.has_value()) {
    return stackNotFound(nameOrId);
  }
  return std::move(*s);
}

Json stackJson(const model::Stack& s) {
  Json params = Json::array();
  for (const auto& p : s.parameters) {
    params.push_back({{"ParameterKey", p.key}, {"ParameterValue", p.value}});
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
  return j;
}

const std::initializer_list<std::string_view> kIgnored = {
    "Capabilities", "Tags", "NotificationARNs", "ClientRequestToken", "RoleARN"};

Status checkStackParams(const Json& p, std::initializer_list<std::string_view> own) {
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

Result<Json> createStack(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(
      checkStackParams(p, {"StackName", "TemplateBody", "Parameters", "TemplateBasePath",
                           "OnFailure", "DisableRollback", "TimeoutInMinutes"}));
  TIDE_ASSIGN_OR_RETURN(auto name, reqString(p, "StackName"));
  TIDE_RETURN_IF_ERROR(validateStackName(name));
  if (p.value("OnFailure", "ROLLBACK") != "ROLLBACK" || p.value("DisableRollback", false)) {
    return validationError("tide always rolls a failed stack creation back (OnFailure ROLLBACK)");
  }
  TIDE_ASSIGN_OR_RETURN(auto t, requestTemplate(p));
  TIDE_ASSIGN_OR_RETURN(auto given, stackParameters(p, {}));
  TIDE_ASSIGN_OR_RETURN(auto values, resolveParameters(t, given));
  model::Stack s;
  s.stackName = name;
  s.stackId = newStackId(name);
  s.templateBody = t.document.dump();
  s.parameters = values;
  s.stackStatus = "CREATE_IN_PROGRESS";
  s.stackStatusReason = "User Initiated";
  s.creationTime = ctx.clock.now();
  Status st = ctx.store.transact([&](store::Tx& tx) -> Status {
    TIDE_ASSIGN_OR_RETURN(auto existing, tx.stack(s.stackName));
    if (existing.has_value()) {
      return Status("AlreadyExistsException", "Stack [" + s.stackName + "] already exists");
    }
    return tx.putStack(s);
  });
  if (!st.isOk()) {
    return st;
  }
  return Json{{"StackId", s.stackId}};
}

Result<Json> updateStack(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(checkStackParams(p, {"StackName", "TemplateBody", "UsePreviousTemplate",
                                            "Parameters", "TemplateBasePath", "DisableRollback"}));
  TIDE_ASSIGN_OR_RETURN(auto name, reqString(p, "StackName"));
  Json request = p;
  model::Stack s;
  std::string stackId;
  Status st = ctx.store.transact(
      [&](store::Tx& tx) -> Status {
        TIDE_ASSIGN_OR_RETURN(auto found, findStack(tx, name));
        s = std::move(found);
        return Status::ok();
      },
      false);
  if (!st.isOk()) {
    return st;
  }
  const std::string& status = s.stackStatus;
  if (status != "CREATE_COMPLETE" && status != "UPDATE_COMPLETE" && status != "UPDATE_FAILED" &&
      status != "UPDATE_ROLLBACK_COMPLETE") {
    return validationError("Stack:" + s.stackId + " is in " + status +
                           " state and can not be updated.");
  }
  if (request.value("UsePreviousTemplate", false)) {
    if (request.contains("TemplateBody")) {
      return validationError("Give TemplateBody or UsePreviousTemplate, not both");
    }
    request["TemplateBody"] = s.templateBody;
  }
  request.erase("UsePreviousTemplate");
  TIDE_ASSIGN_OR_RETURN(auto next, requestTemplate(request));
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
  auto old = parseTemplate(s.templateBody);
  if (!old) {
    return internalError("the stack's stored template does not parse: " + old.status().message());
  }
  TIDE_ASSIGN_OR_RETURN(auto plan, planStackUpdate(s, *old, next, values));
  s.templateBody = next.document.dump();
  s.parameters = values;
  s.resources = plan;
  s.stackStatus = "UPDATE_IN_PROGRESS";
  s.stackStatusReason = "User Initiated";
  s.lastUpdatedTime = ctx.clock.now();
  st = ctx.store.transact([&](store::Tx& tx) { return tx.putStack(s); });
  if (!st.isOk()) {
    return st;
  }
  return Json{{"StackId", s.stackId}};
}

Result<Json> deleteStack(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(checkStackParams(p, {"StackName", "RetainResources"}));
  TIDE_ASSIGN_OR_RETURN(auto name, reqString(p, "StackName"));
  if (p.contains("RetainResources")) {
    return validationError("tide does not retain resources of a deleted stack");
  }
  Status st = ctx.store.transact([&](store::Tx& tx) -> Status {
    auto s = findStack(tx, name);
    if (!s) {
      // As CloudFormation: deleting a stack that does not exist succeeds.
      return s.status().code() == "ValidationError" ? Status::ok() : s.status();
    }
    if (s->stackStatus == "DELETE_IN_PROGRESS") {
      return Status::ok();
    }
    s->stackStatus = "DELETE_IN_PROGRESS";
    s->stackStatusReason = "User Initiated";
    return tx.putStack(*s);
  });
  if (!st.isOk()) {
    return st;
  }
  return Json::object();
}

Result<Json> describeStacks(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(checkKnownParams(p, {"StackName", "NextToken"}));
  TIDE_ASSIGN_OR_RETURN(auto name, optString(p, "StackName"));
  Json out = Json::array();
  TIDE_RETURN_IF_ERROR(ctx.store.transact(
      [&](store::Tx& tx) -> Status {
        if (name) {
          TIDE_ASSIGN_OR_RETURN(auto s, findStack(tx, *name));
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
          TIDE_ASSIGN_OR_RETURN(auto s, findStack(tx, **name));
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
                      {"ResourceStatus", r.resourceStatus}};
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
  TIDE_RETURN_IF_ERROR(checkKnownParams(p, {"TemplateBody", "TemplateBasePath"}));
  TIDE_ASSIGN_OR_RETURN(auto t, requestTemplate(p));
  Json params = Json::array();
  for (const auto& tp : t.parameters) {
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
  if (t.document.contains("Description") && t.document["Description"].is_string()) {
    out["Description"] = t.document["Description"];
  }
  return out;
}

constexpr api::ActionEntry kActions[] = {
    {"CreateStack", "cloudformation", createStack},
    {"UpdateStack", "cloudformation", updateStack},
    {"DeleteStack", "cloudformation", deleteStack},
    {"DescribeStacks", "cloudformation", describeStacks},
    {"DescribeStackResources", "cloudformation", describeStackResources},
    {"ValidateTemplate", "cloudformation", validateTemplate},
};

} // namespace

std::span<const api::ActionEntry> stackActions() {
  return kActions;
}

} // namespace tide::stacks
