// InstanceCatalog: every SageMaker training instance type trainyard knows (vCPUs, memory,
// accelerators, compute capability, price), plus local mode's `local` and `local_gpu`.
// The built-in catalog is compiled from data/instance-catalog.csv, so no file is read at
// run time. A catalog is immutable once built and safe to share between threads.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "platform/accelerator.h"
#include "platform/gpu_inventory.h"
#include "platform/host_resources.h"
#include "platform/instance_type.h"

namespace trainyard::platform {

// Which instance types to keep. Unknown facts never pass a test on them.
struct InstanceFilter {
  bool gpu_only = false;                     // only types with NVIDIA GPUs (default: all)
  std::optional<double> min_gpu_memory_gib;  // per-GPU memory at least this (default: any)

  bool matches(const InstanceType& type) const;
};

class InstanceCatalog {
 public:
  // The catalog compiled into trainyard. Built on first use; never throws after that.
  static const InstanceCatalog& builtin();

  // Parses a catalog in the layout of data/instance-catalog.csv (columns found by their
  // header names) and appends the local-mode types. Throws DataError naming
  // `source_name`, the line and the column when a row is malformed or contradicts another.
  static InstanceCatalog from_csv(std::string_view csv_text, std::string_view source_name);

  // Every type, in catalog order, local-mode types last.
  const std::vector<InstanceType>& all() const { return types_; }
  // The type named exactly `name`, or nullptr.
  const InstanceType* find(std::string_view name) const;
  // Like find, but throws ValueError naming the unknown type and the closest known names.
  const InstanceType& require(std::string_view name) const;
  // The types `filter` keeps, in catalog order. Local-mode types are tested on what is
  // known before resolve(), so local_gpu only passes gpu_only.
  std::vector<const InstanceType*> filter(const InstanceFilter& filter) const;
  // Up to `count` known type names nearest to `name` by edit distance.
  std::vector<std::string> closest_names(std::string_view name, std::size_t count = 3) const;

  // The distinct accelerator models the catalog mentions, in order of first appearance.
  const std::vector<AcceleratorModel>& accelerator_models() const { return accelerator_models_; }
  // The one model `query` names (see AcceleratorModel::matches; an exact name always
  // wins). Throws ValueError when none matches (with suggestions) or several do (listed).
  const AcceleratorModel& require_accelerator_model(std::string_view query) const;

  // The type named `name` with local mode's facts filled in from this host: `local` gets
  // the host's vCPUs and memory; `local_gpu` also every GPU in `gpus` (count, model, the
  // smallest GPU memory and compute capability; a count of 0 when none was found). Other
  // types come back as catalogued. Throws ValueError for an unknown name.
  InstanceType resolve(std::string_view name, const HostResources& host,
                       const GpuInventory& gpus) const;

 private:
  InstanceCatalog() = default;
  void add(InstanceType type, std::string_view source_name, int line);

  std::vector<InstanceType> types_;
  std::vector<AcceleratorModel> accelerator_models_;
};

}  // namespace trainyard::platform
