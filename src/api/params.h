// Reading AWS-shaped request parameters from JSON with precise errors ("ValidationError" or
// "InvalidParameterValue" naming the parameter), and common response pieces.
#pragma once

#include "api/action.h"
#include "model/types.h"

#include <optional>
#include <string>
#include <vector>

namespace tide::api {

// Rejects parameters not in `known` (a typo must not be silently ignored).
Status checkKnownParams(const Json& params, std::initializer_list<std::string_view> known);

Result<std::optional<std::string>> optString(const Json& params, const char* name);
Result<std::string> reqString(const Json& params, const char* name);
Result<std::optional<int64_t>> optInt(const Json& params, const char* name);
Result<std::optional<double>> optNumber(const Json& params, const char* name);
Result<std::optional<bool>> optBool(const Json& params, const char* name);
Result<std::vector<std::string>> optStringList(const Json& params, const char* name);

// TagSpecifications [{ResourceType, Tags: [{Key, Value}]}]: the tags for resourceType.
// Other resource types in the list are an error unless listed in `allowedTypes`.
Result<std::vector<model::Tag>>
tagSpecifications(const Json& params, std::string_view resourceType,
                  std::initializer_list<std::string_view> allowedTypes);

// Filters [{Name, Values: [...]}].
struct Filter {
  std::string name;
  std::vector<std::string> values;
};
Result<std::vector<Filter>> filters(const Json& params);
// Whether value matches one of the filter's values ("*" and "?" wildcards as EC2 allows).
bool filterMatches(const Filter& f, std::string_view value);

// ELBv2's Tags [{Key, Value}].
Result<std::vector<model::Tag>> elbTags(const Json& params);
// ELBv2's Attributes [{Key, Value}] in order.
Result<std::vector<std::pair<std::string, std::string>>> attributes(const Json& params);
// An integer attribute value within [lo, hi], or an error naming the key.
Result<int> intAttribute(const std::string& key, const std::string& value, int lo, int hi);

Json tagsJson(const std::vector<model::Tag>& tags);
// Value of a tag, or nullopt.
std::optional<std::string> tagValue(const std::vector<model::Tag>& tags, std::string_view key);

} // namespace tide::api
