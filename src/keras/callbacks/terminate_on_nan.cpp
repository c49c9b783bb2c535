#include "keras/callbacks/terminate_on_nan.h"

#include <cmath>
#include <iostream>

#include "keras/model.h"

namespace trainyard::keras {

void TerminateOnNaN::on_train_batch_end(int64_t batch, const BatchLogs& logs) {
  double loss = logs.loss();
  if (std::isfinite(loss)) return;
  (output_ ? *output_ : std::cout) << "Batch " << batch << ": Invalid loss, terminating training\n";
  model().stop_training = true;
}

}  // namespace trainyard::keras
