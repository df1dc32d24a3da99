#include "console/assets.h"

namespace tide::console {

const EmbeddedFile* findEmbeddedFile(std::string_view url) {
  for (const EmbeddedFile& f : embeddedFiles()) {
    if (f.url == url) {
      return &f;
    }
  }
  return nullptr;
}

std::string_view contentTypeOf(std::string_view url) {
  struct Type {
    std::string_view extension;
    std::string_view contentType;
  };
  static constexpr Type kTypes[] = {
      {".html", "text/html; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".png", "image/png"},
  };
  for (const Type& t : kTypes) {
    if (url.ends_with(t.extension)) {
      return t.contentType;
    }
  }
  return "application/octet-stream";
}

} // namespace tide::console
