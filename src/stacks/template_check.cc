// The checks of a template: intrinsic functions and the names they use, resource types and their
// properties against the resource table, dependencies and their order.
#include "stacks/template_check.h"

#include "stacks/intrinsics.h"
#include "stacks/resources.h"
#include "stacks/template_text.h"

#include <algorithm>
#include <functional>
#include <map>

namespace tide::stacks {

namespace {

const std::set<std::string> kPseudo = {"AWS::StackName", "AWS::StackId",   "AWS::Region",
                                       "AWS::AccountId", "AWS::Partition", "AWS::URLSuffix",
                                       "AWS::NoValue"};

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
        TIDE_ASSIGN_OR_RETURN(auto names, subNames(s, path));
        for (const std::string& n : names) {
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

} // namespace

Status checkReferences(const Template& t, const Json& value, const std::string& path,
                       std::set<std::string>& deps) {
  return Checker(t).check(value, path, deps);
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

Status orderResources(Template& t) {
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

} // namespace tide::stacks
