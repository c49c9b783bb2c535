// What the supervisor starts for one host of a job: the program and its arguments (from
// the runtime registry and the request's AlgorithmSpecification), its environment (the
// container contract's variables plus the GPUs granted to it) and its working directory.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "jobs/job_directory.h"
#include "jobs/job_spec.h"
#include "jobs/placement/placement.h"
#include "jobs/service/job_service.h"

namespace trainyard::jobs {

struct TrainingCommand {
  std::vector<std::string> argv;
  std::map<std::string, std::string> environment;
  std::filesystem::path working_directory;
};

// Throws ValueError (shown as "ClientError: ...") for an image no runtime serves.
// `directory` is host `host_index`'s own (JobDirectory::for_host).
TrainingCommand training_command(const TrainingJobSpec& spec, const JobDirectory& directory,
                                 const JobServiceOptions& options, const std::vector<int>& gpus,
                                 const JobPlacement& placement, const std::string& arn,
                                 int host_index = 0);

// One command starting every host's command at once under Open MPI's `mpirun` (one process
// per host, ranks in host order, so rank 0 is algo-1), each with its own environment and
// working directory, as the hosts of a multi-instance job all run on this machine. Throws
// ValueError when `mpirun` is empty (Open MPI is not installed).
TrainingCommand multi_host_command(const std::vector<TrainingCommand>& hosts,
                                   const std::string& mpirun);

}  // namespace trainyard::jobs
