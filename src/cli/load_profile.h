// The rate schedule of `tide load`: a profile is a list of phases (steady, ramp, step), written
// in a small language ("steady:20:30s,ramp:20-200:60s,step:10:30s") or named by a preset that
// tells a story ("day", "sale", "night").
//
// The schedule is open-loop: how many requests are due by a moment depends only on the profile
// and the time elapsed, never on how fast the server answers. requestsDue() is the integral of
// the rate, computed in exact integer arithmetic so that it can be tested to the request.
#pragma once

#include "common/clock.h"
#include "common/status.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tide::cli {

inline constexpr int64_t kMaxLoadRateMilli = 100'000'000;      // 100k requests per second
inline constexpr Millis kMaxLoadDuration = Millis(86'400'000); // 24 h

enum class LoadPhaseKind {
  Steady, // a constant rate
  Ramp,   // the rate moves linearly from fromRate to toRate over the phase
  Step,   // a constant rate; "steady by another name", for a sudden change in a story
};

// One phase. Rates are in thousandths of a request per second (so 0.5 rps is 500), which keeps
// the schedule exact in integers.
struct LoadPhase {
  LoadPhaseKind kind = LoadPhaseKind::Steady; // see LoadPhaseKind
  int64_t fromRateMilli = 0;                  // rate at the start of the phase
  int64_t toRateMilli = 0;                    // rate at its end (== fromRateMilli unless Ramp)
  Millis duration{0};                         // > 0
};

struct LoadProfile {
  std::vector<LoadPhase> phases; // run in order; the profile ends after the last

  // The sum of the phases' durations.
  Millis duration() const;
  // The target rate in requests per second at `elapsed` (0 after the end).
  double rateAt(Millis elapsed) const;
  // Back in the language: "steady:20:30s,ramp:20-200:1m".
  std::string toString() const;
};

// Parses a preset name or a comma-separated list of phases:
//   steady:RATE:DURATION   ramp:FROM-TO:DURATION   step:RATE:DURATION
// RATE is a decimal number of requests per second (up to 3 decimals, at most 100000); DURATION
// is one or more NUMBER+UNIT with unit ms, s, m or h ("90s", "1m30s", "500ms"). The whole profile
// must last at most 24 h. Errors are ValidationError naming the phase ("phase 2 'ramp:20:60s':
// ...").
Result<LoadProfile> parseLoadProfile(std::string_view spec);

// `--rate R --duration D`: one steady phase, with the same bounds.
Result<LoadProfile> steadyLoadProfile(std::string_view rate, std::string_view duration);

// "30s", "1m30s", "500ms", "2h" (a bare number is seconds). ValidationError otherwise.
Result<Millis> parseLoadDuration(std::string_view text);

// A preset: its name, the story it tells, and its phases in the profile language.
struct LoadPreset {
  const char* name;
  const char* story;
  const char* phases;
};
// The preset table (day, sale, night): adding a preset is adding a row.
const std::vector<LoadPreset>& loadPresets();

// How many requests are due in the first `elapsed` of the profile: floor of the integral of the
// rate from 0 to elapsed (clamped to the profile's end). Exact, monotonic in elapsed.
int64_t requestsDue(const LoadProfile& profile, Millis elapsed);

// The earliest elapsed time at which requestsDue() reaches n; the profile's duration + 1 ms
// when it never does.
Millis timeWhenDue(const LoadProfile& profile, int64_t n);

} // namespace tide::cli
