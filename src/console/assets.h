// The console's static files (console/*.html, *.css, *.js and Debian's Chart.js), embedded in the
// binary at build time by cmake/embed_files.cmake so that the console works offline and needs
// nothing installed beside tide.
#pragma once

#include <span>
#include <string_view>

namespace tide::console {

struct EmbeddedFile {
  std::string_view url;  // the path it is served at, under /console/ ("index.html")
  std::string_view body; // its bytes
};

// Every embedded file (generated: build/src/console/assets.cc).
std::span<const EmbeddedFile> embeddedFiles();

// The file served at `url` (relative to /console/), or nullptr.
const EmbeddedFile* findEmbeddedFile(std::string_view url);

// The Content-Type of a file by its extension ("text/html; charset=utf-8", ...).
std::string_view contentTypeOf(std::string_view url);

} // namespace tide::console
