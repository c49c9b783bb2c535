#include "jobs/service/training_command.h"

#include <unistd.h>

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
                                 const JobPlacement& placement, const std::string& arn,
                                 int host_index) {
  (void)placement;
  int cpus = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  ContainerEnvironment container =
      container_environment(spec, host_index, spec.resource_config->instance_count.value_or(1),
                            directory, static_cast<int>(gpus.size()), cpus, arn);
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

TrainingCommand multi_host_command(const std::vector<TrainingCommand>& hosts,
                                   const std::string& mpirun) {
  TY_CHECK(!hosts.empty(), "multi_host_command needs at least one host");
  if (mpirun.empty()) {
    throw ValueError("InstanceCount " + std::to_string(hosts.size()) +
                     " runs its hosts under Open MPI's mpirun, which is not on PATH "
                     "(install openmpi-bin)");
  }
  // mpirun itself runs with the first host's environment; each host's program gets its own
  // through env(1), on top of what mpirun adds (the OMPI_* variables its ranks need).
  TrainingCommand command;
  command.environment = hosts.front().environment;
  command.working_directory = hosts.front().working_directory;
  // All hosts share this machine: more processes than cores is expected, and no process is
  // pinned to a core another host's process also needs.
  command.argv = {mpirun, "--oversubscribe", "--bind-to", "none"};
  if (geteuid() == 0) command.argv.push_back("--allow-run-as-root");
  for (size_t host = 0; host < hosts.size(); ++host) {
    if (host > 0) command.argv.push_back(":");
    for (const char* word : {"-np", "1"}) command.argv.push_back(word);
    if (!hosts[host].working_directory.empty()) {
      command.argv.push_back("--wdir");
      command.argv.push_back(hosts[host].working_directory.string());
    }
    command.argv.push_back("/usr/bin/env");
    for (const auto& [name, value] : hosts[host].environment) {
      command.argv.push_back(name + "=" + value);
    }
    for (const std::string& word : hosts[host].argv) command.argv.push_back(word);
  }
  return command;
}

}  // namespace trainyard::jobs
