#include "core/thread_pool.h"

#include <chrono>
#include <cstdlib>
#include <memory>
#include <mutex>

#include "core/error.h"

namespace trainyard {
namespace {

thread_local bool t_inside_task = false;

// How long an idle worker polls before it sleeps: long enough to bridge the gaps between
// the parallel kernels of a training step (a sleeping worker takes tens of microseconds to
// wake on a virtual machine), short enough to free the core soon after training stops.
constexpr auto kWorkerSpin = std::chrono::microseconds(200);
// How long the dispatching thread polls for unfinished tasks before it yields its core.
constexpr int kWaitSpinIterations = 20000;

// True once `budget` has passed since `start`; reads the clock every 64 calls only.
class SpinBudget {
 public:
  explicit SpinBudget(std::chrono::microseconds budget)
      : deadline_(std::chrono::steady_clock::now() + budget) {}
  bool spent() {
    if ((++count_ & 63) != 0) return false;
    // Lets a thread that shares this core (the caller, after a migration) run.
    std::this_thread::yield();
    return std::chrono::steady_clock::now() >= deadline_;
  }

 private:
  std::chrono::steady_clock::time_point deadline_;
  uint32_t count_ = 0;
};

inline void cpu_relax() {
#if defined(__x86_64__)
  __builtin_ia32_pause();
#endif
}

}  // namespace

ThreadPool::ThreadPool(int num_threads) {
  if (num_threads < 1) throw ValueError("ThreadPool needs at least 1 thread");
  for (int i = 1; i < num_threads; ++i) workers_.emplace_back([this] { worker_loop(); });
}

ThreadPool::~ThreadPool() {
  stopping_.store(true);
  generation_.fetch_add(1);
  generation_.notify_all();
  for (auto& worker : workers_) worker.join();
}

void ThreadPool::run_tasks(uint32_t generation) {
  t_inside_task = true;
  for (;;) {
    uint64_t claim = claim_.load(std::memory_order_acquire);
    if (static_cast<uint32_t>(claim >> 32) != generation) break;
    int64_t index = static_cast<int64_t>(claim & 0xffffffffu);
    // While this job's index is below its task count the job cannot end, so the task
    // fields read here belong to it whenever the claim below succeeds.
    int64_t count = num_tasks_.load(std::memory_order_relaxed);
    FunctionRef<void(int64_t)>* task = task_.load(std::memory_order_relaxed);
    if (index >= count) break;
    if (!claim_.compare_exchange_weak(claim, claim + 1, std::memory_order_acq_rel)) continue;
    if (!failed_.load(std::memory_order_relaxed)) {
      try {
        (*task)(index);
      } catch (...) {
        if (!failed_.exchange(true)) failure_ = std::current_exception();
      }
    }
    remaining_.fetch_sub(1, std::memory_order_acq_rel);
  }
  t_inside_task = false;
}

void ThreadPool::worker_loop() {
  // Starts from the constructor's generation, not a fresh load: a job dispatched before
  // this thread first runs must still be seen as new.
  uint32_t seen = 0;
  for (;;) {
    uint32_t current = generation_.load(std::memory_order_acquire);
    SpinBudget budget(kWorkerSpin);
    while (current == seen && !budget.spent()) {
      cpu_relax();
      current = generation_.load(std::memory_order_acquire);
    }
    if (current == seen) {
      generation_.wait(seen);
      continue;
    }
    seen = current;
    if (stopping_.load()) return;
    run_tasks(current);
  }
}

void ThreadPool::parallel_for(int64_t num_tasks, FunctionRef<void(int64_t)> task) {
  if (num_tasks <= 0) return;
  if (workers_.empty() || num_tasks == 1 || t_inside_task) {
    for (int64_t i = 0; i < num_tasks; ++i) task(i);
    return;
  }
  TY_CHECK(num_tasks < (int64_t{1} << 31), "parallel_for: too many tasks");
  uint32_t generation = generation_.load() + 1;
  task_.store(&task, std::memory_order_relaxed);
  num_tasks_.store(num_tasks, std::memory_order_relaxed);
  failed_.store(false, std::memory_order_relaxed);
  failure_ = nullptr;
  remaining_.store(num_tasks, std::memory_order_relaxed);
  claim_.store(static_cast<uint64_t>(generation) << 32, std::memory_order_release);
  generation_.store(generation, std::memory_order_release);
  generation_.notify_all();
  run_tasks(generation);
  // Wait only for tasks still running elsewhere; a worker that never woke is not waited
  // for. Yield once the wait is long, in case that worker lost its core.
  for (int spin = 0; remaining_.load(std::memory_order_acquire) != 0; ++spin) {
    if (spin < kWaitSpinIterations) {
      cpu_relax();
    } else {
      std::this_thread::yield();
    }
  }
  if (failed_.load()) std::rethrow_exception(failure_);
}

namespace {

int default_thread_count() {
  if (const char* value = std::getenv("TRAINYARD_NUM_THREADS")) {
    int parsed = std::atoi(value);
    if (parsed >= 1) return parsed;
  }
  unsigned hardware = std::thread::hardware_concurrency();
  return hardware == 0 ? 1 : static_cast<int>(hardware);
}

std::mutex g_pool_mutex;
std::unique_ptr<ThreadPool> g_pool;

}  // namespace

ThreadPool& compute_pool() {
  std::lock_guard lock(g_pool_mutex);
  if (!g_pool) g_pool = std::make_unique<ThreadPool>(default_thread_count());
  return *g_pool;
}

void set_num_threads(int num_threads) {
  std::lock_guard lock(g_pool_mutex);
  g_pool = std::make_unique<ThreadPool>(num_threads);
}

int num_threads() {
  return compute_pool().num_threads();
}

void parallel_range(int64_t total, int64_t grain, FunctionRef<void(int64_t, int64_t)> body) {
  ThreadPool& pool = compute_pool();
  // One chunk per thread, the same split every call: a core keeps its share of a flat
  // buffer (parameters, optimizer slots) in its own cache from one step to the next.
  constexpr int64_t kChunksPerThread = 1;
  int64_t chunks =
      std::min<int64_t>(pool.num_threads() * kChunksPerThread, total / std::max<int64_t>(grain, 1));
  if (pool.num_threads() < 2 || chunks < 2) {
    if (total > 0) body(0, total);
    return;
  }
  pool.parallel_for(chunks, [&](int64_t chunk) {
    int64_t begin = total * chunk / chunks;
    int64_t end = total * (chunk + 1) / chunks;
    body(begin, end);
  });
}

}  // namespace trainyard
