#include "cli/load_profile.h"

#include "common/text.h"

#include <cstdio>

namespace tide::cli {

namespace {

// The stories `tide load --profile NAME` can tell.
const std::vector<LoadPreset> kPresets = {
    {"day", "a quiet day: 10 rps for 2 minutes", "steady:10:2m"},
    {"sale",
     "a sale: 10 rps for 30 s, a ramp to 150 over 30 s, 150 held for 2 minutes, back to 10 for 2 "
     "minutes (watch the group scale out, then in)",
     "steady:10:30s,ramp:10-150:30s,steady:150:2m,step:10:2m"},
    {"night", "the night: 5 rps for 3 minutes", "steady:5:3m"},
};

struct PhaseKindName {
  const char* name;
  LoadPhaseKind kind;
};
const PhaseKindName kKinds[] = {
    {"steady", LoadPhaseKind::Steady},
    {"ramp", LoadPhaseKind::Ramp},
    {"step", LoadPhaseKind::Step},
};

// "12", "0.5", "150.25" → thousandths; nullopt when not such a number or above the limit.
Result<int64_t> parseRateMilli(std::string_view s) {
  if (s.empty()) {
    return validationError("the rate is empty");
  }
  int64_t whole = 0, frac = 0;
  int fracDigits = 0;
  bool dot = false, anyDigit = false;
  for (char c : s) {
    if (c == '.' && !dot) {
      dot = true;
      continue;
    }
    if (c < '0' || c > '9') {
      return validationError("the rate '" + std::string(s) +
                             "' is not a number of requests per second");
    }
    anyDigit = true;
    if (!dot) {
      whole = whole * 10 + (c - '0');
      if (whole > kMaxLoadRateMilli / 1000) {
        return validationError("the rate " + std::string(s) + " is above the limit of " +
                               std::to_string(kMaxLoadRateMilli / 1000) + " requests per second");
      }
    } else if (++fracDigits > 3) {
      return validationError("the rate '" + std::string(s) + "' has more than 3 decimals");
    } else {
      frac = frac * 10 + (c - '0');
    }
  }
  if (!anyDigit) {
    return validationError("the rate '" + std::string(s) + "' is not a number");
  }
  while (fracDigits++ < 3) {
    frac *= 10;
  }
  int64_t milli = whole * 1000 + frac;
  if (milli > kMaxLoadRateMilli) {
    return validationError("the rate " + std::string(s) + " is above the limit of " +
                           std::to_string(kMaxLoadRateMilli / 1000) + " requests per second");
  }
  return milli;
}

std::string rateText(int64_t milli) {
  char buf[32];
  if (milli % 1000 == 0) {
    snprintf(buf, sizeof buf, "%lld", static_cast<long long>(milli / 1000));
  } else {
    snprintf(buf, sizeof buf, "%.3g", milli / 1000.0);
  }
  return buf;
}

std::string durationText(Millis d) {
  int64_t ms = d.count();
  if (ms % 1000 != 0) {
    return std::to_string(ms) + "ms";
  }
  int64_t s = ms / 1000;
  if (s % 3600 == 0) {
    return std::to_string(s / 3600) + "h";
  }
  if (s % 60 == 0) {
    return std::to_string(s / 60) + "m";
  }
  return std::to_string(s) + "s";
}

Result<LoadPhase> parsePhase(std::string_view text) {
  std::vector<std::string> parts = splitString(text, ':');
  if (parts.size() != 3) {
    return validationError("write KIND:RATE:DURATION (steady:20:30s, ramp:20-200:60s, "
                           "step:10:30s)");
  }
  LoadPhase phase;
  bool known = false;
  for (const PhaseKindName& k : kKinds) {
    if (parts[0] == k.name) {
      phase.kind = k.kind;
      known = true;
    }
  }
  if (!known) {
    return validationError("unknown phase kind '" + parts[0] + "' (steady, ramp or step)");
  }
  if (phase.kind == LoadPhaseKind::Ramp) {
    size_t dash = parts[1].find('-');
    if (dash == std::string::npos) {
      return validationError("a ramp needs FROM-TO rates, e.g. ramp:20-200:60s");
    }
    TIDE_ASSIGN_OR_RETURN(int64_t from, parseRateMilli(std::string_view(parts[1]).substr(0, dash)));
    TIDE_ASSIGN_OR_RETURN(int64_t to, parseRateMilli(std::string_view(parts[1]).substr(dash + 1)));
    phase.fromRateMilli = from;
    phase.toRateMilli = to;
  } else {
    if (parts[1].find('-') != std::string::npos) {
      return validationError("only a ramp takes FROM-TO rates; write ramp:" + parts[1] + ":" +
                             parts[2]);
    }
    TIDE_ASSIGN_OR_RETURN(int64_t rate, parseRateMilli(parts[1]));
    phase.fromRateMilli = phase.toRateMilli = rate;
  }
  TIDE_ASSIGN_OR_RETURN(Millis d, parseLoadDuration(parts[2]));
  phase.duration = d;
  return phase;
}

Status checkTotal(const LoadProfile& p) {
  if (p.duration() > kMaxLoadDuration) {
    return validationError("the profile lasts " + durationText(p.duration()) +
                           ", more than the limit of 24h");
  }
  return Status::ok();
}

// Wide enough for the schedule's exact sums: 2 * 1e8 milli-rps * 8.64e7 ms * 8.64e7 ms < 2^127.
using Wide = __int128;

} // namespace

Millis LoadProfile::duration() const {
  Millis total{0};
  for (const LoadPhase& p : phases) {
    total += p.duration;
  }
  return total;
}

double LoadProfile::rateAt(Millis elapsed) const {
  for (const LoadPhase& p : phases) {
    if (elapsed < p.duration) {
      double f = double(elapsed.count()) / double(p.duration.count());
      return (p.fromRateMilli + (p.toRateMilli - p.fromRateMilli) * f) / 1000.0;
    }
    elapsed -= p.duration;
  }
  return 0;
}

std::string LoadProfile::toString() const {
  std::string out;
  for (const LoadPhase& p : phases) {
    if (!out.empty()) {
      out += ',';
    }
    out += kKinds[static_cast<int>(p.kind)].name;
    out += ':';
    out += rateText(p.fromRateMilli);
    if (p.kind == LoadPhaseKind::Ramp) {
      out += '-' + rateText(p.toRateMilli);
    }
    out += ':' + durationText(p.duration);
  }
  return out;
}

Result<Millis> parseLoadDuration(std::string_view text) {
  auto bad = [&](const std::string& why) {
    return validationError("the duration '" + std::string(text) + "' " + why);
  };
  if (text.empty()) {
    return bad("is empty (write 30s, 2m, 1m30s, 500ms or 1h)");
  }
  int64_t total = 0;
  size_t i = 0;
  while (i < text.size()) {
    int64_t n = 0;
    size_t start = i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      n = n * 10 + (text[i] - '0');
      if (n > kMaxLoadDuration.count()) {
        return bad("is longer than the limit of 24h");
      }
      ++i;
    }
    if (i == start) {
      return bad("must be NUMBER+UNIT, e.g. 30s, 2m, 1m30s, 500ms or 1h");
    }
    int64_t unit = 1000; // a bare number is seconds
    if (text.substr(i, 2) == "ms") {
      unit = 1;
      i += 2;
    } else if (i < text.size() && text[i] == 's') {
      i += 1;
    } else if (i < text.size() && text[i] == 'm') {
      unit = 60'000;
      i += 1;
    } else if (i < text.size() && text[i] == 'h') {
      unit = 3'600'000;
      i += 1;
    } else if (i < text.size() || start != 0) {
      return bad("has an unknown unit (ms, s, m or h)");
    }
    total += n * unit;
    if (total > kMaxLoadDuration.count()) {
      return bad("is longer than the limit of 24h");
    }
  }
  if (total <= 0) {
    return bad("must be longer than zero");
  }
  return Millis(total);
}

Result<LoadProfile> parseLoadProfile(std::string_view spec) {
  std::string_view s = trim(spec);
  for (const LoadPreset& p : kPresets) {
    if (s == p.name) {
      Result<LoadProfile> r = parseLoadProfile(p.phases);
      if (!r) {
        std::abort(); // the preset table is ours: a bad row is a bug
      }
      return r;
    }
  }
  if (s.empty()) {
    return validationError("the profile is empty: give phases (steady:20:30s,ramp:20-200:60s) or "
                           "a preset (day, sale, night)");
  }
  if (s.find(':') == std::string_view::npos) {
    std::string names;
    for (const LoadPreset& p : kPresets) {
      names += (names.empty() ? "" : ", ") + std::string(p.name);
    }
    return validationError("unknown profile '" + std::string(s) + "': presets are " + names +
                           "; or give phases like steady:20:30s,ramp:20-200:60s");
  }
  LoadProfile profile;
  std::vector<std::string> phases = splitString(s, ',');
  for (size_t i = 0; i < phases.size(); ++i) {
    std::string text(trim(phases[i]));
    Result<LoadPhase> phase = parsePhase(text);
    if (!phase) {
      return validationError("phase " + std::to_string(i + 1) + " '" + text +
                             "': " + phase.status().message());
    }
    profile.phases.push_back(*phase);
  }
  TIDE_RETURN_IF_ERROR(checkTotal(profile));
  return profile;
}

Result<LoadProfile> steadyLoadProfile(std::string_view rate, std::string_view duration) {
  Result<int64_t> r = parseRateMilli(rate);
  if (!r) {
    return validationError("--rate: " + r.status().message());
  }
  Result<Millis> d = parseLoadDuration(duration);
  if (!d) {
    return validationError("--duration: " + d.status().message());
  }
  LoadProfile p;
  p.phases.push_back({LoadPhaseKind::Steady, *r, *r, *d});
  return p;
}

const std::vector<LoadPreset>& loadPresets() {
  return kPresets;
}

int64_t requestsDue(const LoadProfile& profile, Millis elapsed) {
  // Everything below is twice the integral in units of 1e-6 requests (rate in milli-rps times
  // ms), kept as a fraction sum / denom so that ramps stay exact.
  Wide sum = 0;
  int64_t t = elapsed.count();
  for (const LoadPhase& p : profile.phases) {
    int64_t T = p.duration.count();
    Wide a = p.fromRateMilli, b = p.toRateMilli;
    if (t >= T) {
      sum += (a + b) * T; // the whole phase
      t -= T;
      continue;
    }
    if (t > 0) {
      // 2 * (a t + (b - a) t^2 / (2T)) = (2 a t T + (b - a) t^2) / T
      Wide part = 2 * a * t * T + (b - a) * Wide(t) * t;
      return static_cast<int64_t>((sum * T + part) / (Wide(2'000'000) * T));
    }
    break;
  }
  return static_cast<int64_t>(sum / 2'000'000);
}

Millis timeWhenDue(const LoadProfile& profile, int64_t n) {
  int64_t hi = profile.duration().count();
  if (requestsDue(profile, Millis(hi)) < n) {
    return Millis(hi + 1);
  }
  int64_t lo = 0; // invariant: requestsDue(hi) >= n
  while (lo < hi) {
    int64_t mid = lo + (hi - lo) / 2;
    if (requestsDue(profile, Millis(mid)) >= n) {
      hi = mid;
    } else {
      lo = mid + 1;
    }
  }
  return Millis(hi);
}

} // namespace tide::cli
