// libFuzzer target: the bytes a target sends on one connection, for a GET and for a HEAD request:
// interim and final response heads, their bodies and the responses after them. The properties are
// in http_properties.cc; scripts/fuzz builds and runs this target.
#include "http_properties.h"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  tide::fuzz::abortOnViolation(tide::fuzz::checkResponseStream(data, size));
  return 0;
}
