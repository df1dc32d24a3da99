// Time behind an interface, so that controllers, health logic and alarms run under a virtual
// clock in tests and simulations, deterministically and faster than real time.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tide {

using Millis = std::chrono::milliseconds;

// A point in time, in milliseconds since the Unix epoch (wall time: what LaunchTime and
// activity timestamps show). Both clocks below are monotonic in practice; the real one follows
// the system clock.
using TimeMs = int64_t;

class Clock {
public:
  virtual ~Clock() = default;
  // Milliseconds since the Unix epoch. Thread-safe.
  virtual TimeMs now() const = 0;
};

// The system clock.
class RealClock final : public Clock {
public:
  TimeMs now() const override;
};

// A clock that moves only when told. Not thread-safe: owned by one test or simulation loop.
class VirtualClock final : public Clock {
public:
  explicit VirtualClock(TimeMs start = 1'700'000'000'000) : now_(start) {}
  TimeMs now() const override { return now_; }
  void advance(Millis d) { now_ += d.count(); }
  void set(TimeMs t) { now_ = t; }

private:
  TimeMs now_;
};

// ISO 8601 in UTC with milliseconds, as the AWS APIs print timestamps:
// "2026-11-27T21:18:13.000Z".
std::string formatIso8601(TimeMs t);

// Parses "2026-11-27T21:18:13Z", with optional fractional seconds and a "Z" or "+hh:mm" /
// "-hh:mm" offset, or a plain number of seconds since the epoch (AWS accepts both).
// nullopt when it is neither.
std::optional<TimeMs> parseTimestamp(std::string_view s);

} // namespace tide
