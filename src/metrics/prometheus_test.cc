#include "metrics/prometheus.h"

#include <gtest/gtest.h>

namespace tide::metrics {
namespace {

TEST(Prometheus, NamesAreSnakeCaseWithUnitSuffixes) {
  EXPECT_EQ(snakeCase("HTTPCode_Target_2XX_Count"), "http_code_target_2xx_count");
  EXPECT_EQ(snakeCase("AWS/ApplicationELB"), "aws_application_elb");
  EXPECT_EQ(snakeCase("CPUUtilization"), "cpu_utilization");
  EXPECT_EQ(snakeCase("GroupInServiceInstances"), "group_in_service_instances");
  EXPECT_EQ(snakeCase("my.metric-name"), "my_metric_name");
  EXPECT_EQ(snakeCase("9lives"), "x_9lives");
  EXPECT_EQ(prometheusName("AWS/ApplicationELB", "TargetResponseTime", "Seconds"),
            "tide_aws_application_elb_target_response_time_seconds");
  EXPECT_EQ(prometheusName("AWS/EC2", "CPUUtilization", "Percent"),
            "tide_aws_ec2_cpu_utilization_percent");
  EXPECT_EQ(prometheusName("AWS/EC2", "NetworkIn", "Bytes"), "tide_aws_ec2_network_in_bytes");
  EXPECT_EQ(prometheusName("AWS/ApplicationELB", "RequestCount", "Count"),
            "tide_aws_application_elb_request_count_value");
  EXPECT_EQ(prometheusName("AWS/AutoScaling", "GroupInServiceInstances", "None"),
            "tide_aws_auto_scaling_group_in_service_instances");
  EXPECT_EQ(prometheusName("Shop", "Latency", "Milliseconds"), "tide_shop_latency_seconds");
  EXPECT_EQ(prometheusLabel("AutoScalingGroupName"), "auto_scaling_group");
  EXPECT_EQ(prometheusLabel("InstanceId"), "instance_id");
  EXPECT_EQ(prometheusLabel("LoadBalancer"), "load_balancer");
  EXPECT_EQ(prometheusLabel("TargetGroup"), "target_group");
}

TEST(Prometheus, GaugesShowTheLatestSecondSumOrAverage) {
  std::vector<LatestValue> latest = {
      {{"AWS/ApplicationELB", "RequestCount", {{"LoadBalancer", "app/web/1"}}}, 0, 1, 42, 42, 42},
      {{"AWS/EC2", "CPUUtilization", {{"AutoScalingGroupName", "web"}}}, 0, 2, 100, 40, 60},
      {{"AWS/EC2", "CPUUtilization", {{"InstanceId", "i-1"}}}, 0, 1, 40, 40, 40},
      {{"Shop", "Wait", {}}, 0, 2, 300, 100, 200}, // Milliseconds? no: unknown unit, None
  };
  std::vector<GaugeFamily> g = cloudWatchGauges(latest);
  ASSERT_EQ(g.size(), 3u);
  EXPECT_EQ(g[0].name, "tide_aws_application_elb_request_count_value");
  EXPECT_DOUBLE_EQ(g[0].samples[0].value, 42);
  EXPECT_EQ(g[1].name, "tide_aws_ec2_cpu_utilization_percent");
  ASSERT_EQ(g[1].samples.size(), 2u);
  EXPECT_EQ(g[1].samples[0].labels, (Labels{{"auto_scaling_group", "web"}}));
  EXPECT_DOUBLE_EQ(g[1].samples[0].value, 50); // the Average of a percentage
  EXPECT_EQ(g[2].name, "tide_shop_wait");
  EXPECT_DOUBLE_EQ(g[2].samples[0].value, 300); // None adds up: the Sum
}

TEST(Prometheus, TextFormatWithHistogramsAndEscapes) {
  Exposition e;
  e.gauges.push_back(GaugeFamily{"tide_x", "a \\ help\nline", {{{{"a", "q\"b\\c\nd"}}, 1.5}}});
  HistogramSample h;
  h.labels = {{"action", "DescribeTags"}};
  h.bounds = {0.1, 1};
  h.counts = {2, 3};
  h.overflow = 1;
  h.sum = 4.25;
  e.histograms.push_back(HistogramFamily{"tide_d_seconds", "durations", {h}});
  std::string text = renderExposition(e, ExpositionFormat::Text);
  EXPECT_EQ(text, "# HELP tide_x a \\\\ help\\nline\n"
                  "# TYPE tide_x gauge\n"
                  "tide_x{a=\"q\\\"b\\\\c\\nd\"} 1.5\n"
                  "# HELP tide_d_seconds durations\n"
                  "# TYPE tide_d_seconds histogram\n"
                  "tide_d_seconds_bucket{action=\"DescribeTags\",le=\"0.1\"} 2\n"
                  "tide_d_seconds_bucket{action=\"DescribeTags\",le=\"1.0\"} 5\n"
                  "tide_d_seconds_bucket{action=\"DescribeTags\",le=\"+Inf\"} 6\n"
                  "tide_d_seconds_sum{action=\"DescribeTags\"} 4.25\n"
                  "tide_d_seconds_count{action=\"DescribeTags\"} 6\n");
  std::string om = renderExposition(e, ExpositionFormat::OpenMetrics);
  EXPECT_EQ(om.substr(om.size() - 6), "# EOF\n");
}

TEST(Prometheus, NegotiatesOpenMetricsFromAccept) {
  EXPECT_EQ(negotiateExposition(""), ExpositionFormat::Text);
  EXPECT_EQ(negotiateExposition("text/plain;version=0.0.4;q=0.5,*/*;q=0.1"),
            ExpositionFormat::Text);
  EXPECT_EQ(negotiateExposition("application/openmetrics-text;version=1.0.0,text/plain;q=0.5"),
            ExpositionFormat::OpenMetrics);
  EXPECT_EQ(expositionContentType(ExpositionFormat::Text),
            "text/plain; version=0.0.4; charset=utf-8");
}

} // namespace
} // namespace tide::metrics
