// libFuzzer target: a JSON request body (api::parseJsonText) checked against nlohmann's own
// reading and mapped through an AWS JSON operation's input shape. The properties are in
// json_properties.cc; scripts/fuzz builds and runs this target.
#include "json_properties.h"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  tide::fuzz::abortOnViolation(tide::fuzz::checkJsonBody(data, size));
  return 0;
}
