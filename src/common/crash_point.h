// Named crash points: places where the server may be killed on purpose, so that a test can prove
// that a crash at any of them converges (docs/reliability.md, "Crash anywhere";
// tests/integration/test_crash_anywhere.py).
//
//   TIDE_CRASH_POINT("store.commit.before");
//
// Off unless the process starts with one of these environment variables:
//   TIDE_CRASH_AT=N          the N-th pass (1-based) through any crash point, counted
//                            process-wide, raises SIGKILL
//   TIDE_CRASH_AT=name#K     the K-th pass through the point `name` raises SIGKILL (steadier
//                            than a global count when background work passes points too)
//   TIDE_CRASH_TRACE=<file>  each pass appends one line to the file: the point's name, then a
//                            tab and its pass number (`name#K` replays it); written before any
//                            kill, so the last line names the point that killed the process
// When neither is set a crash point costs one relaxed atomic load.
//
// Thread-safe: any thread may pass a point. A point's name must be a string literal (it is
// kept, not copied).
#pragma once

#include <atomic>

namespace tide {

namespace crash_point_detail {
extern std::atomic<bool> armed; // set once, before main, when either variable is set
void pass(const char* name);
// For unit tests: as if the process had started with these variables (nullptr: unset); the
// counts start over. Not thread-safe: call it while no thread passes a point.
void configureForTest(const char* crashAt, const char* trace);
} // namespace crash_point_detail

inline void crashPoint(const char* name) {
  if (crash_point_detail::armed.load(std::memory_order_relaxed)) [[unlikely]] {
    crash_point_detail::pass(name);
  }
}

} // namespace tide

#define TIDE_CRASH_POINT(name) ::tide::crashPoint(name)
