#include "jobs/service/training_command.h"

#include <thread>

#include "core/error.h"
#include "jobs/placement/gpu_allocator.h"
#include "jobs/runners/runtime_registry.h"
#include "jobs/staging/container_config.h"

namespace trainyard::jobs {
namespace {

// The variables every program gets besides the image's and the container contract's: a
// PATH like a Docker image's, and HOME. The image's ENV may replace them.
void add_base_environment(std::map<std::string, std::string>& environment,
                          const JobDirectory& directory) {
  environment.emplace("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
  environment.emplace("HOME", directory.root().string());
  environment.emplace("LANG", "C.UTF-8");
  // The built-in trainer and trainyard's own kernels size their thread pool from this.
  if (const char* threads = std::getenv("TRAINYARD_NUM_THREADS")) {
    environment.emplace("TRAINYARD_NUM_THREADS", threads);
  }
}

}  // namespace

TrainingCommand training_command(const TrainingJobSpec& spec, const JobDirectory& directory,
                                 const JobServiceOptions& options, const std::vector<int>& gpus,
                                 const JobPlacement& placement, const std::string& arn) {
  (void)placement;
  int cpus = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  ContainerEnvironment container =
      container_environment(spec, 0, spec.resource_config->instance_count.value_or(1), directory,
                            static_cast<int>(gpus.size()), cpus, arn);
  RuntimeRegistry registry = RuntimeRegistry::load(options.runtime_registry);
  TrainingProgram program = resolve_training_program(
      registry, spec, directory, CommandInputs{options.trainyard_executable, container.arguments});

  // Precedence, lowest first: trainyard's base, the image's ENV, the request's Environment
  // and SM_* variables, then the GPUs this job was granted.
  TrainingCommand command;
  command.environment = program.environment;
  for (const auto& [name, value] : container.variables) command.environment[name] = value;
  for (const auto& [name, value] : gpu_environment(gpus)) command.environment[name] = value;
  add_base_environment(command.environment, directory);
  command.argv = std::move(program.argv);
  command.working_directory = program.working_directory;
  return command;
}

}  // namespace trainyard::jobs
