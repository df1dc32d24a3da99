// libFuzzer target: one CBOR data item (api::cbor::decode), its encoding and decoding again. The
// properties are in cbor_properties.cc; scripts/fuzz builds and runs this target.
#include "cbor_properties.h"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  tide::fuzz::abortOnViolation(tide::fuzz::checkCborItem(data, size));
  return 0;
}
