// Which program runs a job: AlgorithmSpecification.TrainingImage mapped to a runtime on this
// host, then SageMaker's rules for the command (sagemaker-contract.md section 4.1, 4.4).
//
// trainyard runs no containers. An image is a name that selects a runtime:
//   - `trainyard-keras` (or `trainyard-keras:<tag>`): trainyard's built-in Keras trainer, run
//     as `<trainyard executable> builtin-train`;
//   - any other image needs an entry in the runtime registry, a JSON file (by default
//     <data-dir>/runtimes.json) saying what the image would have provided:
//
//     {"runtimes": [
//        {"image": "my-trainer:latest",            exact name
//         "entrypoint": ["/opt/my-trainer/bin/train-main"],   the image's ENTRYPOINT ([])
//         "environment": {"OMP_NUM_THREADS": "4"},   the image's ENV ({})
//         "python": "/opt/venv/bin/python"},        runs a sagemaker_program .py ("python3")
//        {"image": "my-org/pytorch-training:*"}       every tag of an image
//     ]}
//
//     An image ending in '*' is a prefix pattern ("*" alone matches every image). An exact
//     entry wins over patterns, and the longest matching pattern over shorter ones.
#pragma once

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "jobs/job_directory.h"
#include "jobs/job_spec.h"

namespace trainyard::jobs {

struct Runtime {
  std::string image;                               // as written in the registry
  bool builtin = false;                            // trainyard's own Keras trainer
  std::vector<std::string> entrypoint;             // the image's ENTRYPOINT; may be empty
  std::map<std::string, std::string> environment;  // the image's ENV
  std::string python = "python3";                  // runs a .py sagemaker_program
};

// The registry file's default place: <data_dir>/runtimes.json.
std::filesystem::path default_runtime_registry_path(const std::filesystem::path& data_dir);

// The runtimes of one registry file, plus the built-in one. Immutable once loaded, so
// thread-safe.
class RuntimeRegistry {
 public:
  // Reads the registry at `path`. A missing file is an empty registry (only the built-in
  // runtime). Throws IOError if it exists but cannot be read, DataError naming the file and
  // the entry when it is not valid JSON or not in the format above (unknown members too).
  static RuntimeRegistry load(const std::filesystem::path& path);
  // The same from an already parsed document; `path` is used in messages.
  static RuntimeRegistry from_json(const nlohmann::json& document,
                                   const std::filesystem::path& path);

  // The runtime for `image`. Throws ValueError, a ClientError for the job, naming the image
  // and the registry file when no runtime serves it.
  Runtime find(const std::string& image) const;

  const std::filesystem::path& path() const { return path_; }
  const std::vector<Runtime>& runtimes() const { return runtimes_; }

 private:
  std::filesystem::path path_;
  bool file_exists_ = false;
  std::vector<Runtime> runtimes_;  // from the file, in its order
};

// What the caller needs besides the job to build its command.
struct CommandInputs {
  std::filesystem::path trainyard_executable;  // runs the built-in trainer
  // The hyperparameters as arguments (container_config's hyperparameter_arguments), given
  // to a sagemaker_program.
  std::vector<std::string> hyperparameter_arguments;
};

struct TrainingProgram {
  std::vector<std::string> argv;
  // The runtime's environment (the image's ENV): the caller lays the job's own variables
  // over it, so the request's Environment and the SM_* variables win.
  std::map<std::string, std::string> environment;
  // The directory holding sagemaker_program when one is run; otherwise the job's code/.
  std::filesystem::path working_directory;
  bool builtin = false;  // the built-in trainer runs it
};

// The command for one host, in SageMaker's order of precedence:
//   1. ContainerEntrypoint + ContainerArguments, when an entrypoint is given (they replace
//      the image's ENTRYPOINT and CMD, like docker run --entrypoint);
//   2. the runtime's entrypoint + ContainerArguments, when only arguments are given;
//   3. the `sagemaker_program` hyperparameter (JSON-quoted as the SageMaker SDK sends it, or
//      plain): the file of that name in the `code` channel (input/data/code/) or else in the
//      job's code/ directory, run as `<python> <file> <arguments>` for .py, `/bin/sh <file>
//      <arguments>` for .sh, `<file> <arguments>` otherwise;
//   4. the built-in trainer (`<trainyard> builtin-train`), or the runtime's entrypoint + "train"
//      (SageMaker starts an image as `<image> train`).
// Throws ValueError (a ClientError for the job) for an image no runtime serves, an
// AlgorithmName (trainyard runs only TrainingImage), or a sagemaker_program that is empty,
// absolute, has a ".." part, leaves its directory through a symlink, or is missing in both
// places (both are named).
TrainingProgram resolve_training_program(const RuntimeRegistry& registry,
                                         const TrainingJobSpec& spec, const JobDirectory& directory,
                                         const CommandInputs& inputs);

}  // namespace trainyard::jobs
