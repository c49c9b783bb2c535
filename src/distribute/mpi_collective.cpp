#include "distribute/mpi_collective.h"

#include <mpi.h>

#include <climits>
#include <cstdio>
#include <cstdlib>

namespace trainyard::distribute {
namespace {

std::string mpi_error_text(int code) {
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  if (MPI_Error_string(code, text, &length) != MPI_SUCCESS)
    return "MPI error " + std::to_string(code);
  return std::string(text, static_cast<size_t>(length));
}

void check(int code, const char* operation) {
  if (code != MPI_SUCCESS) {
    throw CollectiveError(std::string("MpiCollective: ") + operation +
                          " failed: " + mpi_error_text(code));
  }
}

template <typename T>
MPI_Datatype mpi_type();
template <>
MPI_Datatype mpi_type<float>() {
  return MPI_FLOAT;
}
template <>
MPI_Datatype mpi_type<double>() {
  return MPI_DOUBLE;
}

}  // namespace

MpiCollective::MpiCollective() {
  int initialized = 0;
  check(MPI_Initialized(&initialized), "MPI_Initialized");
  if (!initialized) {
    int provided = 0;
    // Serialized: replicas of one process may call from different threads, one at a time.
    check(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_SERIALIZED, &provided), "MPI_Init_thread");
    owns_mpi_ = true;
  }
  // Errors come back as codes, turned into CollectiveError, instead of ending the process.
  check(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN), "MPI_Comm_set_errhandler");
  check(MPI_Comm_size(MPI_COMM_WORLD, &world_size_), "MPI_Comm_size");
  check(MPI_Comm_rank(MPI_COMM_WORLD, &rank_), "MPI_Comm_rank");
}

MpiCollective::~MpiCollective() {
  if (owns_mpi_) MPI_Finalize();
}

void MpiCollective::require_own_rank(const char* operation, int rank) const {
  if (rank != rank_) {
    throw ValueError(std::string("MpiCollective::") + operation + ": rank " + std::to_string(rank) +
                     " is not this process's rank " + std::to_string(rank_));
  }
}

void MpiCollective::require_same_length(const char* operation, size_t length) {
  if (length > static_cast<size_t>(INT_MAX)) {
    throw ValueError(std::string("MpiCollective::") + operation + ": " + std::to_string(length) +
                     " elements exceed MPI's 32-bit counts");
  }
  // The largest and the smallest length in one reduction: equal when every rank agrees.
  long long bounds[2] = {static_cast<long long>(length), -static_cast<long long>(length)};
  check(MPI_Allreduce(MPI_IN_PLACE, bounds, 2, MPI_LONG_LONG, MPI_MAX, MPI_COMM_WORLD),
        "MPI_Allreduce");
  if (bounds[0] != -bounds[1]) {
    throw CollectiveError(std::string("MpiCollective::") + operation +
                          ": the ranks' buffers differ in length (from " +
                          std::to_string(-bounds[1]) + " to " + std::to_string(bounds[0]) +
                          " elements; this rank " + std::to_string(rank_) + " has " +
                          std::to_string(length) + ")");
  }
}

template <typename T>
void MpiCollective::all_reduce(int rank, std::span<T> buffer) {
  require_own_rank("all_reduce_sum", rank);
  require_same_length("all_reduce_sum", buffer.size());
  if (world_size_ == 1 || buffer.empty()) return;
  const auto count = static_cast<long long>(buffer.size());
  std::vector<int> counts(static_cast<size_t>(world_size_)), offsets(counts.size());
  for (int r = 0; r < world_size_; ++r) {
    const long long begin = count * r / world_size_, end = count * (r + 1) / world_size_;
    offsets[static_cast<size_t>(r)] = static_cast<int>(begin);
    counts[static_cast<size_t>(r)] = static_cast<int>(end - begin);
  }
  // Every rank's copy of this rank's slice, rank after rank.
  const int own = counts[static_cast<size_t>(rank_)];
  std::vector<int> receive_counts(counts.size(), own), receive_offsets(counts.size());
  for (int r = 0; r < world_size_; ++r) receive_offsets[static_cast<size_t>(r)] = r * own;
  scratch_.resize(static_cast<size_t>(world_size_) * static_cast<size_t>(own) * sizeof(T));
  T* slices = reinterpret_cast<T*>(scratch_.data());
  check(MPI_Alltoallv(buffer.data(), counts.data(), offsets.data(), mpi_type<T>(), slices,
                      receive_counts.data(), receive_offsets.data(), mpi_type<T>(), MPI_COMM_WORLD),
        "MPI_Alltoallv");
  T* out = buffer.data() + offsets[static_cast<size_t>(rank_)];
  for (int i = 0; i < own; ++i) {
    T sum = slices[i];
    for (int r = 1; r < world_size_; ++r) sum += slices[static_cast<size_t>(r) * own + i];
    out[i] = sum;
  }
  check(MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, buffer.data(), counts.data(),
                       offsets.data(), mpi_type<T>(), MPI_COMM_WORLD),
        "MPI_Allgatherv");
}

template <typename T>
void MpiCollective::broadcast_values(int rank, std::span<T> buffer) {
  require_own_rank("broadcast", rank);
  require_same_length("broadcast", buffer.size());
  if (world_size_ == 1 || buffer.empty()) return;
  check(MPI_Bcast(buffer.data(), static_cast<int>(buffer.size()), mpi_type<T>(), 0, MPI_COMM_WORLD),
        "MPI_Bcast");
}

void MpiCollective::all_reduce_sum(int rank, std::span<float> buffer) {
  all_reduce(rank, buffer);
}
void MpiCollective::all_reduce_sum(int rank, std::span<double> buffer) {
  all_reduce(rank, buffer);
}
void MpiCollective::broadcast(int rank, std::span<float> buffer) {
  broadcast_values(rank, buffer);
}
void MpiCollective::broadcast(int rank, std::span<double> buffer) {
  broadcast_values(rank, buffer);
}

void MpiCollective::barrier(int rank) {
  require_own_rank("barrier", rank);
  check(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier");
}

void MpiCollective::abort(const std::string& reason) {
  std::fprintf(stderr, "trainyard: rank %d of %d stops the job: %s\n", rank_, world_size_,
               reason.c_str());
  std::fflush(stderr);
  MPI_Abort(MPI_COMM_WORLD, 1);
  std::abort();  // MPI_Abort should not return; if it does, this process still stops
}

}  // namespace trainyard::distribute
