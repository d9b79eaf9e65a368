// Option parsing through every entry point uringfs offers: the URI query, a
// RocksDB options string after the class id, and the C++ struct.

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "env/option_table.h"
#include "env/uring_file_system.h"
#include "rocksdb/convenience.h"
#include "rocksdb/file_system.h"
#include "tests/testing/status_matchers.h"
#include "uringfs/options.h"
#include "uringfs/uringfs.h"

namespace uringfs {
namespace {

using rocksdb::ConfigOptions;
using rocksdb::FileSystem;
using rocksdb::Status;

// Creates a file system from `text` the way RocksDB's tools do.
Status Create(const std::string& text, std::shared_ptr<FileSystem>* fs) {
  return FileSystem::CreateFromString(ConfigOptions(), text, fs);
}

const UringFsOptions* OptionsOf(const std::shared_ptr<FileSystem>& fs) {
  return fs->GetOptions<UringFsOptions>();
}

// Expects `text` to be refused with InvalidArgument whose message contains
// every string of `mentions`. A URI is refused by uringfs's factory, which
// then returns no file system; for an options string RocksDB itself creates
// the object before configuring it and leaves it in the result even when the
// configuration fails, so only the status can be checked there.
void ExpectRejected(const std::string& text,
                    const std::vector<std::string>& mentions) {
  std::shared_ptr<FileSystem> fs;
  Status s = Create(text, &fs);
  EXPECT_TRUE(s.IsInvalidArgument()) << text << " -> " << s.ToString();
  if (text.rfind("uringfs", 0) == 0) {
    EXPECT_EQ(fs, nullptr) << text;
  }
  for (const std::string& m : mentions) {
    EXPECT_NE(s.ToString().find(m), std::string::npos)
        << text << " -> " << s.ToString() << " does not mention " << m;
  }
}

TEST(OptionsTest, PlainUriGivesUringFileSystemWithDefaults) {
  std::shared_ptr<FileSystem> fs;
  ASSERT_OK(Create("uringfs://", &fs));
  ASSERT_NE(fs, nullptr);
  EXPECT_STREQ(fs->Name(), "UringFileSystem");
  EXPECT_TRUE(fs->IsInstanceOf("uringfs"));
  const UringFsOptions* o = OptionsOf(fs);
  ASSERT_NE(o, nullptr);
  const UringFsOptions defaults;
  EXPECT_EQ(o->queue_depth, defaults.queue_depth);
  EXPECT_EQ(o->write_workers, defaults.write_workers);
  EXPECT_EQ(o->use_io_uring, defaults.use_io_uring);
  EXPECT_EQ(o->write_behind, defaults.write_behind);
  EXPECT_EQ(o->max_queued_bytes, defaults.max_queued_bytes);
  EXPECT_EQ(o->max_queued_bytes_per_file, defaults.max_queued_bytes_per_file);
  EXPECT_EQ(o->stats_dump_period_sec, 600u);
}

TEST(OptionsTest, BareNickNameIsAcceptedLikeTheUri) {
  std::shared_ptr<FileSystem> fs;
  ASSERT_OK(Create("uringfs", &fs));
  ASSERT_NE(fs, nullptr);
  EXPECT_STREQ(fs->Name(), "UringFileSystem");
}

TEST(OptionsTest, UriQuerySetsEveryOption) {
  std::shared_ptr<FileSystem> fs;
  ASSERT_OK(Create(
      "uringfs://?queue_depth=64&write_workers=9&use_io_uring=false", &fs));
  const UringFsOptions* o = OptionsOf(fs);
  ASSERT_NE(o, nullptr);
  EXPECT_EQ(o->queue_depth, 64u);
  EXPECT_EQ(o->write_workers, 9u);
  EXPECT_FALSE(o->use_io_uring);
}

TEST(OptionsTest, EveryNumericOptionIsAcceptedAtItsBoundsAndRejectedPastThem) {
  for (const internal::OptionSpec& spec : internal::AllOptionSpecs()) {
    if (spec.kind != internal::OptionSpec::Kind::kUint32 &&
        spec.kind != internal::OptionSpec::Kind::kByteSize) {
      continue;
    }
    const std::string key = spec.name;
    for (uint64_t ok : {spec.min, spec.max}) {
      std::shared_ptr<FileSystem> fs;
      const std::string uri = "uringfs://?" + key + "=" + std::to_string(ok);
      ASSERT_OK(Create(uri, &fs));
      std::string value;
      ASSERT_OK(fs->GetOption(ConfigOptions(), key, &value));
      EXPECT_EQ(value, std::to_string(ok)) << uri;
    }
    const std::string range =
        std::to_string(spec.min) + " to " + std::to_string(spec.max);
    if (spec.min > 0) {
      ExpectRejected("uringfs://?" + key + "=" + std::to_string(spec.min - 1),
                     {key, range, "out of range"});
    }
    ExpectRejected("uringfs://?" + key + "=" + std::to_string(spec.max + 1),
                   {key, range, "out of range"});
    // The same bounds hold in a RocksDB options string.
    ExpectRejected(
        "id=UringFileSystem;" + key + "=" + std::to_string(spec.max + 1),
        {key, range});
  }
}

TEST(OptionsTest, MalformedNumbersAreRejectedNamingTheKey) {
  for (const std::string bad :
       {"", "-1", "+5", "1e3", "0x10", " 5", "5 ", "5k", "3.0",
        "99999999999999999999999", "18446744073709551617"}) {
    ExpectRejected("uringfs://?queue_depth=" + bad,
                   {"queue_depth", "'" + bad + "'"});
  }
}

TEST(OptionsTest, BooleanOptionAcceptsOnlyTrueFalseOneZero) {
  for (const char* good : {"true", "false", "1", "0"}) {
    std::shared_ptr<FileSystem> fs;
    ASSERT_OK(Create(std::string("uringfs://?use_io_uring=") + good, &fs));
  }
  for (const char* bad : {"yes", "TRUE", "2", ""}) {
    ExpectRejected(std::string("uringfs://?use_io_uring=") + bad,
                   {"use_io_uring", "true, false, 1 or 0"});
  }
}

TEST(OptionsTest, WriteBehindAcceptsFileClassListsAndNone) {
  for (const char* good : {"sst", "blob", "sst,blob", "blob,sst", "none"}) {
    std::shared_ptr<FileSystem> fs;
    ASSERT_OK(Create(std::string("uringfs://?write_behind=") + good, &fs));
    EXPECT_EQ(OptionsOf(fs)->write_behind, good);
  }
  std::shared_ptr<FileSystem> fs;
  ASSERT_OK(Create("id=UringFileSystem;write_behind=blob", &fs));
  EXPECT_EQ(OptionsOf(fs)->write_behind, "blob");
}

TEST(OptionsTest, WriteBehindRejectsUnknownRepeatedOrMixedClasses) {
  ExpectRejected("uringfs://?write_behind=wal", {"write_behind", "'wal'"});
  ExpectRejected("uringfs://?write_behind=", {"write_behind"});
  ExpectRejected("uringfs://?write_behind=sst,sst",
                 {"write_behind", "repeated"});
  ExpectRejected("uringfs://?write_behind=sst,", {"write_behind"});
  ExpectRejected("uringfs://?write_behind=none,sst", {"write_behind", "none"});
  ExpectRejected("uringfs://?write_behind=SST",
                 {"write_behind", "sst and blob"});
  UringFsOptions o;
  o.write_behind = "log";
  std::shared_ptr<FileSystem> fs;
  Status s = NewUringFileSystem(o, &fs);
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_EQ(fs, nullptr);
}

TEST(OptionsTest, UnknownKeyIsRejectedNamingItInBothSyntaxes) {
  ExpectRejected("uringfs://?bogus=1", {"bogus", "queue_depth"});
  ExpectRejected("uringfs://?queue_depth=8&bogus=1", {"bogus"});
  ExpectRejected("id=UringFileSystem;bogus=1", {"bogus", "queue_depth"});
}

TEST(OptionsTest, MalformedUrisAreRejectedWithAMessage) {
  ExpectRejected("uringfs://somewhere", {"somewhere"});
  ExpectRejected("uringfs:/", {"uringfs:/"});
  ExpectRejected("uringfs:", {"uringfs:"});
  ExpectRejected("uringfs://?", {"malformed"});
  ExpectRejected("uringfs://?queue_depth", {"queue_depth", "key=value"});
  ExpectRejected("uringfs://?=5", {"malformed"});
  ExpectRejected("uringfs://?queue_depth=1&&write_workers=2", {"malformed"});
  ExpectRejected("uringfs://?queue_depth=1&", {"malformed"});
  ExpectRejected("uringfs://?queue_depth=1&queue_depth=2",
                 {"queue_depth", "twice"});
}

TEST(OptionsTest, ParseUriLeavesOptionsUntouchedOnError) {
  UringFsOptions o;
  o.queue_depth = 77;
  Status s = internal::ParseUri("uringfs://?queue_depth=5&bogus=1", &o);
  EXPECT_TRUE(s.IsInvalidArgument());
  EXPECT_EQ(o.queue_depth, 77u);
}

TEST(OptionsTest, OptionsStringConfiguresTheClassId) {
  std::shared_ptr<FileSystem> fs;
  ASSERT_OK(Create("id=UringFileSystem;queue_depth=64;write_workers=2", &fs));
  ASSERT_NE(fs, nullptr);
  const UringFsOptions* o = OptionsOf(fs);
  ASSERT_NE(o, nullptr);
  EXPECT_EQ(o->queue_depth, 64u);
  EXPECT_EQ(o->write_workers, 2u);
}

TEST(OptionsTest, UriAsIdInOptionsStringIsAccepted) {
  std::shared_ptr<FileSystem> fs;
  ASSERT_OK(Create("id=uringfs://?queue_depth=7", &fs));
  ASSERT_NE(fs, nullptr);
  EXPECT_EQ(OptionsOf(fs)->queue_depth, 7u);
}

TEST(OptionsTest, OptionStringRoundTripsThroughConfigureFromString) {
  std::shared_ptr<FileSystem> fs;
  ASSERT_OK(
      Create("uringfs://?queue_depth=33&write_workers=5&use_io_uring=false"
             "&write_behind=blob&max_queued_bytes=1048576"
             "&max_queued_bytes_per_file=65536",
             &fs));
  ConfigOptions cfg;
  std::string text;
  ASSERT_OK(fs->GetOptionString(cfg, &text));
  EXPECT_NE(text.find("queue_depth=33"), std::string::npos) << text;

  std::shared_ptr<FileSystem> copy;
  ASSERT_OK(Create("uringfs://", &copy));
  EXPECT_FALSE(fs->AreEquivalent(cfg, copy.get(), &text));
  ASSERT_OK(fs->GetOptionString(cfg, &text));
  ASSERT_OK(copy->ConfigureFromString(cfg, text));
  std::string mismatch;
  EXPECT_TRUE(fs->AreEquivalent(cfg, copy.get(), &mismatch)) << mismatch;
  EXPECT_EQ(OptionsOf(copy)->queue_depth, 33u);
  EXPECT_EQ(OptionsOf(copy)->write_workers, 5u);
  EXPECT_FALSE(OptionsOf(copy)->use_io_uring);
  EXPECT_EQ(OptionsOf(copy)->write_behind, "blob");
  EXPECT_EQ(OptionsOf(copy)->max_queued_bytes, 1048576u);
  EXPECT_EQ(OptionsOf(copy)->max_queued_bytes_per_file, 65536u);
}

TEST(OptionsTest, NewUringFileSystemRejectsOutOfRangeStructFields) {
  std::shared_ptr<FileSystem> fs;
  UringFsOptions o;
  o.write_workers = 0;
  Status s = NewUringFileSystem(o, &fs);
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_NE(s.ToString().find("write_workers"), std::string::npos);
  EXPECT_EQ(fs, nullptr);

  o.write_workers = 3;
  ASSERT_OK(NewUringFileSystem(o, &fs));
  ASSERT_NE(fs, nullptr);
  EXPECT_EQ(OptionsOf(fs)->write_workers, 3u);
}

TEST(OptionsTest, ErrorMessagesDoNotRepeatTheStatusPrefix) {
  std::shared_ptr<FileSystem> fs;
  Status s = Create("uringfs://?bogus=1", &fs);
  const std::string text = s.ToString();
  EXPECT_EQ(text.find("Invalid argument"), text.rfind("Invalid argument"))
      << text;
}

}  // namespace
}  // namespace uringfs

namespace uringfs {
namespace {

// uringfs does its own file I/O; a stacked target would see some calls and
// not others, so it is refused rather than half honoured.
TEST(OptionsTest, TargetFileSystemIsRefused) {
  ExpectRejected("id=UringFileSystem;target={id=PosixFileSystem}",
                 {"target", "not supported"});
  ExpectRejected("id=UringFileSystem;target=PosixFileSystem", {"target"});
}

}  // namespace
}  // namespace uringfs

namespace uringfs {
namespace {

constexpr uint64_t kKiB = uint64_t{1} << 10;
constexpr uint64_t kMiB = uint64_t{1} << 20;
constexpr uint64_t kGiB = uint64_t{1} << 30;

const char* const kByteOptions[] = {"max_queued_bytes",
                                    "max_queued_bytes_per_file"};

uint64_t ByteOption(const std::shared_ptr<FileSystem>& fs,
                    const std::string& key) {
  return key == "max_queued_bytes" ? OptionsOf(fs)->max_queued_bytes
                                   : OptionsOf(fs)->max_queued_bytes_per_file;
}

TEST(OptionsTest, ByteSizesTakeRocksDbSuffixesInEitherCase) {
  const std::pair<const char*, uint64_t> cases[] = {
      {"64K", 64 * kKiB}, {"64k", 64 * kKiB}, {"256M", 256 * kMiB},
      {"3m", 3 * kMiB},   {"1G", kGiB},       {"2g", 2 * kGiB},
      {"1048576", kMiB},  {"64G", 64 * kGiB}};
  for (const char* key : kByteOptions) {
    for (const auto& [text, want] : cases) {
      for (const std::string& spelling :
           {std::string("uringfs://?") + key + "=" + text,
            std::string("id=UringFileSystem;") + key + "=" + text}) {
        std::shared_ptr<FileSystem> fs;
        ASSERT_OK(Create(spelling, &fs));
        EXPECT_EQ(ByteOption(fs, key), want) << spelling;
      }
    }
  }
  ExpectRejected("uringfs://?max_queued_bytes=0T",
                 {"max_queued_bytes", "out of range"});
}

TEST(OptionsTest, TerabyteSuffixIsReadButStillBoundedByTheRange) {
  ExpectRejected("uringfs://?max_queued_bytes=1T",
                 {"max_queued_bytes", "'1T'", "out of range", "64K to 64G"});
  ExpectRejected("uringfs://?max_queued_bytes=1t", {"out of range"});
}

TEST(OptionsTest, ByteSizesRefuseTextRocksDbWouldHalfRead) {
  for (const std::string bad :
       {"12abc", "5KB", "64Kb", "1.5G", " 64K", "64K ", "+64K", "0x10000", "K",
        "64KK", "64 K", "64Ki", "64P"}) {
    ExpectRejected("uringfs://?max_queued_bytes=" + bad,
                   {"max_queued_bytes", "'" + bad + "'", "is not a size",
                    "65536 to 68719476736"});
  }
  ExpectRejected("id=UringFileSystem;max_queued_bytes=12abc",
                 {"max_queued_bytes", "'12abc'", "is not a size"});
}

TEST(OptionsTest, NegativeSizesAreRefusedAsNegative) {
  for (const std::string bad : {"-1", "-64K", "-0"}) {
    ExpectRejected("uringfs://?max_queued_bytes_per_file=" + bad,
                   {"max_queued_bytes_per_file", "is negative"});
    ExpectRejected("id=UringFileSystem;max_queued_bytes=" + bad,
                   {"max_queued_bytes", "is negative"});
  }
}

TEST(OptionsTest, SizesPastSixtyFourBitsAreRefusedNotWrapped) {
  // 99999999999T and 16777216T wrap to small numbers in RocksDB's own parser.
  for (const std::string bad :
       {"99999999999T", "16777216T", "17179869184G", "18446744073709551616",
        "99999999999999999999999"}) {
    ExpectRejected("uringfs://?max_queued_bytes=" + bad,
                   {"max_queued_bytes", "'" + bad + "'", "too large"});
    ExpectRejected("id=UringFileSystem;max_queued_bytes=" + bad,
                   {"max_queued_bytes", "too large"});
  }
}

TEST(OptionsTest, SuffixesAreForByteSizesOnly) {
  ExpectRejected("uringfs://?queue_depth=1K",
                 {"queue_depth", "not a whole decimal number"});
  ExpectRejected("uringfs://?stats_dump_period_sec=1k",
                 {"stats_dump_period_sec", "not a whole decimal number"});
  ExpectRejected("uringfs://?write_workers=-1", {"write_workers", "negative"});
}

TEST(OptionsTest, StatsDumpPeriodAcceptsZeroAndSeconds) {
  for (const char* good : {"0", "1", "600", "4294967295"}) {
    std::shared_ptr<FileSystem> fs;
    ASSERT_OK(
        Create(std::string("uringfs://?stats_dump_period_sec=") + good, &fs));
    EXPECT_EQ(std::to_string(OptionsOf(fs)->stats_dump_period_sec), good);
  }
  ExpectRejected("uringfs://?stats_dump_period_sec=4294967296",
                 {"stats_dump_period_sec", "0 to 4294967295", "seconds"});
}

// parse(serialise(x)) == x for every option, at its bounds and in between,
// whatever spelling set it.
TEST(OptionsTest, SerialisedOptionsParseBackToTheSameValues) {
  const char* const settings[] = {
      "uringfs://?max_queued_bytes=256M&max_queued_bytes_per_file=4K"
      "&stats_dump_period_sec=0&queue_depth=1&write_workers=256",
      "uringfs://?max_queued_bytes=64G&max_queued_bytes_per_file=65537"
      "&stats_dump_period_sec=4294967295&write_behind=none",
      "uringfs://?max_queued_bytes=64K&max_queued_bytes_per_file=3g"
      "&use_io_uring=0&write_behind=blob,sst&queue_depth=4096",
      "uringfs://?ring_single_reads=true",
  };
  ConfigOptions cfg;
  for (const char* setting : settings) {
    std::shared_ptr<FileSystem> fs;
    ASSERT_OK(Create(setting, &fs));
    std::string text;
    ASSERT_OK(fs->GetOptionString(cfg, &text));
    std::shared_ptr<FileSystem> copy;
    ASSERT_OK(Create("uringfs://", &copy));
    ASSERT_OK(copy->ConfigureFromString(cfg, text)) << text;
    std::string mismatch;
    EXPECT_TRUE(fs->AreEquivalent(cfg, copy.get(), &mismatch))
        << setting << " -> " << text << ": " << mismatch;
    const UringFsOptions& a = *OptionsOf(fs);
    const UringFsOptions& b = *OptionsOf(copy);
    EXPECT_EQ(a.max_queued_bytes, b.max_queued_bytes) << text;
    EXPECT_EQ(a.max_queued_bytes_per_file, b.max_queued_bytes_per_file);
    EXPECT_EQ(a.stats_dump_period_sec, b.stats_dump_period_sec);
    EXPECT_EQ(a.queue_depth, b.queue_depth);
    EXPECT_EQ(a.write_workers, b.write_workers);
    EXPECT_EQ(a.use_io_uring, b.use_io_uring);
    EXPECT_EQ(a.ring_single_reads, b.ring_single_reads);
    EXPECT_EQ(a.write_behind, b.write_behind);
  }
}

TEST(OptionsTest, EveryOptionsFormattedValueParsesBackToItself) {
  for (const internal::OptionSpec& spec : internal::AllOptionSpecs()) {
    if (spec.kind == internal::OptionSpec::Kind::kFileClasses) continue;
    for (uint64_t v :
         {spec.min, spec.max, spec.min + (spec.max - spec.min) / 3}) {
      UringFsOptions from;
      UringFsOptions to;
      void* from_field = reinterpret_cast<char*>(&from) + spec.offset;
      void* to_field = reinterpret_cast<char*>(&to) + spec.offset;
      ASSERT_OK(
          internal::ParseOptionValue(spec, std::to_string(v), from_field));
      const std::string text = internal::FormatOptionValue(spec, from_field);
      ASSERT_OK(internal::ParseOptionValue(spec, text, to_field)) << text;
      EXPECT_EQ(internal::FormatOptionValue(spec, to_field), text);
      if (spec.kind == internal::OptionSpec::Kind::kByteSize) {
        EXPECT_EQ(*static_cast<uint64_t*>(to_field), v) << spec.name;
      }
    }
  }
}

// RocksDB rolls a refused options string back by re-applying the serialised
// options: no key of the string stays applied, whatever order it tried them.
TEST(OptionsTest, RefusedOptionsStringLeavesEveryOptionAsItWas) {
  std::shared_ptr<FileSystem> fs;
  ASSERT_OK(Create("uringfs://?queue_depth=9&max_queued_bytes=1M", &fs));
  for (const char* bad :
       {"queue_depth=7;write_workers=3;max_queued_bytes=99999999999T",
        "max_queued_bytes=2M;stats_dump_period_sec=5;write_workers=-1",
        "max_queued_bytes_per_file=8K;queue_depth=12abc"}) {
    Status s = fs->ConfigureFromString(ConfigOptions(), bad);
    EXPECT_TRUE(s.IsInvalidArgument()) << bad << " -> " << s.ToString();
    const UringFsOptions& o = *OptionsOf(fs);
    EXPECT_EQ(o.queue_depth, 9u) << bad;
    EXPECT_EQ(o.write_workers, UringFsOptions().write_workers) << bad;
    EXPECT_EQ(o.max_queued_bytes, kMiB) << bad;
    EXPECT_EQ(o.max_queued_bytes_per_file,
              UringFsOptions().max_queued_bytes_per_file)
        << bad;
    EXPECT_EQ(o.stats_dump_period_sec, 600u) << bad;
  }
}

}  // namespace
}  // namespace uringfs
