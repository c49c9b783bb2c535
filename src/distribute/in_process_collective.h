// InProcessCollective: a Collective for world_size replicas running on threads of one process
// (MirroredStrategy over logical CPU devices). Ranks meet at a rendezvous; each rank then
// reduces its own slice of the elements across every rank's buffer, in rank order, and they
// meet again. A rank that waits longer than `timeout` for the others fails the whole group
// with CollectiveError naming the ranks that never arrived, instead of hanging.
// Thread safety: each rank calls from its own thread, one call at a time per rank.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <vector>

#include "distribute/collective.h"

namespace trainyard::distribute {

class InProcessCollective final : public Collective {
 public:
  // REQUIRES: world_size >= 1 (ValueError otherwise).
  explicit InProcessCollective(int world_size,
                               std::chrono::milliseconds timeout = std::chrono::minutes(5));
  InProcessCollective(const InProcessCollective&) = delete;
  InProcessCollective& operator=(const InProcessCollective&) = delete;

  int world_size() const override { return world_size_; }
  void all_reduce_sum(int rank, std::span<float> buffer) override;
  void all_reduce_sum(int rank, std::span<double> buffer) override;
  void broadcast(int rank, std::span<float> buffer) override;
  void broadcast(int rank, std::span<double> buffer) override;
  void barrier(int rank) override;
  void abort(const std::string& reason) override;

 private:
  template <typename T>
  void all_reduce(int rank, std::span<T> buffer);
  template <typename T>
  void broadcast_from_root(int rank, std::span<T> buffer);
  // Waits until every rank has arrived at the same rendezvous; with `publish`, first makes
  // (data, size) this rank's buffer for the others to read. Throws CollectiveError on timeout
  // or abort.
  void arrive(int rank, const char* operation, bool publish, void* data = nullptr, size_t size = 0);
  void check_rank(int rank, const char* operation) const;
  void check_sizes(const char* operation) const;

  // Constant after construction.
  const int world_size_;
  const std::chrono::milliseconds timeout_;

  std::mutex mu_;
  std::condition_variable arrived_cv_;
  // Guarded by mu_, except that while a collective runs (between its two rendezvous) every rank
  // only reads `slots_`, which no one writes then.
  struct Slot {
    void* data = nullptr;
    size_t size = 0;
    uint64_t arrivals = 0;  // rendezvous this rank has reached
  };
  std::vector<Slot> slots_;
  int waiting_ = 0;          // ranks at the current rendezvous
  uint64_t generation_ = 0;  // completed rendezvous
  bool broken_ = false;
  std::string broken_reason_;
};

}  // namespace trainyard::distribute
