// CBOR (RFC 8949) as Smithy RPC v2 CBOR uses it: the codec under the model-driven layer that
// maps CloudWatch's CBOR requests to the handlers' JSON and their JSON answers back (issue 10).
//
// decode() reads exactly one data item into a Json value; it is written for untrusted network
// bytes: it never recurses (an explicit stack, bounded by Limits::maxDepth), never allocates for
// a declared length the remaining input cannot hold, and refuses what JSON cannot hold or Smithy
// does not allow with a SerializationException that names the byte offset. What it accepts:
//  - every major type, in definite and indefinite lengths (an indefinite string is made of
//    definite chunks of its own major type);
//  - integers up to 64 bits: 0..2^64-1 and -2^63..-1 (a negative integer below -2^63, which
//    JSON numbers here cannot hold, is refused rather than wrapped);
//  - half, single and double floats, as a JSON float; NaN and the infinities are refused (JSON
//    has no value for them, and no CloudWatch member takes one);
//  - true, false, null, and undefined (read as null);
//  - text strings, which must be valid UTF-8 (each chunk on its own); byte strings, as a Json
//    binary value (Json::binary);
//  - maps whose keys are text strings (Smithy's rule), each key once;
//  - tag 1 (epoch seconds) on an integer or a float, read as that plain number (the model knows
//    the member is a timestamp). Every other tag, tag 1 on anything else, and simple values
//    other than false/true/null/undefined are refused.
// Map key order is not kept (Json objects are sorted by key).
//
// The encoder writes definite lengths only, integers in their shortest form, and floats in the
// shortest of half, single and double precision that holds the value exactly (RFC 8949 §4.2.2's
// preferred serialization), so the output is canonical for the values JSON holds.
//
// All functions are pure and safe to call from any thread.
#pragma once

#include "common/status.h"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace tide::api {
using Json = nlohmann::json;
} // namespace tide::api

namespace tide::api::cbor {

// Bounds on what decode() reads, beyond the size of its input.
struct Limits {
  size_t maxDepth = 64;     // arrays and maps nested deeper than this are refused
  size_t maxItems = 100000; // data items in all (values, map keys, tags, string chunks)
};

// Reads bytes as exactly one CBOR data item (nothing may follow it). On failure returns
// Status("SerializationException", "<what> at byte <offset>").
Result<Json> decode(std::string_view bytes, const Limits& limits = {});

// Appends CBOR data items to a string. Writes heads only: the caller writes as many items after
// an array or map header as it announced (a map's keys and values alternating).
class Writer {
public:
  std::string& out() { return out_; }

  void unsignedInteger(uint64_t value);         // major type 0
  void negativeInteger(uint64_t minusOneMinus); // major type 1: the value -1 - minusOneMinus
  void integer(int64_t value);                  // major type 0 or 1, as the sign says
  // The shortest of half, single and double precision that holds the value exactly; NaN is
  // written as the half-precision quiet NaN (decode() refuses NaN and the infinities).
  void floating(double value);
  void boolean(bool value);
  void null();
  void text(std::string_view utf8); // the caller ensures valid UTF-8
  void bytes(std::string_view bytes);
  void arrayHeader(uint64_t count);
  void mapHeader(uint64_t count);
  // Tag 1 and the epoch seconds: an integer when whole (and within 64 bits), otherwise a double.
  void timestamp(double epochSeconds);

private:
  void head(uint8_t major, uint64_t argument);
  std::string out_;
};

// Encodes plain JSON: objects as maps with text keys, arrays, integers, floats (as
// Writer::floating), strings, booleans, null, and binary values as byte strings. Recurses once
// per level of nesting of the value.
std::string encode(const Json& value);

} // namespace tide::api::cbor
