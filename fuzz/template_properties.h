// Properties of the reading of stack templates (src/stacks/template_yaml.cc:
// parseTemplateDocument, YAML with CloudFormation's short forms or JSON) that must hold for
// every input. The libFuzzer target fuzz_template checks them on generated inputs (clang,
// scripts/fuzz); fuzz/corpus_test.cc checks them on every file of fuzz/corpus/fuzz_template/ in
// the normal build.
#pragma once

#include "http_properties.h" // Violation, abortOnViolation

#include <cstddef>
#include <cstdint>

namespace tide::fuzz {

// Reads data as a template's text. Nothing throws; a refusal is a ValidationError whose message
// starts "Template format error: " and is UTF-8; text that is not UTF-8 is refused. An accepted
// text is a JSON object that dumps (valid UTF-8, finite numbers), nests arrays and objects at most
// kMaxTemplateDepth deep, holds no more nodes than the alias budget allows for the text's size
// (so a billion laughs cannot pass), and reads back from its dump as itself.
Violation checkTemplateText(const uint8_t* data, size_t size);

// Whether the text reads: for the seed corpus, whose files named invalid-* must be refused.
bool readsTemplate(const uint8_t* data, size_t size);

} // namespace tide::fuzz
