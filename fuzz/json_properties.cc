#include "json_properties.h"

#include "api/json_text.h"
#include "api/wire/cbor_wire.h"
#include "api/wire/json.h"
#include "api/wire/model.h"
#include "api/wire/query.h"

#include <algorithm>
#include <cstdlib>
#include <set>
#include <string>
#include <vector>

namespace tide::fuzz {
namespace {

using api::Json;
using api::wire::Operation;
using api::wire::Shape;

#define PROPERTY(cond, what)                                                                       \
  do {                                                                                             \
    if (!(cond)) {                                                                                 \
      return Violation{what, __LINE__, "fuzz/json_properties.cc"};                                 \
    }                                                                                              \
  } while (0)

// dump() throws on a string that is not valid UTF-8: the check of UTF-8 here is nlohmann's, not
// tide's (common/utf8).
bool dumps(const Json& v) {
  try {
    (void)v.dump();
    return true;
  } catch (const Json::exception&) {
    return false;
  }
}

bool utf8(const std::string& s) {
  return dumps(Json(s));
}

// The independent reading: nlohmann's own parser, unbounded, keeping the last of two equal keys,
// with a callback that notes what parseJsonText must refuse.
struct Reference {
  bool read = false;
  bool repeatedKey = false;
  size_t depth = 0; // the deepest nesting of arrays and objects
  Json value;
};

Reference referenceRead(std::string_view text) {
  Reference r;
  std::vector<std::set<std::string>> keys;
  size_t open = 0;
  auto note = [&](int, Json::parse_event_t event, Json& parsed) {
    switch (event) {
    case Json::parse_event_t::object_start:
      keys.emplace_back();
      [[fallthrough]];
    case Json::parse_event_t::array_start:
      r.depth = std::max(r.depth, ++open);
      break;
    case Json::parse_event_t::object_end:
      keys.pop_back();
      [[fallthrough]];
    case Json::parse_event_t::array_end:
      --open;
      break;
    case Json::parse_event_t::key:
      if (!keys.back().insert(parsed.get<std::string>()).second) {
        r.repeatedKey = true;
      }
      break;
    default:
      break;
    }
    return true;
  };
  r.value = Json::parse(text.begin(), text.end(), note, false);
  r.read = !r.value.is_discarded();
  return r;
}

size_t depthOf(const Json& v) {
  if (!v.is_array() && !v.is_object()) {
    return 0;
  }
  size_t deepest = 0;
  for (const Json& e : v) {
    deepest = std::max(deepest, depthOf(e));
  }
  return deepest + 1;
}

Violation checkJsonText(std::string_view text, api::JsonTextLimits limits, Json* read) {
  Result<Json> ours = Json();
  try {
    ours = api::parseJsonText(text, limits);
  } catch (...) {
    PROPERTY(false, "parseJsonText never throws");
  }
  if (!ours) {
    PROPERTY(ours.status().code() == "SerializationException",
             "a refusal is a SerializationException");
    PROPERTY(utf8(ours.status().message()), "a refusal's message is UTF-8");
  }
  Reference ref = referenceRead(text);
  if (!ref.read) {
    PROPERTY(!ours, "what nlohmann's parser refuses is refused");
    return {};
  }
  bool refuse = ref.repeatedKey || ref.depth > limits.maxDepth;
  PROPERTY(ours.isOk() != refuse,
           "refused exactly when a key repeats in one object or the nesting passes the limit");
  if (!ours) {
    return {};
  }
  PROPERTY(*ours == ref.value, "read as nlohmann reads it");
  PROPERTY(dumps(*ours), "an accepted value dumps (valid UTF-8)");
  Result<Json> again = api::parseJsonText(ours->dump(), limits);
  PROPERTY(again.isOk() && *again == *ours, "an accepted value reads back from its dump");
  size_t depth = depthOf(*ours);
  PROPERTY(depth == ref.depth, "the nesting is what the reference saw");
  PROPERTY(api::parseJsonText(text, {depth}).isOk(), "read under a limit equal to its nesting");
  if (depth > 0) {
    PROPERTY(!api::parseJsonText(text, {depth - 1}).isOk(), "refused one level below");
  }
  *read = std::move(*ours);
  return {};
}

// The operations tide serves over AWS's JSON protocol, in the model tables' order.
const std::vector<const Operation*>& jsonOperations() {
  static const std::vector<const Operation*> kOps = [] {
    std::vector<const Operation*> ops;
    for (const Operation& o : api::wire::operations()) {
      const api::wire::Service* s = api::wire::findService(o.service);
      if (s != nullptr && !s->targetPrefix.empty()) {
        ops.push_back(&o);
      }
    }
    if (ops.empty()) {
      std::abort(); // the model tables have a JSON service (CloudWatch)
    }
    return ops;
  }();
  return kOps;
}

const Operation& putMetricData() {
  static const Operation* kOp = api::wire::findOperation("monitoring", "PutMetricData");
  if (kOp == nullptr || kOp->input < 0) {
    std::abort();
  }
  return *kOp;
}

enum class Encoding { Json, Query, Cbor };

// The body decoded as the server decodes PutMetricData in that encoding (dispatch.cc).
Result<Json> decodeMetricData(Encoding encoding, std::string_view body) {
  const Shape& input = api::wire::shapeAt(putMetricData().input);
  switch (encoding) {
  case Encoding::Json: {
    TIDE_ASSIGN_OR_RETURN(Json v, api::parseJsonText(body));
    if (!v.is_object()) {
      return Status("SerializationException", "The request body must be a JSON object");
    }
    return api::wire::jsonRequestToHandler(input, std::move(v));
  }
  case Encoding::Query: {
    api::wire::FormParams form;
    TIDE_RETURN_IF_ERROR(api::wire::parseForm(body, form));
    return api::wire::decodeQuery(putMetricData(), form, api::wire::QueryDialect::Query);
  }
  case Encoding::Cbor:
    return api::wire::cborRequestToHandler(&input, body);
  }
  std::abort();
}

} // namespace

Violation checkJsonBody(const uint8_t* data, size_t size) {
  if (size == 0) {
    return {};
  }
  std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
  Json read;
  if (Violation v = checkJsonText(body, {}, &read)) {
    return v;
  }
  if (!read.is_object()) {
    return {};
  }
  const Operation& op = *jsonOperations()[data[0] % jsonOperations().size()];
  if (op.input < 0) {
    return {};
  }
  const Shape& input = api::wire::shapeAt(op.input);
  try {
    Json handler = api::wire::jsonRequestToHandler(input, read);
    PROPERTY(dumps(handler), "the handler's JSON dumps");
    PROPERTY(dumps(api::wire::handlerResultToJson(input, handler)),
             "the handler's JSON written back by the shape dumps");
  } catch (...) {
    PROPERTY(false, "the JSON protocol's mapping never throws");
  }
  return {};
}

Violation checkMetricData(const uint8_t* data, size_t size) {
  if (size == 0) {
    return {};
  }
  auto encoding = static_cast<Encoding>(data[0] % 3);
  std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
  const Shape& input = api::wire::shapeAt(putMetricData().input);
  Result<Json> decoded = Json();
  try {
    decoded = decodeMetricData(encoding, body);
  } catch (...) {
    PROPERTY(false, "decoding never throws");
  }
  if (!decoded) {
    const std::string& code = decoded.status().code();
    PROPERTY(encoding == Encoding::Query
                 ? code == "MalformedQueryString" || code == "ValidationError"
                 : code == "SerializationException",
             "a refusal has its encoding's code");
    PROPERTY(utf8(decoded.status().message()), "a refusal's message is UTF-8");
    return {};
  }
  PROPERTY(decoded->is_object(), "an accepted body is an object");
  PROPERTY(dumps(*decoded), "an accepted body dumps (valid UTF-8)");
  try {
    Json wire = api::wire::handlerResultToJson(input, *decoded);
    Result<Json> asJson = decodeMetricData(Encoding::Json, wire.dump());
    PROPERTY(asJson.isOk(), "its wire form sent as JSON decodes");
    PROPERTY(api::wire::handlerResultToJson(input, *asJson) == wire,
             "its wire form sent as JSON decodes to the same wire form");
    Result<Json> asCbor =
        decodeMetricData(Encoding::Cbor, api::wire::handlerResultToCbor(input, *decoded));
    PROPERTY(asCbor.isOk() && dumps(*asCbor), "its wire form sent as CBOR decodes");
  } catch (...) {
    PROPERTY(false, "encoding and decoding again never throw");
  }
  return {};
}

bool decodesMetricData(const uint8_t* data, size_t size) {
  if (size == 0) {
    return false;
  }
  std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
  return decodeMetricData(static_cast<Encoding>(data[0] % 3), body).isOk();
}

bool readsJsonBody(const uint8_t* data, size_t size) {
  return size > 0 &&
         api::parseJsonText(std::string_view(reinterpret_cast<const char*>(data) + 1, size - 1))
             .isOk();
}

} // namespace tide::fuzz
