// A template's text into JSON: JSON as it is, YAML with CloudFormation's short-form tags (!Ref,
// !GetAtt, !Sub, ...) expanded into their long forms. yaml-cpp's exceptions stop here.
#include "stacks/template.h"
#include "stacks/template_text.h"

#include "api/json_text.h"
#include "common/text.h"
#include "common/utf8.h"

#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

namespace tide::stacks {

Status formatError(const std::string& message) {
  // Messages quote the template (yaml-cpp's quote its text): kept UTF-8 whatever they hold.
  return validationError("Template format error: " + escapeInvalidUtf8(message));
}

namespace {

bool isDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string_view withoutSign(std::string_view s) {
  if (!s.empty() && (s.front() == '-' || s.front() == '+')) {
    s.remove_prefix(1);
  }
  return s;
}

// [-+]?[0-9]+
bool isInteger(std::string_view s) {
  return isDigits(withoutSign(s));
}

// [-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?, read by hand: libstdc++'s std::regex
// recurses once per character, so a long scalar would overflow the stack.
bool isFloat(std::string_view s) {
  s = withoutSign(s);
  size_t e = s.find_first_of("eE");
  if (e != std::string_view::npos && !isDigits(withoutSign(s.substr(e + 1)))) {
    return false;
  }
  std::string_view mantissa = s.substr(0, e);
  size_t dot = mantissa.find('.');
  if (dot == std::string_view::npos) {
    return isDigits(mantissa);
  }
  std::string_view whole = mantissa.substr(0, dot);
  std::string_view fraction = mantissa.substr(dot + 1);
  if (whole.empty()) {
    return isDigits(fraction);
  }
  return isDigits(whole) && (fraction.empty() || isDigits(fraction));
}

} // namespace

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
  if (isInteger(s) && s.size() < 18) {
    return std::stoll(s);
  }
  if (isFloat(s)) {
    // A number too large for a double stays text (JSON has no infinity).
    if (double d = std::strtod(s.c_str(), nullptr); std::isfinite(d)) {
      return d;
    }
  }
  return s;
}

namespace {

// What converting a YAML template may make (YamlToJson::spend): 64 units a byte of text plus
// 1 MiB, a node costing 64 (about what a Json value and its place in an array or object take)
// and a scalar or key its bytes more. A template without aliases costs at most about 33 units a
// byte (a node takes two bytes of text at least), so only aliases reach the budget: a 513-byte
// billion laughs is refused after about 17,000 nodes, a few MiB of memory.
constexpr size_t kYamlNodeCost = 64;
constexpr size_t kYamlBudgetPerByte = 64;
constexpr size_t kYamlBudgetBase = size_t(1) << 20;

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

// YAML's nodes into JSON. yaml-cpp reads an alias as the node its anchor names (one node,
// shared), so a 513-byte file of anchors nine levels deep is a small tree to yaml-cpp and a
// billion nodes once written out as JSON (the "billion laughs"), and an alias inside its own
// anchor is a cycle. The conversion is where that would happen, so it counts what it makes
// against a budget proportional to the text and stops at kMaxTemplateDepth levels.
class YamlToJson {
public:
  explicit YamlToJson(size_t textSize) : left_(kYamlBudgetBase + kYamlBudgetPerByte * textSize) {}

  Result<Json> convert(const YAML::Node& n, size_t depth) {
    if (depth > kMaxTemplateDepth && (n.IsSequence() || n.IsMap())) {
      return formatError("YAML nested deeper than " + std::to_string(kMaxTemplateDepth) +
                         " levels " + where(n));
    }
    TIDE_RETURN_IF_ERROR(spend(kYamlNodeCost + (n.IsScalar() ? n.Scalar().size() : 0), n));
    if (n.IsScalar()) {
      TIDE_RETURN_IF_ERROR(utf8Text(n.Scalar(), n));
    }
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
        TIDE_ASSIGN_OR_RETURN(auto j, convert(e, depth + 1));
        v.push_back(std::move(j));
      }
      break;
    case YAML::NodeType::Map:
      v = Json::object();
      for (const auto& kv : n) {
        if (!kv.first.IsScalar()) {
          return formatError("map keys must be plain text " + where(kv.first));
        }
        const std::string& key = kv.first.Scalar();
        if (v.contains(key)) {
          return formatError("YAML not well-formed. " + where(kv.first) + ": the key '" + key +
                             "' appears twice in one map");
        }
        TIDE_RETURN_IF_ERROR(spend(key.size(), kv.first));
        TIDE_RETURN_IF_ERROR(utf8Text(key, kv.first));
        TIDE_ASSIGN_OR_RETURN(auto j, convert(kv.second, depth + 1));
        v[key] = std::move(j);
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

private:
  // What yaml-cpp decoded (its escapes included) must be UTF-8, as JSON carries it.
  static Status utf8Text(const std::string& text, const YAML::Node& at) {
    if (!isValidUtf8(text)) {
      return formatError("YAML text that is not UTF-8 once its escapes are read " + where(at));
    }
    return Status::ok();
  }

  Status spend(size_t cost, const YAML::Node& at) {
    if (cost > left_) {
      return formatError("YAML aliases expand the template past what tide reads (" +
                         std::to_string(kYamlBudgetPerByte) + " times its size plus " +
                         std::to_string(kYamlBudgetBase >> 20) + " MiB, counted as " +
                         std::to_string(kYamlNodeCost) + " bytes a node and its text) at " +
                         where(at));
    }
    left_ -= cost;
    return Status::ok();
  }

  size_t left_; // what the JSON may still take, in the units of spend()
};

// Where the first byte that is not UTF-8 is, for a refusal.
Status notUtf8(std::string_view body, size_t offset) {
  TextPosition p = textPosition(body, offset);
  return formatError("the template is not valid UTF-8 (line " + std::to_string(p.line) +
                     ", column " + std::to_string(p.column) + ", byte " + std::to_string(offset) +
                     ")");
}

// The first control character other than TAB, LF and CR (YAML's and JSON's text has none), or
// npos. A NUL among the first bytes would also make yaml-cpp read the text as UTF-16 or UTF-32.
size_t controlCharacterOffset(std::string_view body) {
  for (size_t i = 0; i < body.size(); ++i) {
    auto c = static_cast<unsigned char>(body[i]);
    if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7F) {
      return i;
    }
  }
  return std::string_view::npos;
}

} // namespace

Result<Json> parseTemplateDocument(std::string_view body) {
  if (size_t bad = invalidUtf8Offset(body); bad != std::string_view::npos) {
    return notUtf8(body, bad);
  }
  if (size_t bad = controlCharacterOffset(body); bad != std::string_view::npos) {
    TextPosition p = textPosition(body, bad);
    char code[8];
    std::snprintf(code, sizeof code, "%02X", static_cast<unsigned char>(body[bad]));
    return formatError("the template holds the control character U+00" + std::string(code) +
                       " (line " + std::to_string(p.line) + ", column " + std::to_string(p.column) +
                       "); YAML and JSON text has none but tab, line "
                       "feed and carriage return");
  }
  std::string_view t = trim(body);
  if (t.empty()) {
    return formatError("the template is empty");
  }
  if (t.front() == '{') {
    Result<Json> doc = api::parseJsonText(t, {kMaxTemplateDepth});
    if (!doc) {
      return formatError("JSON not well-formed. " + doc.status().message());
    }
    return std::move(*doc);
  }
  YAML::Node root;
  try {
    root = YAML::Load(std::string(body));
  } catch (const YAML::DeepRecursion& e) {
    // yaml-cpp's own parser stops at its depth limit (2000 levels).
    return formatError("YAML nested deeper than " + std::to_string(kMaxTemplateDepth) +
                       " levels (line " + std::to_string(e.mark.line + 1) + ", column " +
                       std::to_string(e.mark.column + 1) + ")");
  } catch (const YAML::Exception& e) {
    return formatError("YAML not well-formed. (line " + std::to_string(e.mark.line + 1) +
                       ", column " + std::to_string(e.mark.column + 1) + "): " + e.msg);
  } catch (const std::exception& e) {
    // yaml-cpp documents only its own exceptions; a stack file must not take the server down.
    return formatError(std::string("YAML could not be read: ") + e.what());
  }
  if (!root.IsMap()) {
    return formatError("the template must be a map of sections (Parameters, Resources, ...)");
  }
  try {
    return YamlToJson(body.size()).convert(root, 1);
  } catch (const YAML::Exception& e) {
    return formatError(std::string("YAML not well-formed: ") + e.what());
  } catch (const std::exception& e) {
    return formatError(std::string("YAML could not be read: ") + e.what());
  }
}

} // namespace tide::stacks
