// ThreadPool: a fixed set of worker threads that run the tasks of one parallel_for at a
// time, with the calling thread working too. Built for the many short parallel regions of
// a training step: workers spin briefly before sleeping, and dispatch allocates nothing.
// Thread safety: parallel_for may be called from one thread at a time per pool; a call
// made from inside a task runs serially.
#pragma once

#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

#include "core/function_ref.h"

namespace trainyard {

class ThreadPool {
 public:
  // REQUIRES: num_threads >= 1 (counts the caller, so 1 means no worker threads).
  explicit ThreadPool(int num_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int num_threads() const { return static_cast<int>(workers_.size()) + 1; }

  // Runs task(i) for every i in [0, num_tasks) and returns when all have finished. Which
  // thread runs which task is unspecified, so tasks must write disjoint outputs. An
  // exception thrown by a task is rethrown here after all tasks have ended.
  void parallel_for(int64_t num_tasks, FunctionRef<void(int64_t)> task);

 private:
  void worker_loop();
  // Claims and runs tasks of job `generation` until none are left or a newer job started.
  void run_tasks(uint32_t generation);

  std::vector<std::thread> workers_;
  // The current job. Written by the dispatching thread before it publishes the job's
  // generation; read by workers only between a load of claim_ for that generation and a
  // successful claim, during which the job cannot end.
  std::atomic<FunctionRef<void(int64_t)>*> task_{nullptr};
  std::atomic<int64_t> num_tasks_{0};
  // (generation << 32) | next unclaimed task: claiming is one compare-and-swap, so a worker
  // that wakes late can never take a task of a newer job by mistake.
  std::atomic<uint64_t> claim_{0};
  std::atomic<int64_t> remaining_{0};    // tasks of the current job not yet finished
  std::atomic<uint32_t> generation_{0};  // bumped per job; workers sleep on it
  std::atomic<bool> stopping_{false};
  std::atomic<bool> failed_{false};
  std::exception_ptr failure_;
};

// The pool engine kernels use. Its size is TRAINYARD_NUM_THREADS if set, otherwise the
// number of hardware threads.
ThreadPool& compute_pool();
// Replaces the compute pool with one of `num_threads` threads (like torch.set_num_threads).
// REQUIRES: no parallel_for is running.
void set_num_threads(int num_threads);
int num_threads();

// Splits [0, total) into at most num_threads() chunks of at least `grain` elements and runs
// body(begin, end) on each in parallel; runs serially when total < 2 * grain.
void parallel_range(int64_t total, int64_t grain, FunctionRef<void(int64_t, int64_t)> body);

}  // namespace trainyard
