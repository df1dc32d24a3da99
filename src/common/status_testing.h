// Test helpers for Status and Result: EXPECT_OK / ASSERT_OK check that an expression yields an OK
// Status (or a Result holding a value) and print the error when it does not.
#pragma once

#include "common/status.h"

#include <gtest/gtest.h>

namespace tide::testing {
inline const Status& statusOf(const Status& s) {
  return s;
}
template <typename T> const Status& statusOf(const Result<T>& r) {
  return r.status();
}
} // namespace tide::testing

#define EXPECT_OK(...) TIDE_CHECK_OK_(EXPECT_TRUE, __VA_ARGS__)
#define ASSERT_OK(...) TIDE_CHECK_OK_(ASSERT_TRUE, __VA_ARGS__)

#define TIDE_CHECK_OK_(check, ...)                                                                 \
  do {                                                                                             \
    const auto& tide_checked_ = (__VA_ARGS__);                                                     \
    check(::tide::testing::statusOf(tide_checked_).isOk())                                         \
        << ::tide::testing::statusOf(tide_checked_).toString();                                    \
  } while (0)
