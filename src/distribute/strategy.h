// Strategy: how training is spread over devices (tf.distribute.Strategy). A strategy has
// num_replicas_in_sync() replicas, one per device, a Collective connecting them, and runs a
// function once per replica. Models are built under its scope() (see ReplicatedModel).
// OneDeviceStrategy: one replica, the same code path. MirroredStrategy: one replica per
// device in this process, each on its own thread, joined by an InProcessCollective.
// MultiWorkerMirroredStrategy: one replica per process, joined over MPI. A strategy's
// devices() are this process's replicas; their ranks among all num_replicas_in_sync()
// replicas are first_rank() onwards.
// Thread safety: run() from one thread at a time.
#pragma once

#include <chrono>
#include <memory>
#include <vector>

#include "core/device.h"
#include "core/function_ref.h"
#include "distribute/collective.h"

namespace trainyard::distribute {

class Strategy;

// While alive, current_strategy() on this thread is `strategy` (Keras's `with
// strategy.scope():`). Scopes nest; the innermost wins.
class StrategyScope {
 public:
  explicit StrategyScope(Strategy& strategy);
  ~StrategyScope();
  StrategyScope(const StrategyScope&) = delete;
  StrategyScope& operator=(const StrategyScope&) = delete;

 private:
  Strategy* previous_;
};

// The strategy whose scope this thread is in, or null outside every scope.
Strategy* current_strategy();

class Strategy {
 public:
  virtual ~Strategy() = default;

  // Replicas in all processes.
  int num_replicas_in_sync() const { return collective_->world_size(); }
  // This process's replicas, one per device.
  const std::vector<Device>& devices() const { return devices_; }
  int local_replicas() const { return static_cast<int>(devices_.size()); }
  // The rank of this process's replica `local` (0..local_replicas()-1).
  int rank_of(int local) const { return first_rank_ + local; }
  // Whether this process holds rank 0, the replica that writes checkpoints and artifacts.
  bool is_chief() const { return first_rank_ == 0; }
  Collective& collective() { return *collective_; }
  StrategyScope scope() { return StrategyScope(*this); }

  // Calls fn(local) for every local replica in [0, local_replicas()) and returns when all
  // have returned. If one throws, the collective is aborted so that the others stop, and the
  // first failure is rethrown; the strategy's collective is unusable afterwards.
  virtual void run(FunctionRef<void(int)> fn) = 0;

 protected:
  // Connects the replicas of `devices` with an InProcessCollective.
  Strategy(std::vector<Device> devices, std::chrono::milliseconds collective_timeout);
  // This process's `devices` as ranks first_rank.. of `collective`.
  Strategy(std::vector<Device> devices, std::unique_ptr<Collective> collective, int first_rank);

 private:
  std::vector<Device> devices_;
  std::unique_ptr<Collective> collective_;
  int first_rank_ = 0;
};

// One replica on `device` (default cpu:0), run on the calling thread.
class OneDeviceStrategy final : public Strategy {
 public:
  explicit OneDeviceStrategy(Device device = Device("cpu:0"));
  void run(FunctionRef<void(int)> fn) override;
};

struct MirroredOptions {
  // How long a replica waits in a collective for the others before the step fails
  // (default 5 minutes).
  std::chrono::milliseconds collective_timeout = std::chrono::minutes(5);
};

// One replica per device, each on its own thread. Only logical CPU devices ("cpu:0" ..
// "cpu:N-1") for now; they share the compute pool, so replicas take turns computing and
// overlap only in the collective. Throws ValueError for no devices, a repeated device or a
// GPU device.
class MirroredStrategy final : public Strategy {
 public:
  explicit MirroredStrategy(std::vector<Device> devices, MirroredOptions options = {});
  // Logical CPU devices cpu:0 .. cpu:(num_cpu_devices - 1).
  explicit MirroredStrategy(int num_cpu_devices, MirroredOptions options = {});
  void run(FunctionRef<void(int)> fn) override;
};

// One replica per process on `device` (default cpu:0), the processes started by mpirun (or
// srun) and joined over MPI: num_replicas_in_sync() is the number of processes and this
// process's replica has its MPI rank. A replica that fails stops the whole job. Throws
// CollectiveError when MPI cannot start, ValueError for a GPU device (not supported yet).
class MultiWorkerMirroredStrategy final : public Strategy {
 public:
  explicit MultiWorkerMirroredStrategy(Device device = Device("cpu:0"));
  void run(FunctionRef<void(int)> fn) override;

 private:
  struct WorldMembership;
  static WorldMembership join_world(const Device& device);
  MultiWorkerMirroredStrategy(Device device, WorldMembership world);
};

}  // namespace trainyard::distribute
