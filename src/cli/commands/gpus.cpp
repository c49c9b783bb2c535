// `trainyard gpus`: the NVIDIA GPUs on this host and the driver and CUDA versions, or why
// none could be found.
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli/commands/commands.h"
#include "cli/text_table.h"
#include "platform/gpu_inventory.h"

namespace trainyard::cli {
namespace {

namespace platform = trainyard::platform;

template <typename T>
nlohmann::ordered_json or_null(const std::optional<T>& value) {
  return value ? nlohmann::ordered_json(*value) : nlohmann::ordered_json(nullptr);
}

nlohmann::ordered_json version_json(const std::optional<platform::CudaVersion>& version) {
  return version ? nlohmann::ordered_json(version->to_string()) : nlohmann::ordered_json(nullptr);
}

std::string on_off(const std::optional<bool>& state) {
  return state ? (*state ? "on" : "off") : "n/a";
}

void print_json(const platform::GpuInventory& inventory) {
  nlohmann::ordered_json report;
  report["driver_version"] = or_null(inventory.driver_version());
  report["cuda_driver_version"] = version_json(inventory.cuda_driver_version());
  report["cuda_runtime_version"] = version_json(inventory.runtime_version());
  report["gpus"] = nlohmann::ordered_json::array();
  for (const platform::GpuInfo& gpu : inventory.gpus()) {
    nlohmann::ordered_json entry;
    entry["index"] = gpu.index;
    entry["name"] = gpu.name;
    entry["uuid"] = gpu.uuid;
    entry["total_memory_bytes"] = gpu.total_memory_bytes;
    entry["free_memory_bytes"] = or_null(gpu.free_memory_bytes);
    entry["compute_capability"] = gpu.compute_capability.to_string();
    entry["pci_bus_id"] = gpu.pci_bus_id;
    entry["persistence_mode"] = or_null(gpu.persistence_mode);
    entry["ecc_enabled"] = or_null(gpu.ecc_enabled);
    entry["mig_enabled"] = or_null(gpu.mig_enabled);
    report["gpus"].push_back(entry);
  }
  std::string error = inventory.detection_error();
  report["detection_error"] =
      error.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(error);
  report["warnings"] = inventory.warnings();
  std::cout << report.dump(2) << '\n';
}

void print_text(const platform::GpuInventory& inventory) {
  auto gpus = inventory.gpus();
  for (const std::string& warning : inventory.warnings()) {
    std::cerr << "trainyard: warning: " << warning << '\n';
  }
  if (gpus.empty()) {
    std::cout << inventory.summary() << '\n';
    return;
  }
  auto version = [](const std::optional<platform::CudaVersion>& v) {
    return v ? v->to_string() : std::string("not found");
  };
  std::cout << "NVIDIA driver " << inventory.driver_version().value_or("unknown")
            << ", CUDA driver " << version(inventory.cuda_driver_version()) << ", CUDA runtime "
            << version(inventory.runtime_version()) << '\n';
  TextTable table({"GPU", "name", "memory GiB", "free GiB", "CC", "PCI bus id", "persistence",
                   "ECC", "MIG", "UUID"},
                  {true, false, true, true, true});
  for (const platform::GpuInfo& gpu : gpus) {
    std::optional<double> free_gib;
    if (gpu.free_memory_bytes) {
      free_gib = static_cast<double>(*gpu.free_memory_bytes) / platform::kBytesPerGib;
    }
    table.add_row({std::to_string(gpu.index), gpu.name, format_decimal(gpu.total_memory_gib(), 1),
                   format_decimal(free_gib, 1), gpu.compute_capability.to_string(),
                   gpu.pci_bus_id.empty() ? "unknown" : gpu.pci_bus_id,
                   on_off(gpu.persistence_mode), on_off(gpu.ecc_enabled), on_off(gpu.mig_enabled),
                   gpu.uuid});
  }
  table.print(std::cout);
}

}  // namespace

void add_gpus_command(CLI::App& app) {
  auto json = std::make_shared<bool>(false);
  CLI::App* command =
      app.add_subcommand("gpus", "Show this host's NVIDIA GPUs and driver/CUDA versions");
  command->add_flag("--json", *json, "Print JSON instead of text");
  command->callback([json] {
    platform::SystemGpuInventory inventory(platform::GpuDetectionOptions::from_environment());
    if (*json) {
      print_json(inventory);
    } else {
      print_text(inventory);
    }
  });
}

}  // namespace trainyard::cli
