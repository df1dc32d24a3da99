// The access log's line format (ALB's field order and quoting) and its writer.
#include "balancer/access_log.h"

#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace tide::balancer {
namespace {

// Splits a line into fields the way log tools do: on spaces, with "..." as one field.
std::vector<std::string> splitFields(const std::string& line) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < line.size()) {
    if (line[i] == '"') {
      size_t end = line.find('"', i + 1);
      out.push_back(line.substr(i, end + 1 - i));
      i = end + 2;
    } else {
      size_t end = line.find(' ', i);
      if (end == std::string::npos) {
        end = line.size();
      }
      out.push_back(line.substr(i, end - i));
      i = end + 1;
    }
  }
  return out;
}

AccessLogEntry forwardedEntry() {
  AccessLogEntry e;
  e.timeUs = 1530570180186641;            // 2018-07-02T22:23:00.186641Z
  e.requestCreationUs = 1530570168364000; // 2018-07-02T22:22:48.364000Z
  e.loadBalancerArn =
      "arn:aws:elasticloadbalancing:local:000000000000:loadbalancer/app/web/50dc6c495c0c9188";
  e.loadBalancerName = "web";
  e.clientAddress = 0xc0a88327; // 192.168.131.39
  e.clientPort = 2817;
  e.hasTarget = true;
  e.target = Endpoint{0x0a000001, 80};
  e.requestProcessingSeconds = 0;
  e.targetProcessingSeconds = 0.001;
  e.responseProcessingSeconds = 0;
  e.elbStatus = 200;
  e.targetStatus = 200;
  e.receivedBytes = 34;
  e.sentBytes = 366;
  e.method = "GET";
  e.requestTarget = "/";
  e.host = "www.example.com";
  e.listenerPort = 80;
  e.userAgent = "curl/7.46.0";
  e.targetGroupArn = "arn:aws:elasticloadbalancing:local:000000000000:targetgroup/tg/73e2d6bc";
  e.actionsExecuted = "forward";
  e.matchedRulePriority = 0; // the default rule
  return e;
}

TEST(AccessLogFormat, FieldsInAlbOrder) {
  std::string line;
  formatAccessLogEntry(forwardedEntry(), line);
  ASSERT_FALSE(line.empty());
  EXPECT_EQ(line.back(), '\n');
  line.pop_back();
  std::vector<std::string> f = splitFields(line);
  // type time elb client:port target:port request_processing_time target_processing_time
  // response_processing_time elb_status_code target_status_code received_bytes sent_bytes
  // "request" "user_agent" ssl_cipher ssl_protocol target_group_arn "trace_id" "domain_name"
  // "chosen_cert_arn" matched_rule_priority request_creation_time "actions_executed"
  // "redirect_url" "error_reason" "target:port_list" "target_status_code_list"
  // "classification" "classification_reason" conn_trace_id
  std::vector<std::string> want = {
      "http",
      "2018-07-02T22:23:00.186641Z",
      "app/web/50dc6c495c0c9188",
      "192.168.131.39:2817",
      "10.0.0.1:80",
      "0.000",
      "0.001",
      "0.000",
      "200",
      "200",
      "34",
      "366",
      "\"GET http://www.example.com:80/ HTTP/1.1\"",
      "\"curl/7.46.0\"",
      "-",
      "-",
      "arn:aws:elasticloadbalancing:local:000000000000:targetgroup/tg/73e2d6bc",
      "\"-\"",
      "\"-\"",
      "\"-\"",
      "0",
      "2018-07-02T22:22:48.364000Z",
      "\"forward\"",
      "\"-\"",
      "\"-\"",
      "\"10.0.0.1:80\"",
      "\"200\"",
      "\"-\"",
      "\"-\"",
      "-"};
  EXPECT_EQ(f, want);
}

TEST(AccessLogFormat, RejectedRequestHasDashesAndMinusOne) {
  AccessLogEntry e = forwardedEntry();
  e.hasTarget = false;
  e.requestProcessingSeconds = e.targetProcessingSeconds = e.responseProcessingSeconds = -1;
  e.elbStatus = 400;
  e.targetStatus = 0;
  e.method = "";
  e.userAgent = "";
  e.targetGroupArn = "";
  e.actionsExecuted = "";
  e.matchedRulePriority = -1;
  std::string line;
  formatAccessLogEntry(e, line);
  line.pop_back();
  std::vector<std::string> f = splitFields(line);
  ASSERT_EQ(f.size(), 30u);
  EXPECT_EQ(f[4], "-");
  EXPECT_EQ(f[5], "-1");
  EXPECT_EQ(f[6], "-1");
  EXPECT_EQ(f[7], "-1");
  EXPECT_EQ(f[8], "400");
  EXPECT_EQ(f[9], "-");
  EXPECT_EQ(f[12], "\"- - - \"");
  EXPECT_EQ(f[13], "\"-\"");
  EXPECT_EQ(f[16], "-");
  EXPECT_EQ(f[20], "-");
  EXPECT_EQ(f[22], "\"-\"");
  EXPECT_EQ(f[25], "\"-\"");
  EXPECT_EQ(f[26], "\"-\"");
}

TEST(AccessLogFormat, RuleRedirectAndDesyncClassification) {
  AccessLogEntry e = forwardedEntry();
  e.hasTarget = false;
  e.targetStatus = 0;
  e.targetGroupArn = "";
  e.elbStatus = 301;
  e.actionsExecuted = "redirect";
  e.matchedRulePriority = 12;
  e.redirectUrl = "https://www.example.com:443/new?a=\"b\"";
  e.classification = "Acceptable";
  e.classificationReason = "NonCompliantHeader";
  std::string line;
  formatAccessLogEntry(e, line);
  line.pop_back();
  std::vector<std::string> f = splitFields(line);
  ASSERT_EQ(f.size(), 30u);
  EXPECT_EQ(f[20], "12");
  EXPECT_EQ(f[22], "\"redirect\"");
  EXPECT_EQ(f[23], "\"https://www.example.com:443/new?a=\\x22b\\x22\"");
  EXPECT_EQ(f[27], "\"Acceptable\"");
  EXPECT_EQ(f[28], "\"NonCompliantHeader\"");
}

TEST(AccessLogFormat, TypeSaysH2OrGrpcsForHttp2Requests) {
  AccessLogEntry e = forwardedEntry();
  e.https = true;
  e.http2 = true;
  e.method = "POST";
  e.requestTarget = "/pkg.Greeter/Hello";
  e.listenerPort = 443;
  std::string line;
  formatAccessLogEntry(e, line);
  EXPECT_EQ(splitFields(line)[0], "h2");
  EXPECT_NE(line.find("\"POST https://www.example.com:443/pkg.Greeter/Hello HTTP/2.0\""),
            std::string::npos)
      << line;
  e.grpc = true; // forwarded to a GRPC target group
  line.clear();
  formatAccessLogEntry(e, line);
  EXPECT_EQ(splitFields(line)[0], "grpcs");
}

TEST(AccessLogFormat, QuotesAndControlBytesAreEscaped) {
  AccessLogEntry e = forwardedEntry();
  e.requestTarget = "/a\"b\\c";
  e.userAgent = "evil\" \"agent\x01\xff";
  e.host = "h:8080"; // the port in Host is replaced by the listener's
  std::string line;
  formatAccessLogEntry(e, line);
  EXPECT_NE(line.find("\"GET http://h:80/a\\x22b\\x5cc HTTP/1.1\""), std::string::npos) << line;
  EXPECT_NE(line.find("\"evil\\x22 \\x22agent\\x01\\xff\""), std::string::npos) << line;
  // One line, and the same number of fields whatever the client sent.
  EXPECT_EQ(line.find('\n'), line.size() - 1);
  line.pop_back();
  EXPECT_EQ(splitFields(line).size(), 30u);
}

TEST(AccessLogWriter, AppendsSubmittedLinesAndCreatesDirectories) {
  char dir[] = "/tmp/tide-access-log-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  std::string path = std::string(dir) + "/a/b/lb.log";
  {
    AccessLogWriter w(AccessLogOptions{std::chrono::milliseconds(50), 1024});
    w.start();
    std::string lines = "one\ntwo\n";
    EXPECT_TRUE(w.submit(path, lines, true));
    EXPECT_TRUE(lines.empty());
    std::string big(2000, 'x');
    big += '\n';
    EXPECT_FALSE(w.submit(path, big, true)); // over the queue's bound: refused, kept
    EXPECT_FALSE(big.empty());
    w.stop();
  }
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  EXPECT_EQ(ss.str(), "one\ntwo\n");
  std::remove(path.c_str());
}

} // namespace
} // namespace tide::balancer
