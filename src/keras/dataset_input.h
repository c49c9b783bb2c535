// A user's data::Dataset as fit(), evaluate() and predict() take it: batched, each batch
// holding the model's inputs in input order, then its targets in output order, then
// optionally one [batch] sample weight (Keras's (x, y[, sample_weight]) batches).
#pragma once

#include <cstddef>
#include <string>

#include "data/dataset.h"

namespace trainyard::keras {

// `dataset` with every array the step reads converted to float32 while gathering (arrays
// already float32 are left alone, so an earlier scaled cast() to float32 stays; a cast() to
// another dtype is replaced). With `targets` false (predict) only the first `inputs` arrays
// are read and any others ignored. Throws ValueError naming `method` for an unbatched
// dataset, the wrong number of arrays, or a sample weight that is not [batch].
data::Dataset model_dataset(const std::string& method, const data::Dataset& dataset, size_t inputs,
                            size_t outputs, bool targets);

}  // namespace trainyard::keras
