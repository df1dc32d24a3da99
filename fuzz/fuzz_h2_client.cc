// libFuzzer target: h2::ClientSession (src/h2, HTTP/2 to targets) driven by a script of target
// bytes, requests, reads of its output, resets and credit. The properties are in
// h2_properties.cc; scripts/fuzz builds and runs this target.
#include "h2_properties.h"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  tide::fuzz::abortOnViolation(tide::fuzz::checkH2Client(data, size));
  return 0;
}
