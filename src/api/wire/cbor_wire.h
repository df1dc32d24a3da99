// Smithy RPC v2 CBOR bodies (POST /service/<service>/operation/<Op>, smithy-protocol:
// rpc-v2-cbor): a request body read into the handlers' JSON, and a result written back by
// walking the operation's output shape, so that timestamps go out as tag 1, blobs as byte
// strings and numbers as the model's type.
#pragma once

#include "api/wire/model.h"
#include "common/status.h"

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

namespace tide::api::wire {

using Json = nlohmann::json;

// The request body as the handlers take it (an empty body is an empty input). A body that is not
// one CBOR map is a SerializationException naming the byte.
Result<Json> cborRequestToHandler(const Shape* input, std::string_view body);

// A handler's result as CBOR: the modelled members only.
std::string handlerResultToCbor(const Shape& output, const Json& result);

// {"__type": code, "message": message} as CBOR.
std::string cborError(const std::string& code, const std::string& message);

} // namespace tide::api::wire
