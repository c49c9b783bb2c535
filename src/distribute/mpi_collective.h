// MpiCollective: a Collective over the processes of MPI_COMM_WORLD, one rank per process
// (MultiWorkerMirroredStrategy under mpirun). All-reduce is a reduce-scatter (each rank sums
// its own slice of every rank's buffer, in rank order) and an all-gather: the traffic of a
// ring all-reduce, and the same bits as InProcessCollective whatever MPI's own algorithms.
// MPI has no timeouts: a rank that dies makes mpirun stop the job, and abort() stops it too.
// Thread safety: one call at a time, from the thread that created it.
#pragma once

#include <vector>

#include "distribute/collective.h"

namespace trainyard::distribute {

class MpiCollective final : public Collective {
 public:
  // Initializes MPI unless the program already has (and then finalizes it on destruction);
  // throws CollectiveError when MPI cannot start. One MpiCollective per process.
  MpiCollective();
  ~MpiCollective() override;
  MpiCollective(const MpiCollective&) = delete;
  MpiCollective& operator=(const MpiCollective&) = delete;

  int world_size() const override { return world_size_; }
  // This process's rank: the only `rank` the operations below accept (ValueError otherwise).
  int rank() const { return rank_; }

  void all_reduce_sum(int rank, std::span<float> buffer) override;
  void all_reduce_sum(int rank, std::span<double> buffer) override;
  void broadcast(int rank, std::span<float> buffer) override;
  void broadcast(int rank, std::span<double> buffer) override;
  void barrier(int rank) override;
  // Prints `reason` and ends every process of the job (MPI_Abort); does not return.
  void abort(const std::string& reason) override;

 private:
  template <typename T>
  void all_reduce(int rank, std::span<T> buffer);
  template <typename T>
  void broadcast_values(int rank, std::span<T> buffer);
  // Throws CollectiveError when the ranks passed different lengths to `operation`.
  void require_same_length(const char* operation, size_t length);
  void require_own_rank(const char* operation, int rank) const;

  int world_size_ = 1;
  int rank_ = 0;
  bool owns_mpi_ = false;
  std::vector<char> scratch_;
};

}  // namespace trainyard::distribute
