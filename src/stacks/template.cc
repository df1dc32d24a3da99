// Templates' sections (Parameters, Resources, Outputs) read into a Template, and the whole
// parse: the document (template_yaml.cc), the sections, the checks (template_check.cc) and the
// creation order.
#include "stacks/template.h"

#include "stacks/template_check.h"
#include "stacks/template_text.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <set>

namespace tide::stacks {

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

namespace {

bool isAlnumId(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c));
  });
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
        if (!v.is_string() || !isSupportedParameterType(v.get<std::string>())) {
          return formatError(at + ".Type: " + scalarText(v) +
                             " is not supported (String, Number, CommaDelimitedList, "
                             "AWS::EC2::Image::Id, AWS::SSM::Parameter::Value<String> or "
                             "AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>)");
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
  if (rs.size() > kMaxTemplateResources) {
    return formatError("Number of resources, " + std::to_string(rs.size()) +
                       ", is greater than maximum allowed, " +
                       std::to_string(kMaxTemplateResources));
  }
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
        TIDE_ASSIGN_OR_RETURN(auto list, stringList(v, at + ".DependsOn"));
        tr.dependsOn = list;
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

Status parseOutputs(const Json& doc, Template& t) {
  if (!doc.contains("Outputs")) {
    return Status::ok();
  }
  const Json& os = doc["Outputs"];
  if (!os.is_object()) {
    return formatError("Outputs must be a map");
  }
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
    TIDE_RETURN_IF_ERROR(checkReferences(t, out.value, at + ".Value", deps));
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

Result<Template> parseTemplate(std::string_view body) {
  TIDE_ASSIGN_OR_RETURN(auto doc, parseTemplateDocument(body));
  if (!doc.is_object()) {
    return formatError("the template must be a map of sections");
  }
  for (auto it = doc.begin(); it != doc.end(); ++it) {
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
  t.document = doc;
  TIDE_RETURN_IF_ERROR(parseParameters(doc, t));
  TIDE_RETURN_IF_ERROR(parseResources(doc, t));
  TIDE_RETURN_IF_ERROR(checkResources(t));
  TIDE_RETURN_IF_ERROR(orderResources(t));
  TIDE_RETURN_IF_ERROR(parseOutputs(doc, t));
  return t;
}

} // namespace tide::stacks
