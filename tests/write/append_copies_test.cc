// AppendCopies: the recycled copies of write-behind appends.

#include "env/append_copies.h"

#include <gtest/gtest.h>

#include <string>

namespace uringfs {
namespace {

TEST(AppendCopiesTest, ACopyHoldsExactlyTheAppendedBytes) {
  AppendCopies copies;
  const std::string data = std::string("abc\0def", 7) + std::string(70000, 'x');
  EXPECT_EQ(copies.Copy(data), data);
  EXPECT_EQ(copies.Copy(rocksdb::Slice()), "");
}

TEST(AppendCopiesTest, ARecycledBufferIsReusedForTheNextAppendThatFits) {
  AppendCopies copies;
  std::string first = copies.Copy(std::string(65536, 'a'));
  const char* memory = first.data();
  copies.Recycle(std::move(first));
  EXPECT_GE(copies.kept_bytes(), 65536u);
  const std::string second = copies.Copy(std::string(40000, 'b'));
  EXPECT_EQ(second.data(), memory);
  EXPECT_EQ(second, std::string(40000, 'b'));
  EXPECT_EQ(copies.kept_bytes(), 0u);
}

TEST(AppendCopiesTest, TheSmallestBufferThatFitsIsTaken) {
  AppendCopies copies;
  std::string big = copies.Copy(std::string(1 << 20, 'a'));
  std::string small = copies.Copy(std::string(65536, 'b'));
  const char* small_memory = small.data();
  copies.Recycle(std::move(big));
  copies.Recycle(std::move(small));
  EXPECT_EQ(copies.Copy(std::string(1000, 'c')).data(), small_memory);
}

TEST(AppendCopiesTest, NoMoreThanTheLimitIsKept) {
  AppendCopies copies;
  const size_t size = 1 << 20;
  for (size_t i = 0; i < 2 * AppendCopies::kKeptBytes / size; ++i) {
    copies.Recycle(std::string(size, 'z'));
    EXPECT_LE(copies.kept_bytes(), AppendCopies::kKeptBytes);
  }
  EXPECT_GE(copies.kept_bytes(), AppendCopies::kKeptBytes - size);
}

}  // namespace
}  // namespace uringfs
