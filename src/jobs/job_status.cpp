#include "jobs/job_status.h"

#include <array>
#include <utility>

namespace trainyard::jobs {
namespace {

constexpr std::array<std::pair<TrainingJobStatus, std::string_view>, 5> kPrimary = {{
    {TrainingJobStatus::kInProgress, "InProgress"},
    {TrainingJobStatus::kCompleted, "Completed"},
    {TrainingJobStatus::kFailed, "Failed"},
    {TrainingJobStatus::kStopping, "Stopping"},
    {TrainingJobStatus::kStopped, "Stopped"},
}};

constexpr std::array<std::pair<SecondaryStatus, std::string_view>, 10> kSecondary = {{
    {SecondaryStatus::kStarting, "Starting"},
    {SecondaryStatus::kPending, "Pending"},
    {SecondaryStatus::kDownloading, "Downloading"},
    {SecondaryStatus::kTraining, "Training"},
    {SecondaryStatus::kUploading, "Uploading"},
    {SecondaryStatus::kStopping, "Stopping"},
    {SecondaryStatus::kStopped, "Stopped"},
    {SecondaryStatus::kMaxRuntimeExceeded, "MaxRuntimeExceeded"},
    {SecondaryStatus::kCompleted, "Completed"},
    {SecondaryStatus::kFailed, "Failed"},
}};

template <typename Table, typename Value>
std::string_view name_of(const Table& table, Value value) {
  for (const auto& [entry, name] : table) {
    if (entry == value) return name;
  }
  return "Unknown";
}

template <typename Value, typename Table>
std::optional<Value> value_of(const Table& table, std::string_view text) {
  for (const auto& [entry, name] : table) {
    if (name == text) return entry;
  }
  return std::nullopt;
}

}  // namespace

std::string_view to_string(TrainingJobStatus status) {
  return name_of(kPrimary, status);
}
std::string_view to_string(SecondaryStatus status) {
  return name_of(kSecondary, status);
}

std::optional<TrainingJobStatus> parse_training_job_status(std::string_view text) {
  return value_of<TrainingJobStatus>(kPrimary, text);
}

std::optional<SecondaryStatus> parse_secondary_status(std::string_view text) {
  return value_of<SecondaryStatus>(kSecondary, text);
}

bool is_terminal(TrainingJobStatus status) {
  return status == TrainingJobStatus::kCompleted || status == TrainingJobStatus::kFailed ||
         status == TrainingJobStatus::kStopped;
}

TrainingJobStatus primary_status_of(SecondaryStatus status) {
  switch (status) {
    case SecondaryStatus::kStarting:
    case SecondaryStatus::kPending:
    case SecondaryStatus::kDownloading:
    case SecondaryStatus::kTraining:
    case SecondaryStatus::kUploading:
      return TrainingJobStatus::kInProgress;
    case SecondaryStatus::kStopping:
      return TrainingJobStatus::kStopping;
    case SecondaryStatus::kStopped:
    case SecondaryStatus::kMaxRuntimeExceeded:
      return TrainingJobStatus::kStopped;
    case SecondaryStatus::kCompleted:
      return TrainingJobStatus::kCompleted;
    case SecondaryStatus::kFailed:
      return TrainingJobStatus::kFailed;
  }
  return TrainingJobStatus::kInProgress;
}

}  // namespace trainyard::jobs
