// libFuzzer target: a stack template's text, YAML or JSON (stacks::parseTemplateDocument). The
// properties are in template_properties.cc; scripts/fuzz builds and runs this target.
#include "template_properties.h"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  tide::fuzz::abortOnViolation(tide::fuzz::checkTemplateText(data, size));
  return 0;
}
