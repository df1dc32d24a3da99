// Hostile request bodies and headers through handleApiRequest, in every encoding the API reads
// (docs/security.md, "Hostile input"): nesting past the limit, repeated keys and bytes that are
// not UTF-8 get a precise 4xx AWS error in the request's own protocol, never a 500 or a crash,
// and change nothing.
#include "api/api_test_fixture.h"
#include "api/cbor.h"
#include "common/text.h"
#include "common/utf8.h"

namespace tide::api {
namespace {

class HostileInputTest : public ApiTest {
protected:
  HttpResponse send(std::string target, std::string body,
                    std::vector<std::pair<std::string, std::string>> headers) {
    HttpRequest r;
    r.method = "POST";
    r.target = std::move(target);
    r.body = std::move(body);
    r.headers = std::move(headers);
    return handleApiRequest(*ctx_, r);
  }
  // A JSON error body: its code and message, after checking it is JSON (so UTF-8).
  static std::pair<std::string, std::string> jsonError(const HttpResponse& r) {
    EXPECT_EQ(r.status, 400) << r.body.substr(0, 300);
    Json j = Json::parse(r.body, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << r.body.substr(0, 300);
    if (j.is_discarded()) {
      return {};
    }
    return {j.value("__type", ""), j.value("message", "")};
  }
  static bool has(const std::string& text, const std::string& piece) {
    return text.find(piece) != std::string::npos;
  }
  static std::string nested(size_t depth) {
    return std::string(depth, '[') + std::string(depth, ']');
  }
  const std::pair<std::string, std::string> kTideTarget{"x-amz-target", "DescribeInstances"};
  const std::pair<std::string, std::string> kAwsJsonTarget{
      "x-amz-target", "GraniteServiceVersion20100801.DescribeAlarms"};
};

TEST_F(HostileInputTest, DeepJsonBodiesAreRefusedInBothJsonProtocols) {
  std::string deep = "{\"Filters\": " + nested(100'000) + "}";
  for (const auto& target : {kTideTarget, kAwsJsonTarget}) {
    auto [code, message] = jsonError(send("/", deep, {target}));
    EXPECT_EQ(code, "SerializationException");
    EXPECT_TRUE(has(message, "deeper than 64 levels")) << message;
  }
  // 64 levels are read (and then judged by the action's own checks, not the decoder).
  HttpResponse r = send("/", "{\"AlarmNames\": " + nested(63) + "}", {kAwsJsonTarget});
  EXPECT_FALSE(has(r.body, "SerializationException")) << r.body;
}

TEST_F(HostileInputTest, RepeatedKeysAreRefusedNamingTheKey) {
  auto [code, message] =
      jsonError(send("/", R"({"MaxCount": 1, "MinCount": 1, "MaxCount": 5, "ImageId": "ami-1"})",
                     {{"x-amz-target", "RunInstances"}}));
  EXPECT_EQ(code, "SerializationException");
  EXPECT_EQ(message, "The request body is not valid JSON: the key 'MaxCount' appears twice in "
                     "the top-level object");
  std::tie(code, message) =
      jsonError(send("/", R"({"AlarmNames": ["a"], "AlarmNames": ["b"]})", {kAwsJsonTarget}));
  EXPECT_EQ(code, "SerializationException");
  EXPECT_EQ(instanceCount(), 0u);
}

TEST_F(HostileInputTest, InvalidUtf8InAJsonBodyIsRefused) {
  for (const auto& target : {kTideTarget, kAwsJsonTarget}) {
    auto [code, message] = jsonError(send("/", "{\"AlarmNames\": [\"caf\xe9\"]}", {target}));
    EXPECT_EQ(code, "SerializationException");
    EXPECT_TRUE(has(message, "line 1, column")) << message;
  }
}

// Invalid UTF-8 in X-Amz-Target was a 500 (the message quoting it could not be written as
// JSON): now UnknownOperationException, as AWS answers a target it does not know.
TEST_F(HostileInputTest, InvalidUtf8InTheTargetIsUnknownOperation) {
  for (std::string target : {std::string("Describe\xffInstances"),
                             std::string("GraniteServiceVersion20100801.Describe\xc0\xaf"
                                         "Alarms"),
                             std::string("\xfe\xff.RunInstances")}) {
    auto [code, message] = jsonError(send("/", "{}", {{"x-amz-target", target}}));
    EXPECT_EQ(code, "UnknownOperationException") << message;
    EXPECT_TRUE(isValidUtf8(message));
    EXPECT_TRUE(has(message, "\\x")) << message; // the bytes, written out
  }
}

TEST_F(HostileInputTest, InvalidUtf8InAQueryParameterIsMalformedQueryString) {
  for (std::string body : {std::string("Action=DescribeInstances&Version=2016-11-15&Filter.1.Name="
                                       "x%FF"),
                           std::string("Action=DescribeAlarms&Version=2010-08-01&AlarmNames."
                                       "member.1=caf\xe9")}) {
    HttpResponse r = send("/", body, {{"content-type", "application/x-www-form-urlencoded"}});
    EXPECT_EQ(r.status, 400) << r.body;
    EXPECT_TRUE(has(r.body, "<Code>MalformedQueryString</Code>")) << r.body;
    EXPECT_TRUE(isValidUtf8(r.body));
  }
  // In the query string of a GET.
  HttpRequest get;
  get.method = "GET";
  get.target = "/?Action=DescribeInstances&Version=2016-11-15&InstanceId.1=i-%C0%AF";
  HttpResponse r = handleApiRequest(*ctx_, get);
  EXPECT_EQ(r.status, 400);
  EXPECT_TRUE(has(r.body, "MalformedQueryString")) << r.body;
}

TEST_F(HostileInputTest, CborBodiesAreBoundedAndUtf8) {
  std::vector<std::pair<std::string, std::string>> headers = {{"smithy-protocol", "rpc-v2-cbor"},
                                                              {"content-type", "application/cbor"}};
  std::string path = "/service/GraniteServiceVersion20100801/operation/DescribeAlarms";
  // {"AlarmNames": [[[[...]]]]} 100,000 deep (a one-byte array head each).
  cbor::Writer w;
  w.mapHeader(1);
  w.text("AlarmNames");
  std::string deep = w.out() + std::string(100'000, '\x81') + "\x80";
  HttpResponse r = send(path, deep, headers);
  EXPECT_EQ(r.status, 400);
  Result<Json> e = cbor::decode(r.body);
  ASSERT_TRUE(e.isOk());
  EXPECT_EQ((*e)["__type"], "SerializationException");
  // A text string that is not UTF-8.
  cbor::Writer bad;
  bad.mapHeader(1);
  bad.text("AlarmNamePrefix");
  bad.out() += "\x63\x61\xff\x62";
  r = send(path, bad.out(), headers);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ((*cbor::decode(r.body))["__type"], "SerializationException");
  // A path and a protocol header that are not UTF-8.
  r = send("/service/Granite\xff/operation/Describe\xfe", "", headers);
  EXPECT_EQ(r.status, 404);
  EXPECT_TRUE(cbor::decode(r.body).isOk());
  auto [code, message] = jsonError(send("/", "", {{"smithy-protocol", "rpc-v2-\xff"}}));
  EXPECT_EQ(code, "UnsupportedProtocol");
  EXPECT_TRUE(has(message, "rpc-v2-\\xff")) << message;
}

// A JSON document inside a string parameter (SetAlarmState's StateReasonData, which the alarm
// history writes out again) is read with the same bounds: it crashed the server 100,000 deep.
TEST_F(HostileInputTest, JsonDocumentsInParametersAreBounded) {
  auto [code, message] = error("SetAlarmState", {{"AlarmName", "busy"},
                                                 {"StateValue", "ALARM"},
                                                 {"StateReason", "test"},
                                                 {"StateReasonData", nested(100'000)}});
  EXPECT_EQ(code, "InvalidFormat");
  EXPECT_TRUE(has(message, "deeper than 64 levels")) << message;
  std::tie(code, message) = error("SetAlarmState", {{"AlarmName", "busy"},
                                                    {"StateValue", "ALARM"},
                                                    {"StateReason", "test"},
                                                    {"StateReasonData", R"({"a": 1, "a": 2})"}});
  EXPECT_EQ(code, "InvalidFormat");
}

} // namespace
} // namespace tide::api
