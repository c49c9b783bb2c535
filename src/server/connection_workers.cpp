#include "server/connection_workers.h"

#include "core/error.h"

namespace trainyard::server {

ConnectionWorkers::ConnectionWorkers(size_t max_threads) : max_threads_(max_threads) {
  if (max_threads == 0) throw ValueError("the API server needs at least one connection thread");
}

ConnectionWorkers::~ConnectionWorkers() {
  shutdown();
}

void ConnectionWorkers::enqueue(std::function<void()> connection) {
  std::lock_guard lock(mutex_);
  if (shutting_down_) return;  // the server stopped listening; nothing can serve it now
  waiting_.push_back(std::move(connection));
  // Every idle thread is already spoken for by an earlier waiting connection: start one more.
  if (waiting_.size() > idle_ && threads_.size() < max_threads_) {
    threads_.emplace_back([this] { work(); });
  }
  wake_.notify_one();
}

void ConnectionWorkers::shutdown() {
  {
    std::lock_guard lock(mutex_);
    shutting_down_ = true;
  }
  wake_.notify_all();
  // No thread is started once shutting_down_ is set, so the list is stable to join.
  for (std::thread& thread : threads_) {
    if (thread.joinable()) thread.join();
  }
}

size_t ConnectionWorkers::thread_count() {
  std::lock_guard lock(mutex_);
  return threads_.size();
}

void ConnectionWorkers::work() {
  for (;;) {
    std::function<void()> connection;
    {
      std::unique_lock lock(mutex_);
      ++idle_;
      wake_.wait(lock, [this] { return !waiting_.empty() || shutting_down_; });
      --idle_;
      if (waiting_.empty()) return;  // shutting down with nothing left to serve
      connection = std::move(waiting_.front());
      waiting_.pop_front();
    }
    connection();
  }
}

}  // namespace trainyard::server
