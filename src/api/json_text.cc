// nlohmann's parser (iterative: it keeps its own stack) driving a SAX handler that builds the
// value itself, so that it can stop at the first object or array past the depth limit and at
// the first repeated key, before anything deeper is read.
#include "api/json_text.h"

#include "common/utf8.h"

#include <optional>
#include <utility>
#include <vector>

namespace tide::api {

namespace {

Status serializationError(std::string message) {
  return Status("SerializationException", escapeInvalidUtf8(message));
}

// Builds the value as nlohmann's own DOM parser does (a stack of the open arrays and objects;
// a pointer into its parent stays valid while it is open, because the parent gets no other
// element until it is closed), refusing what parseJsonText's contract refuses.
class BoundedBuilder {
public:
  using number_integer_t = Json::number_integer_t;
  using number_unsigned_t = Json::number_unsigned_t;
  using number_float_t = Json::number_float_t;
  using string_t = Json::string_t;
  using binary_t = Json::binary_t;

  explicit BoundedBuilder(const JsonTextLimits& limits) : limits_(limits) {}

  bool null() { return place(Json(nullptr)) != nullptr; }
  bool boolean(bool b) { return place(Json(b)) != nullptr; }
  bool number_integer(number_integer_t n) { return place(Json(n)) != nullptr; }
  bool number_unsigned(number_unsigned_t n) { return place(Json(n)) != nullptr; }
  bool number_float(number_float_t n, const string_t&) { return place(Json(n)) != nullptr; }
  bool string(string_t& s) { return place(Json(std::move(s))) != nullptr; }
  bool binary(binary_t& b) { return place(Json::binary(std::move(b))) != nullptr; }
  bool start_object(std::size_t) { return open(Json::object()); }
  bool start_array(std::size_t) { return open(Json::array()); }
  bool end_object() { return close(); }
  bool end_array() { return close(); }

  bool key(string_t& k) {
    if (open_.back().value->contains(k)) {
      error_ = serializationError("the key '" + k + "' appears twice in " + objectName());
      return false;
    }
    key_ = std::move(k);
    return true;
  }

  bool parse_error(std::size_t, const std::string&, const Json::exception& e) {
    // "[json.exception.parse_error.101] parse error at line 1, column 2: ..." without its tag.
    std::string what = e.what();
    if (size_t end = what.find("] "); what.starts_with("[json.exception.") && end != what.npos) {
      what.erase(0, end + 2);
    }
    error_ = serializationError(what);
    return false;
  }

  Json& root() { return root_; }
  // Set when the handler stopped the parse (or the parser reported an error).
  const std::optional<Status>& error() const { return error_; }

private:
  struct Open {
    Json* value;
    std::string name; // its key in the parent object, or "[i]" in the parent array
  };

  // Puts a value where the parser is: the root, the next element of the open array, or the
  // member of the open object under the last key.
  Json* place(Json v) {
    if (open_.empty()) {
      root_ = std::move(v);
      return &root_;
    }
    Json& parent = *open_.back().value;
    if (parent.is_array()) {
      parent.push_back(std::move(v));
      return &parent.back();
    }
    Json& slot = parent[key_];
    slot = std::move(v);
    return &slot;
  }

  bool open(Json v) {
    if (open_.size() >= limits_.maxDepth) {
      error_ = serializationError("the JSON nests arrays and objects deeper than " +
                                  std::to_string(limits_.maxDepth) + " levels, at " + pathText());
      return false;
    }
    std::string name;
    if (!open_.empty()) {
      const Json& parent = *open_.back().value;
      name = parent.is_array() ? "[" + std::to_string(parent.size()) + "]" : key_;
    }
    Json* at = place(std::move(v));
    open_.push_back({at, std::move(name)});
    return true;
  }

  bool close() {
    open_.pop_back();
    return true;
  }

  // Where the parser is, as tide's messages name places: Resources.Web.Properties[0]. Long
  // paths (only a refusal of depth reaches one) keep their first and last pieces.
  std::string pathText() const {
    std::string out;
    for (size_t i = 1; i < open_.size(); ++i) {
      const std::string& n = open_[i].name;
      if (out.size() > 160 && i + 4 < open_.size()) {
        out += "...";
        i = open_.size() - 4;
        continue;
      }
      out += (n.starts_with('[') || out.empty()) ? n : "." + n;
    }
    return out.empty() ? "the top level" : out;
  }

  std::string objectName() const {
    return open_.size() <= 1 ? "the top-level object" : "the object at " + pathText();
  }

  const JsonTextLimits& limits_;
  Json root_;
  std::vector<Open> open_;
  string_t key_;
  std::optional<Status> error_;
};

} // namespace

Result<Json> parseJsonText(std::string_view text, const JsonTextLimits& limits) {
  BoundedBuilder builder(limits);
  bool ok = false;
  try {
    ok = Json::sax_parse(text.data(), text.data() + text.size(), &builder);
  } catch (const std::exception& e) {
    // The parser reports errors through parse_error; this is for what it throws regardless
    // (none known, but a JSON library upgrade must not take a server down).
    return serializationError(std::string("the JSON could not be read: ") + e.what());
  }
  if (builder.error()) {
    return *builder.error();
  }
  if (!ok) {
    return serializationError("the JSON could not be read");
  }
  return std::move(builder.root());
}

} // namespace tide::api
