// resolve_training_program: SageMaker's rules for what a job runs (runtime_registry.h).
#include <sys/stat.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "jobs/runners/runtime_registry.h"

namespace trainyard::jobs {
namespace {

constexpr const char* kProgramHyperparameter = "sagemaker_program";

// The SageMaker SDK JSON-encodes every hyperparameter ("\"train.py\""); a job file may not.
std::string decode_program_name(const std::string& value) {
  try {
    const nlohmann::json decoded = nlohmann::json::parse(value);
    if (decoded.is_string()) return decoded.get<std::string>();
  } catch (const nlohmann::json::exception&) {
  }
  return value;
}

// The checks that keep the program inside its directory whatever the name says.
void check_program_name(const std::string& program) {
  const std::string where = std::string("hyperparameter ") + kProgramHyperparameter;
  if (program.empty()) throw ValueError(where + " is empty");
  const std::filesystem::path path(program);
  if (path.is_absolute()) {
    throw ValueError(where + " '" + program + "' must be a path inside the code directory");
  }
  for (const auto& part : path) {
    if (part == "..") throw ValueError(where + " '" + program + "' must not contain '..'");
  }
}

bool is_plain_file(const std::filesystem::path& path) {
  struct stat info {};
  return ::stat(path.c_str(), &info) == 0 && S_ISREG(info.st_mode);
}

// True when `path`, symlinks resolved, lies inside `directory` (symlinks resolved too).
bool stays_inside(const std::filesystem::path& path, const std::filesystem::path& directory) {
  std::error_code error;
  const std::filesystem::path real = std::filesystem::weakly_canonical(path, error);
  if (error) return false;
  const std::filesystem::path base = std::filesystem::weakly_canonical(directory, error);
  if (error) return false;
  const auto [base_end, unused] = std::mismatch(base.begin(), base.end(), real.begin(), real.end());
  (void)unused;
  return base_end == base.end();
}

struct FoundProgram {
  std::filesystem::path file;
  std::filesystem::path directory;
};

FoundProgram find_program_file(const std::string& program, const JobDirectory& directory) {
  const std::filesystem::path channel = directory.channel("code");
  for (const std::filesystem::path& base : {channel, directory.code()}) {
    const std::filesystem::path candidate = base / program;
    if (!is_plain_file(candidate)) continue;
    if (!stays_inside(candidate, base)) {
      throw ValueError(std::string("hyperparameter ") + kProgramHyperparameter + " '" + program +
                       "': " + candidate.string() + " leads outside " + base.string() +
                       " through a symlink");
    }
    return FoundProgram{.file = candidate, .directory = base};
  }
  throw ValueError(std::string("hyperparameter ") + kProgramHyperparameter + " '" + program +
                   "': no such file in the code channel (" + (channel / program).string() +
                   ") or the job's code directory (" + (directory.code() / program).string() + ")");
}

std::vector<std::string> program_command(const Runtime& runtime, const FoundProgram& found,
                                         const std::vector<std::string>& arguments) {
  std::vector<std::string> argv;
  const std::string extension = found.file.extension().string();
  if (extension == ".py") {
    argv = {runtime.python, found.file.string()};
  } else if (extension == ".sh") {
    argv = {"/bin/sh", found.file.string()};
  } else {
    argv = {found.file.string()};
  }
  argv.insert(argv.end(), arguments.begin(), arguments.end());
  return argv;
}

}  // namespace

TrainingProgram resolve_training_program(const RuntimeRegistry& registry,
                                         const TrainingJobSpec& spec, const JobDirectory& directory,
                                         const CommandInputs& inputs) {
  if (!spec.algorithm_specification) {
    throw ValueError("the job has no AlgorithmSpecification, so there is nothing to run");
  }
  const AlgorithmSpecification& algorithm = *spec.algorithm_specification;
  if (!algorithm.training_image) {
    throw ValueError("AlgorithmSpecification.AlgorithmName '" +
                     algorithm.algorithm_name.value_or("") +
                     "' is not supported: trainyard runs a TrainingImage");
  }
  const Runtime runtime = registry.find(*algorithm.training_image);
  TrainingProgram program{.argv = {},
                          .environment = runtime.environment,
                          .working_directory = directory.code(),
                          .builtin = false};
  std::vector<std::string> entrypoint = runtime.entrypoint;
  if (runtime.builtin) entrypoint = {inputs.trainyard_executable.string(), "builtin-train"};

  if (!algorithm.container_entrypoint.empty()) {
    program.argv = algorithm.container_entrypoint;
    program.argv.insert(program.argv.end(), algorithm.container_arguments.begin(),
                        algorithm.container_arguments.end());
    return program;
  }
  if (!algorithm.container_arguments.empty()) {
    program.argv = entrypoint;
    program.argv.insert(program.argv.end(), algorithm.container_arguments.begin(),
                        algorithm.container_arguments.end());
    program.builtin = runtime.builtin;
    return program;
  }
  if (const auto entry = spec.hyper_parameters.find(kProgramHyperparameter);
      entry != spec.hyper_parameters.end()) {
    const std::string name = decode_program_name(entry->second);
    check_program_name(name);
    const FoundProgram found = find_program_file(name, directory);
    program.argv = program_command(runtime, found, inputs.hyperparameter_arguments);
    program.working_directory = found.directory;
    return program;
  }
  program.argv = entrypoint;
  program.builtin = runtime.builtin;
  if (!runtime.builtin) program.argv.push_back("train");
  return program;
}

}  // namespace trainyard::jobs
