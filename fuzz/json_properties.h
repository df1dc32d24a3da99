// Properties of the JSON body reader (src/api/json_text.cc: parseJsonText) and of the decoders
// of metric input (PutMetricData in JSON, query and CBOR) that must hold for every input. The
// libFuzzer targets fuzz_json_body and fuzz_metric_data check them on generated inputs (clang,
// scripts/fuzz); fuzz/corpus_test.cc checks them on every file of fuzz/corpus/fuzz_json_body/
// and fuzz/corpus/fuzz_metric_data/ in the normal build.
#pragma once

#include "http_properties.h" // Violation, abortOnViolation

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace tide::fuzz {

// The first byte picks an operation of the services tide serves over AWS's JSON protocol
// (modulo their count); the rest is the request body. parseJsonText (the API's limits) never
// throws; a refusal is a SerializationException with a UTF-8 message. It agrees with an
// independent reading (nlohmann's unbounded parser, with a callback that notes repeated keys and
// the deepest nesting): what that refuses is refused; what it reads is refused exactly when it
// repeats a key in one object or nests deeper than the limit, and read as the same value
// otherwise. An accepted value dumps (valid UTF-8), reads back from its dump as itself, is read
// under a depth limit equal to its nesting and refused one level below, and goes through the
// operation's input shape (jsonRequestToHandler, then handlerResultToJson) to JSON that dumps.
Violation checkJsonBody(const uint8_t* data, size_t size);

// The first byte picks the encoding (its value modulo 3: AWS JSON 1.0, query, Smithy RPC v2
// CBOR); the rest is a PutMetricData request body, decoded as the server decodes it. Nothing
// throws; a refusal has its encoding's code (SerializationException for JSON and CBOR;
// MalformedQueryString or ValidationError for query) and a UTF-8 message. An accepted body is a
// JSON object that dumps; its wire form (handlerResultToJson) sent again as JSON decodes to the
// same wire form, and sent as CBOR (handlerResultToCbor) decodes.
Violation checkMetricData(const uint8_t* data, size_t size);

// Whether the input (selector byte and body, as for checkMetricData) decodes: for the seed
// corpus, whose files named invalid-* must be refused.
bool decodesMetricData(const uint8_t* data, size_t size);

// Whether parseJsonText (the API's limits) reads the body after the first byte: for the seed
// corpus of fuzz_json_body, whose files named invalid-* must be refused.
bool readsJsonBody(const uint8_t* data, size_t size);

} // namespace tide::fuzz
