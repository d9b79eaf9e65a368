// -----------------------------------------------------------------------------
// tests/crash/crash_writer.cc
// -----------------------------------------------------------------------------
//
// The process that tools/crash-check kills with SIGKILL, and the checker that
// runs after it.
//
//   crash_writer --mode=write  --db=DIR --ack=FILE --cycle=N [--keys=K]
//                [--fs_uri=URI] [--max_seconds=S] [--manual_wal_flush]
//   crash_writer --mode=verify --db=DIR --ack=FILE --cycle=N [--keys=K]
//                [--fs_uri=URI | --stock] [--read_only]
//
// write: opens (creating if needed) a RocksDB database through `--fs_uri`
// (default `uringfs://`) with the WAL on, WriteOptions.sync=false and 256 KiB
// write buffers, so that flushes and compactions run all the time, and Puts
// as fast as it can: new key ids first (continuing after the largest id in
// the acknowledgement file) up to `--keys`, then pseudo-random overwrites of
// ids below `--keys`. The value of a key is derived from its id and the cycle
// number. After each Put returns OK it appends "ID CYCLE\n" to the
// acknowledgement file with one write(2): the line is in the kernel, so it
// survives kill -9 of this process, exactly as RocksDB promises the Put does.
// It runs until killed (or `--max_seconds`, a safety net, then exits 0).
// `--manual_wal_flush` is a negative control that breaks RocksDB's promise on
// purpose (the WAL stays in RocksDB's memory), to show verify catches a loss.
//
// verify: opens the database through `--fs_uri`, or the stock POSIX file
// system with `--stock`, read-write (recovery runs) or `--read_only`. Every
// acknowledged key must be present and hold a well-formed value of a cycle no
// older than the newest cycle that acknowledged it and no newer than
// `--cycle` (a later, unacknowledged write may legitimately have landed).
// Then the whole database is scanned: every key and value must be
// well-formed. Exits 1 naming the first missing or wrong key; 2 for usage or
// open errors; 0 with a one-line summary on stdout.

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "rocksdb/convenience.h"
#include "rocksdb/db.h"
#include "rocksdb/env.h"
#include "rocksdb/file_system.h"
#include "rocksdb/options.h"
#include "rocksdb/table.h"
#include "tests/testing/open_db.h"

namespace {

struct Flags {
  std::string mode;
  std::string db;
  std::string ack;
  std::string fs_uri = "uringfs://";
  bool stock = false;
  bool read_only = false;
  uint32_t cycle = 0;
  uint32_t keys = 100000;
  double max_seconds = 300;
  bool manual_wal_flush = false;
};

[[noreturn]] void Die(int code, const char* fmt, ...)
    __attribute__((format(printf, 2, 3)));
void Die(int code, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  std::fputs("crash_writer: ", stderr);
  std::vfprintf(stderr, fmt, ap);
  std::fputc('\n', stderr);
  va_end(ap);
  std::exit(code);
}

uint64_t ParseNumber(const std::string& name, const std::string& text) {
  char* end = nullptr;
  errno = 0;
  unsigned long long v = std::strtoull(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || errno != 0) {
    Die(2, "--%s: not a number: '%s'", name.c_str(), text.c_str());
  }
  return v;
}

Flags ParseFlags(int argc, char** argv) {
  Flags f;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("--", 0) != 0) Die(2, "unexpected argument '%s'", a.c_str());
    a = a.substr(2);
    std::string name = a, value;
    const size_t eq = a.find('=');
    if (eq != std::string::npos) {
      name = a.substr(0, eq);
      value = a.substr(eq + 1);
    }
    if (name == "mode") {
      f.mode = value;
    } else if (name == "db") {
      f.db = value;
    } else if (name == "ack") {
      f.ack = value;
    } else if (name == "fs_uri") {
      f.fs_uri = value;
    } else if (name == "stock") {
      f.stock = true;
    } else if (name == "read_only") {
      f.read_only = true;
    } else if (name == "cycle") {
      f.cycle = static_cast<uint32_t>(ParseNumber(name, value));
    } else if (name == "keys") {
      f.keys = static_cast<uint32_t>(ParseNumber(name, value));
    } else if (name == "manual_wal_flush") {
      f.manual_wal_flush = true;
    } else if (name == "max_seconds") {
      f.max_seconds = static_cast<double>(ParseNumber(name, value));
    } else {
      Die(2, "unknown flag --%s", name.c_str());
    }
  }
  if (f.mode != "write" && f.mode != "verify") {
    Die(2, "--mode=write or --mode=verify is required");
  }
  if (f.db.empty() || f.ack.empty()) Die(2, "--db and --ack are required");
  if (f.cycle == 0) Die(2, "--cycle=N (N >= 1) is required");
  if (f.keys == 0) Die(2, "--keys must be at least 1");
  if (f.mode == "write" && (f.stock || f.read_only)) {
    Die(2, "--stock and --read_only are for --mode=verify");
  }
  return f;
}

std::string Key(uint32_t id) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "k%08" PRIu32, id);
  return buf;
}

// Parses "k%08u"; false if `key` is not of that form.
bool ParseKey(const rocksdb::Slice& key, uint32_t* id) {
  if (key.size() != 9 || key[0] != 'k') return false;
  uint32_t v = 0;
  for (size_t i = 1; i < 9; ++i) {
    if (key[i] < '0' || key[i] > '9') return false;
    v = v * 10 + static_cast<uint32_t>(key[i] - '0');
  }
  *id = v;
  return true;
}

uint64_t Mix(uint64_t x) {  // splitmix64's finaliser.
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// "v<id>.<cycle>." followed by 40..231 letters determined by (id, cycle).
std::string Value(uint32_t id, uint32_t cycle) {
  char head[40];
  std::snprintf(head, sizeof(head), "v%" PRIu32 ".%" PRIu32 ".", id, cycle);
  std::string v = head;
  uint64_t x = Mix((uint64_t{id} << 32) | cycle);
  const size_t len = 40 + x % 192;
  v.reserve(v.size() + len);
  for (size_t i = 0; i < len; ++i) {
    x = Mix(x);
    v.push_back(static_cast<char>('a' + x % 26));
  }
  return v;
}

// The cycle encoded in `value` if it is exactly Value(id, cycle), else 0.
uint32_t CycleOf(uint32_t id, const std::string& value) {
  unsigned long long vid = 0, vcycle = 0;
  int used = 0;
  if (std::sscanf(value.c_str(), "v%llu.%llu.%n", &vid, &vcycle, &used) != 2 ||
      used == 0 || vid != id || vcycle == 0 || vcycle > UINT32_MAX) {
    return 0;
  }
  const uint32_t c = static_cast<uint32_t>(vcycle);
  return value == Value(id, c) ? c : 0;
}

std::string Shorten(const std::string& s) {
  return s.size() <= 48 ? s : s.substr(0, 48) + "...";
}

// Reads the acknowledgement file: for each id, the newest cycle that
// acknowledged a Put of it (0: never). A torn last line (no newline) is
// ignored: its Put was acknowledged but the kill came inside our own
// bookkeeping, which cannot happen with one write(2) of a short line, but
// costs nothing to tolerate.
struct Acks {
  std::vector<uint32_t> newest_cycle;
  uint64_t lines = 0;
  uint64_t distinct = 0;
  uint32_t max_id_plus_one = 0;
};

Acks ReadAcks(const std::string& path) {
  Acks a;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return a;
    Die(2, "cannot open %s: %s", path.c_str(), std::strerror(errno));
  }
  std::string data;
  char buf[1 << 16];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) Die(2, "cannot read %s: %s", path.c_str(), std::strerror(errno));
    if (n == 0) break;
    data.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  size_t pos = 0;
  while (pos < data.size()) {
    const size_t nl = data.find('\n', pos);
    if (nl == std::string::npos) break;  // Torn last line.
    uint64_t id = 0, cycle = 0;
    size_t i = pos;
    bool ok = i < nl;
    while (i < nl && data[i] >= '0' && data[i] <= '9')
      id = id * 10 + (data[i++] - '0');
    ok = ok && i < nl && data[i] == ' ';
    ++i;
    const size_t cycle_start = i;
    while (i < nl && data[i] >= '0' && data[i] <= '9')
      cycle = cycle * 10 + (data[i++] - '0');
    ok = ok && i == nl && i > cycle_start && cycle > 0 && id < UINT32_MAX &&
         cycle <= UINT32_MAX;
    if (!ok) {
      Die(2, "%s: malformed line %" PRIu64 ": '%s'", path.c_str(), a.lines + 1,
          data.substr(pos, nl - pos).c_str());
    }
    if (id >= a.newest_cycle.size()) a.newest_cycle.resize(id + 1, 0);
    if (a.newest_cycle[id] == 0) ++a.distinct;
    if (cycle > a.newest_cycle[id])
      a.newest_cycle[id] = static_cast<uint32_t>(cycle);
    ++a.lines;
    pos = nl + 1;
  }
  a.max_id_plus_one = static_cast<uint32_t>(a.newest_cycle.size());
  return a;
}

rocksdb::Options MakeOptions(rocksdb::Env* env, bool manual_wal_flush) {
  rocksdb::Options o;
  o.env = env;
  o.create_if_missing = true;
  o.write_buffer_size = 256 << 10;  // A flush every few thousand Puts.
  o.max_write_buffer_number = 4;
  o.target_file_size_base = 256 << 10;
  o.max_bytes_for_level_base = 1 << 20;
  o.level0_file_num_compaction_trigger = 2;  // Compactions all the time.
  o.max_background_jobs = 2;
  o.compression = rocksdb::kNoCompression;
  o.paranoid_checks = true;
  // A negative control only: the WAL then stays in RocksDB's own buffer until
  // FlushWAL, so kill -9 loses acknowledged Puts and verify must say so.
  o.manual_wal_flush = manual_wal_flush;
  return o;
}

struct OpenDb {
  std::shared_ptr<rocksdb::FileSystem> fs;
  std::unique_ptr<rocksdb::Env> env;
  std::unique_ptr<rocksdb::DB> db;
};

void Open(const Flags& f, OpenDb* out) {
  rocksdb::Env* env = rocksdb::Env::Default();
  if (!f.stock) {
    rocksdb::Status s = rocksdb::FileSystem::CreateFromString(
        rocksdb::ConfigOptions(), f.fs_uri, &out->fs);
    if (!s.ok() || out->fs == nullptr) {
      Die(2, "cannot create file system '%s': %s", f.fs_uri.c_str(),
          s.ok() ? "no such file system (is the plugin linked?)"
                 : s.ToString().c_str());
    }
    out->env = rocksdb::NewCompositeEnv(out->fs);
    env = out->env.get();
  }
  rocksdb::Options o = MakeOptions(env, f.manual_wal_flush);
  rocksdb::DB* db = nullptr;
  rocksdb::Status s;
  if (f.read_only) {
    o.create_if_missing = false;
    s = uringfs::testing::OpenDbForReadOnly(o, f.db, &db);
  } else {
    o.create_if_missing = f.mode == "write";
    s = uringfs::testing::OpenDb(o, f.db, &db);
  }
  if (!s.ok()) {
    Die(2, "cannot open %s through %s%s: %s", f.db.c_str(),
        f.stock ? "the stock file system" : f.fs_uri.c_str(),
        f.read_only ? " (read-only)" : "", s.ToString().c_str());
  }
  out->db.reset(db);
}

int Write(const Flags& f) {
  Acks acks = ReadAcks(f.ack);
  int fd =
      ::open(f.ack.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) Die(2, "cannot open %s: %s", f.ack.c_str(), std::strerror(errno));
  OpenDb d;
  Open(f, &d);
  rocksdb::WriteOptions w;
  w.sync = false;
  w.disableWAL = false;
  uint32_t next_id = acks.max_id_plus_one;
  uint64_t x = Mix(f.cycle);
  const auto start = std::chrono::steady_clock::now();
  for (uint64_t n = 0;; ++n) {
    uint32_t id;
    if (next_id < f.keys) {
      id = next_id++;
    } else {
      x = Mix(x);
      id = static_cast<uint32_t>(x % f.keys);
    }
    rocksdb::Status s = d.db->Put(w, Key(id), Value(id, f.cycle));
    if (!s.ok()) {
      Die(3, "Put(%s) failed in cycle %" PRIu32 ": %s", Key(id).c_str(),
          f.cycle, s.ToString().c_str());
    }
    char line[32];
    const int len = std::snprintf(line, sizeof(line),
                                  "%" PRIu32 " %" PRIu32 "\n", id, f.cycle);
    for (;;) {
      ssize_t r = ::write(fd, line, static_cast<size_t>(len));
      if (r == len) break;
      if (r < 0 && errno == EINTR) continue;
      Die(3, "write to %s: %s", f.ack.c_str(),
          r < 0 ? std::strerror(errno) : "short write");
    }
    if ((n & 1023) == 0 &&
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
                .count() > f.max_seconds) {
      std::printf("crash_writer: --max_seconds reached after %" PRIu64
                  " Puts\n",
                  n + 1);
      break;
    }
  }
  rocksdb::Status s = d.db->Close();
  if (!s.ok()) Die(3, "Close: %s", s.ToString().c_str());
  ::close(fd);
  return 0;
}

int Verify(const Flags& f) {
  const Acks acks = ReadAcks(f.ack);
  OpenDb d;
  Open(f, &d);
  const char* via = f.stock ? "stock" : "uringfs";
  rocksdb::ReadOptions r;
  r.verify_checksums = true;
  std::string value;
  uint64_t checked = 0;
  for (uint32_t id = 0; id < acks.newest_cycle.size(); ++id) {
    const uint32_t acked = acks.newest_cycle[id];
    if (acked == 0) continue;
    rocksdb::Status s = d.db->Get(r, Key(id), &value);
    if (s.IsNotFound()) {
      std::fprintf(stderr,
                   "crash_writer verify (%s): LOST key %s: acknowledged in "
                   "cycle %" PRIu32 ", not in the database\n",
                   via, Key(id).c_str(), acked);
      return 1;
    }
    if (!s.ok()) {
      std::fprintf(stderr, "crash_writer verify (%s): Get(%s) failed: %s\n",
                   via, Key(id).c_str(), s.ToString().c_str());
      return 1;
    }
    const uint32_t c = CycleOf(id, value);
    if (c == 0 || c < acked || c > f.cycle) {
      std::fprintf(stderr,
                   "crash_writer verify (%s): WRONG value for key %s: "
                   "acknowledged in cycle %" PRIu32
                   ", want Value(id, cycle "
                   "%" PRIu32 "..%" PRIu32 "), got '%s' (%zu bytes)\n",
                   via, Key(id).c_str(), acked, acked, f.cycle,
                   Shorten(value).c_str(), value.size());
      return 1;
    }
    ++checked;
  }
  // Everything in the database must be something this program wrote.
  uint64_t in_db = 0;
  std::unique_ptr<rocksdb::Iterator> it(d.db->NewIterator(r));
  for (it->SeekToFirst(); it->Valid(); it->Next(), ++in_db) {
    uint32_t id = 0;
    const std::string v = it->value().ToString();
    if (!ParseKey(it->key(), &id) || CycleOf(id, v) == 0 ||
        CycleOf(id, v) > f.cycle) {
      std::fprintf(
          stderr, "crash_writer verify (%s): GARBAGE entry '%s' -> '%s'\n", via,
          Shorten(it->key().ToString()).c_str(), Shorten(v).c_str());
      return 1;
    }
  }
  if (!it->status().ok()) {
    std::fprintf(stderr, "crash_writer verify (%s): scan failed: %s\n", via,
                 it->status().ToString().c_str());
    return 1;
  }
  it.reset();
  rocksdb::Status s = d.db->Close();
  if (!s.ok()) {
    std::fprintf(stderr, "crash_writer verify (%s): Close: %s\n", via,
                 s.ToString().c_str());
    return 1;
  }
  std::printf("verify %s%s: %" PRIu64 " acks, %" PRIu64
              " acknowledged keys ok, %" PRIu64 " keys in db\n",
              via, f.read_only ? " (read-only)" : "", acks.lines, checked,
              in_db);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const Flags f = ParseFlags(argc, argv);
  return f.mode == "write" ? Write(f) : Verify(f);
}
