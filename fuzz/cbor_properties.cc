#include "cbor_properties.h"

#include "api/cbor.h"

#include <cmath>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

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

// An independent reading of RFC 8949's well-formedness (§3, Appendix C), without the
// decoder's code: where the first data item of b ends, or nullopt when b does not start with a
// well-formed one. Iterative (inputs are up to max_len bytes of nesting).
std::optional<size_t> wellFormedEnd(std::string_view b) {
  struct Open {
    bool indefinite = false;
    uint64_t itemsLeft = 0; // definite array or map: data items still to come (keys count)
    int stringMajor = -1;   // an indefinite string: the major type of its chunks
    bool isMap = false;
    bool keyPending = false; // indefinite map: a key was read, its value not yet
  };
  std::vector<Open> open;
  bool tagPending = false; // a tag was read, its content not yet
  size_t pos = 0;
  while (true) {
    if (pos >= b.size()) {
      return std::nullopt;
    }
    uint8_t initial = static_cast<uint8_t>(b[pos++]);
    int major = initial >> 5;
    int info = initial & 0x1f;
    uint64_t argument = static_cast<uint64_t>(info);
    if (info >= 24 && info <= 27) {
      size_t n = size_t{1} << (info - 24);
      if (b.size() - pos < n) {
        return std::nullopt;
      }
      argument = 0;
      for (size_t i = 0; i < n; ++i) {
        argument = (argument << 8) | static_cast<uint8_t>(b[pos++]);
      }
    } else if (info >= 28 && info <= 30) {
      return std::nullopt;
    }
    bool inString = !open.empty() && open.back().stringMajor >= 0;
    bool completes = true;          // this head ends a data item (which may end its container)
    if (info == 31 && major == 7) { // break
      if (tagPending || open.empty() || !open.back().indefinite || open.back().keyPending) {
        return std::nullopt;
      }
      open.pop_back();
    } else {
      if (inString && (major != open.back().stringMajor || info == 31)) {
        return std::nullopt; // a chunk: a definite string of the same major type
      }
      tagPending = false;
      if (info == 31) {
        if (major == 0 || major == 1 || major == 6) {
          return std::nullopt;
        }
        Open o;
        o.indefinite = true;
        o.stringMajor = (major == 2 || major == 3) ? major : -1;
        o.isMap = major == 5;
        open.push_back(o);
        completes = false;
      } else if (major == 2 || major == 3) {
        if (argument > b.size() - pos) {
          return std::nullopt;
        }
        pos += argument;
      } else if (major == 4 || major == 5) {
        if (argument > b.size()) {
          return std::nullopt; // more items than bytes: cannot be complete
        }
        if (argument > 0) {
          Open o;
          o.itemsLeft = major == 5 ? 2 * argument : argument;
          o.isMap = major == 5;
          open.push_back(o);
          completes = false;
        }
      } else if (major == 6) {
        tagPending = true;
        completes = false;
      } else if (major == 7 && info == 24 && argument < 32) {
        return std::nullopt;
      }
    }
    while (completes) {
      if (open.empty()) {
        return pos;
      }
      Open& o = open.back();
      if (o.stringMajor >= 0) {
        break; // a chunk
      }
      if (o.indefinite) {
        if (o.isMap) {
          o.keyPending = !o.keyPending;
        }
        break;
      }
      if (--o.itemsLeft > 0) {
        break;
      }
      open.pop_back();
    }
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
  PROPERTY(wellFormedEnd(bytes) == size,
           "a decoded input is one well-formed data item (RFC 8949 Appendix C's reading)");
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
