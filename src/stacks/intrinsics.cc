// The intrinsic functions: evaluated against a stack (resolveValue), and read for what they
// refer to (substituteParameters, referencedResources, subNames).
#include "stacks/intrinsics.h"

#include "stacks/template_text.h"

#include "common/text.h"

#include <algorithm>
#include <cctype>

namespace tide::stacks {

namespace {

// A piece of a template's text as a message quotes it: at most 80 characters of it.
std::string excerpt(const std::string& s) {
  if (s.size() <= 80) {
    return "'" + s + "'";
  }
  size_t cut = 77;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) {
    --cut; // not inside a UTF-8 sequence
  }
  return "'" + s.substr(0, cut) + "...'";
}

// CloudFormation's variable names in Fn::Sub: a parameter, resource or pseudo parameter
// (AWS::Region), Resource.Attribute (Attribute may have dots), or a name of the variable map.
bool isSubName(std::string_view n) {
  return !n.empty() && std::all_of(n.begin(), n.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == ':';
  });
}

} // namespace

Result<std::vector<std::string>> subNames(const std::string& s, const std::string& path) {
  std::vector<std::string> out;
  size_t i = 0;
  while ((i = s.find("${", i)) != std::string::npos) {
    size_t end = s.find('}', i);
    if (end == std::string::npos) {
      return formatError(path + ": Fn::Sub: unclosed ${ in " + excerpt(s));
    }
    std::string name(trim(s.substr(i + 2, end - i - 2)));
    if (name.empty()) {
      return formatError(path + ": Fn::Sub: empty ${} in " + excerpt(s) +
                         " (write ${!} for a literal ${})");
    }
    if (name[0] != '!') {
      if (!isSubName(name)) {
        return formatError(path + ": Fn::Sub: ${" + name + "} in " + excerpt(s) +
                           " is not a variable name (letters, digits, '_', '.' and ':'; "
                           "${!Text} for a literal ${Text})");
      }
      out.push_back(name);
    }
    i = end + 1;
  }
  return out;
}

bool isIntrinsic(const Json& v) {
  if (!v.is_object() || v.size() != 1) {
    return false;
  }
  const std::string& k = v.begin().key();
  return k == "Ref" || k.rfind("Fn::", 0) == 0;
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
    return Json(arnField(stackId, 3)); // the stack's own, which its id names
  }
  if (name == "AWS::AccountId") {
    return Json(arnField(stackId, 4));
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
  return validationError(at + ": expected a string, got " + excerpt(v.dump()));
}

// What one resolveValue call may produce: the text that Fn::Sub, Fn::Join, Fn::Base64 and
// Fn::Split make and the values Ref and Fn::GetAtt bring in. A value written once in the
// template can be used many times (a Fn::Sub variable in its string, and that Fn::Sub as the
// variable of another), so without a bound nested Fn::Sub grow exponentially.
constexpr size_t kMaxResolvedBytes = size_t(4) << 20;

struct Budget {
  size_t left = kMaxResolvedBytes;

  Status spend(size_t n, const std::string& at) {
    if (n > left) {
      return validationError(at + ": the value would be larger than tide evaluates (" +
                             std::to_string(kMaxResolvedBytes >> 20) +
                             " MiB of text made by intrinsic functions in one value)");
    }
    left -= n;
    return Status::ok();
  }
  Status spend(const Json& v, const std::string& at) {
    return spend(v.is_string() ? v.get_ref<const std::string&>().size() : v.dump().size(), at);
  }
};

Result<std::optional<Json>> resolve(const Json& v, const ResolveScope& sc, const std::string& path,
                                    Budget& budget) {
  using R = Result<std::optional<Json>>;
  if (v.is_array()) {
    Json out = Json::array();
    for (size_t i = 0; i < v.size(); ++i) {
      TIDE_ASSIGN_OR_RETURN(auto e,
                            resolve(v[i], sc, path + "[" + std::to_string(i) + "]", budget));
      if (e) {
        out.push_back(std::move(*e));
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
      TIDE_ASSIGN_OR_RETURN(auto e, resolve(it.value(), sc, path + "." + it.key(), budget));
      if (e) {
        out[it.key()] = std::move(*e);
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
      TIDE_RETURN_IF_ERROR(budget.spend(*p, at));
      return R(p);
    }
    TIDE_ASSIGN_OR_RETURN(auto r, sc.ref(n));
    TIDE_RETURN_IF_ERROR(budget.spend(r, at));
    return R(std::optional<Json>(r));
  };
  if (fn == "Ref") {
    return name(arg.get<std::string>(), nullptr);
  }
  if (fn == "Fn::GetAtt") {
    TIDE_ASSIGN_OR_RETURN(auto r, sc.getAtt(arg[0], arg[1]));
    TIDE_RETURN_IF_ERROR(budget.spend(r, at));
    return R(std::optional<Json>(r));
  }
  if (fn == "Fn::Sub") {
    std::string s = arg.is_string() ? arg.get<std::string>() : arg[0].get<std::string>();
    Json vars = Json::object();
    if (arg.is_array()) {
      for (auto it = arg[1].begin(); it != arg[1].end(); ++it) {
        TIDE_ASSIGN_OR_RETURN(auto e, resolve(it.value(), sc, at + "." + it.key(), budget));
        vars[it.key()] = e ? *e : Json("");
      }
    }
    std::string out;
    size_t i = 0;
    while (true) {
      size_t open = s.find("${", i);
      if (open == std::string::npos) {
        TIDE_RETURN_IF_ERROR(budget.spend(s.size() - i, at));
        out += s.substr(i);
        break;
      }
      size_t close = s.find('}', open);
      if (close == std::string::npos) { // refused by the template's checks (subNames)
        return formatError(at + ": unclosed ${ in " + excerpt(s));
      }
      TIDE_RETURN_IF_ERROR(budget.spend(open - i, at));
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
        TIDE_ASSIGN_OR_RETURN(auto e, name(n, &vars));
        value = e ? *e : Json("");
      } else {
        TIDE_ASSIGN_OR_RETURN(auto e, sc.getAtt(n.substr(0, dot), n.substr(dot + 1)));
        value = e;
      }
      std::string text;
      if (value.is_array()) {
        for (const Json& x : value) {
          text += (text.empty() ? "" : ",") + scalarText(x);
        }
      } else {
        TIDE_ASSIGN_OR_RETURN(text, textOf(value, at + " ${" + n + "}"));
      }
      TIDE_RETURN_IF_ERROR(budget.spend(text.size(), at));
      out += text;
    }
    return R(std::optional<Json>(out));
  }
  TIDE_ASSIGN_OR_RETURN(auto resolved, resolve(arg, sc, at, budget));
  Json a = resolved.value_or(Json(""));
  if (fn == "Fn::Join") {
    if (!a.is_array() || a.size() != 2 || !a[1].is_array()) {
      return validationError(at + " takes [delimiter, [values]]");
    }
    std::string out;
    std::string delim = a[0];
    bool first = true;
    for (const Json& x : a[1]) {
      TIDE_ASSIGN_OR_RETURN(auto text, textOf(x, at));
      TIDE_RETURN_IF_ERROR(budget.spend(text.size() + (first ? 0 : delim.size()), at));
      out += (first ? "" : delim) + text;
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
    TIDE_ASSIGN_OR_RETURN(auto text, textOf(a[1], at));
    TIDE_RETURN_IF_ERROR(budget.spend(text.size(), at));
    std::string delim = a[0];
    Json out = Json::array();
    size_t i = 0;
    while (true) {
      size_t j = delim.empty() ? std::string::npos : text.find(delim, i);
      out.push_back(text.substr(i, j == std::string::npos ? std::string::npos : j - i));
      if (j == std::string::npos) {
        break;
      }
      i = j + delim.size();
    }
    return R(std::optional<Json>(out));
  }
  if (fn == "Fn::Base64") {
    TIDE_ASSIGN_OR_RETURN(auto text, textOf(a, at));
    TIDE_RETURN_IF_ERROR(budget.spend((text.size() + 2) / 3 * 4, at));
    return R(std::optional<Json>(base64Encode(text)));
  }
  return validationError(at + " is not supported");
}

} // namespace

Result<std::optional<Json>> resolveValue(const Json& value, const ResolveScope& scope,
                                         const std::string& path) {
  Budget budget;
  return resolve(value, scope, path, budget);
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
        // Left to right, never into what was written in (a value may hold "${" its own key "}").
        std::string key = "${" + p.key + "}";
        for (size_t i = 0; (i = text.find(key, i)) != std::string::npos; i += p.value.size()) {
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
