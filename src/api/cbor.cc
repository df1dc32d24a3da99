#include "api/cbor.h"

#include <cfloat>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <utility>
#include <vector>

namespace tide::api::cbor {

namespace {

constexpr uint8_t kUnsigned = 0; // major type 0: unsigned integer
constexpr uint8_t kNegative = 1; // major type 1: negative integer
constexpr uint8_t kBytes = 2;    // major type 2: byte string
constexpr uint8_t kText = 3;     // major type 3: text string (UTF-8)
constexpr uint8_t kArray = 4;    // major type 4: array
constexpr uint8_t kMap = 5;      // major type 5: map
constexpr uint8_t kTag = 6;      // major type 6: tag
constexpr uint8_t kSimple = 7;   // major type 7: simple values, floats and break

constexpr uint8_t kFalse = 20;      // simple value false
constexpr uint8_t kTrue = 21;       // simple value true
constexpr uint8_t kNull = 22;       // simple value null
constexpr uint8_t kUndefined = 23;  // simple value undefined
constexpr uint8_t kHalf = 25;       // additional information of a half-precision float
constexpr uint8_t kSingle = 26;     // ... of a single-precision float
constexpr uint8_t kDouble = 27;     // ... of a double-precision float
constexpr uint8_t kIndefinite = 31; // indefinite length, or break in major type 7

constexpr uint64_t kEpochSecondsTag = 1;

// The offset of the first byte that is not part of valid UTF-8 (no overlong forms, no
// surrogates, nothing above U+10FFFF), or npos when all of s is valid.
size_t invalidUtf8At(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    uint8_t c = static_cast<uint8_t>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len = 0;
    uint32_t cp = 0;
    uint32_t min = 0;
    if ((c & 0xe0) == 0xc0) {
      len = 2, cp = c & 0x1f, min = 0x80;
    } else if ((c & 0xf0) == 0xe0) {
      len = 3, cp = c & 0x0f, min = 0x800;
    } else if ((c & 0xf8) == 0xf0) {
      len = 4, cp = c & 0x07, min = 0x10000;
    } else {
      return i;
    }
    if (s.size() - i < len) {
      return i;
    }
    for (size_t k = 1; k < len; ++k) {
      uint8_t cc = static_cast<uint8_t>(s[i + k]);
      if ((cc & 0xc0) != 0x80) {
        return i;
      }
      cp = (cp << 6) | (cc & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
      return i;
    }
    i += len;
  }
  return std::string_view::npos;
}

double halfToDouble(uint16_t h) {
  int exponent = (h >> 10) & 0x1f;
  int mantissa = h & 0x3ff;
  double v = 0;
  if (exponent == 0) {
    v = std::ldexp(mantissa, -24); // zero or subnormal
  } else if (exponent != 31) {
    v = std::ldexp(mantissa + 1024, exponent - 25);
  } else {
    v = mantissa == 0 ? HUGE_VAL : std::nan("");
  }
  return (h & 0x8000) != 0 ? -v : v;
}

// The half-precision bits of v when a half holds it exactly (NaN excluded).
std::optional<uint16_t> doubleToHalf(double v) {
  uint16_t sign = std::signbit(v) ? 0x8000 : 0;
  double a = std::fabs(v);
  if (a == 0) {
    return sign;
  }
  if (std::isinf(a)) {
    return static_cast<uint16_t>(sign | 0x7c00);
  }
  if (a > 65504.0 || a < 0x1p-24) {
    return std::nullopt;
  }
  if (a < 0x1p-14) { // subnormal: a multiple of 2^-24
    double m = a * 0x1p24;
    if (m != std::floor(m)) {
      return std::nullopt;
    }
    return static_cast<uint16_t>(sign | static_cast<uint16_t>(m));
  }
  int e = 0;
  double significand = std::ldexp(std::frexp(a, &e), 11); // in [1024, 2048)
  if (significand != std::floor(significand)) {
    return std::nullopt;
  }
  int exponent = e - 1 + 15; // 1..30
  return static_cast<uint16_t>(sign | (exponent << 10) |
                               (static_cast<uint16_t>(significand) - 1024));
}

// One data item's initial byte and argument.
struct Head {
  size_t offset = 0;       // of the initial byte
  uint8_t major = 0;       // major type, 0..7
  uint8_t info = 0;        // additional information, 0..31
  uint64_t argument = 0;   // the value, length, count, tag number or float bits
  bool indefinite = false; // a string, array or map of indefinite length
  bool isBreak = false;    // the break stop code (0xff)
};

const char* describe(const Head& h) {
  switch (h.major) {
  case kUnsigned:
    return "an unsigned integer";
  case kNegative:
    return "a negative integer";
  case kBytes:
    return "a byte string";
  case kText:
    return "a text string";
  case kArray:
    return "an array";
  case kMap:
    return "a map";
  case kTag:
    return "a tag";
  default:
    break;
  }
  if (h.isBreak) {
    return "a break";
  }
  if (h.info == kHalf || h.info == kSingle || h.info == kDouble) {
    return "a float";
  }
  if (h.info == kFalse || h.info == kTrue) {
    return "a boolean";
  }
  if (h.info == kNull || h.info == kUndefined) {
    return "null";
  }
  return "a simple value";
}

// A container being read: where its items go and how many are still to come. Its container
// pointer stays valid while it is open: items are only added to the innermost open container,
// so no vector or map that holds an open container grows until that container is closed.
struct Frame {
  Json* container = nullptr; // inside the result; stable while the frame is open
  bool isMap = false;
  bool indefinite = false; // ends at a break
  uint64_t remaining = 0;  // definite only: items (array) or pairs (map) still to come
  bool haveKey = false;    // map only: the key of the next value has been read
  std::string key;         // ... that key
};

class Decoder {
public:
  Decoder(std::string_view in, const Limits& limits) : in_(in), limits_(limits) {}

  Result<Json> run() {
    Json root;
    std::vector<Frame> stack; // at most limits_.maxDepth frames
    bool done = false;
    while (!done) {
      if (!stack.empty() && !stack.back().indefinite && stack.back().remaining == 0) {
        stack.pop_back();
        done = stack.empty();
        continue;
      }
      TIDE_ASSIGN_OR_RETURN(Head h, readHead());
      if (h.isBreak) {
        if (stack.empty() || !stack.back().indefinite) {
          return error(h.offset, "break (0xff) outside an indefinite-length array or map");
        }
        if (stack.back().haveKey) {
          return error(h.offset, "break (0xff) after a map key, before its value");
        }
        stack.pop_back();
        done = stack.empty();
        continue;
      }
      TIDE_RETURN_IF_ERROR(countItem(h.offset));
      if (!stack.empty() && stack.back().isMap && !stack.back().haveKey) {
        TIDE_RETURN_IF_ERROR(readKey(h, stack.back()));
        continue;
      }
      Json value;
      bool isContainer = false;
      switch (h.major) {
      case kUnsigned:
        value = h.argument;
        break;
      case kNegative: {
        TIDE_ASSIGN_OR_RETURN(value, negative(h));
        break;
      }
      case kBytes: {
        TIDE_ASSIGN_OR_RETURN(std::string s, readString(h));
        value = Json::binary(std::vector<std::uint8_t>(s.begin(), s.end()));
        break;
      }
      case kText: {
        TIDE_ASSIGN_OR_RETURN(std::string s, readString(h));
        value = std::move(s);
        break;
      }
      case kArray:
      case kMap: {
        if (stack.size() >= limits_.maxDepth) {
          return error(h.offset, "arrays and maps nested deeper than " +
                                     std::to_string(limits_.maxDepth) + " levels");
        }
        // Every item takes at least one byte: a count the rest of the input cannot hold is
        // refused before anything is allocated for it.
        uint64_t perEntry = h.major == kMap ? 2 : 1;
        if (!h.indefinite && h.argument > (in_.size() - pos_) / perEntry) {
          return error(h.offset, std::string(describe(h)) + " of " + std::to_string(h.argument) +
                                     (h.major == kMap ? " pairs" : " items") + " in the " +
                                     std::to_string(in_.size() - pos_) + " bytes left");
        }
        value = h.major == kMap ? Json::object() : Json::array();
        isContainer = true;
        break;
      }
      case kTag: {
        TIDE_ASSIGN_OR_RETURN(value, epochSeconds(h));
        break;
      }
      default: {
        TIDE_ASSIGN_OR_RETURN(value, simple(h));
        break;
      }
      }
      Json* slot = place(stack, root, std::move(value));
      if (isContainer) {
        stack.push_back(Frame{slot, h.major == kMap, h.indefinite, h.argument, false, {}});
      } else {
        done = stack.empty();
      }
    }
    if (pos_ != in_.size()) {
      return error(pos_, "trailing bytes after the data item (" +
                             std::to_string(in_.size() - pos_) + " of them)");
    }
    return root;
  }

private:
  Status error(size_t offset, const std::string& what) const {
    return Status("SerializationException", "CBOR: " + what + " at byte " + std::to_string(offset));
  }

  Status countItem(size_t offset) {
    if (++items_ > limits_.maxItems) {
      return error(offset, "more than " + std::to_string(limits_.maxItems) + " data items");
    }
    return Status::ok();
  }

  Result<Head> readHead() {
    Head h;
    h.offset = pos_;
    if (pos_ >= in_.size()) {
      return error(pos_, "the input ends where a data item should start");
    }
    uint8_t initial = static_cast<uint8_t>(in_[pos_++]);
    h.major = initial >> 5;
    h.info = initial & 0x1f;
    if (h.info < 24) {
      h.argument = h.info;
    } else if (h.info <= 27) {
      size_t n = size_t{1} << (h.info - 24);
      if (in_.size() - pos_ < n) {
        return error(h.offset, "the input ends inside the head of " + std::string(describe(h)) +
                                   " (" + std::to_string(n) + " argument bytes needed)");
      }
      for (size_t i = 0; i < n; ++i) {
        h.argument = (h.argument << 8) | static_cast<uint8_t>(in_[pos_++]);
      }
    } else if (h.info < kIndefinite) {
      return error(h.offset, "reserved additional information " + std::to_string(h.info));
    } else if (h.major == kSimple) {
      h.isBreak = true;
    } else if (h.major == kUnsigned || h.major == kNegative || h.major == kTag) {
      return error(h.offset, std::string(describe(h)) + " cannot have an indefinite length");
    } else {
      h.indefinite = true;
    }
    return h;
  }

  // The bytes of a byte or text string (h.major), definite or made of definite chunks.
  Result<std::string> readString(const Head& h) {
    if (!h.indefinite) {
      TIDE_ASSIGN_OR_RETURN(std::string_view s, readChunk(h));
      return std::string(s);
    }
    std::string out;
    while (true) {
      TIDE_ASSIGN_OR_RETURN(Head chunk, readHead());
      if (chunk.isBreak) {
        return out;
      }
      TIDE_RETURN_IF_ERROR(countItem(chunk.offset));
      if (chunk.major != h.major || chunk.indefinite) {
        return error(chunk.offset, "a chunk of an indefinite-length " +
                                       std::string(h.major == kText ? "text" : "byte") +
                                       " string is " +
                                       (chunk.indefinite ? std::string("of indefinite length")
                                                         : std::string(describe(chunk))));
      }
      TIDE_ASSIGN_OR_RETURN(std::string_view s, readChunk(chunk));
      out.append(s);
    }
  }

  // A definite-length string's bytes; text must be valid UTF-8.
  Result<std::string_view> readChunk(const Head& h) {
    if (h.argument > in_.size() - pos_) {
      return error(h.offset, std::string(describe(h)) + " of " + std::to_string(h.argument) +
                                 " bytes in the " + std::to_string(in_.size() - pos_) +
                                 " bytes left");
    }
    std::string_view s = in_.substr(pos_, h.argument);
    if (h.major == kText) {
      if (size_t bad = invalidUtf8At(s); bad != std::string_view::npos) {
        return error(pos_ + bad, "invalid UTF-8 in a text string");
      }
    }
    pos_ += h.argument;
    return s;
  }

  Status readKey(const Head& h, Frame& map) {
    if (h.major != kText) {
      return error(h.offset, "a map key is " + std::string(describe(h)) + ", not a text string");
    }
    TIDE_ASSIGN_OR_RETURN(std::string key, readString(h));
    if (map.container->find(key) != map.container->end()) {
      return error(h.offset, key.size() <= 64 ? "the map key \"" + key + "\" is repeated"
                                              : "a map key is repeated");
    }
    map.key = std::move(key);
    map.haveKey = true;
    return Status::ok();
  }

  Result<Json> negative(const Head& h) const {
    if (h.argument > static_cast<uint64_t>(INT64_MAX)) {
      return error(h.offset, "a negative integer below -2^63");
    }
    return Json(-1 - static_cast<int64_t>(h.argument));
  }

  Result<Json> floating(const Head& h) const {
    double v = 0;
    if (h.info == kHalf) {
      v = halfToDouble(static_cast<uint16_t>(h.argument));
    } else if (h.info == kSingle) {
      uint32_t bits = static_cast<uint32_t>(h.argument);
      float f = 0;
      std::memcpy(&f, &bits, sizeof f);
      v = f;
    } else {
      std::memcpy(&v, &h.argument, sizeof v);
    }
    if (std::isnan(v)) {
      return error(h.offset, "a NaN float (JSON has no NaN)");
    }
    if (std::isinf(v)) {
      return error(h.offset, "an infinite float (JSON has no Infinity)");
    }
    return Json(v);
  }

  Result<Json> simple(const Head& h) const {
    switch (h.info) {
    case kFalse:
      return Json(false);
    case kTrue:
      return Json(true);
    case kNull:
    case kUndefined:
      return Json(nullptr);
    case kHalf:
    case kSingle:
    case kDouble:
      return floating(h);
    case 24:
      if (h.argument < 32) {
        return error(h.offset, "simple value " + std::to_string(h.argument) +
                                   " in two bytes (not well-formed)");
      }
      break;
    default:
      break;
    }
    return error(h.offset, "simple value " + std::to_string(h.argument) + " is not supported");
  }

  // Tag 1 and the number it encloses, read as that number.
  Result<Json> epochSeconds(const Head& tag) {
    if (tag.argument != kEpochSecondsTag) {
      return error(tag.offset, "tag " + std::to_string(tag.argument) +
                                   " is not supported (only tag 1, epoch seconds)");
    }
    TIDE_ASSIGN_OR_RETURN(Head h, readHead());
    if (!h.isBreak) {
      TIDE_RETURN_IF_ERROR(countItem(h.offset));
    }
    if (h.major == kUnsigned) {
      return Json(h.argument);
    }
    if (h.major == kNegative) {
      return negative(h);
    }
    if (h.major == kSimple && (h.info == kHalf || h.info == kSingle || h.info == kDouble)) {
      return floating(h);
    }
    return error(h.offset,
                 "tag 1 (epoch seconds) encloses " + std::string(describe(h)) + ", not a number");
  }

  // Puts value where the innermost open container expects its next item (or as the result).
  Json* place(std::vector<Frame>& stack, Json& root, Json value) {
    if (stack.empty()) {
      root = std::move(value);
      return &root;
    }
    Frame& top = stack.back();
    Json* slot = nullptr;
    if (top.isMap) {
      slot = &(*top.container)[top.key];
      *slot = std::move(value);
      top.haveKey = false;
      top.key.clear();
    } else {
      top.container->push_back(std::move(value));
      slot = &top.container->back();
    }
    if (!top.indefinite) {
      --top.remaining;
    }
    return slot;
  }

  std::string_view in_;
  Limits limits_;
  size_t pos_ = 0;
  size_t items_ = 0;
};

void encodeValue(Writer& w, const Json& v) {
  switch (v.type()) {
  case Json::value_t::null:
    w.null();
    return;
  case Json::value_t::boolean:
    w.boolean(v.get<bool>());
    return;
  case Json::value_t::number_integer:
    w.integer(v.get<int64_t>());
    return;
  case Json::value_t::number_unsigned:
    w.unsignedInteger(v.get<uint64_t>());
    return;
  case Json::value_t::number_float:
    w.floating(v.get<double>());
    return;
  case Json::value_t::string: {
    w.text(v.get_ref<const std::string&>());
    return;
  }
  case Json::value_t::binary: {
    const Json::binary_t& b = v.get_binary();
    w.bytes(std::string_view(reinterpret_cast<const char*>(b.data()), b.size()));
    return;
  }
  case Json::value_t::array:
    w.arrayHeader(v.size());
    for (const Json& item : v) {
      encodeValue(w, item);
    }
    return;
  case Json::value_t::object:
    w.mapHeader(v.size());
    for (auto it = v.begin(); it != v.end(); ++it) {
      w.text(it.key());
      encodeValue(w, it.value());
    }
    return;
  case Json::value_t::discarded:
    break;
  }
  // Only a parser callback makes a discarded value; no caller hands one to the encoder.
  std::fprintf(stderr, "cbor::encode: a discarded JSON value\n");
  std::abort();
}

} // namespace

Result<Json> decode(std::string_view bytes, const Limits& limits) {
  return Decoder(bytes, limits).run();
}

void Writer::head(uint8_t major, uint64_t argument) {
  uint8_t initial = static_cast<uint8_t>(major << 5);
  int n = 0;
  if (argument < 24) {
    out_.push_back(static_cast<char>(initial | argument));
    return;
  } else if (argument <= 0xff) {
    out_.push_back(static_cast<char>(initial | 24));
    n = 1;
  } else if (argument <= 0xffff) {
    out_.push_back(static_cast<char>(initial | 25));
    n = 2;
  } else if (argument <= 0xffffffff) {
    out_.push_back(static_cast<char>(initial | 26));
    n = 4;
  } else {
    out_.push_back(static_cast<char>(initial | 27));
    n = 8;
  }
  for (int i = n - 1; i >= 0; --i) {
    out_.push_back(static_cast<char>((argument >> (8 * i)) & 0xff));
  }
}

void Writer::unsignedInteger(uint64_t value) {
  head(kUnsigned, value);
}

void Writer::negativeInteger(uint64_t minusOneMinus) {
  head(kNegative, minusOneMinus);
}

void Writer::integer(int64_t value) {
  if (value >= 0) {
    head(kUnsigned, static_cast<uint64_t>(value));
  } else {
    head(kNegative, static_cast<uint64_t>(-(value + 1)));
  }
}

void Writer::floating(double value) {
  auto put = [this](uint8_t info, uint64_t bits, int n) {
    out_.push_back(static_cast<char>((kSimple << 5) | info));
    for (int i = n - 1; i >= 0; --i) {
      out_.push_back(static_cast<char>((bits >> (8 * i)) & 0xff));
    }
  };
  if (std::isnan(value)) {
    put(kHalf, 0x7e00, 2);
    return;
  }
  if (std::optional<uint16_t> half = doubleToHalf(value)) {
    put(kHalf, *half, 2);
    return;
  }
  if (std::fabs(value) <= FLT_MAX && static_cast<double>(static_cast<float>(value)) == value) {
    float f = static_cast<float>(value);
    uint32_t bits = 0;
    std::memcpy(&bits, &f, sizeof bits);
    put(kSingle, bits, 4);
    return;
  }
  uint64_t bits = 0;
  std::memcpy(&bits, &value, sizeof bits);
  put(kDouble, bits, 8);
}

void Writer::boolean(bool value) {
  out_.push_back(static_cast<char>((kSimple << 5) | (value ? kTrue : kFalse)));
}

void Writer::null() {
  out_.push_back(static_cast<char>((kSimple << 5) | kNull));
}

void Writer::text(std::string_view utf8) {
  head(kText, utf8.size());
  out_.append(utf8);
}

void Writer::bytes(std::string_view bytes) {
  head(kBytes, bytes.size());
  out_.append(bytes);
}

void Writer::arrayHeader(uint64_t count) {
  head(kArray, count);
}

void Writer::mapHeader(uint64_t count) {
  head(kMap, count);
}

void Writer::timestamp(double epochSeconds) {
  head(kTag, kEpochSecondsTag);
  if (std::trunc(epochSeconds) == epochSeconds && epochSeconds >= -0x1p63 &&
      epochSeconds < 0x1p63) {
    integer(static_cast<int64_t>(epochSeconds));
    return;
  }
  uint64_t bits = 0;
  std::memcpy(&bits, &epochSeconds, sizeof bits);
  out_.push_back(static_cast<char>((kSimple << 5) | kDouble));
  for (int i = 7; i >= 0; --i) {
    out_.push_back(static_cast<char>((bits >> (8 * i)) & 0xff));
  }
}

std::string encode(const Json& value) {
  Writer w;
  encodeValue(w, value);
  return std::move(w.out());
}

} // namespace tide::api::cbor
