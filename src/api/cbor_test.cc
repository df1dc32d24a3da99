#include "api/cbor.h"

#include <gtest/gtest.h>

#include <cfloat>
#include <cmath>
#include <string>
#include <vector>

namespace tide::api::cbor {
namespace {

// The bytes of a hex string; spaces are skipped.
std::string unhex(std::string_view hex) {
  auto nibble = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
  std::string out;
  for (size_t i = 0; i < hex.size(); ++i) {
    if (hex[i] == ' ') {
      continue;
    }
    out.push_back(static_cast<char>(nibble(hex[i]) * 16 + nibble(hex[i + 1])));
    ++i;
  }
  return out;
}

std::string hexOf(std::string_view bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (char c : bytes) {
    out.push_back(digits[static_cast<uint8_t>(c) >> 4]);
    out.push_back(digits[static_cast<uint8_t>(c) & 0xf]);
  }
  return out;
}

Json binary(std::vector<std::uint8_t> b) {
  return Json::binary(std::move(b));
}

// The decoded value, or the error's text, in a form that tells integers from floats.
std::string decodedText(std::string_view hex, const Limits& limits = {}) {
  Result<Json> r = decode(unhex(hex), limits);
  if (!r) {
    return r.status().toString();
  }
  return r->dump();
}

// Expects a SerializationException whose message contains `what` and ends "at byte <offset>".
void expectErrorIn(const std::string& bytes, const std::string& what, size_t offset,
                   const Limits& limits = {}) {
  std::string hex = hexOf(bytes.substr(0, 64));
  Result<Json> r = decode(bytes, limits);
  ASSERT_FALSE(r) << hex << " decoded to " << r->dump();
  EXPECT_EQ(r.status().code(), "SerializationException") << hex;
  const std::string& m = r.status().message();
  EXPECT_NE(m.find(what), std::string::npos) << hex << ": " << m;
  std::string at = " at byte " + std::to_string(offset);
  EXPECT_TRUE(m.size() >= at.size() && m.compare(m.size() - at.size(), at.size(), at) == 0)
      << hex << ": " << m << " (expected" << at << ")";
}

void expectError(std::string_view hex, const std::string& what, size_t offset,
                 const Limits& limits = {}) {
  expectErrorIn(unhex(hex), what, offset, limits);
}

struct Example {
  const char* hex;
  Json value;
  bool canonical; // encode(value) gives these bytes back
};

std::string rangeArray(int from, int to) {
  std::string s = "[";
  for (int i = from; i <= to; ++i) {
    s += (i == from ? "" : ",") + std::to_string(i);
  }
  return s + "]";
}

// RFC 8949 Appendix A, the examples that JSON can hold.
std::vector<Example> rfcExamples() {
  auto j = [](const char* text) { return Json::parse(text); };
  return {
      {"00", j("0"), true},
      {"01", j("1"), true},
      {"0a", j("10"), true},
      {"17", j("23"), true},
      {"1818", j("24"), true},
      {"1819", j("25"), true},
      {"1864", j("100"), true},
      {"1903e8", j("1000"), true},
      {"1a000f4240", j("1000000"), true},
      {"1b000000e8d4a51000", j("1000000000000"), true},
      {"1bffffffffffffffff", j("18446744073709551615"), true},
      {"20", j("-1"), true},
      {"29", j("-10"), true},
      {"3863", j("-100"), true},
      {"3903e7", j("-1000"), true},
      {"f90000", j("0.0"), true},
      {"f98000", j("-0.0"), true},
      {"f93c00", j("1.0"), true},
      {"fb3ff199999999999a", j("1.1"), true},
      {"f93e00", j("1.5"), true},
      {"f97bff", j("65504.0"), true},
      {"fa47c35000", j("100000.0"), true},
      {"fa7f7fffff", j("3.4028234663852886e+38"), true},
      {"fb7e37e43c8800759c", j("1.0e+300"), true},
      {"f90001", j("5.960464477539063e-8"), true},
      {"f90400", j("0.00006103515625"), true},
      {"f9c400", j("-4.0"), true},
      {"fbc010666666666666", j("-4.1"), true},
      // Floats in a longer form than needed still read as the same value.
      {"fa3fc00000", j("1.5"), false},
      {"fb3ff8000000000000", j("1.5"), false},
      {"f4", j("false"), true},
      {"f5", j("true"), true},
      {"f6", j("null"), true},
      {"f7", j("null"), false}, // undefined
      {"c11a514b67b0", j("1363896240"), false},
      {"c1fb41d452d9ec200000", j("1363896240.5"), false},
      {"40", binary({}), true},
      {"4401020304", binary({1, 2, 3, 4}), true},
      {"60", j("\"\""), true},
      {"6161", j("\"a\""), true},
      {"6449455446", j("\"IETF\""), true},
      {"62225c", j(R"("\"\\")"), true},
      {"62c3bc", j(R"("\u00fc")"), true},
      {"63e6b0b4", j(R"("\u6c34")"), true},
      {"64f0908591", j(R"("\ud800\udd51")"), true},
      {"80", j("[]"), true},
      {"83010203", j("[1,2,3]"), true},
      {"8301820203820405", j("[1,[2,3],[4,5]]"), true},
      {"98190102030405060708090a0b0c0d0e0f101112131415161718181819", j(rangeArray(1, 25).c_str()),
       true},
      {"a0", j("{}"), true},
      {"a26161016162820203", j(R"({"a":1,"b":[2,3]})"), true},
      {"826161a161626163", j(R"(["a",{"b":"c"}])"), true},
      {"a56161614161626142616361436164614461656145",
       j(R"({"a":"A","b":"B","c":"C","d":"D","e":"E"})"), true},
      // Indefinite lengths.
      {"5f42010243030405ff", binary({1, 2, 3, 4, 5}), false},
      {"7f657374726561646d696e67ff", j("\"streaming\""), false},
      {"9fff", j("[]"), false},
      {"9f018202039f0405ffff", j("[1,[2,3],[4,5]]"), false},
      {"9f01820203820405ff", j("[1,[2,3],[4,5]]"), false},
      {"83018202039f0405ff", j("[1,[2,3],[4,5]]"), false},
      {"83019f0203ff820405", j("[1,[2,3],[4,5]]"), false},
      {"9f0102030405060708090a0b0c0d0e0f101112131415161718181819ff", j(rangeArray(1, 25).c_str()),
       false},
      {"bf61610161629f0203ffff", j(R"({"a":1,"b":[2,3]})"), false},
      {"826161bf61626163ff", j(R"(["a",{"b":"c"}])"), false},
      {"bf6346756ef563416d7421ff", j(R"({"Fun":true,"Amt":-2})"), false},
  };
}

TEST(CborDecodeTest, Rfc8949AppendixAExamples) {
  for (const Example& e : rfcExamples()) {
    Result<Json> r = decode(unhex(e.hex));
    ASSERT_TRUE(r) << e.hex << ": " << r.status().toString();
    // dump() tells 1 from 1.0 and -0.0 from 0.0, which == does not.
    EXPECT_EQ(r->dump(), e.value.dump()) << e.hex;
    EXPECT_EQ(r->type(), e.value.type()) << e.hex;
  }
}

TEST(CborEncodeTest, Rfc8949AppendixAExamplesEncodeBack) {
  for (const Example& e : rfcExamples()) {
    std::string bytes = encode(e.value);
    if (e.canonical) {
      EXPECT_EQ(hexOf(bytes), e.hex);
    }
    Result<Json> back = decode(bytes);
    ASSERT_TRUE(back) << e.hex << ": " << back.status().toString();
    EXPECT_EQ(back->dump(), e.value.dump()) << e.hex;
  }
}

TEST(CborDecodeTest, IntegersAtTheEdgesOf64Bits) {
  EXPECT_EQ(decodedText("3b7fffffffffffffff"), "-9223372036854775808");
  Result<Json> min = decode(unhex("3b7fffffffffffffff"));
  ASSERT_TRUE(min);
  EXPECT_EQ(min->get<int64_t>(), INT64_MIN);
  EXPECT_EQ(decodedText("1b7fffffffffffffff"), "9223372036854775807");
  EXPECT_EQ(decodedText("1b8000000000000000"), "9223372036854775808");
  EXPECT_TRUE(decode(unhex("1b8000000000000000"))->is_number_unsigned());
  // A negative integer below -2^63 is refused, never wrapped.
  expectError("3b8000000000000000", "a negative integer below -2^63", 0);
  expectError("3bffffffffffffffff", "a negative integer below -2^63", 0);
  expectError("813bffffffffffffffff", "a negative integer below -2^63", 1);
}

TEST(CborDecodeTest, IndefiniteStringsAreTheirChunksJoined) {
  EXPECT_EQ(decodedText("7fff"), "\"\"");
  EXPECT_EQ(decodedText("5fff"), decodedText("40"));
  EXPECT_EQ(decodedText("7f6060616160ff"), "\"a\"");
  // A character may not be split across chunks: each chunk is a text string of its own.
  expectError("7f61c361bcff", "invalid UTF-8", 2);
  // Indefinite text as a map key.
  EXPECT_EQ(decodedText("a17f6161626262ff01"), R"({"abb":1})");
  // Chunks of another type, or of indefinite length, are refused.
  expectError("5f6161ff", "a chunk of an indefinite-length byte string is a text string", 1);
  expectError("7f4161ff", "a chunk of an indefinite-length text string is a byte string", 1);
  expectError("7f7fffff", "is of indefinite length", 1);
  expectError("7f01ff", "is an unsigned integer", 1);
  expectError("7f61", "a text string of 1 bytes in the 0 bytes left", 1);
}

TEST(CborDecodeTest, IndefiniteMapsAndArraysNest) {
  EXPECT_EQ(decodedText("bf61619f9fffbfffff6162a0ff"), R"({"a":[[],{}],"b":{}})");
  EXPECT_EQ(decodedText("9f9f9f9fffffffff"), "[[[[]]]]");
}

TEST(CborDecodeTest, Tag1IsTheNumberItEncloses) {
  EXPECT_EQ(decodedText("c100"), "0");
  EXPECT_EQ(decodedText("c13863"), "-100");
  EXPECT_EQ(decodedText("c1f93e00"), "1.5");
  EXPECT_EQ(decodedText("c1fa47c35000"), "100000.0");
  EXPECT_EQ(decodedText("c1fb41d452d9ec200000"), "1363896240.5");
  EXPECT_EQ(decodedText("a16954696d657374616d70c11a514b67b0"), R"({"Timestamp":1363896240})");
  expectError("c16161", "tag 1 (epoch seconds) encloses a text string, not a number", 1);
  expectError("c180", "tag 1 (epoch seconds) encloses an array, not a number", 1);
  expectError("c1f5", "tag 1 (epoch seconds) encloses a boolean, not a number", 1);
  expectError("c1c100", "tag 1 (epoch seconds) encloses a tag, not a number", 1);
  expectError("c1f97e00", "NaN", 1);
  expectError("c1f97c00", "infinite", 1);
  expectError("c1", "the input ends where a data item should start", 1);
}

TEST(CborDecodeTest, OtherTagsAreRefused) {
  expectError("c074323031332d30332d32315432303a30343a30305a", "tag 0 is not supported", 0);
  expectError("c249010000000000000000", "tag 2 is not supported", 0);
  expectError("c349010000000000000000", "tag 3 is not supported", 0);
  expectError("d74401020304", "tag 23 is not supported", 0);
  expectError("d818456449455446", "tag 24 is not supported", 0);
  expectError("d82076687474703a2f2f7777772e6578616d706c652e636f6d", "tag 32 is not supported", 0);
  expectError("a16161d9d9f700", "tag 55799 is not supported", 3);
  expectError("df00", "a tag cannot have an indefinite length", 0);
}

TEST(CborDecodeTest, NaNAndInfinitiesAreRefused) {
  for (const char* hex : {"f97e00", "fa7fc00000", "fb7ff8000000000000", "f97e01"}) {
    expectError(hex, "a NaN float (JSON has no NaN)", 0);
  }
  for (const char* hex : {"f97c00", "f9fc00", "fa7f800000", "faff800000", "fb7ff0000000000000",
                          "fbfff0000000000000"}) {
    expectError(hex, "an infinite float (JSON has no Infinity)", 0);
  }
  expectError("a1616182f97c00", "an infinite float", 4);
}

TEST(CborDecodeTest, SimpleValuesOtherThanTheFourAreRefused) {
  expectError("f0", "simple value 16 is not supported", 0);
  expectError("e0", "simple value 0 is not supported", 0);
  expectError("f8ff", "simple value 255 is not supported", 0);
  expectError("f820", "simple value 32 is not supported", 0);
  expectError("f818", "simple value 24 in two bytes (not well-formed)", 0);
  expectError("f814", "simple value 20 in two bytes (not well-formed)", 0);
}

TEST(CborDecodeTest, MapKeysAreTextStringsEachOnce) {
  expectError("a201020304", "a map key is an unsigned integer, not a text string", 1);
  expectError("a14161 01", "a map key is a byte string, not a text string", 1);
  expectError("a1800102", "a map key is an array, not a text string", 1);
  expectError("a1f601", "a map key is null, not a text string", 1);
  expectError("a1c16161 01", "a map key is a tag, not a text string", 1);
  expectError("a2616101616102", "the map key \"a\" is repeated", 4);
  expectError("bf616101616102ff", "the map key \"a\" is repeated", 4);
  // The same key in two maps is fine.
  EXPECT_EQ(decodedText("82a16161 01a1616102"), R"([{"a":1},{"a":2}])");
}

TEST(CborDecodeTest, TextMustBeValidUtf8) {
  expectError("62c328", "invalid UTF-8 in a text string", 1);     // bad continuation
  expectError("62c080", "invalid UTF-8 in a text string", 1);     // overlong NUL
  expectError("63e08080", "invalid UTF-8 in a text string", 1);   // overlong
  expectError("63eda080", "invalid UTF-8 in a text string", 1);   // a surrogate
  expectError("64f4908080", "invalid UTF-8 in a text string", 1); // above U+10FFFF
  expectError("61ff", "invalid UTF-8 in a text string", 1);
  expectError("6180", "invalid UTF-8 in a text string", 1);         // a lone continuation
  expectError("6261c3", "invalid UTF-8 in a text string", 2);       // cut short
  expectError("a162c3286101", "invalid UTF-8 in a text string", 2); // in a key
  // Byte strings hold any bytes.
  EXPECT_EQ(decodedText("42c328"), decodedText("42c328"));
  EXPECT_TRUE(decode(unhex("42ffff"))->is_binary());
  // A NUL is valid UTF-8.
  EXPECT_EQ(decode(unhex("6100"))->get<std::string>(), std::string(1, '\0'));
}

TEST(CborDecodeTest, ExactlyOneDataItem) {
  expectError("", "the input ends where a data item should start", 0);
  expectError("0000", "trailing bytes after the data item (1 of them)", 1);
  expectError("80ff", "trailing bytes after the data item", 1);
  expectError("a0a0", "trailing bytes after the data item", 1);
  expectError("9fff00", "trailing bytes after the data item", 2);
}

TEST(CborDecodeTest, BreakOnlyEndsAnIndefiniteArrayOrMap) {
  expectError("ff", "break (0xff) outside an indefinite-length array or map", 0);
  expectError("81ff", "break (0xff) outside an indefinite-length array or map", 1);
  expectError("9f81ffff", "break (0xff) outside", 2);
  expectError("bf6161ff", "break (0xff) after a map key, before its value", 3);
}

TEST(CborDecodeTest, MalformedHeadsAreRefused) {
  expectError("1c", "reserved additional information 28", 0);
  expectError("5d", "reserved additional information 29", 0);
  expectError("fe", "reserved additional information 30", 0);
  expectError("1f", "an unsigned integer cannot have an indefinite length", 0);
  expectError("3f", "a negative integer cannot have an indefinite length", 0);
  expectError("19", "the input ends inside the head of an unsigned integer (2 argument bytes", 0);
  expectError("811b0000", "the input ends inside the head", 1);
  expectError("fb3ff0", "the input ends inside the head of a float (8 argument bytes needed)", 0);
}

// Every prefix of a valid item is refused (and never read past its end).
void expectEveryPrefixRefused(const std::string& bytes) {
  ASSERT_TRUE(decode(bytes)) << hexOf(bytes);
  for (size_t n = 0; n < bytes.size(); ++n) {
    // A copy, so that AddressSanitizer would see a read past the prefix.
    std::string prefix = bytes.substr(0, n);
    Result<Json> r = decode(prefix);
    ASSERT_FALSE(r) << hexOf(prefix) << " decoded to " << r->dump();
    EXPECT_EQ(r.status().code(), "SerializationException");
    EXPECT_NE(r.status().message().find("at byte "), std::string::npos);
  }
}

TEST(CborDecodeTest, TruncatedAtEveryOffset) {
  for (const Example& e : rfcExamples()) {
    expectEveryPrefixRefused(unhex(e.hex));
  }
  expectEveryPrefixRefused(unhex("bf61610161629f0203ffff"));
}

TEST(CborDecodeTest, DepthOverTheLimitIsRefusedWithoutRecursion) {
  std::string nested64 = std::string(64, '\x81') + '\x00';
  EXPECT_TRUE(decode(nested64));
  std::string nested65 = std::string(65, '\x81') + '\x00';
  expectErrorIn(nested65, "arrays and maps nested deeper than 64 levels", 64);
  expectErrorIn(std::string(65, '\x9f'), "nested deeper than 64 levels", 64);
  // Maps count as levels too.
  expectError("a16161a16162a1616300", "nested deeper than 2 levels", 6, Limits{.maxDepth = 2});
  EXPECT_EQ(decodedText("a16161a1616200", Limits{.maxDepth = 2}), R"({"a":{"b":0}})");
  // A megabyte of nesting is refused at the limit, whatever the limit.
  std::string deep(1 << 20, '\x81');
  expectErrorIn(deep, "nested deeper than 64 levels", 64);
  expectErrorIn(deep, "nested deeper than 100000 levels", 100000,
                Limits{.maxDepth = 100000, .maxItems = 1 << 21});
  // Without limits, 200 000 levels end as a truncated input, not a stack overflow.
  std::string deeper(200000, '\x81');
  expectErrorIn(deeper, "an array of 1 items in the 0 bytes left", deeper.size() - 1,
                Limits{.maxDepth = SIZE_MAX, .maxItems = SIZE_MAX});
}

TEST(CborDecodeTest, ItemCountOverTheLimitIsRefused) {
  // 100001 zeros in one array: 100002 items.
  std::string many = unhex("1a000186a1");
  many[0] = '\x9a';
  many += std::string(100001, '\x00');
  Result<Json> r = decode(many);
  ASSERT_FALSE(r);
  EXPECT_NE(r.status().message().find("more than 100000 data items at byte 100004"),
            std::string::npos)
      << r.status().message();
  EXPECT_TRUE(decode(many, Limits{.maxItems = 100002}));
  // Keys, tags and string chunks count.
  EXPECT_TRUE(decode(unhex("83010203"), Limits{.maxItems = 4}));
  expectError("83010203", "more than 3 data items", 3, Limits{.maxItems = 3});
  expectError("a1616101", "more than 2 data items", 3, Limits{.maxItems = 2});
  expectError("81c100", "more than 2 data items", 2, Limits{.maxItems = 2});
  expectError("7f61616161ff", "more than 2 data items", 3, Limits{.maxItems = 2});
}

TEST(CborDecodeTest, HugeDeclaredLengthsAreRefusedBeforeAllocating) {
  expectError("5bffffffffffffffff", "a byte string of 18446744073709551615 bytes in the 0 bytes",
              0);
  expectError("7bffffffffffffffff00", "a text string of 18446744073709551615 bytes in the 1 bytes",
              0);
  expectError("7a7fffffff", "a text string of 2147483647 bytes", 0);
  expectError("9bffffffffffffffff", "an array of 18446744073709551615 items in the 0 bytes left",
              0);
  expectError("bbffffffffffffffff", "a map of 18446744073709551615 pairs", 0);
  expectError("9a0000000300", "an array of 3 items in the 1 bytes left", 0);
  expectError("a20000", "a map of 2 pairs in the 2 bytes left", 0);
  expectError("5f5a7fffffffff", "a byte string of 2147483647 bytes", 1);
  expectError("a1617a5affffffff", "a byte string of 4294967295 bytes", 3);
}

TEST(CborWriterTest, WritesTheShortestHeads) {
  Writer w;
  w.unsignedInteger(0);
  w.unsignedInteger(23);
  w.unsignedInteger(24);
  w.unsignedInteger(255);
  w.unsignedInteger(256);
  w.unsignedInteger(65536);
  w.unsignedInteger(UINT64_MAX);
  EXPECT_EQ(hexOf(w.out()), "0017181818ff1901001a000100001bffffffffffffffff");
  w.out().clear();
  w.integer(-1);
  w.integer(INT64_MIN);
  w.integer(7);
  w.negativeInteger(UINT64_MAX); // -2^64
  EXPECT_EQ(hexOf(w.out()), "203b7fffffffffffffff073bffffffffffffffff");
  w.out().clear();
  w.boolean(true);
  w.boolean(false);
  w.null();
  w.text("IETF");
  w.bytes(std::string("\x01\x02", 2));
  w.arrayHeader(2);
  w.mapHeader(1);
  w.arrayHeader(1000);
  EXPECT_EQ(hexOf(w.out()), "f5f4f66449455446420102"
                            "82a1"
                            "9903e8");
}

TEST(CborWriterTest, FloatsTakeTheShortestExactForm) {
  auto floating = [](double v) {
    Writer w;
    w.floating(v);
    return hexOf(w.out());
  };
  EXPECT_EQ(floating(0.0), "f90000");
  EXPECT_EQ(floating(-0.0), "f98000");
  EXPECT_EQ(floating(1.5), "f93e00");
  EXPECT_EQ(floating(65504.0), "f97bff");
  EXPECT_EQ(floating(65505.0), "fa477fe100");       // not a half
  EXPECT_EQ(floating(0x1p-24), "f90001");           // the smallest half subnormal
  EXPECT_EQ(floating(0x1p-25), "fa33000000");       // below it: a single
  EXPECT_EQ(floating(1.0 + 0x1p-10), "f93c01");     // 11 significant bits fit a half
  EXPECT_EQ(floating(1.0 + 0x1p-11), "fa3f801000"); // 12 do not
  EXPECT_EQ(floating(100000.0), "fa47c35000");
  EXPECT_EQ(floating(3.4028234663852886e+38), "fa7f7fffff");
  EXPECT_EQ(floating(std::nextafter(double{FLT_MAX}, HUGE_VAL)),
            "fb47efffffe0000001"); // above FLT_MAX
  EXPECT_EQ(floating(1.1), "fb3ff199999999999a");
  EXPECT_EQ(floating(HUGE_VAL), "f97c00");
  EXPECT_EQ(floating(-HUGE_VAL), "f9fc00");
  EXPECT_EQ(floating(std::nan("")), "f97e00");
  // Every form reads back as the same double.
  for (double v : {0.0, 1.5, 65505.0, 0x1p-25, 1.1, 1e300, -4.1, 5e-324}) {
    Result<Json> r = decode(unhex(floating(v)));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->get<double>(), v);
  }
}

TEST(CborWriterTest, TimestampsAreTag1WithAnIntegerWhenWhole) {
  auto timestamp = [](double v) {
    Writer w;
    w.timestamp(v);
    return hexOf(w.out());
  };
  EXPECT_EQ(timestamp(1363896240), "c11a514b67b0");
  EXPECT_EQ(timestamp(1363896240.5), "c1fb41d452d9ec200000");
  EXPECT_EQ(timestamp(0), "c100");
  EXPECT_EQ(timestamp(-1), "c120");
  EXPECT_EQ(timestamp(1.5), "c1fb3ff8000000000000"); // always a double when not whole
  EXPECT_EQ(decodedText(timestamp(1796530350.25)), "1796530350.25");
}

TEST(CborEncodeTest, PlainJson) {
  Json v = Json::parse(R"({"b":[1,-2,1.5,"x",true,null,{}],"a":{"c":[]}})");
  v["bin"] = binary({0, 255});
  std::string bytes = encode(v);
  // Keys in Json's (sorted) order.
  EXPECT_EQ(hexOf(bytes), "a3"
                          "6161a16163"
                          "80"
                          "6162"
                          "87"
                          "01"
                          "21"
                          "f93e00"
                          "6178"
                          "f5"
                          "f6"
                          "a0"
                          "6362696e"
                          "4200ff");
  Result<Json> back = decode(bytes);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, v);
}

TEST(CborEncodeTest, SignedAndUnsignedJsonNumbersTakeTheirSign) {
  EXPECT_EQ(hexOf(encode(Json(int64_t{5}))), "05");
  EXPECT_EQ(hexOf(encode(Json(int64_t{-5}))), "24");
  EXPECT_EQ(hexOf(encode(Json(uint64_t{5}))), "05");
  EXPECT_EQ(hexOf(encode(Json(INT64_MIN))), "3b7fffffffffffffff");
  EXPECT_EQ(hexOf(encode(Json(2.0))), "f94000"); // a float stays a float
}

// A CloudWatch PutMetricData request as the Go SDK would send it (definite lengths, timestamps
// as tag 1), decoded, then encoded and decoded again.
TEST(CborEncodeTest, PutMetricDataRoundTrip) {
  Writer w;
  w.mapHeader(2);
  w.text("Namespace");
  w.text("tide/App");
  w.text("MetricData");
  w.arrayHeader(2);
  for (int i = 0; i < 2; ++i) {
    w.mapHeader(6);
    w.text("MetricName");
    w.text(i == 0 ? "Latency" : "Requests");
    w.text("Dimensions");
    w.arrayHeader(1);
    w.mapHeader(2);
    w.text("Name");
    w.text("TargetGroup");
    w.text("Value");
    w.text("web");
    w.text("Timestamp");
    w.timestamp(i == 0 ? 1796530350 : 1796530350.5);
    w.text(i == 0 ? "Value" : "Values");
    if (i == 0) {
      w.floating(12.25);
    } else {
      w.arrayHeader(2);
      w.floating(1);
      w.floating(2.5);
    }
    w.text("Unit");
    w.text(i == 0 ? "Milliseconds" : "Count");
    w.text("StorageResolution");
    w.unsignedInteger(60);
  }
  Result<Json> decoded = decode(w.out());
  ASSERT_TRUE(decoded) << decoded.status().toString();
  Json expected = Json::parse(R"({
    "Namespace": "tide/App",
    "MetricData": [
      {"MetricName": "Latency", "Dimensions": [{"Name": "TargetGroup", "Value": "web"}],
       "Timestamp": 1796530350, "Value": 12.25, "Unit": "Milliseconds", "StorageResolution": 60},
      {"MetricName": "Requests", "Dimensions": [{"Name": "TargetGroup", "Value": "web"}],
       "Timestamp": 1796530350.5, "Values": [1.0, 2.5], "Unit": "Count", "StorageResolution": 60}
    ]})");
  EXPECT_EQ(decoded->dump(), expected.dump());
  Result<Json> again = decode(encode(*decoded));
  ASSERT_TRUE(again);
  EXPECT_EQ(again->dump(), expected.dump());
  expectEveryPrefixRefused(w.out());
}

} // namespace
} // namespace tide::api::cbor
