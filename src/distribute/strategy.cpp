#include "distribute/strategy.h"

#include <algorithm>
#include <exception>
#include <mutex>
#include <thread>

#include "distribute/in_process_collective.h"
#include "distribute/mpi_collective.h"

namespace trainyard::distribute {
namespace {

thread_local Strategy* t_current_strategy = nullptr;

std::vector<Device> checked_devices(std::vector<Device> devices) {
  if (devices.empty()) throw ValueError("MirroredStrategy: devices must not be empty");
  for (size_t i = 0; i < devices.size(); ++i) {
    if (!devices[i].is_cpu()) {
      throw ValueError("MirroredStrategy: device '" + devices[i].to_string() +
                       "' is not supported yet; only logical CPU devices (cpu:0..cpu:N-1)");
    }
    if (std::find(devices.begin(), devices.begin() + static_cast<std::ptrdiff_t>(i), devices[i]) !=
        devices.begin() + static_cast<std::ptrdiff_t>(i)) {
      throw ValueError("MirroredStrategy: device '" + devices[i].to_string() + "' is listed twice");
    }
  }
  return devices;
}

std::vector<Device> cpu_devices(int count) {
  if (count < 1) {
    throw ValueError("MirroredStrategy: needs at least one CPU device, got " +
                     std::to_string(count));
  }
  std::vector<Device> devices;
  for (int i = 0; i < count; ++i) devices.emplace_back(DeviceType::kCpu, i);
  return devices;
}

}  // namespace

StrategyScope::StrategyScope(Strategy& strategy) : previous_(t_current_strategy) {
  t_current_strategy = &strategy;
}

StrategyScope::~StrategyScope() {
  t_current_strategy = previous_;
}

Strategy* current_strategy() {
  return t_current_strategy;
}

Strategy::Strategy(std::vector<Device> devices, std::chrono::milliseconds collective_timeout)
    : devices_(std::move(devices)),
      collective_(std::make_unique<InProcessCollective>(static_cast<int>(devices_.size()),
                                                        collective_timeout)) {}

Strategy::Strategy(std::vector<Device> devices, std::unique_ptr<Collective> collective,
                   int first_rank)
    : devices_(std::move(devices)), collective_(std::move(collective)), first_rank_(first_rank) {
  TY_CHECK(first_rank_ >= 0 &&
               first_rank_ + static_cast<int>(devices_.size()) <= collective_->world_size(),
           "Strategy: local replicas beyond the collective's ranks");
}

OneDeviceStrategy::OneDeviceStrategy(Device device) : Strategy({device}, std::chrono::minutes(5)) {}

void OneDeviceStrategy::run(FunctionRef<void(int)> fn) {
  fn(0);
}

MirroredStrategy::MirroredStrategy(std::vector<Device> devices, MirroredOptions options)
    : Strategy(checked_devices(std::move(devices)), options.collective_timeout) {}

MirroredStrategy::MirroredStrategy(int num_cpu_devices, MirroredOptions options)
    : Strategy(cpu_devices(num_cpu_devices), options.collective_timeout) {}

void MirroredStrategy::run(FunctionRef<void(int)> fn) {
  const int replicas = local_replicas();
  std::mutex failure_mu;
  std::exception_ptr failure;
  auto run_replica = [&](int replica) {
    try {
      fn(replica);
    } catch (...) {
      {
        std::lock_guard lock(failure_mu);
        if (!failure) failure = std::current_exception();
      }
      collective().abort("replica " + std::to_string(replica) + " failed");
    }
  };
  std::vector<std::thread> threads;
  threads.reserve(static_cast<size_t>(replicas - 1));
  for (int replica = 1; replica < replicas; ++replica) threads.emplace_back(run_replica, replica);
  run_replica(0);
  for (std::thread& thread : threads) thread.join();
  if (failure) std::rethrow_exception(failure);
}

struct MultiWorkerMirroredStrategy::WorldMembership {
  std::unique_ptr<Collective> collective;
  int rank = 0;
};

MultiWorkerMirroredStrategy::WorldMembership MultiWorkerMirroredStrategy::join_world(
    const Device& device) {
  if (!device.is_cpu() || device.index != 0) {
    throw ValueError("MultiWorkerMirroredStrategy: device '" + device.to_string() +
                     "' is not supported yet; each process trains on cpu:0");
  }
  auto collective = std::make_unique<MpiCollective>();
  const int rank = collective->rank();
  return {std::move(collective), rank};
}

MultiWorkerMirroredStrategy::MultiWorkerMirroredStrategy(Device device)
    : MultiWorkerMirroredStrategy(device, join_world(device)) {}

MultiWorkerMirroredStrategy::MultiWorkerMirroredStrategy(Device device, WorldMembership world)
    : Strategy({device}, std::move(world.collective), world.rank) {}

void MultiWorkerMirroredStrategy::run(FunctionRef<void(int)> fn) {
  try {
    fn(0);
  } catch (const std::exception& error) {
    // The other processes wait in a collective that has no timeout: stop them all.
    collective().abort(std::string("replica ") + std::to_string(rank_of(0)) +
                       " failed: " + error.what());
  }
}

}  // namespace trainyard::distribute
