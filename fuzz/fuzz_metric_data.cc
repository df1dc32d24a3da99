// libFuzzer target: a PutMetricData body in JSON, query or CBOR (the first byte picks), decoded
// as the server decodes it and sent again in the other encodings. The properties are in
// json_properties.cc; scripts/fuzz builds and runs this target.
#include "json_properties.h"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  tide::fuzz::abortOnViolation(tide::fuzz::checkMetricData(data, size));
  return 0;
}
