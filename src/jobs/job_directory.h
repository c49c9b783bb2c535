// JobDirectory: where one job lives on disk, laid out like SageMaker's /opt/ml so a
// training program finds everything where the SageMaker contract puts it:
//
//   <data-dir>/jobs/<name>/
//     input/config/{hyperparameters,resourceconfig,inputdataconfig}.json
//     input/data/<channel>/
//     model/                 -> model.tar.gz
//     output/data/           -> output.tar.gz
//     output/failure         -> FailureReason
//     checkpoints/
//     code/
//     log                    the job's combined stdout and stderr
//     hosts/algo-<N>/        the same layout for each further host of a job with
//                            InstanceCount N > 1 (host algo-1 is the job's own root)
#pragma once

#include <filesystem>
#include <string>

namespace trainyard::jobs {

class JobDirectory {
 public:
  // REQUIRES: job_name satisfies the TrainingJobName pattern (no separators), which the job
  // spec parser guarantees.
  JobDirectory(const std::filesystem::path& data_dir, const std::string& job_name);

  const std::filesystem::path& root() const { return root_; }  // plays /opt/ml
  std::filesystem::path input() const { return root_ / "input"; }
  std::filesystem::path config() const { return root_ / "input" / "config"; }
  std::filesystem::path data() const { return root_ / "input" / "data"; }
  // REQUIRES: a valid channel name (the parser guarantees one without separators).
  std::filesystem::path channel(const std::string& channel_name) const {
    return data() / channel_name;
  }
  std::filesystem::path model() const { return root_ / "model"; }
  std::filesystem::path output() const { return root_ / "output"; }
  std::filesystem::path output_data() const { return root_ / "output" / "data"; }
  std::filesystem::path failure_file() const { return root_ / "output" / "failure"; }
  std::filesystem::path checkpoints() const { return root_ / "checkpoints"; }
  std::filesystem::path code() const { return root_ / "code"; }
  std::filesystem::path log_file() const { return root_ / "log"; }

  // Creates every directory above. Throws IOError naming the path that failed.
  void create() const;

  // The directory host `host_index` (0-based) of the job sees as /opt/ml: this one for
  // host 0, hosts/algo-<host_index + 1>/ below it for the others. REQUIRES: host_index >= 0.
  JobDirectory for_host(int host_index) const;

 private:
  explicit JobDirectory(std::filesystem::path root) : root_(std::move(root)) {}

  std::filesystem::path root_;
};

}  // namespace trainyard::jobs
