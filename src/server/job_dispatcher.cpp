#include "server/job_dispatcher.h"

#include <iostream>

namespace trainyard::server {

JobDispatcher::JobDispatcher(const jobs::JobStore& store, size_t max_running,
                             std::function<void(const std::string&)> start_supervisor,
                             std::chrono::milliseconds poll)
    : store_(store),
      max_running_(max_running),
      start_supervisor_(std::move(start_supervisor)),
      poll_(poll) {
  // Without a limit nothing ever waits, so nothing needs looking at again.
  if (max_running_ > 0) poller_ = std::thread([this] { poll_loop(); });
}

JobDispatcher::~JobDispatcher() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (poller_.joinable()) poller_.join();
}

void JobDispatcher::enqueue(const std::string& name) {
  if (max_running_ == 0) {
    start_supervisor_(name);
    return;
  }
  std::lock_guard lock(mutex_);
  waiting_.push_back(name);
  start_while_room();
}

void JobDispatcher::adopt(const std::string& name) {
  if (max_running_ > 0) {
    std::lock_guard lock(mutex_);
    started_.insert(name);
  }
  start_supervisor_(name);
}

size_t JobDispatcher::running_now() {
  std::set<std::string> still_started;
  size_t running = 0;
  for (const jobs::JobRecord& record : store_.active_jobs()) {
    const bool started_here = started_.count(record.name) > 0;
    if (started_here) still_started.insert(record.name);
    if (started_here || record.runner_process) ++running;
  }
  started_ = std::move(still_started);  // ended jobs free their slots
  return running;
}

void JobDispatcher::start_while_room() {
  if (waiting_.empty()) return;
  size_t running = running_now();
  while (running < max_running_ && !waiting_.empty()) {
    std::string name = std::move(waiting_.front());
    waiting_.pop_front();
    started_.insert(name);
    start_supervisor_(name);
    ++running;
  }
}

void JobDispatcher::poll_loop() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    wake_.wait_for(lock, poll_);
    if (stopping_) break;
    try {
      start_while_room();
    } catch (const std::exception& error) {
      // A failed fork leaves the job queued here no longer; say so rather than end the server.
      std::cerr << "trainyard: cannot start a queued job: " << error.what() << std::endl;
    }
  }
}

}  // namespace trainyard::server
