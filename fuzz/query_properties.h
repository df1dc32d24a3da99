// Properties of the query and EC2-query decoders (src/api/wire/query.cc) and of the XML they
// answer in (src/api/wire/xml.cc) that must hold for every input. The libFuzzer targets
// fuzz_query and fuzz_ec2_query check them on generated inputs (clang, scripts/fuzz); the unit
// test fuzz/corpus_test.cc checks them on every file of fuzz/corpus/fuzz_query/ and
// fuzz/corpus/fuzz_ec2_query/ in the normal build.
#pragma once

#include "http_properties.h" // Violation, abortOnViolation

#include <cstddef>
#include <cstdint>

namespace tide::fuzz {

// The rest after the first byte is a form body; its Action parameter picks the operation of the
// query dialect's services (autoscaling, elbv2, monitoring, cloudformation, sts) as a server
// routes it, and when it names none, the first byte does (modulo their count). The body goes
// through wire::parseForm, then wire::decodeQuery. A refusal has a documented code and a valid
// UTF-8 message that names a piece of the input, and its XML error (encodeXmlError) is well-formed.
// An accepted decode is a JSON object shaped by the operation's input shape (member names,
// types, valid UTF-8), every value of it is one the form carried, under the name the model
// gives it; decoding again gives the same JSON; the JSON written as XML (encodeXmlResponse, as if
// the input shape were an output) is well-formed; and an independent encoder (botocore's query
// serializer rules) writes a form that decodes to the same JSON, less what those rules cannot
// express (empty structures).
Violation checkQueryRequest(const uint8_t* data, size_t size);

// The same for the EC2 dialect (service ec2; lists as Name.N, names from queryName or the
// capitalised locationName; botocore's EC2 serializer sends no empty list).
Violation checkEc2QueryRequest(const uint8_t* data, size_t size);

// Whether the input (operation byte and form body, as above) decodes in the EC2 dialect (ec2) or
// the query dialect: for the seed corpus, whose files named invalid-* must be refused.
bool decodesQueryRequest(const uint8_t* data, size_t size, bool ec2);

} // namespace tide::fuzz
