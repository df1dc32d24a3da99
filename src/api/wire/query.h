// The request side of AWS's query protocols: form bodies and query strings
// (application/x-www-form-urlencoded) decoded into the handlers' JSON by walking an operation's
// input shape. Two dialects: query (Auto Scaling, ELBv2, CloudWatch, CloudFormation, STS: lists
// as Name.member.N, maps as Name.entry.N.key) and EC2's (lists as Name.N, members named by
// queryName or their capitalised locationName). The model decides every type:
// `Attributes.member.1.Value=5` stays the string "5", `MinCount=2` becomes a number.
#pragma once

#include "api/wire/model.h"
#include "common/status.h"

#include <nlohmann/json.hpp>

#include <map>
#include <string>
#include <string_view>

namespace tide::api::wire {

using Json = nlohmann::json;

enum class QueryDialect { Query, Ec2 };

// A decoded form: names to values, each name once.
using FormParams = std::map<std::string, std::string, std::less<>>;

// Parses name=value pairs joined by '&' (values and names percent-decoded, '+' as a space), into
// `out`. A repeated name, a malformed escape or a name or value that is not UTF-8 is an error
// (MalformedQueryString), naming it.
Status parseForm(std::string_view text, FormParams& out);

// The input of one operation from its form parameters. `Action`, `Version` and the presigned
// URL's X-Amz-* parameters are the envelope's, not the input's. Errors name the parameter:
// a value of the wrong type (EC2: InvalidParameterValue; query: ValidationError) or a parameter
// the model does not have (EC2: UnknownParameter; query: ValidationError), a map entry without
// its key or value (EC2: MissingParameter; query: ValidationError).
Result<Json> decodeQuery(const Operation& op, const FormParams& params, QueryDialect dialect);

} // namespace tide::api::wire
