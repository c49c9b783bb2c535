// History: what fit() returns, as Keras's History callback records it: one value per epoch
// for each logged name ("loss", "accuracy", "val_loss", ...).
#pragma once

#include <map>
#include <string>
#include <vector>

namespace trainyard::keras {

struct History {
  // name -> one value per epoch run, in epoch order.
  std::map<std::string, std::vector<double>> history;
  // The 0-based index of each epoch run (starts at initial_epoch).
  std::vector<int> epoch;
  // Keras's history.params: verbose, epochs and steps per epoch.
  int verbose = 1;
  int epochs = 0;
  int64_t steps = 0;

  // The last recorded value of `name`. Throws ValueError if it was never logged.
  double last(const std::string& name) const;
};

}  // namespace trainyard::keras
