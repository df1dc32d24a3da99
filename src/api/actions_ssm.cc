// Systems Manager Parameter Store, read only: GetParameter, GetParameters, GetParametersByPath
// over the public parameters tide provides (model/public_parameters.h: the Amazon Linux image
// names, answered with tide's built-in base image). SSM speaks AWS JSON 1.1 (X-Amz-Target:
// AmazonSSM.GetParameter); its errors are ParameterNotFound, ParameterVersionNotFound and
// ValidationException.
#include "api/handlers.h"
#include "api/params.h"
#include "model/public_parameters.h"

#include <algorithm>

namespace tide::api {

namespace {

using model::PublicParameter;

Status ssmValidation(const std::string& message) {
  return Status("ValidationException", message);
}

Status checkSsmParams(const Json& p, std::initializer_list<std::string_view> known) {
  Status s = checkKnownParams(p, known);
  if (!s.isOk()) {
    return ssmValidation(s.message());
  }
  return Status::ok();
}

Result<std::string> ssmString(const Json& p, const char* name, bool required) {
  auto it = p.find(name);
  if (it == p.end() || it->is_null()) {
    if (required) {
      return ssmValidation(std::string("1 validation error detected: Value null at '") + name +
                           "' failed to satisfy constraint: Member must not be null");
    }
    return std::string();
  }
  if (!it->is_string()) {
    return ssmValidation(std::string(name) + " must be a string");
  }
  std::string v = *it;
  if (required && (v.empty() || v.size() > 2048)) {
    return ssmValidation(std::string("1 validation error detected: Value '") + v + "' at '" + name +
                         "' failed to satisfy constraint: Member must have length between "
                         "1 and 2048");
  }
  return v;
}

Status checkBool(const Json& p, const char* name) {
  auto it = p.find(name);
  if (it != p.end() && !it->is_null() && !it->is_boolean()) {
    return ssmValidation(std::string(name) + " must be true or false");
  }
  return Status::ok();
}

Json parameterJson(const ActionContext& ctx, const PublicParameter& param,
                   const std::string& selector) {
  Json j = {
      {"Name", std::string(param.name)},
      {"Type", "String"},
      {"Value", std::string(param.value)},
      {"Version", model::kPublicParameterVersion},
      {"LastModifiedDate", formatIso8601(model::kPublicParametersModified)},
      // Public parameters belong to no account: the ARN's account field is empty, as AWS's.
      {"ARN", "arn:aws:ssm:" + ctx.region + "::parameter" + std::string(param.name)},
      {"DataType", std::string(param.dataType)},
  };
  if (!selector.empty()) {
    j["Selector"] = ":" + selector;
  }
  return j;
}

// The parameter a reference (NAME, NAME:VERSION, an ARN) names, or the error SSM answers.
Result<std::pair<const PublicParameter*, std::string>> lookUp(const std::string& reference) {
  model::ParameterSelector sel = model::parseParameterSelector(reference);
  const PublicParameter* p = model::findPublicParameter(sel.name);
  if (p == nullptr) {
    return Status("ParameterNotFound", "Parameter " + sel.name +
                                           " not found. (tide provides the public parameters "
                                           "under /aws/service/ami-amazon-linux-latest/)");
  }
  if (!sel.selector.empty() && sel.selector != std::to_string(model::kPublicParameterVersion)) {
    return Status("ParameterVersionNotFound",
                  "Systems Manager could not find version " + sel.selector + " of " + sel.name +
                      ". Verify the version and try again. (Its only version is " +
                      std::to_string(model::kPublicParameterVersion) + ".)");
  }
  return std::make_pair(p, sel.selector);
}

} // namespace

Result<Json> getParameter(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(checkSsmParams(p, {"Name", "WithDecryption"}));
  TIDE_ASSIGN_OR_RETURN(std::string name, ssmString(p, "Name", true));
  TIDE_RETURN_IF_ERROR(checkBool(p, "WithDecryption")); // every parameter here is a String
  TIDE_ASSIGN_OR_RETURN(auto found, lookUp(name));
  return Json{{"Parameter", parameterJson(ctx, *found.first, found.second)}};
}

Result<Json> getParameters(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(checkSsmParams(p, {"Names", "WithDecryption"}));
  TIDE_RETURN_IF_ERROR(checkBool(p, "WithDecryption"));
  auto it = p.find("Names");
  if (it == p.end() || it->is_null()) {
    return ssmValidation("1 validation error detected: Value null at 'names' failed to satisfy "
                         "constraint: Member must not be null");
  }
  if (!it->is_array() || it->empty() || it->size() > 10) {
    return ssmValidation("1 validation error detected: Value at 'names' failed to satisfy "
                         "constraint: Member must be a list of 1 to 10 names");
  }
  Json found = Json::array();
  Json invalid = Json::array();
  std::vector<std::string> seen;
  for (const Json& n : *it) {
    if (!n.is_string() || n.get<std::string>().empty() || n.get<std::string>().size() > 2048) {
      return ssmValidation("Names must be strings of 1 to 2048 characters");
    }
    std::string name = n;
    if (std::find(seen.begin(), seen.end(), name) != seen.end()) {
      continue; // a name asked twice is answered once, as SSM does
    }
    seen.push_back(name);
    Result<std::pair<const PublicParameter*, std::string>> r = lookUp(name);
    if (r) {
      found.push_back(parameterJson(ctx, *r->first, r->second));
    } else {
      invalid.push_back(name);
    }
  }
  return Json{{"Parameters", found}, {"InvalidParameters", invalid}};
}

Result<Json> getParametersByPath(ActionContext& ctx, const Json& p) {
  // MaxResults and NextToken are taken by the dispatcher, which pages the result.
  TIDE_RETURN_IF_ERROR(
      checkSsmParams(p, {"Path", "Recursive", "ParameterFilters", "WithDecryption"}));
  TIDE_ASSIGN_OR_RETURN(std::string path, ssmString(p, "Path", true));
  TIDE_RETURN_IF_ERROR(checkBool(p, "Recursive"));
  TIDE_RETURN_IF_ERROR(checkBool(p, "WithDecryption"));
  if (auto f = p.find("ParameterFilters"); f != p.end() && !f->is_null()) {
    if (!f->is_array() || !f->empty()) {
      return ssmValidation("tide does not filter parameters by path yet: leave out "
                           "ParameterFilters");
    }
  }
  if (path[0] != '/') {
    return ssmValidation("The parameter path '" + path +
                         "' is not valid: a path starts with a forward slash (/)");
  }
  auto rec = p.find("Recursive");
  bool recursive = rec != p.end() && rec->is_boolean() && rec->get<bool>();
  std::string prefix = path.back() == '/' ? path : path + "/";
  Json out = Json::array();
  for (const PublicParameter& param : model::publicParameters()) {
    std::string_view name = param.name;
    if (!name.starts_with(prefix) || name.size() == prefix.size()) {
      continue;
    }
    if (!recursive && name.substr(prefix.size()).find('/') != std::string_view::npos) {
      continue; // not directly under the path
    }
    out.push_back(parameterJson(ctx, param, ""));
  }
  return Json{{"Parameters", out}};
}

} // namespace tide::api
