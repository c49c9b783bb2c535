// `trainyard instances`: the instance catalog as a table or JSON, local mode's types
// described by this host.
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli/commands/commands.h"
#include "cli/text_table.h"
#include "platform/instance_catalog.h"

namespace trainyard::cli {
namespace {

namespace platform = trainyard::platform;

struct InstancesOptions {
  std::vector<std::string> names;
  bool gpu_only = false;
  std::optional<double> min_gpu_memory_gib;
  bool json = false;
};

template <typename T>
nlohmann::ordered_json or_null(const std::optional<T>& value) {
  return value ? nlohmann::ordered_json(*value) : nlohmann::ordered_json(nullptr);
}

nlohmann::ordered_json to_json(const platform::InstanceType& type) {
  nlohmann::ordered_json entry;
  entry["name"] = type.name;
  entry["family"] = type.family;
  entry["vcpus"] = or_null(type.vcpus);
  entry["memory_gib"] = or_null(type.memory_gib);
  entry["accelerator_type"] = platform::accelerator_kind_name(type.accelerator_kind);
  entry["accelerator_count"] = or_null(type.accelerator_count);
  entry["gpu_count"] = or_null(type.gpu_count());
  entry["accelerator_model"] = type.accelerator_model;
  entry["accelerator_memory_gib"] = or_null(type.accelerator_memory_gib);
  entry["accelerator_architecture"] = type.accelerator_architecture;
  entry["compute_capability"] = type.compute_capability
                                    ? nlohmann::ordered_json(type.compute_capability->to_string())
                                    : nlohmann::ordered_json(nullptr);
  entry["interconnect"] = type.interconnect;
  entry["network_gbps"] = type.network_gbps;
  entry["price_usd_per_hour"] = or_null(type.price_usd_per_hour);
  entry["price_source"] = type.price_source;
  entry["notes"] = type.notes;
  entry["local"] = type.local;
  return entry;
}

std::string count_text(const platform::InstanceType& type) {
  if (type.accelerator_kind == platform::AcceleratorKind::kNone) return "-";
  return type.accelerator_count ? std::to_string(*type.accelerator_count) : "unknown";
}

std::string model_text(const platform::InstanceType& type) {
  if (type.accelerator_kind == platform::AcceleratorKind::kNone) return "-";
  if (type.accelerator_model.empty()) return type.local ? "none found" : "unknown";
  // The vendor word is the same on every GPU row; the table is narrower without it.
  constexpr std::string_view kVendor = "NVIDIA ";
  std::string_view model = type.accelerator_model;
  if (model.starts_with(kVendor)) model.remove_prefix(kVendor.size());
  return std::string(model);
}

void print_table(const std::vector<platform::InstanceType>& types) {
  TextTable table({"type", "vCPUs", "memory GiB", "GPUs", "GPU model", "GPU GiB", "CC", "USD/hour"},
                  {false, true, true, true, false, true, true, true});
  for (const platform::InstanceType& type : types) {
    // local_gpu on a host without GPUs has a GPU kind but nothing to describe.
    bool has_accelerator =
        type.accelerator_kind != platform::AcceleratorKind::kNone && type.accelerator_count != 0;
    table.add_row({
        type.name,
        type.vcpus ? std::to_string(*type.vcpus) : "unknown",
        format_decimal(type.memory_gib, 1),
        count_text(type),
        model_text(type),
        has_accelerator ? format_decimal(type.accelerator_memory_gib, 1) : "-",
        type.compute_capability ? type.compute_capability->to_string()
                                : (has_accelerator && type.has_nvidia_gpus() ? "unknown" : "-"),
        type.local ? "-" : format_decimal(type.price_usd_per_hour, 3),
    });
  }
  table.print(std::cout);
}

void run_instances(const InstancesOptions& options) {
  const platform::InstanceCatalog& catalog = platform::InstanceCatalog::builtin();
  std::vector<const platform::InstanceType*> chosen;
  if (options.names.empty()) {
    for (const platform::InstanceType& type : catalog.all()) chosen.push_back(&type);
  } else {
    for (const std::string& name : options.names) chosen.push_back(&catalog.require(name));
  }

  // Local mode's types are this host; look at it only when one of them is listed.
  std::unique_ptr<platform::SystemGpuInventory> inventory;
  platform::HostResources host;
  platform::InstanceFilter filter{.gpu_only = options.gpu_only,
                                  .min_gpu_memory_gib = options.min_gpu_memory_gib};
  std::vector<platform::InstanceType> shown;
  for (const platform::InstanceType* type : chosen) {
    platform::InstanceType described = *type;
    if (type->local) {
      if (!inventory) {
        inventory = std::make_unique<platform::SystemGpuInventory>(
            platform::GpuDetectionOptions::from_environment());
        host = platform::HostResources::detect();
      }
      described = catalog.resolve(type->name, host, *inventory);
    }
    if (filter.matches(described)) shown.push_back(std::move(described));
  }

  if (options.json) {
    auto list = nlohmann::ordered_json::array();
    for (const platform::InstanceType& type : shown) list.push_back(to_json(type));
    std::cout << list.dump(2) << '\n';
    return;
  }
  if (shown.empty()) {
    std::cout << "No instance type matches.\n";
    return;
  }
  print_table(shown);
}

}  // namespace

void add_instances_command(CLI::App& app) {
  // CLI11's NonNegativeNumber would print the largest double as the upper bound.
  CLI::Validator non_negative_gib(
      [](std::string& text) -> std::string {
        double value = 0;
        if (!CLI::detail::lexical_cast(text, value) || !(value >= 0)) {
          return "expected a number of GiB >= 0, got '" + text + "'";
        }
        return "";
      },
      "GiB");
  auto options = std::make_shared<InstancesOptions>();
  CLI::App* command = app.add_subcommand(
      "instances", "List SageMaker training instance types: CPUs, memory, GPUs, price");
  command->add_option("types", options->names, "Only these instance types (e.g. ml.g5.xlarge)");
  command->add_flag("--gpu", options->gpu_only, "Only types with NVIDIA GPUs");
  command
      ->add_option("--min-gpu-memory", options->min_gpu_memory_gib,
                   "Only types with at least this much memory per GPU, in GiB")
      ->check(non_negative_gib);
  command->add_flag("--json", options->json, "Print JSON instead of a table");
  command->callback([options] { run_instances(*options); });
}

}  // namespace trainyard::cli
