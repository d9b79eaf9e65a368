// -----------------------------------------------------------------------------
// tests/testing/temp_dir.h
// -----------------------------------------------------------------------------
//
// Scratch directories for tests that write real files. They live under
// TEST_TMPDIR (Bazel's, inside the output base: ext4 here, so O_DIRECT works
// there, unlike on a tmpfs /tmp), else under /var/tmp.
//
// Thread-safety: safe for concurrent use (mkdtemp and an atomic counter pick
// unique names).

#ifndef URINGFS_TESTS_TESTING_TEMP_DIR_H_
#define URINGFS_TESTS_TESTING_TEMP_DIR_H_

#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

#include <gtest/gtest.h>

namespace uringfs {
namespace testing {

// A new, empty directory named after `tag`; on failure the test fails and
// the base directory is returned.
inline std::string FreshDir(const std::string& tag) {
  const char* env = std::getenv("TEST_TMPDIR");
  const std::string base = env != nullptr ? env : "/var/tmp";
  const std::string templ = base + "/" + tag + "_XXXXXX";
  std::vector<char> buf(templ.begin(), templ.end());
  buf.push_back('\0');
  if (::mkdtemp(buf.data()) == nullptr) {
    ADD_FAILURE() << "mkdtemp " << templ << ": " << std::strerror(errno);
    return base;
  }
  return buf.data();
}

// A path no other call returns, under TEST_TMPDIR (else /var/tmp), ending in
// `name`. Nothing is created.
inline std::string TempPath(const std::string& name) {
  static std::atomic<int> seq{0};
  const char* env = std::getenv("TEST_TMPDIR");
  const std::string base = env != nullptr ? env : "/var/tmp";
  return base + "/tmp_" + std::to_string(::getpid()) + "_" +
         std::to_string(seq.fetch_add(1)) + "_" + name;
}

// Removes `dir` and everything below it; errors are ignored.
inline void RemoveTree(const std::string& dir) {
  std::error_code ignored;
  std::filesystem::remove_all(dir, ignored);
}

}  // namespace testing
}  // namespace uringfs

#endif  // URINGFS_TESTS_TESTING_TEMP_DIR_H_
