#include "distribute/strategy.h"

#include <algorithm>
#include <exception>
#include <mutex>
#include <thread>

#include "distribute/in_process_collective.h"

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

OneDeviceStrategy::OneDeviceStrategy(Device device) : Strategy({device}, std::chrono::minutes(5)) {}

void OneDeviceStrategy::run(FunctionRef<void(int)> fn) {
  fn(0);
}

MirroredStrategy::MirroredStrategy(std::vector<Device> devices, MirroredOptions options)
    : Strategy(checked_devices(std::move(devices)), options.collective_timeout) {}

MirroredStrategy::MirroredStrategy(int num_cpu_devices, MirroredOptions options)
    : Strategy(cpu_devices(num_cpu_devices), options.collective_timeout) {}

void MirroredStrategy::run(FunctionRef<void(int)> fn) {
  const int replicas = num_replicas_in_sync();
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

}  // namespace trainyard::distribute
