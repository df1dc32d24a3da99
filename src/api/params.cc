#include "api/params.h"

#include <charconv>

namespace tide::api {

namespace {
Status typeError(const char* name, const char* expected) {
  return validationError(std::string("Parameter ") + name + " must be " + expected);
}
} // namespace

Status checkKnownParams(const Json& params, std::initializer_list<std::string_view> known) {
  if (!params.is_object()) {
    return validationError("The request body must be a JSON object of parameters");
  }
  for (auto it = params.begin(); it != params.end(); ++it) {
    bool found = false;
    for (std::string_view k : known) {
      found = found || k == it.key();
    }
    if (!found) {
      std::string list;
      for (std::string_view k : known) {
        list += list.empty() ? "" : ", ";
        list += k;
      }
      return Status("UnknownParameter",
                    "Unknown parameter '" + it.key() + "'; this action takes: " + list);
    }
  }
  return Status::ok();
}

Result<std::optional<std::string>> optString(const Json& params, const char* name) {
  auto it = params.find(name);
  if (it == params.end() || it->is_null()) {
    return std::optional<std::string>();
  }
  if (!it->is_string()) {
    return typeError(name, "a string");
  }
  return std::optional<std::string>(it->get<std::string>());
}

Result<std::string> reqString(const Json& params, const char* name) {
  TIDE_ASSIGN_OR_RETURN(auto v, optString(params, name));
  if (!v.has_value() || v->empty()) {
    return Status("MissingParameter",
                  std::string("The request must contain the parameter ") + name);
  }
  return std::move(*v);
}

Result<std::optional<int64_t>> optInt(const Json& params, const char* name) {
  auto it = params.find(name);
  if (it == params.end() || it->is_null()) {
    return std::optional<int64_t>();
  }
  if (!it->is_number_integer()) {
    return typeError(name, "an integer");
  }
  return std::optional<int64_t>(it->get<int64_t>());
}

Result<std::optional<double>> optNumber(const Json& params, const char* name) {
  auto it = params.find(name);
  if (it == params.end() || it->is_null()) {
    return std::optional<double>();
  }
  if (!it->is_number()) {
    return typeError(name, "a number");
  }
  return std::optional<double>(it->get<double>());
}

Result<std::optional<bool>> optBool(const Json& params, const char* name) {
  auto it = params.find(name);
  if (it == params.end() || it->is_null()) {
    return std::optional<bool>();
  }
  if (!it->is_boolean()) {
    return typeError(name, "true or false");
  }
  return std::optional<bool>(it->get<bool>());
}

Result<std::vector<std::string>> optStringList(const Json& params, const char* name) {
  std::vector<std::string> out;
  auto it = params.find(name);
  if (it == params.end() || it->is_null()) {
    return out;
  }
  if (!it->is_array()) {
    return typeError(name, "a list of strings");
  }
  for (const Json& v : *it) {
    if (!v.is_string()) {
      return typeError(name, "a list of strings");
    }
    out.push_back(v.get<std::string>());
  }
  return out;
}

Result<std::vector<model::Tag>> tagSpecifications(const Json& params, std::string_view resourceType,
                                                  std::initializer_list<std::string_view> allowed) {
  std::vector<model::Tag> tags;
  auto it = params.find("TagSpecifications");
  if (it == params.end() || it->is_null()) {
    return tags;
  }
  if (!it->is_array()) {
    return typeError("TagSpecifications", "a list of {ResourceType, Tags}");
  }
  for (const Json& spec : *it) {
    if (!spec.is_object()) {
      return typeError("TagSpecifications", "a list of {ResourceType, Tags}");
    }
    auto type = optString(spec, "ResourceType");
    TIDE_RETURN_IF_ERROR(type.status());
    std::string rt = type->value_or(std::string(resourceType));
    bool ok = rt == resourceType;
    for (std::string_view a : allowed) {
      ok = ok || rt == a;
    }
    if (!ok) {
      return Status("InvalidParameterValue", "TagSpecifications: resource type '" + rt +
                                                 "' cannot be tagged here (expecting '" +
                                                 std::string(resourceType) + "')");
    }
    auto t = spec.find("Tags");
    if (t == spec.end()) {
      continue;
    }
    if (!t->is_array()) {
      return typeError("TagSpecifications.Tags", "a list of {Key, Value}");
    }
    for (const Json& tag : *t) {
      auto key = optString(tag, "Key");
      auto value = optString(tag, "Value");
      if (!tag.is_object() || !key || !value || !key->has_value()) {
        return typeError("TagSpecifications.Tags", "a list of {Key, Value} strings");
      }
      if (rt == resourceType) {
        tags.push_back({**key, value->value_or("")});
      }
    }
  }
  return tags;
}

Result<std::vector<Filter>> filters(const Json& params) {
  std::vector<Filter> out;
  auto it = params.find("Filters");
  if (it == params.end() || it->is_null()) {
    return out;
  }
  if (!it->is_array()) {
    return typeError("Filters", "a list of {Name, Values}");
  }
  for (const Json& f : *it) {
    if (!f.is_object()) {
      return typeError("Filters", "a list of {Name, Values}");
    }
    TIDE_ASSIGN_OR_RETURN(auto name, reqString(f, "Name"));
    TIDE_ASSIGN_OR_RETURN(auto values, optStringList(f, "Values"));
    out.push_back({name, values});
  }
  return out;
}

namespace {
bool wildcardMatch(std::string_view pattern, std::string_view s) {
  size_t p = 0, i = 0, star = std::string_view::npos, mark = 0;
  while (i < s.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == s[i])) {
      ++p;
      ++i;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = i;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      i = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') {
    ++p;
  }
  return p == pattern.size();
}
} // namespace

bool filterMatches(const Filter& f, std::string_view value) {
  for (const std::string& v : f.values) {
    if (wildcardMatch(v, value)) {
      return true;
    }
  }
  return false;
}

Result<std::vector<model::Tag>> elbTags(const Json& params) {
  std::vector<model::Tag> tags;
  auto it = params.find("Tags");
  if (it == params.end() || it->is_null()) {
    return tags;
  }
  if (!it->is_array()) {
    return typeError("Tags", "a list of {Key, Value}");
  }
  for (const Json& t : *it) {
    auto key = optString(t, "Key");
    auto value = optString(t, "Value");
    if (!t.is_object() || !key || !value || !key->has_value()) {
      return typeError("Tags", "a list of {Key, Value} strings");
    }
    tags.push_back({**key, value->value_or("")});
  }
  return tags;
}

Result<std::vector<std::pair<std::string, std::string>>> attributes(const Json& params) {
  std::vector<std::pair<std::string, std::string>> out;
  auto it = params.find("Attributes");
  if (it == params.end() || !it->is_array() || it->empty()) {
    return Status("MissingParameter", "The request must contain Attributes: [{Key, Value}]");
  }
  for (const Json& a : *it) {
    auto key = optString(a, "Key");
    auto value = optString(a, "Value");
    if (!a.is_object() || !key || !value || !key->has_value() || !value->has_value()) {
      return typeError("Attributes", "a list of {Key, Value} strings");
    }
    out.emplace_back(**key, **value);
  }
  return out;
}

Result<int> intAttribute(const std::string& key, const std::string& value, int lo, int hi) {
  int v = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
  if (ec != std::errc() || end != value.data() + value.size() || v < lo || v > hi) {
    return validationError("Attribute " + key + " must be a whole number from " +
                           std::to_string(lo) + " to " + std::to_string(hi) + ", got '" + value +
                           "'");
  }
  return v;
}

Json tagsJson(const std::vector<model::Tag>& tags) {
  Json out = Json::array();
  for (const model::Tag& t : tags) {
    out.push_back({{"Key", t.key}, {"Value", t.value}});
  }
  return out;
}

std::optional<std::string> tagValue(const std::vector<model::Tag>& tags, std::string_view key) {
  for (const model::Tag& t : tags) {
    if (t.key == key) {
      return t.value;
    }
  }
  return std::nullopt;
}

} // namespace tide::api
