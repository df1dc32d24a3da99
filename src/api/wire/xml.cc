#include "api/wire/xml.h"

#include "common/clock.h"

#include <cmath>

namespace tide::api::wire {

namespace {

// A scalar's text as the query protocols write it.
std::string scalarText(const Shape& shape, const Json& v) {
  if (v.is_string()) {
    return v.get<std::string>();
  }
  if (v.is_boolean()) {
    return v.get<bool>() ? "true" : "false";
  }
  if (v.is_number() && shape.type == Type::Timestamp) {
    // An epoch-seconds value where the wire wants ISO 8601.
    return formatIso8601(static_cast<TimeMs>(std::llround(v.get<double>() * 1000)));
  }
  if (v.is_number_float() && (shape.type == Type::Integer || shape.type == Type::Long)) {
    // tide keeps some AWS integers finer (health check intervals in fractions of a second);
    // the model's type is what clients parse.
    return std::to_string(std::llround(v.get<double>()));
  }
  return v.dump();
}

struct Writer {
  QueryDialect dialect;
  std::string out;

  void open(std::string_view name) {
    out += '<';
    out += name;
    out += '>';
  }
  void close(std::string_view name) {
    out += "</";
    out += name;
    out += '>';
  }

  // The element name of a structure member (botocore's _member_key_name).
  static std::string_view elementName(const Member& m) {
    const Shape& s = shapeAt(m.shape);
    if (s.type == Type::List && s.flattened && !s.elementName.empty()) {
      return s.elementName;
    }
    return m.locationName.empty() ? m.name : m.locationName;
  }

  void value(const Shape& shape, const Json& v, std::string_view name) {
    switch (shape.type) {
    case Type::Structure:
      open(name);
      members(shape, v);
      close(name);
      break;
    case Type::List: {
      if (!v.is_array()) {
        return;
      }
      const Shape& element = shapeAt(shape.a);
      if (shape.flattened) {
        for (const Json& e : v) {
          value(element, e, name);
        }
        return;
      }
      std::string_view item = !shape.elementName.empty()     ? shape.elementName
                              : dialect == QueryDialect::Ec2 ? std::string_view("item")
                                                             : std::string_view("member");
      open(name);
      for (const Json& e : v) {
        value(element, e, item);
      }
      close(name);
      break;
    }
    case Type::Map: {
      if (!v.is_object()) {
        return;
      }
      std::string_view k = shape.elementName.empty() ? "key" : shape.elementName;
      std::string_view val = shape.valueName.empty() ? "value" : shape.valueName;
      if (!shape.flattened) {
        open(name);
      }
      for (const auto& [key, item] : v.items()) {
        open(shape.flattened ? name : "entry");
        open(k);
        out += xmlEscape(key);
        close(k);
        value(shapeAt(shape.b), item, val);
        close(shape.flattened ? name : "entry");
      }
      if (!shape.flattened) {
        close(name);
      }
      break;
    }
    default:
      if (v.is_null() || v.is_object() || v.is_array()) {
        return;
      }
      open(name);
      out += xmlEscape(scalarText(shape, v));
      close(name);
    }
  }

  void members(const Shape& shape, const Json& v) {
    if (!v.is_object()) {
      return;
    }
    for (const Member& m : shape.members()) {
      auto it = v.find(m.name);
      if (it == v.end() || it->is_null()) {
        continue;
      }
      value(shapeAt(m.shape), *it, elementName(m));
    }
  }
};

void appendUtf8(std::string& out, uint32_t cp) {
  out += static_cast<char>(0xE0 | (cp >> 12));
  out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
  out += static_cast<char>(0x80 | (cp & 0x3F));
}

} // namespace

std::string xmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    // U+FFFE and U+FFFF (EF BF BE, EF BF BF) are not XML 1.0 characters either.
    if (c == '\xEF' && text.size() - i > 2 && text[i + 1] == '\xBF' &&
        (text[i + 2] == '\xBE' || text[i + 2] == '\xBF')) {
      appendUtf8(out, 0xFFFD);
      i += 2;
      continue;
    }
    switch (c) {
    case '&':
      out += "&amp;";
      break;
    case '<':
      out += "&lt;";
      break;
    case '>':
      out += "&gt;";
      break;
    case '"':
      out += "&quot;";
      break;
    case '\'':
      out += "&apos;";
      break;
    case '\r':
      out += "&#13;"; // kept: a literal CR would be normalised away by XML parsers
      break;
    default:
      if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n') {
        appendUtf8(out, 0xFFFD);
      } else {
        out += c;
      }
    }
  }
  return out;
}

std::string encodeXmlResponse(const Service& service, const Operation& op, const Json& result,
                              const std::string& requestId, QueryDialect dialect) {
  Writer w{dialect, {}};
  std::string root = std::string(op.name) + "Response";
  w.out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<" + root + " xmlns=\"" +
          std::string(service.xmlNamespace) + "\">";
  if (dialect == QueryDialect::Ec2) {
    w.open("requestId");
    w.out += xmlEscape(requestId);
    w.close("requestId");
    if (op.output >= 0) {
      w.members(shapeAt(op.output), result);
    }
  } else {
    if (op.output >= 0 && !op.resultWrapper.empty()) {
      w.open(op.resultWrapper);
      w.members(shapeAt(op.output), result);
      w.close(op.resultWrapper);
    }
    w.out += "<ResponseMetadata><RequestId>" + xmlEscape(requestId) +
             "</RequestId>"
             "</ResponseMetadata>";
  }
  w.close(root);
  return std::move(w.out);
}

std::string encodeXmlError(const Service* service, const std::string& code,
                           const std::string& message, bool senderFault,
                           const std::string& requestId, QueryDialect dialect) {
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  if (dialect == QueryDialect::Ec2) {
    out += "<Response><Errors><Error><Code>" + xmlEscape(code) + "</Code><Message>" +
           xmlEscape(message) + "</Message></Error></Errors><RequestID>" + xmlEscape(requestId) +
           "</RequestID></Response>";
    return out;
  }
  out += "<ErrorResponse";
  if (service != nullptr && !service->xmlNamespace.empty()) {
    out += " xmlns=\"" + std::string(service->xmlNamespace) + "\"";
  }
  out += "><Error><Type>";
  out += senderFault ? "Sender" : "Receiver";
  out += "</Type><Code>" + xmlEscape(code) + "</Code><Message>" + xmlEscape(message) +
         "</Message></Error><RequestId>" + xmlEscape(requestId) + "</RequestId></ErrorResponse>";
  return out;
}

} // namespace tide::api::wire
