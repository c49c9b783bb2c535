#include "server/job_dispatcher.h"

#include <gtest/gtest.h>

#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

#include "../jobs/store/store_test_util.h"

namespace trainyard::server {
namespace {

using jobs::testing::small_spec;
using namespace std::chrono_literals;

// A store with jobs a..e stored as created (InProgress/Starting), and the supervisors started.
class JobDispatcherTest : public ::testing::Test {
 protected:
  JobDispatcherTest() : store_(directory_.path()) {
    for (const char* name : {"a", "b", "c", "d", "e"}) {
      store_.create(jobs::new_job_record(small_spec(name), 1.0));
    }
  }

  std::function<void(const std::string&)> recorder() {
    return [this](const std::string& name) {
      std::lock_guard lock(mutex_);
      started_.push_back(name);
    };
  }
  std::vector<std::string> started() {
    std::lock_guard lock(mutex_);
    return started_;
  }
  // Waits (up to 5 s) until `count` supervisors were started; returns them.
  std::vector<std::string> started_when(size_t count) {
    for (int i = 0; i < 500 && started().size() < count; ++i) std::this_thread::sleep_for(10ms);
    return started();
  }
  void end(const std::string& name) {
    store_.transition(name, jobs::SecondaryStatus::kCompleted, "done", 2.0);
  }

  jobs::testing::TempDir directory_;
  jobs::JobStore store_;
  std::mutex mutex_;
  std::vector<std::string> started_;
};

TEST_F(JobDispatcherTest, WithoutALimitEveryJobStartsAtOnce) {
  JobDispatcher dispatcher(store_, 0, recorder());
  for (const char* name : {"a", "b", "c"}) dispatcher.enqueue(name);
  EXPECT_EQ(started(), (std::vector<std::string>{"a", "b", "c"}));
}

TEST_F(JobDispatcherTest, JobsBeyondTheLimitWaitAndStartInOrderAsOthersEnd) {
  JobDispatcher dispatcher(store_, 2, recorder(), 5ms);
  for (const char* name : {"a", "b", "c", "d"}) dispatcher.enqueue(name);
  EXPECT_EQ(started(), (std::vector<std::string>{"a", "b"}));
  std::this_thread::sleep_for(50ms);  // several polls: nothing has ended, nothing starts
  EXPECT_EQ(started().size(), 2u);
  end("b");
  EXPECT_EQ(started_when(3), (std::vector<std::string>{"a", "b", "c"}));
  end("a");
  end("c");
  EXPECT_EQ(started_when(4), (std::vector<std::string>{"a", "b", "c", "d"}));
}

TEST_F(JobDispatcherTest, ProgramsRunningWithoutThisServerHoldSlots) {
  // "a" kept running while no server was up; "b" is re-adopted at once despite the limit.
  store_.set_runner_process("a", jobs::RunnerProcess{.pid = 4242, .start_time = 1}, 1.5);
  JobDispatcher dispatcher(store_, 2, recorder(), 5ms);
  dispatcher.adopt("b");
  dispatcher.enqueue("c");
  EXPECT_EQ(started(), (std::vector<std::string>{"b"}));
  end("a");
  EXPECT_EQ(started_when(2), (std::vector<std::string>{"b", "c"}));
}

}  // namespace
}  // namespace trainyard::server
