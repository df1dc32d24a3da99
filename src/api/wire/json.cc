#include "api/wire/json.h"

#include "common/clock.h"
#include "common/text.h"

#include <cmath>
#include <string>

namespace tide::api::wire {

namespace {

Json toHandler(const Shape& shape, Json v, int depth) {
  if (depth > 64) {
    return v;
  }
  switch (shape.type) {
  case Type::Structure:
    if (v.is_object()) {
      for (const Member& m : shape.members()) {
        auto it = v.find(m.name);
        if (it != v.end()) {
          *it = toHandler(shapeAt(m.shape), std::move(*it), depth + 1);
        }
      }
    }
    return v;
  case Type::List:
    if (v.is_array()) {
      for (Json& e : v) {
        e = toHandler(shapeAt(shape.a), std::move(e), depth + 1);
      }
    }
    return v;
  case Type::Map:
    if (v.is_object()) {
      for (auto& [k, e] : v.items()) {
        e = toHandler(shapeAt(shape.b), std::move(e), depth + 1);
      }
    }
    return v;
  case Type::Timestamp:
    if (v.is_number()) {
      double seconds = v.get<double>();
      if (std::isfinite(seconds) && std::fabs(seconds) < 1e13) {
        return formatIso8601(static_cast<TimeMs>(std::llround(seconds * 1000)));
      }
    }
    return v;
  case Type::Blob:
    if (v.is_binary()) {
      const auto& bytes = v.get_binary();
      return base64Encode(std::string(bytes.begin(), bytes.end()));
    }
    return v;
  default:
    return v;
  }
}

Json toWire(const Shape& shape, const Json& v, int depth) {
  if (depth > 64) {
    return Json();
  }
  switch (shape.type) {
  case Type::Structure: {
    if (!v.is_object()) {
      return Json();
    }
    Json out = Json::object();
    for (const Member& m : shape.members()) {
      auto it = v.find(m.name);
      if (it == v.end() || it->is_null()) {
        continue;
      }
      Json e = toWire(shapeAt(m.shape), *it, depth + 1);
      if (!e.is_null()) {
        out[std::string(m.name)] = std::move(e);
      }
    }
    return out;
  }
  case Type::List: {
    if (!v.is_array()) {
      return Json();
    }
    Json out = Json::array();
    for (const Json& e : v) {
      out.push_back(toWire(shapeAt(shape.a), e, depth + 1));
    }
    return out;
  }
  case Type::Map: {
    if (!v.is_object()) {
      return Json();
    }
    Json out = Json::object();
    for (const auto& [k, e] : v.items()) {
      out[k] = toWire(shapeAt(shape.b), e, depth + 1);
    }
    return out;
  }
  case Type::Timestamp:
    if (v.is_string()) {
      if (std::optional<TimeMs> t = parseTimestamp(v.get<std::string>())) {
        if (*t % 1000 == 0) {
          return Json(*t / 1000);
        }
        return Json(static_cast<double>(*t) / 1000.0);
      }
    }
    return v;
  case Type::Integer:
  case Type::Long:
    if (v.is_number_float() && std::isfinite(v.get<double>())) {
      return Json(std::llround(v.get<double>())); // the model's type is what clients parse
    }
    return v;
  default:
    if (v.is_object() || v.is_array()) {
      return Json();
    }
    return v;
  }
}

} // namespace

Json jsonRequestToHandler(const Shape& input, Json body) {
  return toHandler(input, std::move(body), 0);
}

Json handlerResultToJson(const Shape& output, const Json& result) {
  return toWire(output, result, 0);
}

} // namespace tide::api::wire
