// Metric math: parsing and evaluation.
#include "metrics/metric_math.h"

#include "common/status_testing.h"

#include <gtest/gtest.h>

#include <cmath>

namespace tide::metrics::math {
namespace {

Environment env() {
  Environment e;
  e.values["m1"] = {{0, 1}, {60000, 2}, {120000, 3}};
  e.values["m2"] = {{0, 10}, {120000, 30}};
  e.metricIds = {"m1", "m2"};
  e.start = 0;
  e.end = 180000;
  e.periodSeconds = 60;
  return e;
}

Value eval(const std::string& text, const Environment& e = env()) {
  auto x = Expression::parse(text);
  EXPECT_TRUE(x.isOk()) << text << ": " << x.status().toString();
  if (!x.isOk()) {
    return {};
  }
  auto v = x->evaluate(e);
  EXPECT_TRUE(v.isOk()) << text << ": " << v.status().toString();
  return v.isOk() ? *v : Value{};
}

Series seriesOf(const std::string& text) {
  Value v = eval(text);
  EXPECT_EQ(v.kind, Value::Kind::Series) << text;
  return v.series.empty() ? Series{} : v.series[0];
}

std::string parseError(const std::string& text) {
  auto x = Expression::parse(text);
  EXPECT_FALSE(x.isOk()) << text;
  return x.isOk() ? "" : x.status().code() + ": " + x.status().message();
}

TEST(MetricMathTest, ArithmeticBetweenSeriesAndScalars) {
  EXPECT_EQ(seriesOf("m1 * 2 + 1"), (Series{{0, 3}, {60000, 5}, {120000, 7}}));
  EXPECT_EQ(seriesOf("m1 + m2"), (Series{{0, 11}, {120000, 33}})); // where both have points
  EXPECT_EQ(seriesOf("100 * m1 / m2"), (Series{{0, 10}, {120000, 10}}));
  EXPECT_EQ(seriesOf("-m1"), (Series{{0, -1}, {60000, -2}, {120000, -3}}));
  EXPECT_EQ(seriesOf("m1 ^ 2"), (Series{{0, 1}, {60000, 4}, {120000, 9}}));
  EXPECT_EQ(seriesOf("(m1 - 1) * (2 - 1)"), (Series{{0, 0}, {60000, 1}, {120000, 2}}));
  Value k = eval("2 + 3 * 4 - 2 ^ 3 ^ 2 / 64"); // ^ binds tighter, right to left
  EXPECT_EQ(k.kind, Value::Kind::Scalar);
  EXPECT_DOUBLE_EQ(k.scalar, 6);
}

TEST(MetricMathTest, DivisionByZeroDropsThePoint) {
  Environment e = env();
  e.values["z"] = {{0, 0}, {60000, 1}};
  auto x = Expression::parse("m1 / z");
  ASSERT_OK(x.status());
  auto v = x->evaluate(e);
  ASSERT_OK(v.status());
  EXPECT_EQ(v->series[0], (Series{{60000, 2}}));
}

TEST(MetricMathTest, AggregatesOfArraysAreSeriesAndOfASeriesScalars) {
  EXPECT_EQ(seriesOf("SUM([m1, m2])"), (Series{{0, 11}, {60000, 2}, {120000, 33}}));
  EXPECT_EQ(seriesOf("AVG([m1, m2])"), (Series{{0, 5.5}, {60000, 2}, {120000, 16.5}}));
  EXPECT_EQ(seriesOf("MAX([m1, m2])"), (Series{{0, 10}, {60000, 2}, {120000, 30}}));
  EXPECT_EQ(seriesOf("MIN(METRICS())"), (Series{{0, 1}, {60000, 2}, {120000, 3}}));
  EXPECT_EQ(seriesOf("SUM(METRICS(\"2\"))"), (Series{{0, 10}, {120000, 30}}));
  Value s = eval("SUM(m1)");
  EXPECT_EQ(s.kind, Value::Kind::Scalar);
  EXPECT_DOUBLE_EQ(s.scalar, 6);
  EXPECT_DOUBLE_EQ(eval("AVG(m2)").scalar, 20);
  EXPECT_EQ(seriesOf("m1 - AVG(m1)"), (Series{{0, -1}, {60000, 0}, {120000, 1}}));
  Value arr = eval("[m1, m2] * 10");
  ASSERT_EQ(arr.kind, Value::Kind::Array);
  EXPECT_EQ(arr.series[1], (Series{{0, 100}, {120000, 300}}));
}

TEST(MetricMathTest, FillAndRate) {
  EXPECT_EQ(seriesOf("FILL(m2, 0)"), (Series{{0, 10}, {60000, 0}, {120000, 30}}));
  EXPECT_EQ(seriesOf("FILL(m2, REPEAT)"), (Series{{0, 10}, {60000, 10}, {120000, 30}}));
  EXPECT_EQ(seriesOf("FILL(m2, LINEAR)"), (Series{{0, 10}, {60000, 20}, {120000, 30}}));
  EXPECT_EQ(seriesOf("RATE(m2)"), (Series{{120000, 20.0 / 120}}));
  EXPECT_EQ(seriesOf("RATE(m1) * 60"), (Series{{60000, 1}, {120000, 1}}));
  EXPECT_EQ(seriesOf("ABS(0 - m1)"), (Series{{0, 1}, {60000, 2}, {120000, 3}}));
}

TEST(MetricMathTest, ReferencesAreListedOnce) {
  auto x = Expression::parse("m1 + m2 * m1 + SUM([e_1, m2])");
  ASSERT_OK(x.status());
  EXPECT_EQ(x->references(), (std::vector<std::string>{"m1", "m2", "e_1"}));
  EXPECT_FALSE(x->usesMetrics());
  EXPECT_TRUE(Expression::parse("SUM(METRICS())")->usesMetrics());
}

TEST(MetricMathTest, SyntaxErrorsSayWhereAndWhat) {
  EXPECT_EQ(parseError("m1 +"), "ValidationError: Syntax error in expression 'm1 +' at "
                                "position 5: expected a number, an id, a function or '('");
  EXPECT_NE(parseError("STDDEV(m1)").find("unknown function STDDEV"), std::string::npos);
  EXPECT_NE(parseError("FILL(m1)").find("FILL takes 2 arguments, got 1"), std::string::npos);
  EXPECT_NE(parseError("M1 + 1").find("'M1' is neither a query id"), std::string::npos);
  EXPECT_NE(parseError("(m1").find("expected ')'"), std::string::npos);
  EXPECT_NE(parseError("m1 m2").find("unexpected 'm'"), std::string::npos);
  EXPECT_NE(parseError("[m1, m2").find("expected ',' or ']'"), std::string::npos);
  EXPECT_NE(parseError("").find("1 to 2048"), std::string::npos);
  EXPECT_NE(parseError(std::string(200, '(') + "m1" + std::string(200, ')')).find("deeply"),
            std::string::npos);
}

TEST(MetricMathTest, EvaluationErrors) {
  auto unknown = Expression::parse("m1 + nope");
  ASSERT_OK(unknown.status());
  EXPECT_EQ(unknown->evaluate(env()).status().message(), "Unrecognized metric identifier 'nope'");
  EXPECT_FALSE(Expression::parse("[m1] + [m2]")->evaluate(env()).isOk());
  EXPECT_FALSE(Expression::parse("RATE(3)")->evaluate(env()).isOk());
  EXPECT_FALSE(Expression::parse("[1, m1]")->evaluate(env()).isOk());
}

TEST(MetricMathTest, QueryIds) {
  EXPECT_TRUE(isValidQueryId("m1"));
  EXPECT_TRUE(isValidQueryId("errorRate_5xx"));
  EXPECT_FALSE(isValidQueryId("M1"));
  EXPECT_FALSE(isValidQueryId("1m"));
  EXPECT_FALSE(isValidQueryId("m-1"));
  EXPECT_FALSE(isValidQueryId(""));
}

} // namespace
} // namespace tide::metrics::math
