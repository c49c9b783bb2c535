// The threads that serve the API server's connections. cpp-httplib gives each connection a
// thread for its whole life, reading synchronously, and its own pool has a fixed size (8 on a
// small machine): eight clients that send half a request and stall would hold every thread
// until their read timeouts, and the next client's request would queue behind them. These
// workers grow instead: a connection that finds no idle thread gets a new one, up to
// `max_threads`; beyond that connections wait for the first thread to free up.
#pragma once

#include <httplib.h>

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace trainyard::server {

class ConnectionWorkers : public httplib::TaskQueue {
 public:
  // REQUIRES: max_threads >= 1. No thread starts before the first connection.
  explicit ConnectionWorkers(size_t max_threads);
  ~ConnectionWorkers() override;

  void enqueue(std::function<void()> connection) override;
  // Serves the connections already queued, then joins every thread.
  void shutdown() override;

  // Threads started so far (they stay until shutdown, idle ones waiting for connections).
  size_t thread_count();

 private:
  void work();

  const size_t max_threads_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> waiting_;
  std::vector<std::thread> threads_;
  size_t idle_ = 0;
  bool shutting_down_ = false;
};

}  // namespace trainyard::server
