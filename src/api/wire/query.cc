#include "api/wire/query.h"

#include "common/text.h"

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <set>
#include <vector>

namespace tide::api::wire {

namespace {

int hexValue(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  return -1;
}

// Form text as a message quotes it: bytes outside printable ASCII as %XX, so that the message
// stays UTF-8 (it goes into XML and JSON errors) and shows what was sent.
std::string quoteRaw(std::string_view raw) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out = "'";
  for (char ch : raw) {
    auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c >= 0x7F) {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    } else {
      out += ch;
    }
  }
  return out + "'";
}

Result<std::string> formDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '+') {
      out.push_back(' ');
    } else if (c == '%') {
      int hi = i + 2 < s.size() ? hexValue(s[i + 1]) : -1;
      int lo = hi >= 0 ? hexValue(s[i + 2]) : -1;
      if (lo < 0) {
        return Status("MalformedQueryString",
                      "A '%' in the query is not followed by two hex digits: " +
                          quoteRaw(s.substr(i, 3)));
      }
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else {
      out.push_back(c);
    }
  }
  if (!isValidUtf8(out)) {
    return Status("MalformedQueryString", "A query parameter is not valid UTF-8: " + quoteRaw(s));
  }
  return out;
}

// Which form names a decode has read, to refuse the rest.
struct Reader {
  const FormParams& params;
  QueryDialect dialect;
  std::set<std::string_view> used;

  const std::string* take(const std::string& key) {
    auto it = params.find(key);
    if (it == params.end()) {
      return nullptr;
    }
    used.insert(it->first);
    return &it->second;
  }

  // Whether any name starts with prefix + ".".
  bool hasUnder(const std::string& prefix) const {
    std::string p = prefix + ".";
    auto it = params.lower_bound(p);
    return it != params.end() && it->first.compare(0, p.size(), p) == 0;
  }

  // The indexes N of names prefix.N or prefix.N.*, in order (N a positive decimal without
  // leading zeros). Names with other shapes are left unread, to be refused.
  std::vector<long> indexesUnder(const std::string& prefix) const {
    std::set<long> seen;
    std::string p = prefix + ".";
    for (auto it = params.lower_bound(p);
         it != params.end() && it->first.compare(0, p.size(), p) == 0; ++it) {
      std::string_view rest = std::string_view(it->first).substr(p.size());
      size_t end = rest.find('.');
      std::string_view digits = rest.substr(0, end);
      if (digits.empty() || digits.size() > 6 || digits[0] == '0' ||
          digits.find_first_not_of("0123456789") != std::string_view::npos) {
        continue;
      }
      long n = 0;
      auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
      if (ec != std::errc() || ptr != digits.data() + digits.size()) {
        continue;
      }
      seen.insert(n);
    }
    return {seen.begin(), seen.end()};
  }

  Status typeError(const std::string& key, const std::string& value,
                   const std::string& expected) const {
    if (dialect == QueryDialect::Ec2) {
      return Status("InvalidParameterValue",
                    "Invalid value '" + value + "' for " + key + ": expected " + expected);
    }
    return Status("ValidationError", "1 validation error detected: Value '" + value + "' at '" +
                                         key + "' failed to satisfy constraint: Member must be " +
                                         expected);
  }

  // The name of a structure member in the form.
  std::string memberName(const Member& m) const {
    if (dialect == QueryDialect::Ec2) {
      if (!m.queryName.empty()) {
        return std::string(m.queryName);
      }
      if (!m.locationName.empty()) {
        std::string n(m.locationName);
        n[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(n[0])));
        return n;
      }
      return std::string(m.name);
    }
    return std::string(m.locationName.empty() ? m.name : m.locationName);
  }

  Result<Json> scalar(const Shape& shape, const std::string& key, const std::string& value) const {
    switch (shape.type) {
    case Type::Boolean:
      if (value == "true") {
        return Json(true);
      }
      if (value == "false") {
        return Json(false);
      }
      return typeError(key, value, "true or false");
    case Type::Integer:
    case Type::Long: {
      int64_t n = 0;
      auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
      bool fits = shape.type == Type::Long || (n >= INT32_MIN && n <= INT32_MAX);
      if (value.empty() || ec != std::errc() || ptr != value.data() + value.size() || !fits) {
        return typeError(key, value,
                         shape.type == Type::Long ? "a whole number" : "a 32-bit whole number");
      }
      return Json(n);
    }
    case Type::Float:
    case Type::Double: {
      errno = 0;
      char* end = nullptr;
      double d = value.empty() ? 0 : std::strtod(value.c_str(), &end);
      if (value.empty() || end != value.c_str() + value.size() || errno != 0 || !std::isfinite(d)) {
        return typeError(key, value, "a finite number");
      }
      return Json(d);
    }
    default: // strings, timestamps (the handler parses them), blobs (base64, as JSON carries them)
      return Json(value);
    }
  }

  // The value at `key` of `shape`, or null when the form has nothing there.
  Result<Json> value(const Shape& shape, const std::string& key, int depth) {
    if (depth > 32) {
      return Status("ValidationError", "Parameter " + key + " is nested too deeply");
    }
    switch (shape.type) {
    case Type::Structure: {
      if (!hasUnder(key)) {
        // An empty structure: botocore sends nothing. The query dialect may send "Name=".
        if (const std::string* v = take(key); v != nullptr && !v->empty()) {
          return typeError(key, *v, "a structure");
        }
        return Json();
      }
      return structure(shape, key + ".", depth);
    }
    case Type::List:
      return list(shape, key, depth);
    case Type::Map:
      return map(shape, key, depth);
    default: {
      const std::string* v = take(key);
      if (v == nullptr) {
        return Json();
      }
      return scalar(shape, key, *v);
    }
    }
  }

  Result<Json> structure(const Shape& shape, const std::string& prefix, int depth) {
    Json out = Json::object();
    for (const Member& m : shape.members()) {
      const Shape& ms = shapeAt(m.shape);
      std::string key = prefix + memberName(m);
      TIDE_ASSIGN_OR_RETURN(Json v, value(ms, key, depth + 1));
      if (!v.is_null()) {
        out[std::string(m.name)] = std::move(v);
      }
    }
    return out;
  }

  Result<Json> list(const Shape& shape, const std::string& key, int depth) {
    std::string elements = key;
    if (dialect == QueryDialect::Query && !shape.flattened) {
      elements += "." + std::string(shape.elementName.empty() ? "member" : shape.elementName);
    }
    std::vector<long> indexes = indexesUnder(elements);
    if (indexes.empty()) {
      // The query protocol sends an empty list as "Name=".
      if (const std::string* v = take(key); v != nullptr) {
        if (!v->empty()) {
          return typeError(key, *v, "a list (" + elements + ".1, " + elements + ".2, ...)");
        }
        return Json::array();
      }
      return Json();
    }
    Json out = Json::array();
    const Shape& element = shapeAt(shape.a);
    for (long i : indexes) {
      std::string ekey = elements + "." + std::to_string(i);
      TIDE_ASSIGN_OR_RETURN(Json v, value(element, ekey, depth + 1));
      if (v.is_null()) {
        continue; // only names with other shapes under this index: refused as unknown
      }
      out.push_back(std::move(v));
    }
    if (out.empty()) {
      return Json(); // only empty structures ("Name.member.1="): no list, as when none is sent
    }
    return out;
  }

  Result<Json> map(const Shape& shape, const std::string& key, int depth) {
    std::string entries = shape.flattened ? key : key + ".entry";
    std::vector<long> indexes = indexesUnder(entries);
    if (indexes.empty()) {
      return Json();
    }
    Json out = Json::object();
    const Shape& keyShape = shapeAt(shape.a);
    const Shape& valueShape = shapeAt(shape.b);
    for (long i : indexes) {
      std::string ekey = entries + "." + std::to_string(i) + ".";
      std::string kname = ekey + std::string(shape.elementName.empty() ? "key" : shape.elementName);
      std::string vname = ekey + std::string(shape.valueName.empty() ? "value" : shape.valueName);
      TIDE_ASSIGN_OR_RETURN(Json k, value(keyShape, kname, depth + 1));
      if (!k.is_string()) {
        return Status(dialect == QueryDialect::Ec2 ? "MissingParameter" : "ValidationError",
                      "The map entry " + entries + "." + std::to_string(i) + " has no key");
      }
      TIDE_ASSIGN_OR_RETURN(Json v, value(valueShape, vname, depth + 1));
      if (v.is_null()) {
        return Status(dialect == QueryDialect::Ec2 ? "MissingParameter" : "ValidationError",
                      "The map entry " + entries + "." + std::to_string(i) + " has no value");
      }
      out[k.get<std::string>()] = std::move(v);
    }
    return out;
  }
};

bool isEnvelope(std::string_view name) {
  return name == "Action" || name == "Version" || name.starts_with("X-Amz-");
}

} // namespace

Status parseForm(std::string_view text, FormParams& out) {
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t amp = text.find('&', pos);
    std::string_view pair = text.substr(pos, amp == std::string_view::npos ? amp : amp - pos);
    pos = amp == std::string_view::npos ? text.size() + 1 : amp + 1;
    if (pair.empty()) {
      continue;
    }
    size_t eq = pair.find('=');
    TIDE_ASSIGN_OR_RETURN(std::string name, formDecode(pair.substr(0, eq)));
    TIDE_ASSIGN_OR_RETURN(
        std::string value,
        formDecode(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1)));
    if (name.empty()) {
      return Status("MalformedQueryString", "A query parameter has no name: " + quoteRaw(pair));
    }
    if (out.contains(name)) {
      return Status("MalformedQueryString", "The parameter " + name + " is given twice");
    }
    out.emplace(std::move(name), std::move(value));
  }
  return Status::ok();
}

Result<Json> decodeQuery(const Operation& op, const FormParams& params, QueryDialect dialect) {
  Reader r{params, dialect, {}};
  Json out = Json::object();
  if (op.input >= 0) {
    TIDE_ASSIGN_OR_RETURN(out, r.structure(shapeAt(op.input), "", 0));
  }
  for (const auto& [name, value] : params) {
    if (isEnvelope(name) || r.used.contains(name)) {
      continue;
    }
    if (dialect == QueryDialect::Ec2) {
      return Status("UnknownParameter", "The parameter " + name + " is not recognized");
    }
    return Status("ValidationError",
                  "The parameter " + name + " is not a parameter of " + std::string(op.name));
  }
  return out;
}

} // namespace tide::api::wire
