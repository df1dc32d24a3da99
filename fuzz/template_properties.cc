#include "template_properties.h"

#include "stacks/template.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <string_view>

namespace tide::fuzz {
namespace {

using api::Json;

#define PROPERTY(cond, what)                                                                       \
  do {                                                                                             \
    if (!(cond)) {                                                                                 \
      return Violation{what, __LINE__, "fuzz/template_properties.cc"};                             \
    }                                                                                              \
  } while (0)

// dump() throws on a string that is not UTF-8 (nlohmann's check, not tide's).
bool dumps(const Json& v) {
  try {
    (void)v.dump();
    return true;
  } catch (const Json::exception&) {
    return false;
  }
}

bool finite(const Json& v) {
  if (v.is_number_float()) {
    return std::isfinite(v.get<double>());
  }
  if (v.is_array() || v.is_object()) {
    return std::all_of(v.begin(), v.end(), [](const Json& e) { return finite(e); });
  }
  return true;
}

// Arrays and objects on the deepest path, and every value counted once.
void measure(const Json& v, size_t depth, size_t& deepest, size_t& nodes) {
  ++nodes;
  if (v.is_array() || v.is_object()) {
    deepest = std::max(deepest, depth + 1);
    for (const Json& e : v) {
      measure(e, depth + 1, deepest, nodes);
    }
  }
}

} // namespace

Violation checkTemplateText(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  Result<Json> r = Json();
  try {
    r = stacks::parseTemplateDocument(text);
  } catch (...) {
    PROPERTY(false, "parseTemplateDocument never throws");
  }
  if (!r) {
    PROPERTY(r.status().code() == "ValidationError", "a refusal is a ValidationError");
    PROPERTY(r.status().message().starts_with("Template format error: "),
             "a refusal is a template format error");
    PROPERTY(dumps(Json(r.status().message())), "a refusal's message is UTF-8");
    return {};
  }
  PROPERTY(dumps(Json(std::string(text))), "text that is not UTF-8 is refused");
  PROPERTY(r->is_object(), "a template is an object");
  PROPERTY(dumps(*r), "an accepted template dumps (valid UTF-8)");
  PROPERTY(finite(*r), "an accepted template holds finite numbers only");
  size_t deepest = 0;
  size_t nodes = 0;
  measure(*r, 0, deepest, nodes);
  PROPERTY(deepest <= stacks::kMaxTemplateDepth, "nesting within kMaxTemplateDepth");
  // The alias budget (template_yaml.cc): 64 units a byte plus 1 MiB, 64 a node.
  PROPERTY(nodes <= size + (size_t(1) << 14) + 1, "no more nodes than the budget allows");
  Result<Json> again = stacks::parseTemplateDocument(r->dump());
  PROPERTY(again.isOk() && *again == *r, "an accepted template reads back from its dump");
  return {};
}

bool readsTemplate(const uint8_t* data, size_t size) {
  return stacks::parseTemplateDocument(std::string_view(reinterpret_cast<const char*>(data), size))
      .isOk();
}

} // namespace tide::fuzz
