// The states of a training job as SageMaker reports them (sagemaker-contract.md section 3):
// TrainingJobStatus, SecondaryStatus, and the timestamped secondary transitions.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace trainyard::jobs {

enum class TrainingJobStatus { kInProgress, kCompleted, kFailed, kStopping, kStopped };

enum class SecondaryStatus {
  kStarting,
  kPending,
  kDownloading,
  kTraining,
  kUploading,
  kStopping,
  kStopped,
  kMaxRuntimeExceeded,
  kCompleted,
  kFailed,
};

// SageMaker's spelling ("InProgress", "MaxRuntimeExceeded").
std::string_view to_string(TrainingJobStatus status);
std::string_view to_string(SecondaryStatus status);
// Inverse of to_string; nullopt for anything else.
std::optional<TrainingJobStatus> parse_training_job_status(std::string_view text);
std::optional<SecondaryStatus> parse_secondary_status(std::string_view text);

// Completed, Failed and Stopped: the job will not change again.
bool is_terminal(TrainingJobStatus status);
// The primary status a secondary status belongs to (Starting -> InProgress, ...).
TrainingJobStatus primary_status_of(SecondaryStatus status);

// One entry of SecondaryStatusTransitions. Times are Unix epoch seconds.
struct StatusTransition {
  SecondaryStatus status = SecondaryStatus::kStarting;
  double start_time = 0;
  std::optional<double> end_time;  // set when the next transition starts or the job ends
  std::string status_message;
  bool operator==(const StatusTransition&) const = default;
};

}  // namespace trainyard::jobs
