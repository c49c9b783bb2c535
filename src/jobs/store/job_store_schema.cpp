// The job database's schema (version 1) and the checks shared by the store's writers.
#include <cmath>
#include <set>

#include "core/error.h"
#include "jobs/store/job_store_internal.h"
#include "jobs/store/store_errors.h"

namespace trainyard::jobs::detail {
namespace {

// Version 1. Times are REAL Unix epoch seconds; statuses are SageMaker's spellings. Names are
// unique ignoring ASCII case. Child rows go with their job (ON DELETE CASCADE).
constexpr std::string_view kSchema = R"sql(
CREATE TABLE jobs (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE COLLATE NOCASE,
  arn TEXT NOT NULL,
  spec_json TEXT NOT NULL,
  status TEXT NOT NULL,
  secondary_status TEXT NOT NULL,
  failure_reason TEXT,
  creation_time REAL NOT NULL,
  training_start_time REAL,
  training_end_time REAL,
  last_modified_time REAL NOT NULL,
  model_artifacts TEXT,
  training_time_in_seconds INTEGER,
  billable_time_in_seconds INTEGER,
  runner_pid INTEGER,
  runner_start_time INTEGER,
  estimated_cost REAL,
  stop_requested INTEGER NOT NULL DEFAULT 0,
  stop_requested_time REAL
);
CREATE INDEX jobs_by_creation_time ON jobs (creation_time, name);
CREATE INDEX jobs_by_status ON jobs (status, name);
CREATE TABLE status_transitions (
  job_id INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
  seq INTEGER NOT NULL,
  status TEXT NOT NULL,
  start_time REAL NOT NULL,
  end_time REAL,
  status_message TEXT NOT NULL,
  PRIMARY KEY (job_id, seq)
) WITHOUT ROWID;
CREATE TABLE final_metrics (
  job_id INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
  seq INTEGER NOT NULL,
  metric_name TEXT NOT NULL,
  value REAL,
  timestamp REAL NOT NULL,
  PRIMARY KEY (job_id, seq)
) WITHOUT ROWID;
CREATE TABLE tags (
  id INTEGER PRIMARY KEY,
  job_id INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  UNIQUE (job_id, key)
);
CREATE TABLE gpu_allocations (
  job_id INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
  host TEXT NOT NULL,
  gpu_index INTEGER NOT NULL,
  PRIMARY KEY (job_id, host, gpu_index)
) WITHOUT ROWID;
CREATE INDEX gpu_allocations_by_gpu ON gpu_allocations (host, gpu_index);
PRAGMA user_version = 1;
)sql";

// AWS allows 50 tags per resource.
constexpr int64_t kMaxTags = 50;

}  // namespace

void create_schema(const Database& database) {
  database.execute(kSchema);
}

void check_time(double value, std::string_view what) {
  if (!std::isfinite(value)) {
    throw ValueError(std::string(what) + " must be a finite number of seconds, not " +
                     std::to_string(value));
  }
}

void check_final_metrics(const std::vector<FinalMetric>& metrics) {
  if (metrics.size() > kMaxFinalMetrics) {
    throw ValueError("FinalMetricDataList holds at most 40 metrics, not " +
                     std::to_string(metrics.size()));
  }
  std::set<std::string> names;
  for (const FinalMetric& metric : metrics) {
    if (metric.name.empty()) throw ValueError("FinalMetricDataList: a metric has no name");
    if (!names.insert(metric.name).second) {
      throw ValueError("FinalMetricDataList names metric '" + metric.name + "' twice");
    }
    check_time(metric.timestamp, "the timestamp of metric '" + metric.name + "'");
  }
}

void write_gpu_allocation(const Database& database, const JobKey& job,
                          const GpuAllocation& allocation) {
  for (const auto& [host, indices] : allocation) {
    if (host.empty()) throw ValueError("GPU allocation of job '" + job.name + "': empty host name");
    std::set<int> seen;
    for (int index : indices) {
      if (index < 0 || !seen.insert(index).second) {
        throw ValueError("GPU allocation of job '" + job.name + "': index " +
                         std::to_string(index) + " on host " + host +
                         (index < 0 ? " is negative" : " is given twice"));
      }
    }
  }
  if (!allocation.empty() && is_terminal(job.status)) {
    throw InvalidJobState("training job '" + job.name + "' has ended (" +
                          std::string(to_string(job.status)) + "); it cannot be given GPUs");
  }
  Statement holder(database, R"sql(
      SELECT jobs.name FROM gpu_allocations JOIN jobs ON jobs.id = gpu_allocations.job_id
      WHERE gpu_allocations.host = ?1 AND gpu_allocations.gpu_index = ?2 AND jobs.id != ?3
        AND jobs.status NOT IN ('Completed', 'Failed', 'Stopped'))sql");
  for (const auto& [host, indices] : allocation) {
    for (int index : indices) {
      holder.reset();
      holder.bind_all(host, index, job.id);
      if (holder.step()) {
        throw ResourceInUse("GPU " + std::to_string(index) + " on host " + host +
                            " is held by training job '" + holder.text(0) + "'; job '" + job.name +
                            "' cannot have it");
      }
    }
  }
  Statement(database, "DELETE FROM gpu_allocations WHERE job_id = ?1").bind_all(job.id).run();
  Statement insert(database,
                   "INSERT INTO gpu_allocations (job_id, host, gpu_index) VALUES (?1, ?2, ?3)");
  for (const auto& [host, indices] : allocation) {
    for (int index : indices) {
      insert.reset();
      insert.bind_all(job.id, host, index).run();
    }
  }
}

void write_tags(const Database& database, const JobKey& job, const std::vector<Tag>& tags) {
  Statement upsert(database, R"sql(
      INSERT INTO tags (job_id, key, value) VALUES (?1, ?2, ?3)
      ON CONFLICT (job_id, key) DO UPDATE SET value = excluded.value)sql");
  for (const Tag& tag : tags) {
    if (tag.key.empty()) throw ValueError("a tag of training job '" + job.name + "' has no key");
    upsert.reset();
    upsert.bind_all(job.id, tag.key, tag.value).run();
  }
  Statement count(database, "SELECT count(*) FROM tags WHERE job_id = ?1");
  count.bind_all(job.id).step();
  if (count.integer(0) > kMaxTags) {
    throw ValueError("training job '" + job.name + "' would carry " +
                     std::to_string(count.integer(0)) + " tags; at most 50 are allowed");
  }
}

TrainingJobStatus stored_status(const Database& database, std::string_view job,
                                const std::string& text) {
  if (auto status = parse_training_job_status(text)) return *status;
  throw DataError("the job database " + database.path().string() + " gives training job '" +
                  std::string(job) + "' the unknown status '" + text + "'");
}

SecondaryStatus stored_secondary_status(const Database& database, std::string_view job,
                                        const std::string& text) {
  if (auto status = parse_secondary_status(text)) return *status;
  throw DataError("the job database " + database.path().string() + " gives training job '" +
                  std::string(job) + "' the unknown secondary status '" + text + "'");
}

}  // namespace trainyard::jobs::detail
