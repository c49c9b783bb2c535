#include "keras/callbacks/monitor.h"

#include <cmath>

#include "core/error.h"

namespace trainyard::keras {
namespace {

bool ends_with(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() &&
         text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool minimized_by_default(const std::string& name) {
  std::string base = name.rfind("val_", 0) == 0 ? name.substr(4) : name;
  if (ends_with(base, "loss") || base == "mse" || base == "mae" || base == "mean_squared_error" ||
      base == "mean_absolute_error") {
    return true;
  }
  if (ends_with(base, "accuracy") || ends_with(base, "acc") || ends_with(base, "auc")) return false;
  throw ValueError("monitor '" + name +
                   "': cannot tell whether it should go up or down; pass mode \"min\" or \"max\"");
}

}  // namespace

Monitor::Monitor(std::string name, const std::string& mode, double min_delta)
    : name_(std::move(name)), min_delta_(std::abs(min_delta)) {
  if (mode == "min") {
    minimize_ = true;
  } else if (mode == "max") {
    minimize_ = false;
  } else if (mode == "auto") {
    minimize_ = minimized_by_default(name_);
  } else {
    throw ValueError("mode must be \"auto\", \"min\" or \"max\", got \"" + mode + "\"");
  }
}

bool Monitor::improves(double value, std::optional<double> reference) const {
  if (!reference) return true;
  return minimize_ ? value + min_delta_ < *reference : value - min_delta_ > *reference;
}

}  // namespace trainyard::keras
