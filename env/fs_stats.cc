#include "env/fs_stats.h"

#include <cstdio>
#include <memory>
#include <string>
#include <utility>

#include "env/process_queue.h"

namespace uringfs {
namespace {

void CollectRocksStats(const RocksReadCounters& rc, UringFsStats* s) {
  s->reads = Get(rc.reads);
  s->multi_reads = Get(rc.multi_reads);
  s->multi_read_requests = Get(rc.multi_read_requests);
  s->multi_read_nanos = Get(rc.multi_read_nanos);
  s->async_reads = Get(rc.async_reads);
}

void CollectReadAheadStats(const ReadAheadShared& r, UringFsStats* s) {
  s->read_ahead_started = Get(r.counters.started);
  s->read_ahead_used = Get(r.counters.used);
  s->read_ahead_dropped = Get(r.counters.dropped);
}

void CollectEngineStats(const uring::ReadEngine& e, UringFsStats* s) {
  const uring::ReadCounters& c = e.counters();
  s->io_uring = e.features().Describe();
  s->io_uring_in_use = e.features().usable();
  s->ops_uring = Get(c.ops_uring);
  s->ops_pread = Get(c.ops_pread);
  s->ops_cached = Get(c.ops_cached);
  s->sqes_submitted = Get(c.submitted);
  s->resubmitted = Get(c.resubmitted);
  s->rings_created = e.rings_created();
  s->ring_setup_failures = Get(c.ring_failures);
  s->rings_abandoned = Get(c.rings_abandoned);
  s->rescued = Get(c.rescued);
  if (std::shared_ptr<uring::AsyncReader> a = e.existing_async_reader()) {
    s->async_submitted = a->submitted();
    s->async_sync_fallbacks = a->sync_fallbacks();
    s->async_cancels = a->cancels_sent();
    s->rescued += a->rescued();
  }
}

void CollectWriteStats(const WriteScheduler& w, UringFsStats* s) {
  const WriteCounters& c = w.counters();
  s->appends_queued = Get(c.appends_queued);
  s->appends_direct = Get(c.appends_direct);
  s->bytes_queued = Get(c.bytes_queued);
  s->bytes_direct = Get(c.bytes_direct);
  s->write_drains = Get(c.drains);
  s->write_errors = Get(c.write_errors);
  s->writes_cancelled = Get(c.cancelled);
  s->budget_waits = w.budget().waits();
  s->queued_bytes = w.budget().queued_bytes();
  s->peak_queued_bytes = w.budget().peak_queued_bytes();
  s->max_queued_bytes = w.budget().max_total_bytes();
  s->max_queued_bytes_per_file = w.budget().max_file_bytes();
}

void CollectTaskStats(const FsTasks& t, UringFsStats* s) {
  const CancelCounters& cc = t.home().counters();
  s->cancels_cancelled = Get(cc.cancelled);
  s->cancels_running = Get(cc.running);
  s->cancels_not_found = Get(cc.not_found);
  s->async_reads_cancelled = Get(cc.reads_cancelled);
  // The tasks live on the process queue, so it exists already.
  const wq::QueueStats q = ProcessQueue().GetStats();
  s->write_workers = static_cast<uint64_t>(q.bound.workers);
  s->creds_switches = q.creds_switches;
}

}  // namespace

UringFsStats CollectStats(const StatsSources& from) {
  UringFsStats s;
  if (from.rocks != nullptr) CollectRocksStats(*from.rocks, &s);
  if (from.read_ahead != nullptr) CollectReadAheadStats(*from.read_ahead, &s);
  if (from.engine != nullptr) {
    CollectEngineStats(*from.engine, &s);
  } else {
    s.io_uring = "io_uring: not probed yet (no file opened)";
  }
  if (from.writes != nullptr) CollectWriteStats(*from.writes, &s);
  if (from.tasks != nullptr) CollectTaskStats(*from.tasks, &s);
  return s;
}

std::string UringFsStats::ToString() const {
  const std::pair<const char*, uint64_t> fields[] = {
      {"reads", reads},
      {"multi_reads", multi_reads},
      {"multi_read_requests", multi_read_requests},
      {"multi_read_nanos", multi_read_nanos},
      {"async_reads", async_reads},
      {"ops_uring", ops_uring},
      {"ops_pread", ops_pread},
      {"ops_cached", ops_cached},
      {"sqes_submitted", sqes_submitted},
      {"resubmitted", resubmitted},
      {"rings_created", rings_created},
      {"ring_setup_failures", ring_setup_failures},
      {"rings_abandoned", rings_abandoned},
      {"rescued", rescued},
      {"async_submitted", async_submitted},
      {"async_sync_fallbacks", async_sync_fallbacks},
      {"async_cancels", async_cancels},
      {"read_ahead_started", read_ahead_started},
      {"read_ahead_used", read_ahead_used},
      {"read_ahead_dropped", read_ahead_dropped},
      {"appends_queued", appends_queued},
      {"appends_direct", appends_direct},
      {"bytes_queued", bytes_queued},
      {"bytes_direct", bytes_direct},
      {"budget_waits", budget_waits},
      {"queued_bytes", queued_bytes},
      {"peak_queued_bytes", peak_queued_bytes},
      {"max_queued_bytes", max_queued_bytes},
      {"max_queued_bytes_per_file", max_queued_bytes_per_file},
      {"write_drains", write_drains},
      {"write_errors", write_errors},
      {"writes_cancelled", writes_cancelled},
      {"write_workers", write_workers},
      {"creds_switches", creds_switches},
      {"cancels_cancelled", cancels_cancelled},
      {"cancels_running", cancels_running},
      {"cancels_not_found", cancels_not_found},
      {"async_reads_cancelled", async_reads_cancelled},
  };
  char avg[96];
  std::snprintf(avg, sizeof(avg), "%.2f multi_read_requests_per_second=%.0f",
                AverageRequestsPerMultiRead(), MultiReadRequestsPerSecond());
  std::string text = std::string("io_uring_in_use=") +
                     (io_uring_in_use ? "1" : "0") +
                     " avg_requests_per_multi_read=" + avg;
  for (const auto& [name, value] : fields) {
    text += std::string(" ") + name + "=" + std::to_string(value);
  }
  return text + " (" + io_uring + ")";
}

}  // namespace uringfs
