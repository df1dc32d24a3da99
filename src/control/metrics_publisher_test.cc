// The metrics publisher over a real store and metric store: the instances' readings reach the
// metric store straight from memory, and publishing never writes the store.
#include "control/metrics_publisher.h"

#include "store/sqlite_store.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <unistd.h>

namespace tide::control {
namespace {

namespace fs = std::filesystem;

class MetricsPublisherTest : public ::testing::Test {
protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("tide-metrics-publisher-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    store_ = std::move(*store::openSqliteStore((dir_ / "state.db").string()));
    snapshots_ = std::make_unique<Publisher>(*store_, [](auto) {});
    publisher_ = std::make_unique<MetricsPublisher>(*store_, metrics_, clock_, *snapshots_,
                                                    [] { return balancer::CountersSnapshot{}; });
  }
  void TearDown() override { fs::remove_all(dir_); }

  // The newest one-second Average of a CPUUtilization series, if it has data.
  std::optional<double> cpu(metrics::Dimension dimension) {
    metrics::StatisticsQuery q;
    q.metric = {"AWS/EC2", "CPUUtilization", {std::move(dimension)}};
    q.startTime = clock_.now() - 10'000;
    q.endTime = clock_.now() + 1000;
    q.periodSeconds = 1;
    q.statistics = {metrics::Statistic::Average};
    std::vector<metrics::Datapoint> points = metrics_.aggregate(q);
    if (points.empty()) {
      return std::nullopt;
    }
    return points.back().average;
  }

  static InstanceReading reading(const std::string& id, double cpu, const std::string& group) {
    return {id, "t3.micro", "ami-00000000000000001", group, {cpu, 1 << 20}};
  }

  fs::path dir_;
  VirtualClock clock_;
  std::unique_ptr<store::Store> store_;
  metrics::MetricStore metrics_{clock_};
  std::unique_ptr<Publisher> snapshots_;
  std::unique_ptr<MetricsPublisher> publisher_;
};

TEST_F(MetricsPublisherTest, ReadingsReachTheMetricStoreUnderEveryDimension) {
  ASSERT_TRUE(publisher_
                  ->sample({reading("i-00000000000000001", 40, "web"),
                            reading("i-00000000000000002", 60, "")})
                  .isOk());
  EXPECT_EQ(cpu({"InstanceId", "i-00000000000000001"}), 40);
  EXPECT_EQ(cpu({"InstanceId", "i-00000000000000002"}), 60);
  EXPECT_EQ(cpu({"InstanceType", "t3.micro"}), 50); // each instance's value counts once
  EXPECT_EQ(cpu({"ImageId", "ami-00000000000000001"}), 50);
  EXPECT_EQ(cpu({"AutoScalingGroupName", "web"}), 40); // only the group's member
}

TEST_F(MetricsPublisherTest, AReadingWithoutARateYetIsNotPublished) {
  ASSERT_TRUE(publisher_->sample({reading("i-00000000000000001", -1, "web")}).isOk());
  EXPECT_FALSE(cpu({"InstanceId", "i-00000000000000001"}).has_value());
  EXPECT_FALSE(cpu({"AutoScalingGroupName", "web"}).has_value());
}

TEST_F(MetricsPublisherTest, PublishingEverySecondNeverWritesTheStore) {
  uint64_t writes = store_->writeCommits();
  for (int second = 0; second < 10; ++second) {
    ASSERT_TRUE(publisher_->sample({reading("i-00000000000000001", 10.0 * second, "web")}).isOk());
    EXPECT_EQ(cpu({"InstanceId", "i-00000000000000001"}), 10.0 * second);
    clock_.advance(Millis(1000));
  }
  EXPECT_EQ(store_->writeCommits(), writes);
}

} // namespace
} // namespace tide::control
