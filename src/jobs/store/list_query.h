// ListTrainingJobs' request and response in the job store's terms (sagemaker-contract.md
// section 2.3). Times are Unix epoch seconds.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "jobs/job_status.h"

namespace trainyard::jobs {

enum class ListSortBy { kName, kCreationTime, kStatus };
enum class ListSortOrder { kAscending, kDescending };

inline constexpr int kDefaultListMaxResults = 10;
inline constexpr int kMaxListMaxResults = 100;

struct ListQuery {
  std::optional<TrainingJobStatus> status_equals;  // StatusEquals; default: any status
  // NameContains: keeps jobs whose name contains this, ignoring ASCII case (job names are
  // unique regardless of case). Default: any name.
  std::optional<std::string> name_contains;
  // Exclusive bounds (a job created exactly at creation_time_after is left out).
  std::optional<double> creation_time_after;
  std::optional<double> creation_time_before;
  std::optional<double> last_modified_time_after;
  std::optional<double> last_modified_time_before;
  ListSortBy sort_by = ListSortBy::kCreationTime;        // SageMaker's default
  ListSortOrder sort_order = ListSortOrder::kAscending;  // SageMaker's documented default
  int max_results = kDefaultListMaxResults;              // 1..100
  // A next_token from an earlier page of the same sort; the page continues after that
  // page's last job. Filters may differ from the earlier call's.
  std::optional<std::string> next_token;
};

// One element of TrainingJobSummaries.
struct JobSummary {
  std::string name;
  std::string arn;
  double creation_time = 0;
  std::optional<double> training_end_time;  // ended jobs only
  double last_modified_time = 0;
  TrainingJobStatus status = TrainingJobStatus::kInProgress;
  SecondaryStatus secondary_status = SecondaryStatus::kStarting;
  bool operator==(const JobSummary&) const = default;
};

struct ListPage {
  std::vector<JobSummary> jobs;
  // Present when more jobs may follow; pass it back as ListQuery::next_token.
  std::optional<std::string> next_token;
};

std::string_view to_string(ListSortBy sort_by);        // "Name", "CreationTime", "Status"
std::string_view to_string(ListSortOrder sort_order);  // "Ascending", "Descending"

}  // namespace trainyard::jobs
