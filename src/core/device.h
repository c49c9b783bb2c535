// Where a tensor's memory lives: the host CPU or one CUDA device.
#pragma once

#include <string>
#include <string_view>

namespace trainyard {

enum class DeviceType { kCpu, kCuda };

struct Device {
  DeviceType type = DeviceType::kCpu;
  int index = 0;

  // Parses "cpu", "cpu:0", "cuda", "cuda:1" (also "gpu:1"). Throws ValueError otherwise.
  explicit Device(std::string_view spec);
  Device() = default;
  Device(DeviceType device_type, int device_index) : type(device_type), index(device_index) {}

  bool is_cpu() const { return type == DeviceType::kCpu; }
  bool operator==(const Device& other) const = default;
  std::string to_string() const;  // "cpu:0", "cuda:1"
};

inline Device cpu_device() {
  return Device(DeviceType::kCpu, 0);
}

}  // namespace trainyard
