#include "cli/load_profile.h"

#include <gtest/gtest.h>

namespace tide::cli {
namespace {

LoadProfile parseOk(std::string_view spec) {
  Result<LoadProfile> p = parseLoadProfile(spec);
  EXPECT_TRUE(p.isOk()) << spec << ": " << p.status().toString();
  return p.isOk() ? *p : LoadProfile();
}

std::string parseError(std::string_view spec) {
  Result<LoadProfile> p = parseLoadProfile(spec);
  EXPECT_FALSE(p.isOk()) << spec;
  return p.isOk() ? "" : p.status().message();
}

TEST(LoadProfileTest, ParsesPhases) {
  LoadProfile p = parseOk("steady:20:30s,ramp:20-200:60s,steady:200:60s,step:10:30s");
  ASSERT_EQ(p.phases.size(), 4u);
  EXPECT_EQ(p.phases[0].kind, LoadPhaseKind::Steady);
  EXPECT_EQ(p.phases[0].fromRateMilli, 20'000);
  EXPECT_EQ(p.phases[0].duration, Millis(30'000));
  EXPECT_EQ(p.phases[1].kind, LoadPhaseKind::Ramp);
  EXPECT_EQ(p.phases[1].fromRateMilli, 20'000);
  EXPECT_EQ(p.phases[1].toRateMilli, 200'000);
  EXPECT_EQ(p.phases[3].kind, LoadPhaseKind::Step);
  EXPECT_EQ(p.phases[3].toRateMilli, 10'000);
  EXPECT_EQ(p.duration(), Millis(180'000));
  EXPECT_EQ(p.toString(), "steady:20:30s,ramp:20-200:1m,steady:200:1m,step:10:30s");
}

TEST(LoadProfileTest, ParsesDurationsAndFractionalRates) {
  EXPECT_EQ(*parseLoadDuration("500ms"), Millis(500));
  EXPECT_EQ(*parseLoadDuration("1m30s"), Millis(90'000));
  EXPECT_EQ(*parseLoadDuration("2h"), Millis(7'200'000));
  EXPECT_EQ(*parseLoadDuration("45"), Millis(45'000));
  EXPECT_EQ(*parseLoadDuration("24h"), Millis(86'400'000));
  LoadProfile p = parseOk(" steady:0.5:10s , ramp:100-0:1m ");
  EXPECT_EQ(p.phases[0].fromRateMilli, 500);
  EXPECT_EQ(p.phases[1].toRateMilli, 0);
}

TEST(LoadProfileTest, Presets) {
  LoadProfile day = parseOk("day");
  EXPECT_EQ(day.toString(), "steady:10:2m");
  LoadProfile sale = parseOk("sale");
  EXPECT_EQ(sale.toString(), "steady:10:30s,ramp:10-150:30s,steady:150:2m,step:10:2m");
  EXPECT_EQ(sale.duration(), Millis(300'000));
  EXPECT_EQ(parseOk("night").toString(), "steady:5:3m");
  for (const LoadPreset& preset : loadPresets()) {
    EXPECT_TRUE(parseLoadProfile(preset.phases).isOk()) << preset.name;
  }
}

TEST(LoadProfileTest, ErrorsNameThePhase) {
  EXPECT_EQ(parseError("steady:20:30s,ramp:20:60s"),
            "phase 2 'ramp:20:60s': a ramp needs FROM-TO rates, e.g. ramp:20-200:60s");
  EXPECT_EQ(parseError("steady:20:30s,jump:5:1s"),
            "phase 2 'jump:5:1s': unknown phase kind 'jump' (steady, ramp or step)");
  EXPECT_EQ(parseError("steady:abc:30s"),
            "phase 1 'steady:abc:30s': the rate 'abc' is not a number of requests per second");
  EXPECT_EQ(parseError("steady:20"),
            "phase 1 'steady:20': write KIND:RATE:DURATION (steady:20:30s, ramp:20-200:60s, "
            "step:10:30s)");
  EXPECT_EQ(parseError("steady:20:30x"),
            "phase 1 'steady:20:30x': the duration '30x' has an unknown unit (ms, s, m or h)");
  EXPECT_EQ(parseError("steady:20:0s"),
            "phase 1 'steady:20:0s': the duration '0s' must be longer than zero");
  EXPECT_EQ(parseError("steady:20:30s,step:10-20:5s"),
            "phase 2 'step:10-20:5s': only a ramp takes FROM-TO rates; write ramp:10-20:5s");
  EXPECT_EQ(parseError("steady:100001:1s"),
            "phase 1 'steady:100001:1s': the rate 100001 is above the limit of 100000 requests "
            "per second");
  EXPECT_EQ(parseError("steady:1.2345:1s"),
            "phase 1 'steady:1.2345:1s': the rate '1.2345' has more than 3 decimals");
  EXPECT_EQ(parseError("steady:1:20h,steady:1:5h"),
            "the profile lasts 25h, more than the limit of 24h");
  EXPECT_EQ(parseError("steady:1:25h"),
            "phase 1 'steady:1:25h': the duration '25h' is longer than the limit of 24h");
  EXPECT_EQ(parseError("lunch"), "unknown profile 'lunch': presets are day, sale, night; or give "
                                 "phases like steady:20:30s,ramp:20-200:60s");
  EXPECT_FALSE(parseLoadProfile("").isOk());
  EXPECT_FALSE(parseLoadProfile("steady:20:30s,").isOk());
}

TEST(LoadProfileTest, SteadyFromFlags) {
  Result<LoadProfile> p = steadyLoadProfile("200", "1s");
  ASSERT_TRUE(p.isOk());
  EXPECT_EQ(p->toString(), "steady:200:1s");
  EXPECT_EQ(steadyLoadProfile("x", "1s").status().message(),
            "--rate: the rate 'x' is not a number of requests per second");
  EXPECT_EQ(steadyLoadProfile("5", "1d").status().message(),
            "--duration: the duration '1d' has an unknown unit (ms, s, m or h)");
}

TEST(LoadScheduleTest, SteadyIsRateTimesTime) {
  LoadProfile p = parseOk("steady:200:1s");
  EXPECT_EQ(requestsDue(p, Millis(0)), 0);
  EXPECT_EQ(requestsDue(p, Millis(4)), 0);
  EXPECT_EQ(requestsDue(p, Millis(5)), 1);
  EXPECT_EQ(requestsDue(p, Millis(9)), 1);
  EXPECT_EQ(requestsDue(p, Millis(10)), 2);
  EXPECT_EQ(requestsDue(p, Millis(500)), 100);
  EXPECT_EQ(requestsDue(p, Millis(1000)), 200);
  EXPECT_EQ(requestsDue(p, Millis(5000)), 200); // clamped at the end
  LoadProfile slow = parseOk("steady:0.5:10s");
  EXPECT_EQ(requestsDue(slow, Millis(1999)), 0);
  EXPECT_EQ(requestsDue(slow, Millis(2000)), 1);
  EXPECT_EQ(requestsDue(slow, Millis(10'000)), 5);
}

TEST(LoadScheduleTest, RampIsTheAreaOfATrapezoid) {
  // 0 → 100 rps over 10 s: the rate at t is 10 t, the integral 5 t^2.
  LoadProfile p = parseOk("ramp:0-100:10s");
  EXPECT_EQ(requestsDue(p, Millis(1000)), 5);
  EXPECT_EQ(requestsDue(p, Millis(2000)), 20);
  EXPECT_EQ(requestsDue(p, Millis(5000)), 125);
  EXPECT_EQ(requestsDue(p, Millis(10'000)), 500);
  EXPECT_EQ(requestsDue(p, Millis(447)), 0); // 5 * 0.447^2 = 0.999
  EXPECT_EQ(requestsDue(p, Millis(448)), 1); // 5 * 0.448^2 = 1.003
  // 20 → 200 over 60 s = 6600 requests; down ramps mirror up ramps.
  EXPECT_EQ(requestsDue(parseOk("ramp:20-200:60s"), Millis(60'000)), 6600);
  LoadProfile down = parseOk("ramp:100-0:10s");
  EXPECT_EQ(requestsDue(down, Millis(5000)), 375);
  EXPECT_EQ(requestsDue(down, Millis(10'000)), 500);
}

TEST(LoadScheduleTest, PhasesAddUp) {
  LoadProfile p = parseOk("steady:20:30s,ramp:20-200:60s,steady:200:60s,step:10:30s");
  EXPECT_EQ(requestsDue(p, Millis(30'000)), 600);
  EXPECT_EQ(requestsDue(p, Millis(60'000)), 600 + 1950); // 20 → 110 over 30 s
  EXPECT_EQ(requestsDue(p, Millis(90'000)), 600 + 6600);
  EXPECT_EQ(requestsDue(p, Millis(150'000)), 600 + 6600 + 12'000);
  EXPECT_EQ(requestsDue(p, Millis(165'000)), 600 + 6600 + 12'000 + 150);
  EXPECT_EQ(requestsDue(p, Millis(180'000)), 600 + 6600 + 12'000 + 300);
  EXPECT_EQ(requestsDue(parseOk("sale"), Millis(300'000)), 300 + 2400 + 18'000 + 1200);
  // Monotonic, and the rate at a moment agrees.
  int64_t last = 0;
  for (int64_t t = 0; t <= 180'000; t += 7) {
    int64_t n = requestsDue(p, Millis(t));
    ASSERT_GE(n, last) << t;
    last = n;
  }
  EXPECT_DOUBLE_EQ(p.rateAt(Millis(45'000)), 65);
  EXPECT_DOUBLE_EQ(p.rateAt(Millis(175'000)), 10);
  EXPECT_DOUBLE_EQ(p.rateAt(Millis(180'000)), 0);
}

TEST(LoadScheduleTest, ExactAtTheLimits) {
  LoadProfile p = parseOk("ramp:0-100000:24h");
  EXPECT_EQ(requestsDue(p, Millis(86'400'000)), int64_t(100'000) * 86'400 / 2);
  EXPECT_EQ(requestsDue(p, Millis(43'200'000)), int64_t(100'000) * 86'400 / 8);
}

TEST(LoadScheduleTest, TimeWhenDueInvertsTheIntegral) {
  LoadProfile p = parseOk("steady:200:1s");
  EXPECT_EQ(timeWhenDue(p, 1), Millis(5));
  EXPECT_EQ(timeWhenDue(p, 200), Millis(1000));
  EXPECT_EQ(timeWhenDue(p, 201), Millis(1001)); // never
  LoadProfile r = parseOk("ramp:0-100:10s");
  EXPECT_EQ(timeWhenDue(r, 1), Millis(448));
  for (int64_t n = 1; n <= 500; n += 13) {
    Millis t = timeWhenDue(r, n);
    EXPECT_GE(requestsDue(r, t), n);
    EXPECT_LT(requestsDue(r, t - Millis(1)), n);
  }
}

} // namespace
} // namespace tide::cli
