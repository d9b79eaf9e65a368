// -----------------------------------------------------------------------------
// tests/testing/status_matchers.h
// -----------------------------------------------------------------------------
//
// The one pair of status assertions every uringfs test uses. They accept any
// type with `ok()` and `ToString()` (rocksdb::Status, rocksdb::IOStatus) and
// print the status text on failure.
//
// Thread-safety: stateless; usable wherever gtest assertions are.

#ifndef URINGFS_TESTS_TESTING_STATUS_MATCHERS_H_
#define URINGFS_TESTS_TESTING_STATUS_MATCHERS_H_

#include <gtest/gtest.h>

#define URINGFS_STATUS_IS_OK_(expr)                            \
  [&]() -> ::testing::AssertionResult {                        \
    const auto& _uringfs_s = (expr);                           \
    if (_uringfs_s.ok()) return ::testing::AssertionSuccess(); \
    return ::testing::AssertionFailure()                       \
           << #expr << " returned " << _uringfs_s.ToString();  \
  }()

#define ASSERT_OK(expr) ASSERT_TRUE(URINGFS_STATUS_IS_OK_(expr))
#define EXPECT_OK(expr) EXPECT_TRUE(URINGFS_STATUS_IS_OK_(expr))

#endif  // URINGFS_TESTS_TESTING_STATUS_MATCHERS_H_
