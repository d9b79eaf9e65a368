// Option numbers and byte sizes as text: RocksDB's suffixes, strictly.

#include "env/size_text.h"

#include <cstdint>
#include <string>

#include <gtest/gtest.h>

namespace uringfs {
namespace {

// The parsed value, or the reason it was refused.
std::string Parse(const std::string& text, bool size_suffix) {
  uint64_t v = 12345;
  const char* why = ParseUnsigned(text, size_suffix, &v);
  return why != nullptr ? why : std::to_string(v);
}

TEST(SizeTextTest, SuffixesArePowersOf1024InEitherCase) {
  EXPECT_EQ(Parse("1k", true), "1024");
  EXPECT_EQ(Parse("1K", true), "1024");
  EXPECT_EQ(Parse("3m", true), std::to_string(3u << 20));
  EXPECT_EQ(Parse("256M", true), std::to_string(256u << 20));
  EXPECT_EQ(Parse("1g", true), std::to_string(uint64_t{1} << 30));
  EXPECT_EQ(Parse("2T", true), std::to_string(uint64_t{2} << 40));
  EXPECT_EQ(Parse("0K", true), "0");
  EXPECT_EQ(Parse("007", true), "7");
}

TEST(SizeTextTest, PlainNumbersTakeNoSuffix) {
  EXPECT_EQ(Parse("4096", false), "4096");
  EXPECT_EQ(Parse("18446744073709551615", false), "18446744073709551615");
  EXPECT_EQ(Parse("4K", false), "is not a whole decimal number");
}

TEST(SizeTextTest, AnythingButDigitsAndOneSuffixIsRefused) {
  for (const char* bad : {"12abc", "5KB", "1.5G", " 1K", "1K ", "+1", "0x10",
                          "K", "1KK", "1 K", "1P"}) {
    EXPECT_EQ(Parse(bad, true),
              "is not a size (digits and an optional K, M, G or T)")
        << bad;
  }
  EXPECT_EQ(Parse("", true), "is empty");
  EXPECT_EQ(Parse("-1", true), "is negative");
  EXPECT_EQ(Parse("-1", false), "is negative");
}

TEST(SizeTextTest, OverflowIsRefusedNeverWrapped) {
  EXPECT_EQ(Parse("18446744073709551616", false),
            "is too large (more than 64 bits)");
  EXPECT_EQ(Parse("99999999999T", true), "is too large (more than 64 bits)");
  EXPECT_EQ(Parse("16777216T", true), "is too large (more than 64 bits)");
  EXPECT_EQ(Parse("16777215T", true), std::to_string(uint64_t{16777215} << 40));
  EXPECT_EQ(Parse("17179869183G", true),
            std::to_string(uint64_t{17179869183} << 30));
}

TEST(SizeTextTest, RefusedTextLeavesTheOutputAlone) {
  uint64_t v = 77;
  EXPECT_NE(ParseUnsigned("99999999999T", true, &v), nullptr);
  EXPECT_EQ(v, 77u);
}

TEST(SizeTextTest, FormatSizeUsesTheLargestExactSuffixAndParsesBack) {
  EXPECT_EQ(FormatSize(65536), "64K");
  EXPECT_EQ(FormatSize(uint64_t{256} << 20), "256M");
  EXPECT_EQ(FormatSize(uint64_t{64} << 30), "64G");
  EXPECT_EQ(FormatSize(uint64_t{3} << 40), "3T");
  EXPECT_EQ(FormatSize(1000), "1000");
  EXPECT_EQ(FormatSize(0), "0");
  for (uint64_t v : {uint64_t{0}, uint64_t{1}, uint64_t{4096}, uint64_t{65537},
                     uint64_t{1} << 63, ~uint64_t{0}}) {
    EXPECT_EQ(Parse(FormatSize(v), true), std::to_string(v)) << v;
  }
}

}  // namespace
}  // namespace uringfs
