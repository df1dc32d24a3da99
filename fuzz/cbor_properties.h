// Properties of the CBOR codec (src/api/cbor) that must hold for every input. The libFuzzer
// target fuzz_cbor checks them on generated inputs (clang, scripts/fuzz); the unit test
// fuzz/corpus_test.cc checks them on every file of fuzz/corpus/fuzz_cbor/ in the normal build.
#pragma once

#include "http_properties.h" // Violation, abortOnViolation

#include <cstddef>
#include <cstdint>

namespace tide::fuzz {

// Decodes data as one CBOR data item (api::cbor::decode, default limits). A refusal is a
// SerializationException naming a byte offset inside the input. A decoded input is exactly one
// well-formed data item by an independent reading of RFC 8949. A decoded value holds valid UTF-8
// and finite numbers only, encodes (api::cbor::encode) to bytes that decode to the same value (the
// same types: integer or float, signed or not) and encode again to the same bytes; every prefix
// of the input is refused, and so is the input with a byte more; the value decodes under a depth
// limit equal to its nesting and is refused one level below.
Violation checkCborItem(const uint8_t* data, size_t size);

} // namespace tide::fuzz
