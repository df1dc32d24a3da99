// A template's text into JSON: JSON as it is, YAML with CloudFormation's short-form tags (!Ref,
// !GetAtt, !Sub, ...) expanded into their long forms. yaml-cpp's exceptions stop here.
#include "stacks/template.h"
#include "stacks/template_text.h"

#include "common/text.h"

#include <yaml-cpp/yaml.h>

#include <map>
#include <regex>

namespace tide::stacks {

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

namespace {

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
      TIDE_ASSIGN_OR_RETURN(auto j, fromYaml(e));
      v.push_back(std::move(j));
    }
    break;
  case YAML::NodeType::Map:
    v = Json::object();
    for (const auto& kv : n) {
      if (!kv.first.IsScalar()) {
        return formatError("map keys must be plain text " + where(kv.first));
      }
      TIDE_ASSIGN_OR_RETURN(auto j, fromYaml(kv.second));
      v[kv.first.Scalar()] = std::move(j);
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

} // namespace

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

} // namespace tide::stacks
