// Registers tide's built-in base image (model/public_parameters.h) at server start: an image
// of a small directory whose app is `tide serve-static`, run with this server's own binary. The
// image keeps its fixed id across restarts; a start repairs what changed (the binary moved, the
// stored files are gone) and otherwise changes nothing.
#pragma once

#include "common/clock.h"
#include "common/status.h"
#include "runtime/image_store.h"
#include "store/store.h"

#include <string>

namespace tide::server {

// The command the base image's instances run: `exec 'BINARY' serve-static`.
std::string baseImageRunCommand(const std::string& tideBinary);

// Writes <dataDir>/base-image (a Procfile and a README) and records the image, pending until the
// image controller imports it. When an image of another id already has the base image's name,
// nothing is registered and the error says so.
Status ensureBaseImage(store::Store& store, const runtime::ImageStore& images,
                       const std::string& dataDir, const std::string& tideBinary);

} // namespace tide::server
