// Starts the server's jobs at most `max_running` at a time (`trainyard serve
// --max-running-jobs`); the rest wait, first in first out, as InProgress/Starting. Waiting
// is only in memory and in the store's status: a server killed with jobs waiting leaves them
// unstarted in the store, and the next server's reconcile() hands them back to enqueue().
//
// A job counts as running from the moment its supervisor is started here until it ends, and
// so does every job on the host whose program has started (whoever supervises it): jobs that
// kept running while the server was down hold their slots.
//
// Thread safety: enqueue() and adopt() may be called from any thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "jobs/store/job_store.h"

namespace trainyard::server {

class JobDispatcher {
 public:
  // `max_running` 0: no limit, every job starts at once. `start_supervisor` starts a job's
  // supervisor and returns at once. Jobs that wait are looked at again every `poll`.
  JobDispatcher(const jobs::JobStore& store, size_t max_running,
                std::function<void(const std::string&)> start_supervisor,
                std::chrono::milliseconds poll = std::chrono::milliseconds(200));
  ~JobDispatcher();
  JobDispatcher(const JobDispatcher&) = delete;
  JobDispatcher& operator=(const JobDispatcher&) = delete;

  // A created (or never started) job: starts it now when a slot is free, else queues it.
  void enqueue(const std::string& name);
  // A job whose program already runs but has nobody supervising it: supervised at once,
  // whatever the limit, since it already holds a slot.
  void adopt(const std::string& name);

 private:
  void start_while_room();  // REQUIRES: mutex_ held
  size_t running_now();     // REQUIRES: mutex_ held
  void poll_loop();

  // Constant after construction.
  const jobs::JobStore& store_;
  const size_t max_running_;
  const std::function<void(const std::string&)> start_supervisor_;
  const std::chrono::milliseconds poll_;

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::string> waiting_;  // guarded by mutex_
  std::set<std::string> started_;    // guarded by mutex_: started here, not known to have ended
  bool stopping_ = false;            // guarded by mutex_
  std::thread poller_;
};

}  // namespace trainyard::server
