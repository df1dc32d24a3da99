// libFuzzer target: the bytes a client sends on one connection: request heads under several limits,
// their bodies (Content-Length or chunked) and the requests after them. The properties are in
// http_properties.cc; scripts/fuzz builds and runs this target.
#include "http_properties.h"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  tide::fuzz::abortOnViolation(tide::fuzz::checkRequestStream(data, size));
  return 0;
}
