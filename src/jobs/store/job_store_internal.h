// What the job store's source files share and nothing else needs. Private to the job store.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "jobs/job_status.h"
#include "jobs/store/job_record.h"
#include "jobs/store/sqlite_database.h"

namespace trainyard::jobs::detail {

// A job's identity and state, read inside the transaction that changes it.
struct JobKey {
  int64_t id = 0;
  std::string name;  // as created
  TrainingJobStatus status = TrainingJobStatus::kInProgress;
  SecondaryStatus secondary_status = SecondaryStatus::kStarting;
  int64_t current_transition = 0;  // seq of the last status_transitions row
};

// Creates the schema of version JobStore::kSchemaVersion in an empty database.
// REQUIRES: a write transaction open.
void create_schema(const Database& database);

// Throws ValueError "<what> must be a finite number of seconds, not <value>".
void check_time(double value, std::string_view what);

// Throws ValueError as JobStore::set_final_metrics documents.
void check_final_metrics(const std::vector<FinalMetric>& metrics);

// Replaces the GPUs of `job` with `allocation`, refusing GPUs that another job that has not
// ended holds (ResourceInUse) and malformed allocations (ValueError).
// REQUIRES: a write transaction open.
void write_gpu_allocation(const Database& database, const JobKey& job,
                          const GpuAllocation& allocation);

// Adds or overwrites `tags` on `job`; throws ValueError past 50 tags or for an empty key.
// REQUIRES: a write transaction open.
void write_tags(const Database& database, const JobKey& job, const std::vector<Tag>& tags);

// Status names read back from the database; DataError naming the job and file when the text
// is not a status.
TrainingJobStatus stored_status(const Database& database, std::string_view job,
                                const std::string& text);
SecondaryStatus stored_secondary_status(const Database& database, std::string_view job,
                                        const std::string& text);

}  // namespace trainyard::jobs::detail
