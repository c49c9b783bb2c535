#include "keras/dataset_input.h"

#include "core/error.h"

namespace trainyard::keras {

data::Dataset model_dataset(const std::string& method, const data::Dataset& dataset, size_t inputs,
                            size_t outputs, bool targets) {
  if (dataset.batch_size() == 0) {
    throw ValueError(method + ": the dataset must be batched; call batch() on it first");
  }
  const size_t arrays = dataset.num_arrays();
  const size_t needed = targets ? inputs + outputs : inputs;
  if (targets ? arrays != needed && arrays != needed + 1 : arrays < needed) {
    throw ValueError(method + ": the model has " + std::to_string(inputs) + " input(s) and " +
                     std::to_string(outputs) + " output(s), so each batch must hold " +
                     std::to_string(needed) + " arrays (x..., y...)" +
                     (targets ? " or " + std::to_string(needed + 1) + " (x..., y..., sample_weight)"
                              : std::string(" or more")) +
                     "; the dataset holds " + std::to_string(arrays));
  }
  const size_t used = targets ? arrays : needed;
  if (targets && arrays == needed + 1 && dataset.batch_shape(needed).rank() != 1) {
    throw ValueError(method + ": the dataset's sample weights (array " + std::to_string(needed) +
                     ") must be one weight per sample, [batch], got batches of " +
                     dataset.batch_shape(needed).to_string());
  }
  data::Dataset result = dataset;
  for (size_t i = 0; i < used; ++i) {
    if (dataset.output_dtype(i) != DType::kFloat32) result = result.cast(i, DType::kFloat32);
  }
  return result;
}

}  // namespace trainyard::keras
