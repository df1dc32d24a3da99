// libFuzzer target: the bytes a client sends to tide's API server, read by the server's own
// http1::RequestReader (heads with Content-Length bodies, chunked bodies, pipelined requests),
// whole and split at arbitrary points. The properties are in http_properties.cc; scripts/fuzz
// builds and runs this target.
#include "http_properties.h"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  tide::fuzz::abortOnViolation(tide::fuzz::checkRequestReader(data, size));
  return 0;
}
