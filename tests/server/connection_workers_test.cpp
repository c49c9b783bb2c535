#include "server/connection_workers.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>

#include "core/error.h"

namespace trainyard::server {
namespace {

TEST(ConnectionWorkersTest, AConnectionIsServedWhileMoreThanHttplibsPoolAreStalled) {
  ConnectionWorkers workers(64);
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<int> stalled_done{0};
  // 20 stalled connections: httplib's own pool (8 threads here) would have none left.
  for (int i = 0; i < 20; ++i) {
    workers.enqueue([&stalled_done, released] {
      released.wait();
      ++stalled_done;
    });
  }
  std::promise<void> served;
  workers.enqueue([&served] { served.set_value(); });
  // The bound only keeps a broken pool from hanging the test; a working one serves at once.
  const bool was_served =
      served.get_future().wait_for(std::chrono::seconds(60)) == std::future_status::ready;
  release.set_value();
  workers.shutdown();
  EXPECT_TRUE(was_served);
  EXPECT_EQ(stalled_done.load(), 20);
  EXPECT_EQ(workers.thread_count(), 21u);
}

TEST(ConnectionWorkersTest, ThreadsStopAtTheLimitAndQueuedConnectionsAreStillServed) {
  ConnectionWorkers workers(2);
  std::atomic<int> served{0};
  for (int i = 0; i < 50; ++i) workers.enqueue([&served] { ++served; });
  workers.shutdown();
  EXPECT_LE(workers.thread_count(), 2u);
  EXPECT_EQ(served.load(), 50);
}

TEST(ConnectionWorkersTest, NoThreadsIsRefused) {
  EXPECT_THROW(ConnectionWorkers(0), ValueError);
}

}  // namespace
}  // namespace trainyard::server
