// AWS JSON 1.0 / 1.1 and the JSON form of Smithy RPC v2 CBOR bodies: the handlers take and
// give JSON with AWS's member names already, so what the model adds is the types the wire
// carries differently: timestamps (epoch seconds on the wire, ISO 8601 strings in handlers) and
// blobs (bytes in CBOR, base64 in handlers). Responses carry only the members the model has.
#pragma once

#include "api/wire/model.h"

#include <nlohmann/json.hpp>

namespace tide::api::wire {

using Json = nlohmann::json;

// A request body as the handlers take it: timestamps given as numbers become ISO 8601 strings,
// binary values (from CBOR) become base64 strings. Members the model does not have are kept for
// the handler to refuse by name.
Json jsonRequestToHandler(const Shape& input, Json body);

// A handler's result as the JSON protocols send it: only modelled members, timestamps as epoch
// seconds (fractional when not whole).
Json handlerResultToJson(const Shape& output, const Json& result);

} // namespace tide::api::wire
