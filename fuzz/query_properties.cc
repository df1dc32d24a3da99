#include "query_properties.h"

#include "api/wire/model.h"
#include "api/wire/query.h"
#include "api/wire/xml.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace tide::fuzz {
namespace {

using api::wire::FormParams;
using api::wire::Json;
using api::wire::Member;
using api::wire::Operation;
using api::wire::QueryDialect;
using api::wire::Shape;
using api::wire::shapeAt;
using api::wire::Type;

#define PROPERTY(cond, what)                                                                       \
  do {                                                                                             \
    if (!(cond)) {                                                                                 \
      return Violation{what, __LINE__, "fuzz/query_properties.cc"};                                \
    }                                                                                              \
  } while (0)

// ---- Text ----------------------------------------------------------------------------------

// The code points of s, or nullopt when s is not UTF-8 (RFC 3629: shortest form, no surrogates,
// at most U+10FFFF). Written here rather than taken from common/text, which the decoder uses.
std::optional<std::vector<uint32_t>> codePoints(std::string_view s) {
  std::vector<uint32_t> out;
  for (size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80 ? 0 : (c >> 5) == 0x6 ? 1 : (c >> 4) == 0xE ? 2 : (c >> 3) == 0x1E ? 3 : 9;
    if (n == 9 || s.size() - i <= n) {
      return std::nullopt;
    }
    uint32_t cp = n == 0 ? c : c & (0x3F >> n);
    for (size_t k = 1; k <= n; ++k) {
      auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) {
        return std::nullopt;
      }
      cp = (cp << 6) | (cc & 0x3F);
    }
    const uint32_t least[] = {0, 0x80, 0x800, 0x10000};
    if (cp < least[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      return std::nullopt;
    }
    out.push_back(cp);
    i += n + 1;
  }
  return out;
}

// dump() throws on a string that is not valid UTF-8.
bool dumps(const Json& v) {
  try {
    (void)v.dump();
    return true;
  } catch (const Json::exception&) {
    return false;
  }
}

// How a refusal may quote raw input: bytes outside printable ASCII as %XX.
std::string printable(std::string_view raw) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
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
  return out;
}

// Whether `name` stands in `message` as a word: after a space or quote, before a space, quote,
// colon or the end.
bool namedIn(std::string_view message, std::string_view name) {
  if (name.empty()) {
    return false;
  }
  for (size_t at = message.find(name); at != std::string_view::npos;
       at = message.find(name, at + 1)) {
    size_t end = at + name.size();
    bool before = at > 0 && (message[at - 1] == ' ' || message[at - 1] == '\'');
    bool after =
        end == message.size() || message[end] == ' ' || message[end] == '\'' || message[end] == ':';
    if (before && after) {
      return true;
    }
  }
  return false;
}

// ---- A reference reading of application/x-www-form-urlencoded --------------------------------

struct FormReading {
  bool ok = true;
  std::vector<std::string> names; // every decodable name, in order (for refusal messages)
  FormParams params;
};

std::optional<std::string> percentDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] != '%') {
      out += s[i];
    } else {
      if (s.size() - i < 3 || !std::isxdigit(static_cast<unsigned char>(s[i + 1])) ||
          !std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
        return std::nullopt;
      }
      out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    }
  }
  if (!codePoints(out)) {
    return std::nullopt;
  }
  return out;
}

FormReading readForm(std::string_view body) {
  FormReading r;
  size_t start = 0;
  while (true) {
    size_t amp = body.find('&', start);
    std::string_view pair =
        body.substr(start, amp == std::string_view::npos ? body.npos : amp - start);
    if (!pair.empty()) {
      size_t eq = pair.find('=');
      std::optional<std::string> name = percentDecode(pair.substr(0, eq));
      std::optional<std::string> value =
          percentDecode(eq == std::string_view::npos ? "" : pair.substr(eq + 1));
      if (name) {
        r.names.push_back(*name);
      }
      if (!name || !value || name->empty() || r.params.contains(*name)) {
        r.ok = false;
      } else {
        r.params.emplace(*name, *value);
      }
    }
    if (amp == std::string_view::npos) {
      break;
    }
    start = amp + 1;
  }
  return r;
}

// ---- XML -------------------------------------------------------------------------------------

void appendUtf8(std::string& out, uint32_t c) {
  if (c < 0x80) {
    out += static_cast<char>(c);
  } else if (c < 0x800) {
    out += static_cast<char>(0xC0 | (c >> 6));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else if (c < 0x10000) {
    out += static_cast<char>(0xE0 | (c >> 12));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (c >> 18));
    out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  }
}

bool xmlChar(uint32_t c) {
  return c == 0x9 || c == 0xA || c == 0xD || (c >= 0x20 && c <= 0xD7FF) ||
         (c >= 0xE000 && c <= 0xFFFD) || (c >= 0x10000 && c <= 0x10FFFF);
}

bool nameStart(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' || c == ':';
}

bool nameChar(char c) {
  return nameStart(c) || (c >= '0' && c <= '9') || c == '.' || c == '-';
}

// A small, independent well-formedness check of what encodeXmlResponse and encodeXmlError write:
// the XML declaration, then one element; every character an XML 1.0 Char in UTF-8; tags with
// names and double-quoted attributes, balanced; text with no raw '<', '&' only in the five
// entity references and character references (of Chars), no "]]>". When texts is given, it
// receives every text between two tags inside the root, with its references resolved.
bool wellFormedXml(std::string_view xml, std::set<std::string>* texts = nullptr) {
  std::optional<std::vector<uint32_t>> cps = codePoints(xml);
  if (!cps) {
    return false;
  }
  for (uint32_t c : *cps) {
    if (!xmlChar(c)) {
      return false;
    }
  }
  constexpr std::string_view kDecl = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  if (!xml.starts_with(kDecl)) {
    return false;
  }
  size_t pos = kDecl.size();
  auto name = [&]() -> std::string_view {
    size_t start = pos;
    if (pos < xml.size() && nameStart(xml[pos])) {
      while (pos < xml.size() && nameChar(xml[pos])) {
        ++pos;
      }
    }
    return xml.substr(start, pos - start);
  };
  std::string text; // the current text, references resolved
  auto reference = [&]() {
    size_t semi = xml.find(';', pos);
    if (semi == std::string_view::npos) {
      return false;
    }
    std::string_view ref = xml.substr(pos + 1, semi - pos - 1);
    pos = semi + 1;
    constexpr std::pair<std::string_view, char> kEntities[] = {
        {"lt", '<'}, {"gt", '>'}, {"amp", '&'}, {"quot", '"'}, {"apos", '\''}};
    for (const auto& [entity, ch] : kEntities) {
      if (ref == entity) {
        text += ch;
        return true;
      }
    }
    bool hex = ref.starts_with("#x");
    std::string_view digits = ref.substr(hex ? 2 : 1);
    if (!ref.starts_with("#") || digits.empty() || digits.size() > 6) {
      return false;
    }
    uint32_t c = 0;
    auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), c, hex ? 16 : 10);
    if (ec != std::errc() || p != digits.data() + digits.size() || !xmlChar(c)) {
      return false;
    }
    appendUtf8(text, c);
    return true;
  };
  std::vector<std::string_view> open;
  bool rootDone = false;
  while (pos < xml.size()) {
    char c = xml[pos];
    if (c != '<') {
      if (open.empty() && c != ' ' && c != '\n' && c != '\t' && c != '\r') {
        return false; // text outside the root element
      }
      if (xml.substr(pos).starts_with("]]>")) {
        return false;
      }
      if (c == '&') {
        if (!reference()) {
          return false;
        }
      } else {
        text += c;
        ++pos;
      }
      continue;
    }
    if (texts != nullptr && !open.empty() && !text.empty()) {
      texts->insert(text);
    }
    text.clear();
    ++pos;
    if (pos < xml.size() && xml[pos] == '/') {
      ++pos;
      std::string_view n = name();
      if (open.empty() || n != open.back() || pos >= xml.size() || xml[pos] != '>') {
        return false;
      }
      ++pos;
      open.pop_back();
      rootDone = open.empty();
      continue;
    }
    if (rootDone) {
      return false; // a second root element
    }
    std::string_view n = name();
    if (n.empty()) {
      return false;
    }
    while (pos < xml.size() && xml[pos] == ' ') {
      ++pos;
      if (name().empty() || xml.substr(pos, 2) != "=\"") {
        return false;
      }
      pos += 2;
      while (pos < xml.size() && xml[pos] != '"') {
        if (xml[pos] == '<') {
          return false;
        }
        if (xml[pos] == '&') {
          if (!reference()) {
            return false;
          }
        } else {
          ++pos;
        }
      }
      if (pos >= xml.size()) {
        return false;
      }
      ++pos; // the closing quote
    }
    if (xml.substr(pos).starts_with("/>")) {
      pos += 2;
      rootDone = open.empty();
      continue;
    }
    if (pos >= xml.size() || xml[pos] != '>') {
      return false;
    }
    ++pos;
    open.push_back(n);
  }
  return open.empty() && rootDone;
}

// ---- The model -------------------------------------------------------------------------------

std::vector<const Operation*> operationsOf(std::string_view protocol) {
  std::vector<const Operation*> ops;
  for (const Operation& o : api::wire::operations()) {
    const api::wire::Service* s = api::wire::findService(o.service);
    if (s != nullptr && s->protocol == protocol) {
      ops.push_back(&o);
    }
  }
  return ops;
}

// The name of a structure member in a form (botocore: QuerySerializer uses the member's
// locationName, else its name; EC2Serializer its queryName, else its locationName with the first
// letter upper-cased, else its name).
std::string formName(const Member& m, QueryDialect dialect) {
  if (dialect == QueryDialect::Ec2) {
    if (!m.queryName.empty()) {
      return std::string(m.queryName);
    }
    if (!m.locationName.empty()) {
      std::string n(m.locationName);
      if (n[0] >= 'a' && n[0] <= 'z') {
        n[0] = static_cast<char>(n[0] - 'a' + 'A');
      }
      return n;
    }
  } else if (!m.locationName.empty()) {
    return std::string(m.locationName);
  }
  return std::string(m.name);
}

// Whether v has the JSON type the model gives `shape` (and, within structures, only members of
// the model).
bool conforms(const Shape& shape, const Json& v, int depth) {
  if (depth > 64) {
    return false;
  }
  switch (shape.type) {
  case Type::Structure:
    if (!v.is_object()) {
      return false;
    }
    for (const auto& [key, item] : v.items()) {
      const Member* m = api::wire::findMember(shape, key);
      if (m == nullptr || !conforms(shapeAt(m->shape), item, depth + 1)) {
        return false;
      }
    }
    return true;
  case Type::List:
    if (!v.is_array()) {
      return false;
    }
    for (const Json& e : v) {
      if (!conforms(shapeAt(shape.a), e, depth + 1)) {
        return false;
      }
    }
    return true;
  case Type::Map:
    if (!v.is_object()) {
      return false;
    }
    for (const auto& [key, item] : v.items()) {
      if (!conforms(shapeAt(shape.b), item, depth + 1)) {
        return false;
      }
    }
    return true;
  case Type::Boolean:
    return v.is_boolean();
  case Type::Integer:
    return v.is_number_integer() && v.get<int64_t>() >= INT32_MIN && v.get<int64_t>() <= INT32_MAX;
  case Type::Long:
    return v.is_number_integer();
  case Type::Float:
  case Type::Double:
    return v.is_number() && std::isfinite(v.get<double>());
  case Type::String:
  case Type::Timestamp:
  case Type::Blob:
    return v.is_string();
  }
  return false;
}

// UTF-8 text as XML carries it: characters XML 1.0 cannot carry as U+FFFD.
std::string asXmlText(std::string_view s) {
  std::string x;
  for (uint32_t c : codePoints(s).value_or(std::vector<uint32_t>{})) {
    appendUtf8(x, xmlChar(c) ? c : 0xFFFD);
  }
  return x;
}

// The strings of v (string members and map keys) as XML carries them: characters XML 1.0
// cannot carry as U+FFFD. Empty strings are left out (their elements have no text).
void xmlStrings(const Shape& shape, const Json& v, std::vector<std::string>& out, int depth) {
  auto add = [&](std::string_view s) {
    if (!s.empty()) {
      out.push_back(asXmlText(s));
    }
  };
  if (depth > 64) {
    return;
  }
  switch (shape.type) {
  case Type::Structure:
    for (const Member& m : shape.members()) {
      auto it = v.find(m.name);
      if (it != v.end()) {
        xmlStrings(shapeAt(m.shape), *it, out, depth + 1);
      }
    }
    return;
  case Type::List:
    for (const Json& e : v) {
      xmlStrings(shapeAt(shape.a), e, out, depth + 1);
    }
    return;
  case Type::Map:
    for (const auto& [key, item] : v.items()) {
      add(key);
      xmlStrings(shapeAt(shape.b), item, out, depth + 1);
    }
    return;
  default:
    if (v.is_string()) {
      add(v.get<std::string>());
    }
  }
}

// ---- An independent query encoder (botocore's QuerySerializer and EC2Serializer) -----------

struct FormPair {
  std::string name;
  std::string value;
  Type type; // what the value is, to compare it with the form's text (List: an empty list)
};

std::string join(const std::string& prefix, std::string_view name) {
  return prefix.empty() ? std::string(name) : prefix + "." + std::string(name);
}

void encode(const Shape& shape, const Json& v, const std::string& prefix, QueryDialect dialect,
            std::vector<FormPair>& out) {
  switch (shape.type) {
  case Type::Structure:
    for (const Member& m : shape.members()) {
      auto it = v.find(m.name);
      if (it != v.end() && !it->is_null()) {
        encode(shapeAt(m.shape), *it, join(prefix, formName(m, dialect)), dialect, out);
      }
    }
    return;
  case Type::List: {
    std::string elements = prefix;
    if (dialect == QueryDialect::Query) {
      if (v.empty()) {
        out.push_back({prefix, "", Type::List}); // the query serializer's empty list
        return;
      }
      if (!shape.flattened) {
        elements = join(prefix, shape.elementName.empty() ? "member" : shape.elementName);
      }
    }
    size_t i = 1;
    for (const Json& e : v) {
      encode(shapeAt(shape.a), e, elements + "." + std::to_string(i++), dialect, out);
    }
    return;
  }
  case Type::Map: {
    std::string entries = shape.flattened ? prefix : prefix + ".entry";
    size_t i = 1;
    for (const auto& [key, item] : v.items()) {
      std::string entry = entries + "." + std::to_string(i++) + ".";
      out.push_back({entry + std::string(shape.elementName.empty() ? "key" : shape.elementName),
                     key, Type::String});
      if (!item.is_null()) {
        encode(shapeAt(shape.b), item,
               entry + std::string(shape.valueName.empty() ? "value" : shape.valueName), dialect,
               out);
      }
    }
    return;
  }
  case Type::Boolean:
    out.push_back({prefix, v.get<bool>() ? "true" : "false", shape.type});
    return;
  case Type::Integer:
  case Type::Long:
    out.push_back({prefix, std::to_string(v.get<int64_t>()), shape.type});
    return;
  case Type::Float:
  case Type::Double: {
    char buf[64];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v.get<double>());
    out.push_back({prefix, std::string(buf, ec == std::errc() ? end : buf), shape.type});
    return;
  }
  default:
    out.push_back({prefix, v.get<std::string>(), shape.type});
  }
}

std::string percentEncode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += ch;
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    }
  }
  return out;
}

std::string formBody(const Operation& op, const std::vector<FormPair>& pairs) {
  std::string body = "Action=" + percentEncode(op.name) +
                     "&Version=" + percentEncode(api::wire::findService(op.service)->apiVersion);
  for (const FormPair& p : pairs) {
    body += "&" + percentEncode(p.name) + "=" + percentEncode(p.value);
  }
  return body;
}

// What of v the serializers' rules can express, so what decoding their form gives back: nested
// structures with nothing to send vanish (nothing is sent), and so do lists of them; the query
// serializer sends an empty list as "Name=", EC2's sends nothing. Null when nothing is sent.
Json expressed(const Shape& shape, const Json& v, QueryDialect dialect, bool top) {
  switch (shape.type) {
  case Type::Structure: {
    Json out = Json::object();
    for (const Member& m : shape.members()) {
      auto it = v.find(m.name);
      if (it != v.end() && !it->is_null()) {
        Json e = expressed(shapeAt(m.shape), *it, dialect, false);
        if (!e.is_null()) {
          out[std::string(m.name)] = std::move(e);
        }
      }
    }
    return out.empty() && !top ? Json() : out;
  }
  case Type::List: {
    if (v.empty()) {
      return dialect == QueryDialect::Query ? Json::array() : Json();
    }
    Json out = Json::array();
    for (const Json& e : v) {
      Json x = expressed(shapeAt(shape.a), e, dialect, false);
      if (!x.is_null()) {
        out.push_back(std::move(x));
      }
    }
    return out.empty() ? Json() : out;
  }
  case Type::Map: {
    Json out = Json::object();
    for (const auto& [key, item] : v.items()) {
      out[key] = item.is_null() ? Json() : expressed(shapeAt(shape.b), item, dialect, false);
    }
    return out.empty() ? Json() : out;
  }
  default:
    return v;
  }
}

// ---- Where the values came from --------------------------------------------------------------

// A form name with its list and entry indexes (1 to 6 digits, no leading zero) written '*'.
std::string pattern(std::string_view name) {
  std::string out;
  size_t start = 0;
  while (true) {
    size_t dot = name.find('.', start);
    std::string_view seg = name.substr(start, dot == name.npos ? name.npos : dot - start);
    bool index = !seg.empty() && seg.size() <= 6 && seg[0] != '0' &&
                 seg.find_first_not_of("0123456789") == std::string_view::npos;
    out += index ? std::string_view("*") : seg;
    if (dot == name.npos) {
      return out;
    }
    out += '.';
    start = dot + 1;
  }
}

// Whether the form's text means the encoded value (the decoder may have read "05" as 5).
bool means(std::string_view text, const FormPair& p) {
  switch (p.type) {
  case Type::Integer:
  case Type::Long: {
    int64_t a = 0;
    int64_t b = 0;
    auto ra = std::from_chars(text.data(), text.data() + text.size(), a);
    auto rb = std::from_chars(p.value.data(), p.value.data() + p.value.size(), b);
    return ra.ec == std::errc() && rb.ec == std::errc() && a == b;
  }
  case Type::Float:
  case Type::Double: {
    std::string t(text);
    char* end = nullptr;
    double a = std::strtod(t.c_str(), &end);
    return end != t.c_str() && a == std::strtod(p.value.c_str(), nullptr);
  }
  default:
    return text == p.value;
  }
}

// ---- The properties --------------------------------------------------------------------------

Violation checkRefusal(const Status& s, std::string_view serviceName, QueryDialect dialect) {
  const api::wire::Service* service = api::wire::findService(serviceName);
  PROPERTY(dumps(Json(s.message())), "a refusal's message is valid UTF-8");
  std::string xml =
      api::wire::encodeXmlError(service, s.code(), s.message(), true, "req-1", dialect);
  std::set<std::string> texts;
  PROPERTY(wellFormedXml(xml, &texts), "a refusal written as an XML error is well-formed XML");
  PROPERTY(texts.contains(asXmlText(s.code())) && texts.contains(asXmlText(s.message())),
           "a refusal's XML error carries its code and message");
  return {};
}

Violation checkForm(const Operation& op, std::string_view body, QueryDialect dialect) {
  FormParams params;
  Status parsed = api::wire::parseForm(body, params);
  FormReading reference = readForm(body);
  PROPERTY(parsed.isOk() == reference.ok,
           "parseForm accepts exactly the forms of the reference reading (name=value pairs "
           "joined by '&', %XX and '+' decoded to UTF-8, names non-empty and distinct)");
  if (!parsed.isOk()) {
    PROPERTY(parsed.code() == "MalformedQueryString", "a malformed form is MalformedQueryString");
    const std::string& m = parsed.message();
    // "<what>: '<piece>'", the piece as sent (bytes outside printable ASCII as %XX)
    size_t open = m.find(": '");
    bool quotesInput = false;
    if (open != std::string::npos && m.size() > open + 4 && m.back() == '\'') {
      std::string_view quoted = std::string_view(m).substr(open + 3, m.size() - open - 4);
      quotesInput = body.find(quoted) != std::string_view::npos ||
                    printable(body).find(quoted) != std::string::npos;
    }
    bool namesName = false;
    for (const std::string& n : reference.names) {
      namesName = namesName || namedIn(m, n);
    }
    PROPERTY(quotesInput || namesName,
             "a malformed form's message quotes a piece of the body or names a parameter");
    return checkRefusal(parsed, op.service, dialect);
  }
  PROPERTY(params == reference.params, "parseForm reads the names and values of the reference");

  Result<Json> decoded = api::wire::decodeQuery(op, params, dialect);
  Result<Json> again = api::wire::decodeQuery(op, params, dialect);
  PROPERTY(decoded.isOk() == again.isOk() && decoded.status().code() == again.status().code() &&
               decoded.status().message() == again.status().message(),
           "decoding twice gives the same refusal");
  if (!decoded.isOk()) {
    const Status& s = decoded.status();
    bool documented = s.code() == "ValidationError" ||
                      (dialect == QueryDialect::Ec2 &&
                       (s.code() == "InvalidParameterValue" || s.code() == "UnknownParameter" ||
                        s.code() == "MissingParameter"));
    PROPERTY(documented, "a refusal has a documented code of its dialect");
    bool names = false;
    for (const auto& [name, text] : params) {
      names = names || namedIn(s.message(), name);
      for (size_t dot = name.find('.'); !names && dot != std::string::npos;
           dot = name.find('.', dot + 1)) {
        names = namedIn(s.message(), std::string_view(name).substr(0, dot));
      }
    }
    PROPERTY(names, "a refusal names a parameter of the form (or the prefix of one)");
    return checkRefusal(s, op.service, dialect);
  }
  const Json& value = *decoded;
  PROPERTY(value == *again && value.dump() == again->dump(), "decoding twice gives the same JSON");
  PROPERTY(value.is_object(), "a decoded input is a JSON object");
  PROPERTY(dumps(value), "a decoded input's strings are valid UTF-8");
  if (op.input < 0) {
    PROPERTY(value.empty(), "an operation without input decodes to {}");
    return {};
  }
  const Shape& input = shapeAt(op.input);
  PROPERTY(conforms(input, value, 0),
           "the decoded JSON has the input shape's members and the model's types");

  // Every value is one the form carried, under the name the model gives it.
  std::vector<FormPair> pairs;
  encode(input, value, "", dialect, pairs);
  std::map<std::string, std::vector<std::string_view>> carried;
  for (const auto& [name, text] : params) {
    carried[pattern(name)].push_back(text);
  }
  for (const FormPair& p : pairs) {
    auto it = carried.find(pattern(p.name));
    bool found = false;
    if (it != carried.end()) {
      for (std::string_view text : it->second) {
        found = found || means(text, p);
      }
    }
    PROPERTY(found, "every decoded value is the value of a parameter the form carried, "
                    "under the model's name for it");
  }

  // Written as XML, as if the input shape were an operation's output.
  std::string wrapper = std::string(op.name) + "Result";
  Operation asOutput{op.service, op.name, -1, op.input, wrapper, "", "", "", ""};
  std::string xml = api::wire::encodeXmlResponse(*api::wire::findService(op.service), asOutput,
                                                 value, "req-1", dialect);
  std::set<std::string> texts;
  PROPERTY(wellFormedXml(xml, &texts),
           "the decoded JSON written as an XML response is well-formed XML");
  std::vector<std::string> strings;
  xmlStrings(input, value, strings, 0);
  for (const std::string& text : strings) {
    PROPERTY(texts.contains(text), "every string of the decoded JSON is the text of an element "
                                   "of its XML (characters XML cannot carry as U+FFFD)");
  }

  // The round trip through the independent encoder.
  std::string body2 = formBody(op, pairs);
  FormParams params2;
  PROPERTY(api::wire::parseForm(body2, params2).isOk(), "the encoded form parses");
  Result<Json> decoded2 = api::wire::decodeQuery(op, params2, dialect);
  PROPERTY(decoded2.isOk(), "the encoded form decodes");
  Json expressible = expressed(input, value, dialect, true);
  PROPERTY(*decoded2 == expressible,
           "the encoded form decodes to the decoded JSON (less what the serializer cannot send)");
  // What the serializer can express comes back exactly, list indexes and all: encoded again,
  // it decodes to itself.
  std::vector<FormPair> pairs2;
  encode(input, expressible, "", dialect, pairs2);
  FormParams params3;
  PROPERTY(api::wire::parseForm(formBody(op, pairs2), params3).isOk(),
           "the encoding of an expressible value parses");
  Result<Json> decoded3 = api::wire::decodeQuery(op, params3, dialect);
  PROPERTY(decoded3.isOk() && *decoded3 == expressible,
           "the encoding of an expressible value decodes to it");
  return {};
}

// The operation a request names in its Action parameter, as a server routes it; when the body
// names none of the dialect's operations, the one the first byte picks (modulo their count).
// Seeds name their action, so they keep their operation when the model tables gain actions.
const Operation& operationFor(uint8_t first, std::string_view body, QueryDialect dialect) {
  static const std::vector<const Operation*> kQuery = operationsOf("query");
  static const std::vector<const Operation*> kEc2 = operationsOf("ec2");
  const std::vector<const Operation*>& ops = dialect == QueryDialect::Ec2 ? kEc2 : kQuery;
  if (ops.empty()) {
    std::abort(); // the model tables have the dialect's services
  }
  FormParams params;
  if (api::wire::parseForm(body, params).isOk()) {
    auto action = params.find("Action");
    if (action != params.end()) {
      for (const Operation* op : ops) {
        if (op->name == action->second) {
          return *op;
        }
      }
    }
  }
  return *ops[first % ops.size()];
}

Violation checkDialect(const uint8_t* data, size_t size, QueryDialect dialect) {
  if (size == 0) {
    return {};
  }
  std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
  return checkForm(operationFor(data[0], body, dialect), body, dialect);
}

} // namespace

Violation checkQueryRequest(const uint8_t* data, size_t size) {
  return checkDialect(data, size, QueryDialect::Query);
}

Violation checkEc2QueryRequest(const uint8_t* data, size_t size) {
  return checkDialect(data, size, QueryDialect::Ec2);
}

bool decodesQueryRequest(const uint8_t* data, size_t size, bool ec2) {
  if (size == 0) {
    return false;
  }
  QueryDialect dialect = ec2 ? QueryDialect::Ec2 : QueryDialect::Query;
  std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
  FormParams params;
  if (!api::wire::parseForm(body, params).isOk()) {
    return false;
  }
  return api::wire::decodeQuery(operationFor(data[0], body, dialect), params, dialect).isOk();
}

} // namespace tide::fuzz
