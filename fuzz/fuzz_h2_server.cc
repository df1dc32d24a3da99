// libFuzzer target: h2::ServerSession (src/h2) driven by a script of client bytes (after the
// connection preface), target response bytes, resets, clock ticks and reads of its output. The
// properties are in h2_properties.cc; scripts/fuzz builds and runs this target.
#include "h2_properties.h"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  tide::fuzz::abortOnViolation(tide::fuzz::checkH2Server(data, size));
  return 0;
}
