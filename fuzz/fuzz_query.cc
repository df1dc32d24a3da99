// libFuzzer target: a form body decoded for one operation of the query dialect's services
// (wire::parseForm, wire::decodeQuery), encoded again and written as XML. The properties are in
// query_properties.cc; scripts/fuzz builds and runs this target.
#include "query_properties.h"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  tide::fuzz::abortOnViolation(tide::fuzz::checkQueryRequest(data, size));
  return 0;
}
