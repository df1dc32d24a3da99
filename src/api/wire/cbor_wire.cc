#include "api/wire/cbor_wire.h"

#include "api/cbor.h"
#include "api/wire/json.h"
#include "common/text.h"

namespace tide::api::wire {

namespace {

void write(cbor::Writer& w, const Shape& shape, const Json& v) {
  switch (shape.type) {
  case Type::Structure: {
    size_t count = 0;
    for (const Member& m : shape.members()) {
      count += v.contains(m.name) ? 1 : 0;
    }
    w.mapHeader(count);
    for (const Member& m : shape.members()) {
      if (auto it = v.find(m.name); it != v.end()) {
        w.text(m.name);
        write(w, shapeAt(m.shape), *it);
      }
    }
    return;
  }
  case Type::List:
    w.arrayHeader(v.size());
    for (const Json& e : v) {
      write(w, shapeAt(shape.a), e);
    }
    return;
  case Type::Map:
    w.mapHeader(v.size());
    for (const auto& [k, e] : v.items()) {
      w.text(k);
      write(w, shapeAt(shape.b), e);
    }
    return;
  case Type::Timestamp:
    if (v.is_number()) {
      w.timestamp(v.get<double>());
      return;
    }
    break;
  case Type::Blob:
    if (v.is_string()) {
      std::optional<std::string> bytes = base64Decode(v.get<std::string>());
      w.bytes(bytes ? *bytes : v.get<std::string>());
      return;
    }
    break;
  case Type::Integer:
  case Type::Long:
    if (v.is_number_unsigned()) {
      w.unsignedInteger(v.get<uint64_t>());
      return;
    }
    if (v.is_number_integer()) {
      w.integer(v.get<int64_t>());
      return;
    }
    break;
  case Type::Float:
  case Type::Double:
    if (v.is_number()) {
      w.floating(v.get<double>());
      return;
    }
    break;
  default:
    break;
  }
  // Values whose JSON type is not the model's are written as what they are.
  w.out() += cbor::encode(v);
}

} // namespace

Result<Json> cborRequestToHandler(const Shape* input, std::string_view body) {
  if (body.empty()) {
    return Json::object();
  }
  TIDE_ASSIGN_OR_RETURN(Json v, cbor::decode(body));
  if (!v.is_object()) {
    return Status("SerializationException", "The request body must be a CBOR map");
  }
  return input != nullptr ? jsonRequestToHandler(*input, std::move(v)) : v;
}

std::string handlerResultToCbor(const Shape& output, const Json& result) {
  cbor::Writer w;
  write(w, output, handlerResultToJson(output, result));
  return std::move(w.out());
}

std::string cborError(const std::string& code, const std::string& message) {
  return cbor::encode(Json{{"__type", code}, {"message", message}});
}

} // namespace tide::api::wire
