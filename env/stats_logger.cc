#include "env/stats_logger.h"

#include <cstdarg>
#include <utility>

namespace uringfs {
namespace {

void Write(rocksdb::Logger* logger, const char* format, ...) {
  va_list ap;
  va_start(ap, format);
  logger->Logv(format, ap);  // Level-less: always written.
  va_end(ap);
}

}  // namespace

StatsLogger::StatsLogger(std::shared_ptr<rocksdb::Logger> target,
                         std::function<std::string()> stats)
    : rocksdb::LoggerWrapper(target.get()),
      target_(std::move(target)),
      stats_(std::move(stats)) {}

StatsLogger::~StatsLogger() { DumpOnce(); }

rocksdb::Status StatsLogger::Close() {
  DumpOnce();
  return rocksdb::LoggerWrapper::Close();
}

void StatsLogger::DumpOnce() {
  if (dumped_.exchange(true, std::memory_order_acq_rel)) return;
  try {
    Write(target_.get(), "uringfs stats: %s", stats_().c_str());
    target_->Flush();
  } catch (...) {
    // Statistics are best effort; never let them disturb a close.
  }
}

}  // namespace uringfs
