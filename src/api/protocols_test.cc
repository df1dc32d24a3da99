// Routing and envelopes of the AWS protocols through handleApiRequest: each request shaped as
// the AWS SDKs send it, each answer checked for what their parsers read.
#include "api/api_test_fixture.h"
#include "api/cbor.h"
#include "api/request_semantics.h"
#include "api/wire/model.h"

namespace tide::api {
namespace {

class ProtocolsTest : public ApiTest {
protected:
  HttpResponse send(std::string method, std::string target, std::string body,
                    std::vector<std::pair<std::string, std::string>> headers) {
    HttpRequest r;
    r.method = std::move(method);
    r.target = std::move(target);
    r.body = std::move(body);
    r.headers = std::move(headers);
    return handleApiRequest(*ctx_, r);
  }
  HttpResponse form(const std::string& body) {
    return send("POST", "/", body,
                {{"content-type", "application/x-www-form-urlencoded; charset=utf-8"}});
  }
  static std::string header(const HttpResponse& r, std::string_view name) {
    for (const auto& [n, v] : r.headers) {
      if (n == name) {
        return v;
      }
    }
    return "";
  }
};

TEST_F(ProtocolsTest, Ec2QueryAnswersXmlAndErrorsInEc2sEnvelope) {
  HttpResponse r = form("Action=DescribeInstances&Version=2016-11-15");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.contentType, "text/xml");
  EXPECT_NE(r.body.find("<DescribeInstancesResponse "
                        "xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\"><requestId>"),
            std::string::npos)
      << r.body;
  EXPECT_NE(r.body.find("<reservationSet></reservationSet>"), std::string::npos) << r.body;
  EXPECT_FALSE(header(r, "x-amzn-RequestId").empty());

  r = form("Action=TerminateInstances&Version=2016-11-15&InstanceId.1=i-0123456789abcdef0");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("<Response><Errors><Error><Code>InvalidInstanceID.NotFound</Code>"),
            std::string::npos)
      << r.body;
  EXPECT_NE(r.body.find("<RequestID>"), std::string::npos);
}

TEST_F(ProtocolsTest, QueryAnswersWithResultWrapperAndModelledErrorStatus) {
  HttpResponse r = form("Action=DescribeAutoScalingGroups&Version=2011-01-01");
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("<DescribeAutoScalingGroupsResult><AutoScalingGroups></AutoScalingGroups>"
                        "</DescribeAutoScalingGroupsResult><ResponseMetadata><RequestId>"),
            std::string::npos)
      << r.body;
  r = form("Action=DescribeLoadBalancers&Version=2015-12-01&Names.member.1=nope");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(
      r.body.find("<ErrorResponse xmlns=\"http://elasticloadbalancing.amazonaws.com/doc/"
                  "2015-12-01/\"><Error><Type>Sender</Type><Code>LoadBalancerNotFound</Code>"),
      std::string::npos)
      << r.body;
}

TEST_F(ProtocolsTest, QueryStringsOfGetRequestsAreRequestsToo) {
  HttpResponse r = send("GET", "/?Action=DescribeAlarms&Version=2010-08-01", "", {});
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("<DescribeAlarmsResult>"), std::string::npos) << r.body;
}

TEST_F(ProtocolsTest, BadEnvelopesGetPreciseErrors) {
  HttpResponse r = form("Action=DescribeInstances");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("<Code>MissingParameter</Code>"), std::string::npos) << r.body;
  r = form("Action=DescribeInstances&Version=1999-01-01");
  EXPECT_NE(r.body.find("<Code>InvalidParameterValue</Code>"), std::string::npos) << r.body;
  r = form("Action=Nope&Version=2016-11-15");
  EXPECT_NE(r.body.find("<Code>InvalidAction</Code>"), std::string::npos) << r.body;
  r = form("Action=DescribeAutoScalingGroups&Version=2011-01-01&Bogus=1");
  EXPECT_NE(r.body.find("<Code>ValidationError</Code>"), std::string::npos) << r.body;
  r = form("Action=DescribeInstances&Version=2016-11-15&%ZZ=1");
  EXPECT_NE(r.body.find("<Code>MalformedQueryString</Code>"), std::string::npos)
      << r.status << r.body;
  r = form("Action=RunInstances&Version=2016-11-15&ImageId=ami-1&MinCount=x&MaxCount=1");
  EXPECT_NE(r.body.find("<Code>InvalidParameterValue</Code>"), std::string::npos) << r.body;
}

TEST_F(ProtocolsTest, AwsJsonByTargetPrefixWithEpochTimestampsAndQueryErrorHeader) {
  HttpResponse r = send("POST", "/", R"({"AlarmNames": ["none"]})",
                        {{"x-amz-target", "GraniteServiceVersion20100801.DescribeAlarms"},
                         {"content-type", "application/x-amz-json-1.0"}});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.contentType, "application/x-amz-json-1.0");
  EXPECT_EQ(Json::parse(r.body),
            Json({{"MetricAlarms", Json::array()}, {"CompositeAlarms", Json::array()}}));

  r = send("POST", "/", R"({"AlarmName": "x"})",
           {{"x-amz-target", "GraniteServiceVersion20100801.SetAlarmState"}});
  EXPECT_EQ(r.status, 400);
  EXPECT_FALSE(header(r, "x-amzn-query-error").empty());
  EXPECT_EQ(Json::parse(r.body)["__type"],
            header(r, "x-amzn-query-error").substr(0, header(r, "x-amzn-query-error").find(';')));

  r = send("POST", "/", "{}", {{"x-amz-target", "GraniteServiceVersion20100801.Nope"}});
  EXPECT_EQ(Json::parse(r.body)["__type"], "UnknownOperationException");
}

TEST_F(ProtocolsTest, CborByPathWithTag1Timestamps) {
  // PutMetricAlarm then DescribeAlarms, as the Smithy RPC v2 CBOR clients send them.
  cbor::Writer put;
  put.mapHeader(8);
  for (const char* key : {"AlarmName", "MetricName", "Namespace", "Statistic"}) {
    put.text(key);
    put.text(std::string_view(key) == "AlarmName"    ? "busy"
             : std::string_view(key) == "MetricName" ? "CPUUtilization"
             : std::string_view(key) == "Namespace"  ? "AWS/EC2"
                                                     : "Average");
  }
  put.text("Period");
  put.unsignedInteger(60);
  put.text("EvaluationPeriods");
  put.unsignedInteger(1);
  put.text("Threshold");
  put.floating(70.5);
  put.text("ComparisonOperator");
  put.text("GreaterThanThreshold");
  std::vector<std::pair<std::string, std::string>> headers = {{"smithy-protocol", "rpc-v2-cbor"},
                                                              {"content-type", "application/cbor"}};
  HttpResponse r = send("POST", "/service/GraniteServiceVersion20100801/operation/PutMetricAlarm",
                        put.out(), headers);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(r.body.empty()); // PutMetricAlarm has no output

  r = send("POST", "/service/GraniteServiceVersion20100801/operation/DescribeAlarms", "", headers);
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(header(r, "smithy-protocol"), "rpc-v2-cbor");
  EXPECT_EQ(r.contentType, "application/cbor");
  Json described = *cbor::decode(r.body);
  EXPECT_EQ(described["MetricAlarms"][0]["AlarmName"], "busy");
  EXPECT_EQ(described["MetricAlarms"][0]["Threshold"], 70.5);
  EXPECT_NEAR(described["MetricAlarms"][0]["StateUpdatedTimestamp"].get<double>(),
              static_cast<double>(clock_.now()) / 1000, 0.001);
  // "StateUpdatedTimestamp" then tag 1 (0xc1) and the epoch seconds.
  EXPECT_NE(r.body.find(std::string("StateUpdatedTimestamp") + "\xc1"), std::string::npos);

  r = send("POST", "/service/GraniteServiceVersion20100801/operation/Nope", "", headers);
  EXPECT_EQ(r.status, 404);
  r = send("POST", "/service/GraniteServiceVersion20100801/operation/ListMetrics", "\x81", headers);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ((*cbor::decode(r.body))["__type"], "SerializationException");
  EXPECT_EQ(header(r, "x-amzn-query-error"), "SerializationException;Sender");
}

TEST_F(ProtocolsTest, PaginatedOperationsArePagedWithTokensTiedToTheRequest) {
  for (int i = 0; i < 5; ++i) {
    ok("PutMetricAlarm", {{"AlarmName", "a" + std::to_string(i)},
                          {"MetricName", "CPUUtilization"},
                          {"Namespace", "AWS/EC2"},
                          {"Statistic", "Average"},
                          {"Period", 60},
                          {"EvaluationPeriods", 1},
                          {"Threshold", 50},
                          {"ComparisonOperator", "GreaterThanThreshold"}});
  }
  std::vector<std::string> names;
  std::string token;
  int pages = 0;
  do {
    std::string body = "Action=DescribeAlarms&Version=2010-08-01&MaxRecords=2";
    if (!token.empty()) {
      body += "&NextToken=";
      for (char c : token) { // base64's '+', '/' and '=' escaped, as form encoding wants
        body += std::isalnum(static_cast<unsigned char>(c)) ? std::string(1, c)
                : c == '+'                                  ? std::string("%2B")
                : c == '/'                                  ? std::string("%2F")
                                                            : std::string("%3D");
      }
    }
    HttpResponse r = form(body);
    ASSERT_EQ(r.status, 200) << r.body;
    for (size_t at = 0; (at = r.body.find("<AlarmName>", at)) != std::string::npos; ++at) {
      names.push_back(r.body.substr(at + 11, 2));
    }
    size_t t = r.body.find("<NextToken>");
    token =
        t == std::string::npos ? "" : r.body.substr(t + 11, r.body.find("</NextToken>") - t - 11);
    ++pages;
  } while (!token.empty() && pages < 10);
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(names, (std::vector<std::string>{"a0", "a1", "a2", "a3", "a4"}));

  HttpResponse r = form("Action=DescribeAlarms&Version=2010-08-01&NextToken=bm9wZQ%3D%3D");
  EXPECT_NE(r.body.find("<Code>InvalidNextToken</Code>"), std::string::npos) << r.body;
}

TEST_F(ProtocolsTest, DryRunChecksEverythingAndChangesNothing) {
  std::string image = availableImage();
  auto [status, body] = call("RunInstances", {{"ImageId", image},
                                              {"InstanceType", "t3.micro"},
                                              {"MinCount", 2},
                                              {"MaxCount", 2},
                                              {"DryRun", true}});
  EXPECT_EQ(status, 412);
  EXPECT_EQ(body["__type"], "DryRunOperation");
  EXPECT_EQ(instanceCount(), 0u);
  uint64_t commits = store_->writeCommits();
  // A request that would fail fails as it would, dry or not.
  EXPECT_EQ(errorCode("RunInstances", {{"ImageId", image}, {"DryRun", true}}), "MissingParameter");
  HttpResponse r = form("Action=CreateLaunchTemplate&Version=2016-11-15&DryRun=true"
                        "&LaunchTemplateName=web&LaunchTemplateData.ImageId=" +
                        image + "&LaunchTemplateData.InstanceType=t3.micro");
  EXPECT_EQ(r.status, 412);
  EXPECT_NE(r.body.find("<Code>DryRunOperation</Code>"), std::string::npos) << r.body;
  EXPECT_EQ(ok("DescribeLaunchTemplates", Json::object())["LaunchTemplates"].size(), 0u);
  EXPECT_EQ(store_->writeCommits(), commits);
  // DryRun=false is an ordinary request.
  r = form("Action=CreateLaunchTemplate&Version=2016-11-15&DryRun=false"
           "&LaunchTemplateName=web&LaunchTemplateData.ImageId=" +
           image + "&LaunchTemplateData.InstanceType=t3.micro");
  EXPECT_EQ(r.status, 200) << r.body;
}

TEST_F(ProtocolsTest, ClientTokenRetriesGetTheFirstResult) {
  IdempotencyCache cache;
  ctx_->idempotency = &cache;
  std::string image = availableImage();
  Json request = {{"ImageId", image},
                  {"InstanceType", "t3.micro"},
                  {"MinCount", 1},
                  {"MaxCount", 1},
                  {"ClientToken", "retry-1"}};
  Json first = ok("RunInstances", request);
  Json again = ok("RunInstances", request);
  EXPECT_EQ(again, first);
  EXPECT_EQ(instanceCount(), 1u);
  request["MaxCount"] = 2;
  EXPECT_EQ(errorCode("RunInstances", request), "IdempotentParameterMismatch");
  request["ClientToken"] = "retry-2";
  EXPECT_EQ(ok("RunInstances", request)["Instances"].size(), 2u);
  EXPECT_EQ(instanceCount(), 3u);
  // A failed request is not remembered: its retry runs again.
  Json bad = {{"ImageId", "ami-0000000000000000f"},
              {"InstanceType", "t3.micro"},
              {"ClientToken", "retry-3"}};
  EXPECT_EQ(errorCode("RunInstances", bad), "InvalidAMIID.NotFound");
  bad["ImageId"] = image;
  EXPECT_EQ(ok("RunInstances", bad)["Instances"].size(), 1u);
}

TEST_F(ProtocolsTest, EveryActionOfAnAwsServiceHasItsModel) {
  ActionTable table;
  for (const ActionEntry& a : table.entries()) {
    if (a.service == "tide") {
      continue;
    }
    EXPECT_NE(wire::findOperation(a.service, a.name), nullptr)
        << a.service << " " << a.name << ": add it to scripts/gen_wire_model.py and run it";
  }
}

} // namespace
} // namespace tide::api
