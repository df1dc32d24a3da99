// libFuzzer target: a chunked body (http1::ChunkedDecoder) in one piece, byte by byte and in
// pseudo-random pieces. The properties are in http_properties.cc; scripts/fuzz builds and runs this
// target.
#include "http_properties.h"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  tide::fuzz::abortOnViolation(tide::fuzz::checkChunkedBody(data, size));
  return 0;
}
