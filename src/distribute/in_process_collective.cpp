#include "distribute/in_process_collective.h"

#include <algorithm>
#include <cstring>

namespace trainyard::distribute {

InProcessCollective::InProcessCollective(int world_size, std::chrono::milliseconds timeout)
    : world_size_(world_size), timeout_(timeout) {
  if (world_size < 1) {
    throw ValueError("InProcessCollective: world_size must be at least 1, got " +
                     std::to_string(world_size));
  }
  slots_.resize(static_cast<size_t>(world_size));
}

void InProcessCollective::check_rank(int rank, const char* operation) const {
  if (rank < 0 || rank >= world_size_) {
    throw ValueError(std::string("InProcessCollective::") + operation + ": rank " +
                     std::to_string(rank) + " is outside [0, " + std::to_string(world_size_) + ")");
  }
}

void InProcessCollective::arrive(int rank, const char* operation, bool publish, void* data,
                                 size_t size) {
  std::unique_lock lock(mu_);
  if (broken_) throw CollectiveError(broken_reason_);
  Slot& slot = slots_[static_cast<size_t>(rank)];
  if (publish) {
    slot.data = data;
    slot.size = size;
  }
  const uint64_t arrivals = ++slot.arrivals;
  const uint64_t generation = generation_;
  if (++waiting_ == world_size_) {
    waiting_ = 0;
    ++generation_;
    arrived_cv_.notify_all();
    return;
  }
  arrived_cv_.wait_for(lock, timeout_, [&] { return broken_ || generation_ != generation; });
  if (generation_ != generation) return;
  if (!broken_) {
    // Timed out: name the ranks that never reached this rendezvous, and fail the group so
    // that every other waiting rank stops too.
    std::string missing;
    for (int other = 0; other < world_size_; ++other) {
      if (slots_[static_cast<size_t>(other)].arrivals < arrivals) {
        missing += (missing.empty() ? "" : ", ") + std::to_string(other);
      }
    }
    broken_ = true;
    broken_reason_ = std::string("in-process collective: ") + operation + " on rank " +
                     std::to_string(rank) + " timed out after " + std::to_string(timeout_.count()) +
                     " ms waiting for rank(s) " + missing + " of " + std::to_string(world_size_) +
                     " (a replica failed or stopped calling the collective)";
    arrived_cv_.notify_all();
  }
  throw CollectiveError(broken_reason_);
}

void InProcessCollective::check_sizes(const char* operation) const {
  for (const Slot& slot : slots_) {
    if (slot.size != slots_.front().size) {
      throw CollectiveError(std::string("in-process collective: ") + operation +
                            ": ranks passed buffers of different lengths (" +
                            std::to_string(slots_.front().size) + " and " +
                            std::to_string(slot.size) + " elements)");
    }
  }
}

template <typename T>
void InProcessCollective::all_reduce(int rank, std::span<T> buffer) {
  check_rank(rank, "all_reduce_sum");
  arrive(rank, "all_reduce_sum", true, buffer.data(), buffer.size());
  if (world_size_ == 1) return;
  check_sizes("all_reduce_sum");
  // Each rank owns a contiguous slice of the elements: it adds every rank's value in rank
  // order and writes the sum back to every buffer. Slices are disjoint, so no locking.
  const size_t n = buffer.size();
  const auto ranks = static_cast<size_t>(world_size_);
  const size_t begin = n * static_cast<size_t>(rank) / ranks;
  const size_t end = n * static_cast<size_t>(rank + 1) / ranks;
  for (size_t i = begin; i < end; ++i) {
    T sum = static_cast<const T*>(slots_[0].data)[i];
    for (size_t r = 1; r < ranks; ++r) sum += static_cast<const T*>(slots_[r].data)[i];
    for (size_t r = 0; r < ranks; ++r) static_cast<T*>(slots_[r].data)[i] = sum;
  }
  arrive(rank, "all_reduce_sum", false);
}

template <typename T>
void InProcessCollective::broadcast_from_root(int rank, std::span<T> buffer) {
  check_rank(rank, "broadcast");
  arrive(rank, "broadcast", true, buffer.data(), buffer.size());
  if (world_size_ == 1) return;
  check_sizes("broadcast");
  if (rank != 0 && !buffer.empty()) {
    std::memcpy(buffer.data(), slots_[0].data, buffer.size() * sizeof(T));
  }
  // Rank 0 must not touch its buffer until every copy is done.
  arrive(rank, "broadcast", false);
}

void InProcessCollective::all_reduce_sum(int rank, std::span<float> buffer) {
  all_reduce(rank, buffer);
}
void InProcessCollective::all_reduce_sum(int rank, std::span<double> buffer) {
  all_reduce(rank, buffer);
}
void InProcessCollective::broadcast(int rank, std::span<float> buffer) {
  broadcast_from_root(rank, buffer);
}
void InProcessCollective::broadcast(int rank, std::span<double> buffer) {
  broadcast_from_root(rank, buffer);
}

void InProcessCollective::barrier(int rank) {
  check_rank(rank, "barrier");
  arrive(rank, "barrier", false);
}

void InProcessCollective::abort(const std::string& reason) {
  std::lock_guard lock(mu_);
  if (broken_) return;
  broken_ = true;
  broken_reason_ = "in-process collective aborted: " + reason;
  arrived_cv_.notify_all();
}

}  // namespace trainyard::distribute
