// Predictive scaling: the configuration's checks, the forecast of synthetic series (a daily
// pattern repeats, a short history keeps its recent level, no history no forecast) and the
// capacity it asks for within the group's bounds. The controller on the virtual clock:
// control/predictive_scaling_controller_test.cc.
#include "common/status_testing.h"
#include "operations/predictive_scaling.h"

#include <gtest/gtest.h>

#include <cmath>

namespace tide::operations {
namespace {

constexpr TimeMs kHour = kForecastHourMs;
constexpr TimeMs kDay0 = 1'764'979'200'000; // 2025-12-06T00:00:00Z, a midnight

model::PredictiveScalingConfiguration config(model::PredictiveScalingMetricSpecification s) {
  model::PredictiveScalingConfiguration c;
  c.metricSpecifications = {std::move(s)};
  return c;
}

model::PredictiveScalingMetricSpecification cpuPair(double target) {
  model::PredictiveScalingMetricSpecification s;
  s.targetValue = target;
  s.pairType = "ASGCPUUtilization";
  return s;
}

std::string errorOf(const Status& s) {
  return s.isOk() ? "OK" : s.code() + ": " + s.message();
}

TEST(PredictiveScaling, ValidatesAsAutoScaling) {
  EXPECT_OK(validatePredictiveScaling(config(cpuPair(50))));

  model::PredictiveScalingConfiguration none;
  EXPECT_NE(errorOf(validatePredictiveScaling(none)).find("must have one"), std::string::npos);
  auto two = config(cpuPair(50));
  two.metricSpecifications.push_back(cpuPair(60));
  EXPECT_NE(errorOf(validatePredictiveScaling(two)).find("only one"), std::string::npos);

  EXPECT_NE(errorOf(validatePredictiveScaling(config(cpuPair(0)))).find("greater than 0"),
            std::string::npos);
  auto unknown = cpuPair(50);
  unknown.pairType = "ASGMemory";
  EXPECT_NE(errorOf(validatePredictiveScaling(config(unknown))).find("enum value set"),
            std::string::npos);

  // A pair and a load metric; a scaling metric without a load metric.
  auto both = cpuPair(50);
  both.loadType = "ASGTotalCPUUtilization";
  EXPECT_EQ(validatePredictiveScaling(config(both)).code(), "ValidationError");
  model::PredictiveScalingMetricSpecification scalingOnly;
  scalingOnly.targetValue = 50;
  scalingOnly.scalingType = "ASGAverageCPUUtilization";
  EXPECT_NE(errorOf(validatePredictiveScaling(config(scalingOnly))).find("load metric"),
            std::string::npos);
  auto separate = scalingOnly;
  separate.loadType = "ASGTotalCPUUtilization";
  EXPECT_OK(validatePredictiveScaling(config(separate)));

  // ResourceLabel: required for, and only for, request counts.
  model::PredictiveScalingMetricSpecification alb;
  alb.targetValue = 1000;
  alb.pairType = "ALBRequestCount";
  EXPECT_NE(errorOf(validatePredictiveScaling(config(alb))).find("ResourceLabel is required"),
            std::string::npos);
  alb.pairLabel = "app/web/50dc6c495c0c9188/targetgroup/shop/943f017f100becff";
  EXPECT_OK(validatePredictiveScaling(config(alb)));
  alb.pairLabel = "web/shop";
  EXPECT_NE(errorOf(validatePredictiveScaling(config(alb))).find("must have the form"),
            std::string::npos);
  auto labelled = cpuPair(50);
  labelled.pairLabel = "app/web/1/targetgroup/shop/2";
  EXPECT_NE(errorOf(validatePredictiveScaling(config(labelled))).find("only valid"),
            std::string::npos);

  // Customized metrics: queries checked; a capacity metric only with a customized load.
  model::MetricDataQuery q;
  q.id = "load";
  q.namespace_ = "Shop";
  q.metricName = "Orders";
  q.stat = "Sum";
  model::PredictiveScalingMetricSpecification custom;
  custom.targetValue = 10;
  custom.customizedScaling = {q};
  custom.customizedLoad = {q};
  EXPECT_OK(validatePredictiveScaling(config(custom)));
  custom.customizedLoad[0].stat = "Sometimes";
  EXPECT_EQ(validatePredictiveScaling(config(custom)).code(), "ValidationError");
  auto capacityAlone = separate;
  capacityAlone.customizedCapacity = {q};
  EXPECT_NE(errorOf(validatePredictiveScaling(config(capacityAlone)))
                .find("CustomizedCapacityMetricSpecification"),
            std::string::npos);

  // Buffer time, and MaxCapacityBuffer with (only with) IncreaseMaxCapacity.
  auto c = config(cpuPair(50));
  c.schedulingBufferTime = 3601;
  EXPECT_NE(errorOf(validatePredictiveScaling(c)).find("SchedulingBufferTime"), std::string::npos);
  c.schedulingBufferTime = 3600;
  EXPECT_OK(validatePredictiveScaling(c));
  c.increaseMaxCapacity = true;
  EXPECT_NE(errorOf(validatePredictiveScaling(c)).find("MaxCapacityBuffer is required"),
            std::string::npos);
  c.maxCapacityBuffer = 101;
  EXPECT_NE(errorOf(validatePredictiveScaling(c)).find("between 0 and 100"), std::string::npos);
  c.maxCapacityBuffer = 10;
  EXPECT_OK(validatePredictiveScaling(c));
  c.increaseMaxCapacity = false;
  EXPECT_NE(errorOf(validatePredictiveScaling(c)).find("only valid"), std::string::npos);
}

TEST(PredictiveScaling, NoHistoryNoForecast) {
  LoadForecast f = forecastLoad({}, kDay0);
  EXPECT_TRUE(f.timestamps.empty());
  EXPECT_TRUE(f.values.empty());
}

// A load that peaks every day from 09:00 to 11:00 (300) and is 100 otherwise, one value a
// minute for `days` days before `now`.
metrics::math::Series dailyPeaks(TimeMs now, int days) {
  metrics::math::Series s;
  for (TimeMs t = now - days * 24 * kHour; t < now; t += 60'000) {
    int hourOfDay = static_cast<int>((t / kHour) % 24);
    s[t] = hourOfDay >= 9 && hourOfDay < 11 ? 300 : 100;
  }
  return s;
}

TEST(PredictiveScaling, DailyPatternForecastsItself) {
  TimeMs now = kDay0 + 2 * 24 * kHour + 30 * 60'000; // day 2, 00:30
  LoadForecast f = forecastLoad(dailyPeaks(now, 2), now);
  ASSERT_EQ(f.timestamps.size(), 49u); // the hour in progress and 48 more
  EXPECT_TRUE(f.seasonal);
  EXPECT_EQ(f.timestamps[0], kDay0 + 2 * 24 * kHour); // 00:00, hour starts
  for (size_t i = 0; i < f.timestamps.size(); ++i) {
    int hourOfDay = static_cast<int>((f.timestamps[i] / kHour) % 24);
    double want = hourOfDay >= 9 && hourOfDay < 11 ? 300 : 100;
    EXPECT_DOUBLE_EQ(f.values[i], want) << "hour " << i;
  }
}

TEST(PredictiveScaling, ShortHistoryKeepsTheRecentLevel) {
  TimeMs now = kDay0 + 10 * kHour;
  metrics::math::Series s;
  for (TimeMs t = now - 3 * kHour; t < now; t += 1000) {
    s[t] = t < now - kHour ? 50 : 120; // a step an hour ago
  }
  LoadForecast f = forecastLoad(s, now, 4);
  ASSERT_EQ(f.values.size(), 5u);
  EXPECT_FALSE(f.seasonal);
  for (double v : f.values) {
    EXPECT_NEAR(v, 120, 1e-9);
  }
}

TEST(PredictiveScaling, CapacityFromLoadWithinBounds) {
  // Two instances at 90 % CPU are a total of 180: with a 50 % target, 4 instances.
  EXPECT_EQ(capacityForLoad(180, 50), 4);
  EXPECT_EQ(capacityForLoad(200, 50), 4); // exactly 4, not 5
  EXPECT_EQ(capacityForLoad(201, 50), 5);
  EXPECT_EQ(capacityForLoad(0, 50), 0);
  // 12,000 requests a minute at 1,000 per instance: 12.
  EXPECT_EQ(capacityForLoad(12000, 1000), 12);

  auto honor = config(cpuPair(50));
  EXPECT_EQ(boundCapacity(0, 2, 10, honor).capacity, 2);
  EXPECT_STREQ(boundCapacity(0, 2, 10, honor).limitedBy, "MinSize");
  EXPECT_EQ(boundCapacity(12, 2, 10, honor).capacity, 10);
  EXPECT_STREQ(boundCapacity(12, 2, 10, honor).limitedBy, "MaxSize");
  EXPECT_EQ(boundCapacity(12, 2, 10, honor).maxSize, 10);

  // AWS's example: forecast 50, max 40, buffer 10 %: capacity 50, effective max 55.
  auto increase = honor;
  increase.increaseMaxCapacity = true;
  increase.maxCapacityBuffer = 10;
  BoundedCapacity b = boundCapacity(50, 1, 40, increase);
  EXPECT_EQ(b.capacity, 50);
  EXPECT_EQ(b.maxSize, 55);
  EXPECT_EQ(b.limitedBy, nullptr);
  increase.maxCapacityBuffer = 0; // up to the forecast, not beyond
  EXPECT_EQ(boundCapacity(50, 1, 40, increase).maxSize, 50);
  EXPECT_EQ(boundCapacity(30, 1, 40, increase).maxSize, 40);
}

TEST(PredictiveScaling, ActiveHourStartsABufferEarly) {
  TimeMs nine = kDay0 + 9 * kHour;
  EXPECT_EQ(activeForecastHour(nine - 301'000, 300), nine - kHour);
  EXPECT_EQ(activeForecastHour(nine - 300'000, 300), nine);
  EXPECT_EQ(activeForecastHour(nine + 10 * 60'000, 300), nine);
  EXPECT_EQ(activeForecastHour(nine, 0), nine);
}

} // namespace
} // namespace tide::operations
