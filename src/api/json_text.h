// Untrusted JSON text read into Json with bounds: the one reader of JSON that comes from outside
// tide (API request bodies in tide's and AWS's JSON protocols, the console's bodies, JSON stack
// templates, and what a server answers the CLI). nlohmann's own parse() accepts any nesting
// (and every later walk over the value recurses once per level: dump(), copies, comparisons,
// tide's checks) and keeps the last of two equal keys silently; this one refuses both.
//
// Safe to call from any thread; never throws.
#pragma once

#include "common/status.h"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <string>
#include <string_view>

namespace tide::api {

using Json = nlohmann::json;

// How deep an API request body may nest: as CBOR's (cbor::Limits::maxDepth). AWS's input shapes
// nest less than 20 levels.
constexpr size_t kMaxApiBodyDepth = 64;

struct JsonTextLimits {
  size_t maxDepth = kMaxApiBodyDepth; // arrays and objects nested deeper than this are refused
};

// Reads text as exactly one JSON value (RFC 8259: strings of well-formed UTF-8, finite numbers,
// nothing but whitespace after the value). Refusals are Status("SerializationException", M),
// where M says what and where, and is itself valid UTF-8:
//  - malformed text: nlohmann's description with the line and column ("syntax error while
//    parsing object key - invalid literal; last read: '{x' (line 1, column 2)");
//  - nesting deeper than limits.maxDepth: "the JSON nests arrays and objects deeper than 64
//    levels, at Resources.Web.Properties[0]...";
//  - a key given twice in one object: "the key 'MinSize' appears twice in the object at
//    Resources.Group.Properties" (the top level is "the top-level object").
// Memory is proportional to the text: nothing is expanded.
Result<Json> parseJsonText(std::string_view text, const JsonTextLimits& limits = {});

} // namespace tide::api
