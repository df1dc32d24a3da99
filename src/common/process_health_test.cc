#include "common/process_health.h"

#include <gtest/gtest.h>

namespace tide {
namespace {

TEST(ProcessHealth, DurationsLandInTheirBucketsByLabel) {
  // The registry lives for the process: a label of this test's own keeps it apart.
  observeDuration(HealthTimer::ApiRequest, "ProcessHealthTestAction", 0.0003);
  observeDuration(HealthTimer::ApiRequest, "ProcessHealthTestAction", 0.001); // at the bound
  observeDuration(HealthTimer::ApiRequest, "ProcessHealthTestAction", 60);    // above them all
  { ScopedDuration timed(HealthTimer::ApiRequest, "ProcessHealthTestOther"); }
  auto all = durationHistograms(HealthTimer::ApiRequest);
  const DurationHistogram& h = all.at("ProcessHealthTestAction");
  std::span<const double> bounds = durationBounds();
  ASSERT_EQ(h.counts.size(), bounds.size());
  EXPECT_EQ(h.count, 3u);
  EXPECT_EQ(h.overflow, 1u);
  EXPECT_DOUBLE_EQ(h.sumSeconds, 60.0013);
  for (size_t i = 0; i < bounds.size(); ++i) {
    uint64_t want = bounds[i] == 0.0005 || bounds[i] == 0.001 ? 1 : 0;
    EXPECT_EQ(h.counts[i], want) << "le " << bounds[i];
  }
  EXPECT_EQ(all.at("ProcessHealthTestOther").count, 1u);
  EXPECT_EQ(durationHistograms(HealthTimer::StoreCommit).count("ProcessHealthTestAction"), 0u);
}

} // namespace
} // namespace tide
