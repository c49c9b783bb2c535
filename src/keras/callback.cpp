#include "keras/callback.h"

#include <algorithm>

#include "core/error.h"
#include "keras/trainer.h"

namespace trainyard::keras {

double BatchLogs::loss() const {
  return trainer_.loss_result();
}

std::optional<double> BatchLogs::get(std::string_view name) const {
  return trainer_.result(name);
}

Model& Callback::model() const {
  if (model_ == nullptr) throw ValueError("callback used outside fit(): it has no model yet");
  return *model_;
}

std::optional<double> find_log(const Logs& logs, std::string_view name) {
  for (const auto& [key, value] : logs) {
    if (key == name) return value;
  }
  return std::nullopt;
}

void set_log(Logs& logs, const std::string& name, double value) {
  for (auto& [key, existing] : logs) {
    if (key == name) {
      existing = value;
      return;
    }
  }
  auto position =
      std::lower_bound(logs.begin(), logs.end(), name,
                       [](const auto& entry, const std::string& key) { return entry.first < key; });
  logs.insert(position, {name, value});
}

}  // namespace trainyard::keras
