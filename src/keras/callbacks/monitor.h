// The "monitor" logic shared by EarlyStopping, ReduceLROnPlateau and ModelCheckpoint:
// which direction counts as better for a logged value, and whether a value improves on
// another by more than min_delta (keras-semantics.md section 6).
#pragma once

#include <optional>
#include <string>

namespace trainyard::keras {

class Monitor {
 public:
  // mode "min", "max" or "auto" (names ending in loss, and mse/mae, are minimised;
  // accuracy and auc maximised). Throws ValueError for an unknown mode, or "auto" for a
  // name whose direction trainyard cannot tell (Keras 3 raises too).
  Monitor(std::string name, const std::string& mode, double min_delta);

  const std::string& name() const { return name_; }
  bool minimize() const { return minimize_; }
  // True when `value` is better than `reference` by more than min_delta, or there is no
  // reference yet.
  bool improves(double value, std::optional<double> reference) const;

 private:
  std::string name_;
  bool minimize_;
  double min_delta_;
};

}  // namespace trainyard::keras
