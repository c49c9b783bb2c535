// Collective: the operations replicas use to agree on values: all-reduce (sum), broadcast from
// rank 0 and barrier. Every rank of the group must make the same calls in the same order with
// buffers of the same length; a rank passes its own index (0..world_size()-1).
// Implementations: InProcessCollective (threads of one process). NCCL and MPI come later.
#pragma once

#include <span>
#include <string>

#include "core/error.h"

namespace trainyard::distribute {

// A collective could not complete: a participant never arrived within the timeout, another
// rank aborted the group, or the ranks' calls disagree. The group is unusable afterwards.
class CollectiveError : public Error {
 public:
  using Error::Error;
};

class Collective {
 public:
  virtual ~Collective() = default;

  virtual int world_size() const = 0;

  // Replaces every rank's `buffer` with the element-wise sum over ranks, added in rank order
  // (rank 0 + rank 1 + ...), so the result does not depend on thread timing. Throws
  // CollectiveError on timeout, abort or mismatched lengths.
  virtual void all_reduce_sum(int rank, std::span<float> buffer) = 0;
  virtual void all_reduce_sum(int rank, std::span<double> buffer) = 0;
  // Copies rank 0's `buffer` into every other rank's.
  virtual void broadcast(int rank, std::span<float> buffer) = 0;
  virtual void broadcast(int rank, std::span<double> buffer) = 0;
  // Returns once every rank has called barrier.
  virtual void barrier(int rank) = 0;
  // Fails the group: every rank waiting now or calling later gets CollectiveError naming
  // `reason`. Used when one replica fails so the others stop instead of waiting.
  virtual void abort(const std::string& reason) = 0;
};

}  // namespace trainyard::distribute
