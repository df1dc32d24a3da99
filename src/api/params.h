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

Json tagsJson(const std::vector<model::Tag>& tags);
// Value of a tag, or nullopt.
std::optional<std::string> tagValue(const std::vector<model::Tag>& tags, std::string_view key);

} // namespace tide::api
