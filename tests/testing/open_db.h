// -----------------------------------------------------------------------------
// tests/testing/open_db.h
// -----------------------------------------------------------------------------
//
// OpenDb / OpenDbForReadOnly: `rocksdb::DB::Open` for every RocksDB release
// uringfs builds against. RocksDB 7.8.3 hands the DB back through a `DB**`,
// RocksDB 11 only through a `std::unique_ptr<DB>*`; these call whichever the
// headers declare (chosen at compile time from the declarations, not from a
// version number) and return the DB as a raw pointer that the caller owns,
// as 7.8.3's API did.
//
// Thread-safety: as `rocksdb::DB::Open`.

#ifndef URINGFS_TESTS_TESTING_OPEN_DB_H_
#define URINGFS_TESTS_TESTING_OPEN_DB_H_

#include <memory>
#include <string>

#include "rocksdb/db.h"
#include "rocksdb/options.h"

namespace uringfs {
namespace testing {
namespace open_db_internal {

// Preferred (int beats long): the unique_ptr form, where it exists.
template <typename Db, typename Opener>
auto Call(Opener open, const rocksdb::Options& o, const std::string& name,
          Db** out, int) -> decltype(open(o, name, (std::unique_ptr<Db>*)0)) {
  std::unique_ptr<Db> db;
  auto s = open(o, name, &db);
  *out = db.release();
  return s;
}

template <typename Db, typename Opener>
auto Call(Opener open, const rocksdb::Options& o, const std::string& name,
          Db** out, long) -> decltype(open(o, name, out)) {
  return open(o, name, out);
}

// Generic lambdas, so that overload resolution happens at the call above.
inline constexpr auto kOpen = [](const rocksdb::Options& o,
                                 const std::string& name, auto out)
    -> decltype(rocksdb::DB::Open(o, name, out)) {
  return rocksdb::DB::Open(o, name, out);
};
inline constexpr auto kOpenReadOnly = [](const rocksdb::Options& o,
                                         const std::string& name, auto out)
    -> decltype(rocksdb::DB::OpenForReadOnly(o, name, out)) {
  return rocksdb::DB::OpenForReadOnly(o, name, out);
};

}  // namespace open_db_internal

// Opens the database `name` with `options`; on success `*db` owns it (the
// caller deletes it), on failure `*db` is nullptr.
inline rocksdb::Status OpenDb(const rocksdb::Options& options,
                              const std::string& name, rocksdb::DB** db) {
  *db = nullptr;
  return open_db_internal::Call(open_db_internal::kOpen, options, name, db, 0);
}

// As OpenDb, read-only.
inline rocksdb::Status OpenDbForReadOnly(const rocksdb::Options& options,
                                         const std::string& name,
                                         rocksdb::DB** db) {
  *db = nullptr;
  return open_db_internal::Call(open_db_internal::kOpenReadOnly, options, name,
                                db, 0);
}

}  // namespace testing
}  // namespace uringfs

#endif  // URINGFS_TESTS_TESTING_OPEN_DB_H_
