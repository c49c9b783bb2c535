// JobRecord: everything trainyard keeps about one training job: what DescribeTrainingJob
// returns (sagemaker-contract.md section 2.2) and what trainyard needs to manage the job
// (its runner process, its GPUs, its estimated cost, a pending stop request).
// Times are Unix epoch seconds.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "jobs/job_spec.h"
#include "jobs/job_status.h"

namespace trainyard::jobs {

// FailureReason's limit in the model: 1024 characters (UTF-16 code units, as AWS counts).
inline constexpr size_t kMaxFailureReasonLength = 1024;
// FinalMetricDataList holds at most 40 entries.
inline constexpr size_t kMaxFinalMetrics = 40;

// One entry of FinalMetricDataList. A NaN value (a diverged loss) is kept as NaN.
struct FinalMetric {
  std::string name;
  double value = 0;
  double timestamp = 0;
  bool operator==(const FinalMetric& other) const;  // NaN equals NaN here
};

// The process that runs a job. pid alone is not enough after a restart: the kernel reuses
// pids, so start_time (an opaque value the runner reads for the pid, e.g. field 22 of
// /proc/<pid>/stat, clock ticks after boot) tells the job's own child from a stranger.
struct RunnerProcess {
  int64_t pid = 0;
  int64_t start_time = 0;
  bool operator==(const RunnerProcess&) const = default;
};

// GPU indices held by a job, per host as the job's resourceconfig.json names it ("algo-1").
using GpuAllocation = std::map<std::string, std::vector<int>>;

struct JobRecord {
  // --- SageMaker's DescribeTrainingJob
  std::string name;      // TrainingJobName; equals spec.training_job_name
  std::string arn;       // arn:aws:sagemaker:<region>:<account>:training-job/<name>; set by create
  TrainingJobSpec spec;  // the CreateTrainingJob request, stored as its JSON
  TrainingJobStatus status = TrainingJobStatus::kInProgress;
  SecondaryStatus secondary_status = SecondaryStatus::kStarting;
  // Oldest first; the last entry is the current one (its end_time is unset until the next
  // transition starts or the job ends).
  std::vector<StatusTransition> transitions;
  std::optional<std::string> failure_reason;  // at most kMaxFailureReasonLength, valid UTF-8
  double creation_time = 0;
  std::optional<double> training_start_time;
  std::optional<double> training_end_time;     // set by the transition into a terminal state
  double last_modified_time = 0;               // every write to the job moves it
  std::vector<FinalMetric> final_metrics;      // at most kMaxFinalMetrics
  std::optional<std::string> model_artifacts;  // ModelArtifacts.S3ModelArtifacts
  std::optional<int64_t> training_time_in_seconds;
  std::optional<int64_t> billable_time_in_seconds;
  std::vector<Tag> tags;  // AddTags/ListTags/DeleteTags; starts as spec.tags

  // --- trainyard's own
  std::optional<RunnerProcess> runner_process;
  GpuAllocation gpu_allocation;          // empty until the job is placed
  std::optional<double> estimated_cost;  // US dollars, from the instance catalog's prices
  bool stop_requested = false;
  std::optional<double> stop_requested_time;

  bool operator==(const JobRecord&) const = default;
};

// A job as it starts: InProgress/Starting with one open "Starting the training job"
// transition at `creation_time`, tags copied from the spec. The ARN is left to the store.
JobRecord new_job_record(const TrainingJobSpec& spec, double creation_time);

// arn:aws:sagemaker:<region>:<account>:training-job/<name>, the name's case kept.
std::string training_job_arn(std::string_view region, std::string_view account,
                             std::string_view name);

// `text` as it may be stored and sent: ill-formed UTF-8 replaced by U+FFFD, then cut at a
// character boundary so that it measures at most `max_length` UTF-16 code units.
std::string sanitize_text(std::string_view text, size_t max_length = SIZE_MAX);

}  // namespace trainyard::jobs
