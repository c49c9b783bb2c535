// The built-in trainer: what runs inside a job whose TrainingImage is `trainyard-keras`.
// It follows SageMaker's in-container contract (sagemaker-contract.md section 4): it reads
// hyperparameters (SM_HPS), channels (SM_CHANNEL_<NAME>) and output locations (SM_MODEL_DIR,
// SM_OUTPUT_DIR) from the environment, trains a Keras model config with fit(), and leaves
// model.json, weights.npz and metrics.json in the model directory. README.md in this folder
// documents the data formats, hyperparameters and outputs.
#pragma once

#include <map>
#include <ostream>
#include <string>

namespace trainyard::jobs {

// The training image name that selects this trainer.
inline constexpr const char* kBuiltinTrainingImage = "trainyard-keras";

// Runs one training job described by `environment` (the process's variables). Keras-style
// progress ("Epoch 1/5", one line per epoch at the default verbose=2) and the final
// "<split>_<metric>: <value>" lines go to `out`; warnings and the failure message to `err`.
// Returns 0 on success. On failure writes "<Category>: <reason>" to <SM_OUTPUT_DIR>/failure
// (ClientError for bad data, model config or hyperparameters; AlgorithmError otherwise),
// prints it to `err` and returns 1. Never throws and never leaves a half-written file.
// Thread safety: one call per process at a time (it seeds the global random stream).
int run_builtin_trainer(const std::map<std::string, std::string>& environment, std::ostream& out,
                        std::ostream& err);

// This process's environment variables as a map, for run_builtin_trainer.
std::map<std::string, std::string> process_environment();

}  // namespace trainyard::jobs
