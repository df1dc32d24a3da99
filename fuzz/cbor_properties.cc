#include "cbor_properties.h"

#include "api/cbor.h"

#include <cmath>
#include <string>
#include <string_view>

namespace tide::fuzz {
namespace {

using api::Json;

#define PROPERTY(cond, what)                                                                       \
  do {                                                                                             \
    if (!(cond)) {                                                                                 \
      return Violation{what, __LINE__, "fuzz/cbor_properties.cc"};                                 \
    }                                                                                              \
  } while (0)

// A refusal is a SerializationException whose message ends "at byte <offset>", the offset
// inside the input (or at its end).
bool refusedWithOffset(const Status& s, size_t size) {
  if (s.code() != "SerializationException") {
    return false;
  }
  const std::string& m = s.message();
  size_t at = m.rfind(" at byte ");
  if (at == std::string::npos) {
    return false;
  }
  std::string digits = m.substr(at + 9);
  if (digits.empty() || digits.size() > 19 ||
      digits.find_first_not_of("0123456789") != std::string::npos) {
    return false;
  }
  return std::stoull(digits) <= size;
}

// Nesting of arrays and maps (a scalar is 0); the value is at most Limits::maxDepth deep.
size_t depthOf(const Json& v) {
  size_t deepest = 0;
  if (v.is_array() || v.is_object()) {
    for (const Json& item : v) {
      size_t d = depthOf(item);
      deepest = d > deepest ? d : deepest;
    }
    return deepest + 1;
  }
  return 0;
}

bool finiteNumbers(const Json& v) {
  if (v.is_number_float()) {
    return std::isfinite(v.get<double>());
  }
  if (v.is_array() || v.is_object()) {
    for (const Json& item : v) {
      if (!finiteNumbers(item)) {
        return false;
      }
    }
  }
  return true;
}

// dump() throws on a string that is not valid UTF-8.
bool validUtf8(const Json& v) {
  try {
    (void)v.dump();
    return true;
  } catch (const Json::exception&) {
    return false;
  }
}

} // namespace

Violation checkCborItem(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  Result<Json> decoded = api::cbor::decode(bytes);
  if (!decoded) {
    PROPERTY(refusedWithOffset(decoded.status(), size),
             "a refusal is a SerializationException at a byte offset inside the input");
    return {};
  }
  const Json& value = *decoded;
  PROPERTY(validUtf8(value), "decoded text is valid UTF-8");
  PROPERTY(finiteNumbers(value), "decoded floats are finite");

  std::string encoded = api::cbor::encode(value);
  Result<Json> again = api::cbor::decode(encoded);
  PROPERTY(again.isOk(), "the encoding of a decoded value decodes");
  PROPERTY(*again == value, "the encoding of a decoded value decodes to the same value");
  PROPERTY(again->dump() == value.dump(),
           "the encoding of a decoded value keeps its number types (integer or float)");
  PROPERTY(api::cbor::encode(*again) == encoded, "encoding is stable (canonical)");

  // Every prefix is refused (all of them for small inputs, 16 spread over a larger one).
  size_t step = size <= 32 ? 1 : size / 16;
  for (size_t n = size - 1;; n = n >= step ? n - step : 0) {
    Result<Json> prefix = api::cbor::decode(bytes.substr(0, n));
    PROPERTY(!prefix.isOk() && refusedWithOffset(prefix.status(), n),
             "a prefix of a data item is refused");
    if (n == 0) {
      break;
    }
  }
  PROPERTY(!api::cbor::decode(std::string(bytes) + '\0').isOk(),
           "a byte after the data item is refused");

  size_t depth = depthOf(value);
  PROPERTY(depth <= api::cbor::Limits{}.maxDepth, "the value is within the depth limit");
  PROPERTY(api::cbor::decode(bytes, {.maxDepth = depth}).isOk(),
           "the value decodes under a depth limit equal to its nesting");
  if (depth > 0) {
    Result<Json> shallow = api::cbor::decode(bytes, {.maxDepth = depth - 1});
    PROPERTY(!shallow.isOk() && refusedWithOffset(shallow.status(), size),
             "the value is refused one level of nesting below");
  }
  return {};
}

} // namespace tide::fuzz
