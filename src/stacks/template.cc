#include "stacks/template.h"

#include "common/text.h"
#include "stacks/resources.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <regex>
#include <set>

namespace tide::stacks {

namespace {

Status formatError(const std::string& message) {
  return validationError("Template format error: " + message);
}

// ------------------------------------------------------------------------------------ YAML

// The short-form tags and the functions they stand for.
std::optional<std::string> longForm(const std::string& tag) {
  static const std::map<std::string, std::string> kTags = {
      {"!Ref", "Ref"},           {"!GetAtt", "Fn::GetAtt"}, {"!Sub", "Fn::Sub"},
      {"!Join", "Fn::Join"},     {"!Select", "Fn::Select"}, {"!Split", "Fn::Split"},
      {"!Base64", "Fn::Base64"},
  };
  auto it = kTags.find(tag);
  if (it == kTags.end()) {
    return std::nullopt;
  }
  return it->second;
}

// A plain (unquoted) scalar as YAML 1.1's core schema reads it: null, bool, number or string.
Json plainScalar(const std::string& s) {
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") {
    return nullptr;
  }
  if (s == "true" || s == "True" || s == "TRUE") {
    return true;
  }
  if (s == "false" || s == "False" || s == "FALSE") {
    return false;
  }
  static const std::regex kInt("[-+]?[0-9]+");
  static const std::regex kFloat("[-+]?([0-9]+\\.?[0-9]*|\\.[0-9]+)([eE][-+]?[0-9]+)?");
  if (std::regex_match(s, kInt) && s.size() < 18) {
    return std::stoll(s);
  }
  if (std::regex_match(s, kFloat)) {
    return std::strtod(s.c_str(), nullptr);
  }
  return s;
}

std::string where(const YAML::Node& n) {
  YAML::Mark m = n.Mark();
  return "(line " + std::to_string(m.line + 1) + ", column " + std::to_string(m.column + 1) + ")";
}

Result<Json> fromYaml(const YAML::Node& n) {
  const std::string& tag = n.Tag();
  std::optional<std::string> fn;
  if (!tag.empty() && tag != "?" && tag != "!") {
    fn = longForm(tag);
    if (!fn) {
      return formatError("unknown tag " + tag + " " + where(n) +
                         "; tide knows !Ref, !GetAtt, !Sub, !Join, !Select, !Split, !Base64");
    }
  }
  Json v;
  switch (n.Type()) {
  case YAML::NodeType::Undefined:
  case YAML::NodeType::Null:
    v = fn ? Json("") : Json(nullptr);
    break;
  case YAML::NodeType::Scalar:
    // Quoted scalars (tag "!") and the arguments of short forms are strings.
    v = (tag == "?" || tag.empty()) ? plainScalar(n.Scalar()) : Json(n.Scalar());
    break;
  case YAML::NodeType::Sequence:
    v = Json::array();
    for (const YAML::Node& e : n) {
      auto j = fromYaml(e);
      if (!j) {
        return j.status();
      }
      v.push_back(std::move(*j));
    }
    break;
  case YAML::NodeType::Map:
    v = Json::object();
    for (const auto& kv : n) {
      if (!kv.first.IsScalar()) {
        return formatError("map keys must be plain text " + where(kv.first));
      }
      auto j = fromYaml(kv.second);
      if (!j) {
        return j.status();
      }
      v[kv.first.Scalar()] = std::move(*j);
    }
    break;
  }
  if (!fn) {
    return v;
  }
  if (*fn == "Fn::GetAtt" && v.is_string()) {
    std::string s = v;
    size_t dot = s.find('.');
    if (dot == std::string::npos) {
      return formatError("!GetAtt " + s + " " + where(n) + " must be Resource.Attribute");
    }
    v = Json::array({s.substr(0, dot), s.substr(dot + 1)});
  }
  return Json{{*fn, v}};
}

// ------------------------------------------------------------------------------ validation

bool isAlnumId(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c));
  });
}

const std::set<std::string> kPseudo = {"AWS::StackName", "AWS::StackId",   "AWS::Region",
                                       "AWS::AccountId", "AWS::Partition", "AWS::URLSuffix",
                                       "AWS::NoValue"};

// The ${...} names in a Fn::Sub string ("${!Literal}" is not a name).
Result<std::vector<std::string>> subNames(const std::string& s, const std::string& path) {
  std::vector<std::string> out;
  size_t i = 0;
  while ((i = s.find("${", i)) != std::string::npos) {
    size_t end = s.find('}', i);
    if (end == std::string::npos) {
      return formatError(path + ": Fn::Sub: unclosed ${ in '" + s + "'");
    }
    std::string name(trim(s.substr(i + 2, end - i - 2)));
    if (!name.empty() && name[0] != '!') {
      out.push_back(name);
    }
    i = end + 1;
  }
  return out;
}

class Checker {
public:
  explicit Checker(const Template& t) : t_(t) {}

  // Validates the intrinsic functions inside value; collects the resources it refers to.
  Status check(const Json& v, const std::string& path, std::set<std::string>& deps,
               const std::set<std::string>& locals = {}) {
    if (v.is_array()) {
      for (size_t i = 0; i < v.size(); ++i) {
        TIDE_RETURN_IF_ERROR(check(v[i], path + "[" + std::to_string(i) + "]", deps, locals));
      }
      return Status::ok();
    }
    if (!v.is_object()) {
      return Status::ok();
    }
    if (v.size() == 1 && isIntrinsic(v)) {
      const std::string& fn = v.begin().key();
      const Json& arg = v.begin().value();
      std::string at = path + ": " + fn;
      if (fn == "Ref") {
        if (!arg.is_string()) {
          return formatError(at + " takes the name of a parameter or resource");
        }
        return name(arg, at, deps, locals);
      }
      if (fn == "Fn::GetAtt") {
        if (!arg.is_array() || arg.size() != 2 || !arg[0].is_string() || !arg[1].is_string()) {
          return formatError(at + " takes [Resource, Attribute]");
        }
        return getAtt(arg[0], arg[1], at, deps);
      }
      if (fn == "Fn::Sub") {
        std::string s;
        std::set<std::string> vars = locals;
        if (arg.is_string()) {
          s = arg;
        } else if (arg.is_array() && arg.size() == 2 && arg[0].is_string() && arg[1].is_object()) {
          s = arg[0];
          for (auto it = arg[1].begin(); it != arg[1].end(); ++it) {
            TIDE_RETURN_IF_ERROR(check(it.value(), at + "." + it.key(), deps, locals));
            vars.insert(it.key());
          }
        } else {
          return formatError(at + " takes a string or [string, {Name: value}]");
        }
        auto names = subNames(s, path);
        if (!names) {
          return names.status();
        }
        for (const std::string& n : *names) {
          size_t dot = n.find('.');
          if (dot == std::string::npos || vars.count(n) || kPseudo.count(n)) {
            TIDE_RETURN_IF_ERROR(name(n, at, deps, vars));
          } else {
            TIDE_RETURN_IF_ERROR(getAtt(n.substr(0, dot), n.substr(dot + 1), at, deps));
          }
        }
        return Status::ok();
      }
      if (fn == "Fn::Join") {
        if (!arg.is_array() || arg.size() != 2 || !arg[0].is_string()) {
          return formatError(at + " takes [delimiter, [values]]");
        }
        return check(arg[1], at, deps, locals);
      }
      if (fn == "Fn::Select") {
        if (!arg.is_array() || arg.size() != 2) {
          return formatError(at + " takes [index, [values]]");
        }
        return check(arg, at, deps, locals);
      }
      if (fn == "Fn::Split") {
        if (!arg.is_array() || arg.size() != 2 || !arg[0].is_string()) {
          return formatError(at + " takes [delimiter, string]");
        }
        return check(arg[1], at, deps, locals);
      }
      if (fn == "Fn::Base64") {
        return check(arg, at, deps, locals);
      }
      return formatError(at + " is not supported by tide (supported: Ref, Fn::GetAtt, Fn::Sub, "
                              "Fn::Join, Fn::Select, Fn::Split, Fn::Base64)");
    }
    for (auto it = v.begin(); it != v.end(); ++it) {
      TIDE_RETURN_IF_ERROR(check(it.value(), path + "." + it.key(), deps, locals));
    }
    return Status::ok();
  }

private:
  Status name(const std::string& n, const std::string& at, std::set<std::string>& deps,
              const std::set<std::string>& locals) {
    if (locals.count(n) || kPseudo.count(n) || t_.parameter(n)) {
      return Status::ok();
    }
    if (t_.resource(n)) {
      deps.insert(n);
      return Status::ok();
    }
    return formatError(at + " refers to '" + n +
                       "', which is not a parameter or resource of "
                       "the template");
  }

  Status getAtt(const std::string& res, const std::string& attr, const std::string& at,
                std::set<std::string>& deps) {
    const TemplateResource* r = t_.resource(res);
    if (!r) {
      return formatError(at + " refers to unknown resource '" + res + "'");
    }
    const ResourceType* type = findResourceType(r->type);
    if (type && std::find(type->attributes.begin(), type->attributes.end(), attr) ==
                    type->attributes.end()) {
      std::string known;
      for (std::string_view a : type->attributes) {
        known += (known.empty() ? "" : ", ") + std::string(a);
      }
      return formatError(at + ": " + r->type + " has no attribute '" + attr + "'" +
                         (known.empty() ? " (it has none)" : " (it has " + known + ")"));
    }
    deps.insert(res);
    return Status::ok();
  }

  const Template& t_;
};

// Whether a literal value fits a property's kind (intrinsic functions are checked when they
// are evaluated).
Status checkKind(const Json& v, PropertyKind kind, const std::string& path) {
  if (isIntrinsic(v)) {
    return Status::ok();
  }
  switch (kind) {
  case PropertyKind::String:
    if (v.is_string() || v.is_number() || v.is_boolean()) {
      return Status::ok();
    }
    return validationError(path + ": must be a string");
  case PropertyKind::Number:
    if (v.is_number()) {
      return Status::ok();
    }
    if (v.is_string()) {
      std::string s = v;
      char* end = nullptr;
      std::strtod(s.c_str(), &end);
      if (!s.empty() && end && *end == '\0') {
        return Status::ok();
      }
    }
    return validationError(path + ": must be a number");
  case PropertyKind::Boolean:
    if (v.is_boolean() || v == "true" || v == "false") {
      return Status::ok();
    }
    return validationError(path + ": must be true or false");
  case PropertyKind::List:
    return v.is_array() ? Status::ok() : validationError(path + ": must be a list");
  case PropertyKind::Object:
    return v.is_object() ? Status::ok() : validationError(path + ": must be a map");
  }
  return Status::ok();
}

Result<std::vector<std::string>> stringList(const Json& v, const std::string& path) {
  std::vector<std::string> out;
  if (v.is_string()) {
    out.push_back(v);
    return out;
  }
  if (!v.is_array()) {
    return formatError(path + " must be a resource name or a list of them");
  }
  for (const Json& e : v) {
    if (!e.is_string()) {
      return formatError(path + " must be a resource name or a list of them");
    }
    out.push_back(e);
  }
  return out;
}

std::string scalarText(const Json& v) {
  if (v.is_string()) {
    return v;
  }
  if (v.is_number_float()) {
    double d = v;
    if (std::floor(d) == d && std::fabs(d) < 1e15) {
      return std::to_string(static_cast<int64_t>(d));
    }
  }
  return v.dump();
}

Status parseParameters(const Json& doc, Template& t) {
  if (!doc.contains("Parameters")) {
    return Status::ok();
  }
  const Json& ps = doc["Parameters"];
  if (!ps.is_object()) {
    return formatError("Parameters must be a map");
  }
  for (auto it = ps.begin(); it != ps.end(); ++it) {
    std::string at = "Parameters." + it.key();
    if (!isAlnumId(it.key())) {
      return formatError(at + ": parameter names must be alphanumeric");
    }
    const Json& p = it.value();
    if (!p.is_object()) {
      return formatError(at + " must be a map");
    }
    TemplateParameter tp;
    tp.name = it.key();
    for (auto f = p.begin(); f != p.end(); ++f) {
      const std::string& k = f.key();
      const Json& v = f.value();
      if (k == "Type") {
        if (v != "String" && v != "Number" && v != "CommaDelimitedList") {
          return formatError(at + ".Type: " + scalarText(v) +
                             " is not supported (String, Number or CommaDelimitedList)");
        }
        tp.type = v;
      } else if (k == "Default") {
        if (!(v.is_string() || v.is_number() || v.is_boolean())) {
          return formatError(at + ".Default must be a string or a number");
        }
        tp.defaultValue = scalarText(v);
      } else if (k == "AllowedValues") {
        if (!v.is_array()) {
          return formatError(at + ".AllowedValues must be a list");
        }
        for (const Json& a : v) {
          tp.allowedValues.push_back(scalarText(a));
        }
      } else if (k == "MinValue" || k == "MaxValue") {
        if (!v.is_number()) {
          return formatError(at + "." + k + " must be a number");
        }
        (k == "MinValue" ? tp.minValue : tp.maxValue) = v.get<double>();
      } else if (k == "MinLength" || k == "MaxLength") {
        if (!v.is_number_integer()) {
          return formatError(at + "." + k + " must be an integer");
        }
        (k == "MinLength" ? tp.minLength : tp.maxLength) = v.get<int>();
      } else if (k == "Description") {
        tp.description = scalarText(v);
      } else if (k != "NoEcho" && k != "ConstraintDescription" && k != "AllowedPattern") {
        return formatError(at + ": unknown attribute '" + k + "'");
      }
    }
    t.parameters.push_back(std::move(tp));
  }
  return Status::ok();
}

Status parseResources(const Json& doc, Template& t) {
  if (!doc.contains("Resources") || !doc["Resources"].is_object() || doc["Resources"].empty()) {
    return formatError("At least one Resources member must be defined.");
  }
  const Json& rs = doc["Resources"];
  for (auto it = rs.begin(); it != rs.end(); ++it) {
    std::string at = "Resources." + it.key();
    if (!isAlnumId(it.key())) {
      return formatError(at + ": logical ids must be alphanumeric");
    }
    if (t.parameter(it.key())) {
      return formatError(at + ": the name is also a parameter's");
    }
    const Json& r = it.value();
    if (!r.is_object()) {
      return formatError(at + " must be a map");
    }
    TemplateResource tr;
    tr.logicalId = it.key();
    for (auto f = r.begin(); f != r.end(); ++f) {
      const std::string& k = f.key();
      const Json& v = f.value();
      if (k == "Type") {
        if (!v.is_string()) {
          return formatError(at + ".Type must be a string");
        }
        tr.type = v;
      } else if (k == "Properties") {
        if (!v.is_object() && !v.is_null()) {
          return formatError(at + ".Properties must be a map");
        }
        tr.properties = v.is_null() ? Json::object() : v;
      } else if (k == "DependsOn") {
        auto list = stringList(v, at + ".DependsOn");
        if (!list) {
          return list.status();
        }
        tr.dependsOn = *list;
      } else if (k == "DeletionPolicy" || k == "UpdateReplacePolicy") {
        if (v != "Delete") {
          return formatError(at + "." + k + ": tide supports only Delete");
        }
      } else if (k != "Metadata") {
        return formatError(at + ": unknown attribute '" + k +
                           "' (tide supports Type, Properties, DependsOn, Metadata, "
                           "DeletionPolicy)");
      }
    }
    if (tr.type.empty()) {
      return formatError(at + ": Type is required");
    }
    t.resources.push_back(std::move(tr));
  }
  return Status::ok();
}

Status checkResources(Template& t) {
  Checker checker(t);
  for (TemplateResource& r : t.resources) {
    std::string at = "Resources." + r.logicalId;
    const ResourceType* type = findResourceType(r.type);
    if (!type) {
      std::string known;
      for (const ResourceType& rt : resourceTypes()) {
        known += (known.empty() ? "" : ", ") + std::string(rt.name);
      }
      return validationError("Template format error: " + at + ".Type: unrecognized resource type " +
                             r.type + " (tide supports " + known + ")");
    }
    for (auto it = r.properties.begin(); it != r.properties.end(); ++it) {
      std::string pat = at + ".Properties." + it.key();
      const PropertySpec* spec = findProperty(*type, it.key());
      if (!spec) {
        std::string known;
        for (const PropertySpec& p : type->properties) {
          known += (known.empty() ? "" : ", ") + std::string(p.name);
        }
        return validationError(pat + ": unknown property of " + r.type + " (it takes " + known +
                               ")");
      }
      TIDE_RETURN_IF_ERROR(checkKind(it.value(), spec->kind, pat));
    }
    for (const PropertySpec& p : type->properties) {
      if (p.required && !r.properties.contains(p.name)) {
        return validationError(at + ".Properties: " + std::string(p.name) + " is required for " +
                               r.type);
      }
    }
    std::set<std::string> deps;
    TIDE_RETURN_IF_ERROR(checker.check(r.properties, at + ".Properties", deps));
    for (const std::string& d : r.dependsOn) {
      if (!t.resource(d)) {
        return formatError(at + ".DependsOn: unknown resource '" + d + "'");
      }
      deps.insert(d);
    }
    if (deps.count(r.logicalId)) {
      return validationError("Circular dependency between resources: [" + r.logicalId + "]");
    }
    r.dependencies.assign(deps.begin(), deps.end());
  }
  return Status::ok();
}

// Orders resources after their dependencies (template order where free); finds cycles.
Status order(Template& t) {
  std::map<std::string, int> state; // 0 new, 1 on the path, 2 done
  std::vector<std::string> path;
  std::function<Status(const TemplateResource&)> visit = [&](const TemplateResource& r) {
    int& s = state[r.logicalId];
    if (s == 2) {
      return Status::ok();
    }
    if (s == 1) {
      auto from = std::find(path.begin(), path.end(), r.logicalId);
      std::vector<std::string> cycle(from, path.end());
      std::sort(cycle.begin(), cycle.end());
      std::string list;
      for (const auto& c : cycle) {
        list += (list.empty() ? "" : ", ") + c;
      }
      return validationError("Circular dependency between resources: [" + list + "]");
    }
    s = 1;
    path.push_back(r.logicalId);
    for (const std::string& d : r.dependencies) {
      TIDE_RETURN_IF_ERROR(visit(*t.resource(d)));
    }
    path.pop_back();
    state[r.logicalId] = 2;
    t.creationOrder.push_back(r.logicalId);
    return Status::ok();
  };
  for (const TemplateResource& r : t.resources) {
    TIDE_RETURN_IF_ERROR(visit(r));
  }
  return Status::ok();
}

Status parseOutputs(const Json& doc, Template& t) {
  if (!doc.contains("Outputs")) {
    return Status::ok();
  }
  const Json& os = doc["Outputs"];
  if (!os.is_object()) {
    return formatError("Outputs must be a map");
  }
  Checker checker(t);
  for (auto it = os.begin(); it != os.end(); ++it) {
    std::string at = "Outputs." + it.key();
    if (!isAlnumId(it.key())) {
      return formatError(at + ": output names must be alphanumeric");
    }
    const Json& o = it.value();
    if (!o.is_object() || !o.contains("Value")) {
      return formatError(at + ": every output needs a Value");
    }
    TemplateOutput out;
    out.key = it.key();
    out.value = o["Value"];
    for (auto f = o.begin(); f != o.end(); ++f) {
      if (f.key() == "Description") {
        out.description = scalarText(f.value());
      } else if (f.key() != "Value" && f.key() != "Export") {
        return formatError(at + ": unknown attribute '" + f.key() + "'");
      }
    }
    std::set<std::string> deps;
    TIDE_RETURN_IF_ERROR(checker.check(out.value, at + ".Value", deps));
    t.outputs.push_back(std::move(out));
  }
  return Status::ok();
}

} // namespace

const TemplateResource* Template::resource(const std::string& logicalId) const {
  for (const auto& r : resources) {
    if (r.logicalId == logicalId) {
      return &r;
    }
  }
  return nullptr;
}

const TemplateParameter* Template::parameter(const std::string& name) const {
  for (const auto& p : parameters) {
    if (p.name == name) {
      return &p;
    }
  }
  return nullptr;
}

bool isIntrinsic(const Json& v) {
  if (!v.is_object() || v.size() != 1) {
    return false;
  }
  const std::string& k = v.begin().key();
  return k == "Ref" || k.rfind("Fn::", 0) == 0;
}

Result<Json> parseTemplateDocument(std::string_view body) {
  std::string_view t = trim(body);
  if (t.empty()) {
    return formatError("the template is empty");
  }
  if (t.front() == '{') {
    Json doc = Json::parse(t, nullptr, false);
    if (doc.is_discarded()) {
      return formatError("JSON not well-formed.");
    }
    return doc;
  }
  YAML::Node root;
  try {
    root = YAML::Load(std::string(body));
  } catch (const YAML::Exception& e) {
    return formatError("YAML not well-formed. (line " + std::to_string(e.mark.line + 1) +
                       ", column " + std::to_string(e.mark.column + 1) + "): " + e.msg);
  }
  if (!root.IsMap()) {
    return formatError("the template must be a map of sections (Parameters, Resources, ...)");
  }
  try {
    return fromYaml(root);
  } catch (const YAML::Exception& e) {
    return formatError(std::string("YAML not well-formed: ") + e.what());
  }
}

Result<Template> parseTemplate(std::string_view body) {
  auto doc = parseTemplateDocument(body);
  if (!doc) {
    return doc.status();
  }
  if (!doc->is_object()) {
    return formatError("the template must be a map of sections");
  }
  for (auto it = doc->begin(); it != doc->end(); ++it) {
    const std::string& k = it.key();
    if (k == "Conditions" || k == "Mappings" || k == "Transform" || k == "Rules") {
      return formatError(k + " are not supported by tide yet");
    }
    if (k != "AWSTemplateFormatVersion" && k != "Description" && k != "Metadata" &&
        k != "Parameters" && k != "Resources" && k != "Outputs") {
      return formatError("Invalid template property or properties [" + k + "]");
    }
  }
  Template t;
  t.document = *doc;
  TIDE_RETURN_IF_ERROR(parseParameters(*doc, t));
  TIDE_RETURN_IF_ERROR(parseResources(*doc, t));
  TIDE_RETURN_IF_ERROR(checkResources(t));
  TIDE_RETURN_IF_ERROR(order(t));
  TIDE_RETURN_IF_ERROR(parseOutputs(*doc, t));
  return t;
}

Json parameterValue(const TemplateParameter& p, const std::string& value) {
  if (p.type == "Number") {
    Json n = plainScalar(std::string(trim(value)));
    return n.is_number() ? n : Json(value);
  }
  if (p.type == "CommaDelimitedList") {
    Json out = Json::array();
    for (const std::string& s : splitString(value, ',')) {
      out.push_back(std::string(trim(s)));
    }
    return out;
  }
  return value;
}

Result<std::vector<model::StackParameter>>
resolveParameters(const Template& t, const std::vector<model::StackParameter>& given) {
  for (const auto& g : given) {
    if (!t.parameter(g.key)) {
      return validationError("Parameters: [" + g.key + "] do not exist in the template");
    }
  }
  std::vector<model::StackParameter> out;
  std::string missing;
  for (const TemplateParameter& p : t.parameters) {
    std::optional<std::string> value = p.defaultValue;
    for (const auto& g : given) {
      if (g.key == p.name) {
        value = g.value;
      }
    }
    if (!value) {
      missing += (missing.empty() ? "" : ", ") + p.name;
      continue;
    }
    std::string at = "Parameter '" + p.name + "'";
    if (!p.allowedValues.empty() && std::find(p.allowedValues.begin(), p.allowedValues.end(),
                                              *value) == p.allowedValues.end()) {
      std::string list;
      for (const auto& a : p.allowedValues) {
        list += (list.empty() ? "" : ", ") + a;
      }
      return validationError(at + " must be one of AllowedValues [" + list + "], not '" + *value +
                             "'");
    }
    if (p.type == "Number") {
      Json n = parameterValue(p, *value);
      if (!n.is_number()) {
        return validationError(at + " must be a number, not '" + *value + "'");
      }
      double d = n;
      if ((p.minValue && d < *p.minValue) || (p.maxValue && d > *p.maxValue)) {
        return validationError(at + " must be a number from " +
                               (p.minValue ? scalarText(*p.minValue) : "-inf") + " to " +
                               (p.maxValue ? scalarText(*p.maxValue) : "inf") + ", not " + *value);
      }
    }
    if ((p.minLength && static_cast<int>(value->size()) < *p.minLength) ||
        (p.maxLength && static_cast<int>(value->size()) > *p.maxLength)) {
      return validationError(at + " has the wrong length");
    }
    out.push_back({p.name, *value});
  }
  if (!missing.empty()) {
    return validationError("Parameters: [" + missing + "] must have values");
  }
  return out;
}

namespace {

std::optional<Json> pseudoValue(const std::string& name, const std::string& stackName,
                                const std::string& stackId) {
  if (name == "AWS::StackName") {
    return Json(stackName);
  }
  if (name == "AWS::StackId") {
    return Json(stackId);
  }
  if (name == "AWS::Region") {
    return Json("local");
  }
  if (name == "AWS::AccountId") {
    return Json("000000000000");
  }
  if (name == "AWS::Partition") {
    return Json("aws");
  }
  if (name == "AWS::URLSuffix") {
    return Json("localhost");
  }
  return std::nullopt;
}

std::optional<Json> parameterOf(const Template& t, const std::vector<model::StackParameter>& params,
                                const std::string& name) {
  const TemplateParameter* p = t.parameter(name);
  if (!p) {
    return std::nullopt;
  }
  for (const auto& v : params) {
    if (v.key == name) {
      return parameterValue(*p, v.value);
    }
  }
  return std::nullopt;
}

Result<std::string> textOf(const Json& v, const std::string& at) {
  if (v.is_string() || v.is_number() || v.is_boolean()) {
    return scalarText(v);
  }
  return validationError(at + ": expected a string, got " + v.dump());
}

} // namespace

Result<std::optional<Json>> resolveValue(const Json& v, const ResolveScope& sc,
                                         const std::string& path) {
  using R = Result<std::optional<Json>>;
  if (v.is_array()) {
    Json out = Json::array();
    for (size_t i = 0; i < v.size(); ++i) {
      auto e = resolveValue(v[i], sc, path + "[" + std::to_string(i) + "]");
      if (!e) {
        return e.status();
      }
      if (*e) {
        out.push_back(std::move(**e));
      }
    }
    return R(std::optional<Json>(out));
  }
  if (!v.is_object()) {
    return R(std::optional<Json>(v));
  }
  if (!isIntrinsic(v)) {
    Json out = Json::object();
    for (auto it = v.begin(); it != v.end(); ++it) {
      auto e = resolveValue(it.value(), sc, path + "." + it.key());
      if (!e) {
        return e.status();
      }
      if (*e) {
        out[it.key()] = std::move(**e);
      }
    }
    return R(std::optional<Json>(out));
  }
  const std::string& fn = v.begin().key();
  const Json& arg = v.begin().value();
  std::string at = path + ": " + fn;
  // A name as Ref sees it: a parameter, a pseudo parameter, a Sub variable or a resource.
  auto name = [&](const std::string& n, const Json* vars) -> R {
    if (n == "AWS::NoValue") {
      return R(std::optional<Json>());
    }
    if (vars && vars->contains(n)) {
      return R(std::optional<Json>((*vars)[n]));
    }
    if (auto p = pseudoValue(n, sc.stackName, sc.stackId)) {
      return R(p);
    }
    if (auto p = parameterOf(*sc.tmpl, sc.parameters, n)) {
      return R(p);
    }
    auto r = sc.ref(n);
    if (!r) {
      return r.status();
    }
    return R(std::optional<Json>(*r));
  };
  if (fn == "Ref") {
    return name(arg.get<std::string>(), nullptr);
  }
  if (fn == "Fn::GetAtt") {
    auto r = sc.getAtt(arg[0], arg[1]);
    if (!r) {
      return r.status();
    }
    return R(std::optional<Json>(*r));
  }
  if (fn == "Fn::Sub") {
    std::string s = arg.is_string() ? arg.get<std::string>() : arg[0].get<std::string>();
    Json vars = Json::object();
    if (arg.is_array()) {
      for (auto it = arg[1].begin(); it != arg[1].end(); ++it) {
        auto e = resolveValue(it.value(), sc, at + "." + it.key());
        if (!e) {
          return e.status();
        }
        vars[it.key()] = *e ? **e : Json("");
      }
    }
    std::string out;
    size_t i = 0;
    while (true) {
      size_t open = s.find("${", i);
      if (open == std::string::npos) {
        out += s.substr(i);
        break;
      }
      size_t close = s.find('}', open);
      out += s.substr(i, open - i);
      std::string n(trim(s.substr(open + 2, close - open - 2)));
      i = close + 1;
      if (!n.empty() && n[0] == '!') {
        out += "${" + n.substr(1) + "}";
        continue;
      }
      Json value;
      size_t dot = n.find('.');
      if (dot == std::string::npos || vars.contains(n) || pseudoValue(n, "", "") ||
          n == "AWS::NoValue") {
        auto e = name(n, &vars);
        if (!e) {
          return e.status();
        }
        value = *e ? **e : Json("");
      } else {
        auto e = sc.getAtt(n.substr(0, dot), n.substr(dot + 1));
        if (!e) {
          return e.status();
        }
        value = *e;
      }
      if (value.is_array()) {
        std::string joined;
        for (const Json& x : value) {
          joined += (joined.empty() ? "" : ",") + scalarText(x);
        }
        out += joined;
      } else {
        auto text = textOf(value, at + " ${" + n + "}");
        if (!text) {
          return text.status();
        }
        out += *text;
      }
    }
    return R(std::optional<Json>(out));
  }
  auto resolved = resolveValue(arg, sc, at);
  if (!resolved) {
    return resolved.status();
  }
  Json a = resolved->value_or(Json(""));
  if (fn == "Fn::Join") {
    if (!a.is_array() || a.size() != 2 || !a[1].is_array()) {
      return validationError(at + " takes [delimiter, [values]]");
    }
    std::string out;
    std::string delim = a[0];
    bool first = true;
    for (const Json& x : a[1]) {
      auto text = textOf(x, at);
      if (!text) {
        return text.status();
      }
      out += (first ? "" : delim) + *text;
      first = false;
    }
    return R(std::optional<Json>(out));
  }
  if (fn == "Fn::Select") {
    if (!a.is_array() || a.size() != 2 || !a[1].is_array()) {
      return validationError(at + " takes [index, [values]]");
    }
    Json index = a[0].is_string() ? plainScalar(a[0].get<std::string>()) : a[0];
    if (!index.is_number_integer() || index.get<int64_t>() < 0 ||
        index.get<size_t>() >= a[1].size()) {
      return validationError(at + ": index " + a[0].dump() + " is out of range");
    }
    return R(std::optional<Json>(a[1][index.get<size_t>()]));
  }
  if (fn == "Fn::Split") {
    auto text = textOf(a[1], at);
    if (!text) {
      return text.status();
    }
    std::string delim = a[0];
    Json out = Json::array();
    size_t i = 0;
    while (true) {
      size_t j = delim.empty() ? std::string::npos : text->find(delim, i);
      out.push_back(text->substr(i, j == std::string::npos ? std::string::npos : j - i));
      if (j == std::string::npos) {
        break;
      }
      i = j + delim.size();
    }
    return R(std::optional<Json>(out));
  }
  if (fn == "Fn::Base64") {
    auto text = textOf(a, at);
    if (!text) {
      return text.status();
    }
    return R(std::optional<Json>(base64Encode(*text)));
  }
  return validationError(at + " is not supported");
}

Json substituteParameters(const Json& v, const Template& t,
                          const std::vector<model::StackParameter>& parameters) {
  if (v.is_array()) {
    Json out = Json::array();
    for (const Json& e : v) {
      out.push_back(substituteParameters(e, t, parameters));
    }
    return out;
  }
  if (!v.is_object()) {
    return v;
  }
  if (v.size() == 1 && v.contains("Ref") && v["Ref"].is_string()) {
    if (auto p = parameterOf(t, parameters, v["Ref"])) {
      return *p;
    }
    return v;
  }
  if (v.size() == 1 && v.contains("Fn::Sub")) {
    // Parameters inside Sub strings: compare with their values written in.
    Json arg = v["Fn::Sub"];
    Json& s = arg.is_array() ? arg[0] : arg;
    if (s.is_string()) {
      std::string text = s;
      for (const auto& p : parameters) {
        std::string key = "${" + p.key + "}";
        for (size_t i; (i = text.find(key)) != std::string::npos;) {
          text.replace(i, key.size(), p.value);
        }
      }
      s = text;
    }
    return Json{{"Fn::Sub", substituteParameters(arg, t, parameters)}};
  }
  Json out = Json::object();
  for (auto it = v.begin(); it != v.end(); ++it) {
    out[it.key()] = substituteParameters(it.value(), t, parameters);
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> referencedResources(const Json& v,
                                                                     const Template& t) {
  std::vector<std::pair<std::string, std::string>> out;
  std::function<void(const Json&)> walk = [&](const Json& x) {
    if (x.is_array()) {
      for (const Json& e : x) {
        walk(e);
      }
      return;
    }
    if (!x.is_object()) {
      return;
    }
    if (x.size() == 1 && x.contains("Ref") && x["Ref"].is_string() && t.resource(x["Ref"])) {
      out.push_back({x["Ref"], ""});
      return;
    }
    if (x.size() == 1 && x.contains("Fn::GetAtt") && x["Fn::GetAtt"].is_array() &&
        x["Fn::GetAtt"].size() == 2) {
      out.push_back({x["Fn::GetAtt"][0], x["Fn::GetAtt"][1]});
      return;
    }
    if (x.size() == 1 && x.contains("Fn::Sub")) {
      const Json& arg = x["Fn::Sub"];
      const Json& s = arg.is_array() && !arg.empty() ? arg[0] : arg;
      if (s.is_string()) {
        auto names = subNames(s, "");
        for (const std::string& n : names ? *names : std::vector<std::string>{}) {
          size_t dot = n.find('.');
          std::string res = n.substr(0, dot);
          if (t.resource(res)) {
            out.push_back({res, dot == std::string::npos ? "" : n.substr(dot + 1)});
          }
        }
      }
      if (arg.is_array() && arg.size() == 2) {
        walk(arg[1]);
      }
      return;
    }
    for (auto it = x.begin(); it != x.end(); ++it) {
      walk(it.value());
    }
  };
  walk(v);
  return out;
}

} // namespace tide::stacks
