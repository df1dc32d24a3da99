// The wire protocols against what botocore sends and parses: form bodies as its query and EC2
// serializers write them, XML as its parsers read it.
#include "api/wire/json.h"
#include "api/wire/model.h"
#include "api/wire/query.h"
#include "api/wire/xml.h"
#include "common/status_testing.h"

#include <gtest/gtest.h>

namespace tide::api::wire {
namespace {

const Operation& op(std::string_view service, std::string_view name) {
  const Operation* o = findOperation(service, name);
  EXPECT_NE(o, nullptr) << service << " " << name;
  return *o;
}

Result<Json> decode(std::string_view service, std::string_view name, std::string_view body) {
  FormParams form;
  TIDE_RETURN_IF_ERROR(parseForm(body, form));
  const Service* s = findService(service);
  return decodeQuery(op(service, name), form,
                     s->protocol == "ec2" ? QueryDialect::Ec2 : QueryDialect::Query);
}

TEST(WireModelTest, ServicesAreFoundByEveryRoutingKey) {
  EXPECT_EQ(findServiceByVersion("2016-11-15")->name, "ec2");
  EXPECT_EQ(findServiceByVersion("2011-01-01")->name, "autoscaling");
  EXPECT_EQ(findServiceBySigningName("elasticloadbalancing")->name, "elbv2");
  EXPECT_EQ(findServiceByTargetPrefix("GraniteServiceVersion20100801")->name, "monitoring");
  EXPECT_EQ(findServiceByTargetPrefix("AmazonSSM")->jsonVersion, "1.1");
  EXPECT_EQ(findServiceByCborId("GraniteServiceVersion20100801")->name, "monitoring");
  EXPECT_EQ(findServiceByTargetPrefix(""), nullptr);
  EXPECT_EQ(findService("ec2")->xmlNamespace, "http://ec2.amazonaws.com/doc/2016-11-15/");
  const ErrorCode* e = findError("autoscaling", "AlreadyExists");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->httpStatus, 400);
  EXPECT_EQ(op("autoscaling", "DescribeAutoScalingGroups").limitKey, "MaxRecords");
  EXPECT_EQ(op("ec2", "DescribeInstances").resultKey, "Reservations");
}

TEST(FormTest, DecodesPercentAndPlus) {
  FormParams form;
  ASSERT_OK(parseForm("A=a%20b+c&B=%E2%82%AC&C=&D", form));
  EXPECT_EQ(form["A"], "a b c");
  EXPECT_EQ(form["B"], "\xe2\x82\xac");
  EXPECT_EQ(form["C"], "");
  EXPECT_EQ(form["D"], "");
}

TEST(FormTest, RefusesMalformedForms) {
  for (std::string_view bad : {"A=%4", "A=%zz", "A=1&A=2", "=x", "A=%ff", "B=1&%ZZ=1"}) {
    FormParams form;
    Status s = parseForm(bad, form);
    EXPECT_EQ(s.code(), "MalformedQueryString") << bad;
  }
}

// Found by fuzz_query: the messages named nothing of the input, or quoted bytes that are not
// UTF-8 (which then went into XML errors as they were).
TEST(FormTest, RefusalsQuoteWhatWasSentAsUtf8) {
  FormParams form;
  Status s = parseForm("A=%\xff\xfe", form);
  EXPECT_EQ(s.message(), "A '%' in the query is not followed by two hex digits: '%%FF%FE'");
  s = parseForm("Name=caf%E9", form);
  EXPECT_EQ(s.message(), "A query parameter is not valid UTF-8: 'caf%E9'");
  s = parseForm("A=\x80", form);
  EXPECT_EQ(s.message(), "A query parameter is not valid UTF-8: '%80'");
  s = parseForm("=x", form);
  EXPECT_EQ(s.message(), "A query parameter has no name: '=x'");
}

TEST(Ec2QueryTest, DecodesListsFiltersAndTypesByTheModel) {
  auto p = decode("ec2", "DescribeInstances",
                  "Action=DescribeInstances&Version=2016-11-15&InstanceId.1=i-1&InstanceId.2=i-2"
                  "&Filter.1.Name=instance-state-name&Filter.1.Value.1=running"
                  "&Filter.1.Value.2=pending&MaxResults=5");
  ASSERT_OK(p);
  EXPECT_EQ((*p)["InstanceIds"], Json({"i-1", "i-2"}));
  EXPECT_EQ((*p)["Filters"][0]["Name"], "instance-state-name");
  EXPECT_EQ((*p)["Filters"][0]["Values"], Json({"running", "pending"}));
  EXPECT_EQ((*p)["MaxResults"], 5);
}

TEST(Ec2QueryTest, DecodesRunInstancesAsBotocoreSendsIt) {
  auto p = decode("ec2", "RunInstances",
                  "Action=RunInstances&Version=2016-11-15&MinCount=2&MaxCount=3"
                  "&LaunchTemplate.LaunchTemplateName=web&LaunchTemplate.Version=%24Latest"
                  "&TagSpecification.1.ResourceType=instance&TagSpecification.1.Tag.1.Key=Name"
                  "&TagSpecification.1.Tag.1.Value=web&DryRun=false&Port=8081"
                  "&Environment.1.Name=MODE&Environment.1.Value=test");
  ASSERT_OK(p);
  EXPECT_EQ((*p)["MinCount"], 2);
  EXPECT_TRUE((*p)["MinCount"].is_number_integer());
  EXPECT_EQ((*p)["LaunchTemplate"]["Version"], "$Latest");
  EXPECT_EQ((*p)["TagSpecifications"][0]["Tags"][0]["Value"], "web");
  EXPECT_EQ((*p)["DryRun"], false);
  EXPECT_EQ((*p)["Port"], 8081); // tide's own member
  EXPECT_EQ((*p)["Environment"][0]["Name"], "MODE");
}

TEST(Ec2QueryTest, RefusesWrongTypesAndUnknownParameters) {
  auto p = decode("ec2", "RunInstances", "MinCount=two&MaxCount=1&ImageId=ami-1");
  EXPECT_EQ(p.status().code(), "InvalidParameterValue");
  EXPECT_NE(p.status().message().find("MinCount"), std::string::npos);
  p = decode("ec2", "RunInstances", "MinCount=99999999999&MaxCount=1");
  EXPECT_EQ(p.status().code(), "InvalidParameterValue");
  p = decode("ec2", "DescribeInstances", "InstanceIds.1=i-1");
  EXPECT_EQ(p.status().code(), "UnknownParameter");
  EXPECT_NE(p.status().message().find("InstanceIds.1"), std::string::npos);
  p = decode("ec2", "DescribeInstances", "InstanceId.01=i-1");
  EXPECT_EQ(p.status().code(), "UnknownParameter");
  // Found by fuzz_ec2_query: from_chars read "-2" as an index.
  p = decode("ec2", "DescribeInstances", "Filter.1.Name=a&Filter.1.Value.-2=b");
  EXPECT_EQ(p.status().code(), "UnknownParameter");
  EXPECT_NE(p.status().message().find("Filter.1.Value.-2"), std::string::npos);
  p = decode("ec2", "DescribeInstances", "DryRun=yes");
  EXPECT_EQ(p.status().code(), "InvalidParameterValue");
}

TEST(QueryTest, DecodesMemberListsAndKeepsStringsStrings) {
  auto p = decode("elbv2", "ModifyTargetGroupAttributes",
                  "Action=ModifyTargetGroupAttributes&Version=2015-12-01&TargetGroupArn=arn"
                  "&Attributes.member.1.Key=deregistration_delay.timeout_seconds"
                  "&Attributes.member.1.Value=5");
  ASSERT_OK(p);
  EXPECT_EQ((*p)["Attributes"][0]["Value"], "5"); // a string in the model
  p = decode("autoscaling", "CreateAutoScalingGroup",
             "AutoScalingGroupName=web&MinSize=1&MaxSize=4&DesiredCapacity=2"
             "&LaunchTemplate.LaunchTemplateName=web&TargetGroupARNs.member.1=arn1"
             "&Tags.member.1.Key=team&Tags.member.1.Value=shop"
             "&Tags.member.1.PropagateAtLaunch=true");
  ASSERT_OK(p);
  EXPECT_EQ((*p)["MinSize"], 1);
  EXPECT_EQ((*p)["TargetGroupARNs"], Json({"arn1"}));
  EXPECT_EQ((*p)["Tags"][0]["PropagateAtLaunch"], true);
}

TEST(QueryTest, DecodesEmptyListsMapsAndDoubles) {
  auto p = decode("monitoring", "PutMetricAlarm",
                  "AlarmName=a&MetricName=CPUUtilization&Namespace=AWS/EC2&Statistic=Average"
                  "&Period=60&EvaluationPeriods=2&Threshold=70.5"
                  "&ComparisonOperator=GreaterThanThreshold&AlarmActions="
                  "&Dimensions.member.1.Name=AutoScalingGroupName&Dimensions.member.1.Value=web");
  ASSERT_OK(p);
  EXPECT_EQ((*p)["Threshold"], 70.5);
  EXPECT_EQ((*p)["AlarmActions"], Json::array());
  EXPECT_EQ((*p)["Dimensions"][0]["Value"], "web");
  p = decode("monitoring", "PutMetricAlarm", "Threshold=nan");
  EXPECT_EQ(p.status().code(), "ValidationError");
  p = decode("monitoring", "PutMetricAlarm", "Threshold=1e999");
  EXPECT_EQ(p.status().code(), "ValidationError");
  p = decode("monitoring", "PutMetricAlarm", "Bogus=1");
  EXPECT_EQ(p.status().code(), "ValidationError");
  EXPECT_NE(p.status().message().find("Bogus"), std::string::npos);
}

// Found by fuzz_query: a list of only empty structures decoded to [], an empty list the form
// never sent (the query protocol sends that as "Name=").
TEST(QueryTest, AListOfOnlyEmptyStructuresIsNoList) {
  auto p = decode("monitoring", "PutMetricData", "Namespace=App&MetricData.member.112=");
  ASSERT_OK(p);
  EXPECT_FALSE(p->contains("MetricData")) << p->dump();
  p = decode("monitoring", "PutMetricData", "Namespace=App&MetricData=");
  ASSERT_OK(p);
  EXPECT_EQ((*p)["MetricData"], Json::array());
}

// Found by fuzz_query: an entry with a key and no value gave the handler a null where the
// model has a string.
TEST(QueryTest, MapEntriesNeedAKeyAndAValue) {
  std::string params = "LoadBalancerArn=lb&DefaultActions.member.1.Type=authenticate-oidc"
                       "&DefaultActions.member.1.AuthenticateOidcConfig.ClientId=tide";
  std::string map = "&DefaultActions.member.1.AuthenticateOidcConfig."
                    "AuthenticationRequestExtraParams.entry.1.";
  auto p = decode("elbv2", "CreateListener", params + map + "key=prompt" + map + "value=login");
  ASSERT_OK(p);
  EXPECT_EQ((*p)["DefaultActions"][0]["AuthenticateOidcConfig"]["AuthenticationRequestExtraParams"],
            Json({{"prompt", "login"}}));
  p = decode("elbv2", "CreateListener", params + map + "key=prompt");
  EXPECT_EQ(p.status().code(), "ValidationError");
  EXPECT_NE(p.status().message().find("AuthenticationRequestExtraParams.entry.1 has no value"),
            std::string::npos);
  p = decode("elbv2", "CreateListener", params + map + "value=login");
  EXPECT_EQ(p.status().code(), "ValidationError");
}

TEST(XmlTest, WritesEc2ResponsesAsBotocoreReadsThem) {
  Json result = {{"Reservations",
                  {{{"ReservationId", "r-1"},
                    {"Instances",
                     {{{"InstanceId", "i-1"},
                       {"State", {{"Code", 16}, {"Name", "running"}}},
                       {"LaunchTime", "2026-12-06T04:12:30.000Z"},
                       {"CPUUtilization", 3.5}, // tide's own: not in the model
                       {"Tags", {{{"Key", "a<b"}, {"Value", "x&y"}}}}}}}}}}};
  std::string xml = encodeXmlResponse(*findService("ec2"), op("ec2", "DescribeInstances"), result,
                                      "req-1", QueryDialect::Ec2);
  EXPECT_EQ(xml, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                 "<DescribeInstancesResponse xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\">"
                 "<requestId>req-1</requestId><reservationSet><item><instancesSet><item>"
                 "<instanceId>i-1</instanceId><launchTime>2026-12-06T04:12:30.000Z</launchTime>"
                 "<instanceState><code>16</code><name>running</name></instanceState>"
                 "<tagSet><item><key>a&lt;b</key><value>x&amp;y</value></item></tagSet>"
                 "</item></instancesSet><reservationId>r-1</reservationId></item></reservationSet>"
                 "</DescribeInstancesResponse>");
}

TEST(XmlTest, WritesQueryResponsesWithResultWrapperAndMembers) {
  Json result = {{"AutoScalingGroups",
                  {{{"AutoScalingGroupName", "web"},
                    {"MinSize", 1},
                    {"NewInstancesProtectedFromScaleIn", false},
                    {"TargetGroupARNs", {"arn1"}}}}}};
  std::string xml =
      encodeXmlResponse(*findService("autoscaling"), op("autoscaling", "DescribeAutoScalingGroups"),
                        result, "req-2", QueryDialect::Query);
  EXPECT_NE(xml.find("<DescribeAutoScalingGroupsResponse "
                     "xmlns=\"http://autoscaling.amazonaws.com/doc/2011-01-01/\">"
                     "<DescribeAutoScalingGroupsResult><AutoScalingGroups><member>"
                     "<AutoScalingGroupName>web</AutoScalingGroupName>"),
            std::string::npos)
      << xml;
  EXPECT_NE(xml.find("<TargetGroupARNs><member>arn1</member></TargetGroupARNs>"),
            std::string::npos);
  EXPECT_NE(xml.find("<NewInstancesProtectedFromScaleIn>false</NewInstancesProtectedFromScaleIn>"),
            std::string::npos);
  EXPECT_NE(xml.find("<ResponseMetadata><RequestId>req-2</RequestId></ResponseMetadata>"),
            std::string::npos);
}

TEST(XmlTest, WritesErrorsInEachDialect) {
  EXPECT_EQ(encodeXmlError(findService("ec2"), "InvalidInstanceID.NotFound", "no i-1", true, "r",
                           QueryDialect::Ec2),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error>"
            "<Code>InvalidInstanceID.NotFound</Code><Message>no i-1</Message></Error></Errors>"
            "<RequestID>r</RequestID></Response>");
  EXPECT_EQ(encodeXmlError(findService("sts"), "SignatureDoesNotMatch", "bad", true, "r",
                           QueryDialect::Query),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ErrorResponse "
            "xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type>"
            "<Code>SignatureDoesNotMatch</Code><Message>bad</Message></Error>"
            "<RequestId>r</RequestId></ErrorResponse>");
}

TEST(XmlTest, EscapesWhatXmlCannotCarry) {
  EXPECT_EQ(xmlEscape("a\"b'c\r\n\t\x01"), "a&quot;b&apos;c&#13;\n\t\xef\xbf\xbd");
  // Found by fuzz_query: the noncharacters U+FFFE and U+FFFF are not XML 1.0 characters.
  EXPECT_EQ(xmlEscape("a\xef\xbf\xbe\xef\xbf\xbf\xef\xbf\xbd\xef\xbe\xbf"),
            "a\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbe\xbf");
}

TEST(JsonWireTest, TimestampsTravelAsEpochSeconds) {
  const Operation& get = op("monitoring", "GetMetricStatistics");
  Json in = jsonRequestToHandler(
      shapeAt(get.input), {{"StartTime", 1796530350}, {"EndTime", 1796530350.5}, {"Unknown", 1}});
  EXPECT_EQ(in["StartTime"], "2026-12-06T04:12:30.000Z");
  EXPECT_EQ(in["EndTime"], "2026-12-06T04:12:30.500Z");
  EXPECT_EQ(in["Unknown"], 1); // left for the handler to refuse by name
  Json out = handlerResultToJson(
      shapeAt(get.output),
      {{"Label", "CPU"},
       {"Datapoints", {{{"Timestamp", "2026-12-06T04:12:30.250Z"}, {"Average", 2.5}}}},
       {"Extra", true}});
  EXPECT_EQ(out, Json({{"Label", "CPU"},
                       {"Datapoints", {{{"Timestamp", 1796530350.25}, {"Average", 2.5}}}}}));
}

} // namespace
} // namespace tide::api::wire
