// -----------------------------------------------------------------------------
// env/process_queue.h
// -----------------------------------------------------------------------------
//
// The worker pool of the process: one `wq::Queue` that every uringfs file
// system of the process shares (its tasks are owner tokens on it). Created
// on first use and never destroyed: file systems may outlive static
// destructors, and at process exit the kernel ends the idle workers.
//
// Thread-safety: safe for concurrent use.

#ifndef URINGFS_ENV_PROCESS_QUEUE_H_
#define URINGFS_ENV_PROCESS_QUEUE_H_

#include "env/wq/queue.h"

namespace uringfs {

// ProcessQueue()
//
// The process's queue.
wq::Queue& ProcessQueue();

// RaiseWorkerLimit()
//
// The queue runs at most as many bound workers as the largest
// `write_workers` of any file system created so far; this raises the limit
// to `workers` if it is lower.
void RaiseWorkerLimit(int workers);

}  // namespace uringfs

#endif  // URINGFS_ENV_PROCESS_QUEUE_H_
