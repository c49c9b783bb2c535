// JobStore: every training job trainyard knows, in one SQLite database at
// <data-dir>/trainyard.db, shared by every trainyard process on the machine (a CLI and a
// server may have it open at once). Schema and concurrency: README.md in this folder.
//
// Errors: ResourceInUse / ResourceNotFound / InvalidJobState (store_errors.h) for refusals
// that are part of normal operation; ValueError for bad arguments (non-finite times, a bad
// list query or NextToken); IOError / DataError naming the database file when it cannot be
// read or written, is corrupt, or comes from a newer trainyard. A failed call changes nothing.
// Job names are matched ignoring ASCII case (two jobs cannot differ only in case); records
// carry the name as created.
//
// Thread safety: all methods may be called from several threads at once. One connection is
// shared, guarded by a mutex; each call is one SQLite transaction, so another process sees
// all of a call's change or none of it.
#pragma once

#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/function_ref.h"
#include "jobs/store/job_record.h"
#include "jobs/store/list_query.h"
#include "jobs/store/sqlite_database.h"
#include "jobs/store/store_errors.h"

namespace trainyard::jobs {

namespace detail {
struct JobKey;  // a job's row id, name as stored and status, read inside a transaction
}  // namespace detail

struct StoreOptions {
  std::string region = "us-east-1";      // in ARNs; [a-z0-9-]+
  std::string account = "000000000000";  // in ARNs; 12 digits
  // How long a call waits for another process's write to finish before failing with
  // IOError. Default: 10000 ms.
  int busy_timeout_ms = 10000;
};

// A GPU held by a job that has not ended.
struct GpuHold {
  std::string host;
  int gpu_index = 0;
  std::string job_name;
  bool operator==(const GpuHold&) const = default;
};

class JobStore {
 public:
  // The schema version this trainyard writes (PRAGMA user_version).
  static constexpr int kSchemaVersion = 1;

  // Opens <data_dir>/trainyard.db, creating the directory, the file and the schema as
  // needed. Throws ValueError for bad options, IOError when the file cannot be opened or
  // created, DataError when it is corrupt, not a database, or has a newer schema version.
  explicit JobStore(const std::filesystem::path& data_dir, StoreOptions options = {});
  JobStore(const JobStore&) = delete;
  JobStore& operator=(const JobStore&) = delete;

  const std::filesystem::path& database_path() const { return path_; }
  const StoreOptions& options() const { return options_; }
  // This store's ARN for a job named `name`.
  std::string arn_of(std::string_view name) const;

  // Stores a new job and returns it as stored (ARN filled in from the options, FailureReason
  // and messages sanitised). REQUIRES of `record`: name == spec.training_job_name, a spec
  // that validates, at least one transition, the last one open and matching
  // secondary_status, status == primary_status_of(secondary_status), finite times (see
  // new_job_record). Throws ResourceInUse when a job of that name exists (ended or not; a
  // removed job's name is free again), ValueError when a REQUIRES fails.
  JobRecord create(JobRecord record);

  // The job named `name`, or nullopt. Throws DataError when its stored spec is unreadable.
  std::optional<JobRecord> get(std::string_view name) const;
  // As get, but throws ResourceNotFound naming the job when there is none.
  JobRecord require(std::string_view name) const;

  // Moves the job to `status` at `time`: ends the current transition at `time`, appends
  // {status, time, message}, sets the primary status (primary_status_of) and
  // LastModifiedTime; a terminal state also sets TrainingEndTime and ends its own entry at
  // `time`. Throws InvalidJobState when the job has already ended.
  void transition(std::string_view name, SecondaryStatus status, std::string_view message,
                  double time);
  // Replaces the current transition's message without a new entry ("Waiting for GPUs: 2 of
  // 4 free"). Throws InvalidJobState when the job has ended.
  void update_message(std::string_view name, std::string_view message, double time);

  // Setters: each sets LastModifiedTime to `time` and throws ResourceNotFound for an unknown
  // job. They work on ended jobs too (the last facts often arrive with the end), except where
  // noted.
  // Stored cut to kMaxFailureReasonLength characters, ill-formed UTF-8 replaced.
  void set_failure_reason(std::string_view name, std::string_view reason, double time);
  void set_training_start_time(std::string_view name, double training_start_time, double time);
  // TrainingTimeInSeconds and BillableTimeInSeconds. Throws ValueError when negative.
  void set_training_times(std::string_view name, int64_t training_time_in_seconds,
                          int64_t billable_time_in_seconds, double time);
  // Replaces FinalMetricDataList. Throws ValueError for more than kMaxFinalMetrics entries,
  // an empty or repeated metric name, or a non-finite timestamp.
  void set_final_metrics(std::string_view name, const std::vector<FinalMetric>& metrics,
                         double time);
  void set_model_artifacts(std::string_view name, std::string_view s3_model_artifacts, double time);
  // nullopt clears it (the runner has exited).
  void set_runner_process(std::string_view name, const std::optional<RunnerProcess>& process,
                          double time);
  // Replaces the job's GPUs; an empty allocation releases them. Atomic across processes:
  // throws ResourceInUse naming the GPU, host and holder when a job that has not ended holds
  // one of them, InvalidJobState when a non-empty allocation is given to an ended job,
  // ValueError for an empty host name, a negative or repeated index.
  void set_gpu_allocation(std::string_view name, const GpuAllocation& allocation, double time);
  void set_estimated_cost(std::string_view name, std::optional<double> estimated_cost, double time);
  // Records StopTrainingJob: stop_requested with its time. Returns false (and changes
  // nothing) when a stop was already requested. Throws InvalidJobState when the job has
  // ended. The status is left to whoever runs the job.
  bool request_stop(std::string_view name, double time);

  // ListTrainingJobs. Throws ValueError for max_results outside 1..100, a NextToken that
  // this store did not return, or one from a list with another sort or order.
  ListPage list(const ListQuery& query) const;
  // Every job that has not ended, oldest first (for reconciling after a restart).
  std::vector<JobRecord> active_jobs() const;
  // Every GPU held by a job that has not ended, ordered by host, then index.
  std::vector<GpuHold> allocated_gpus() const;

  // DeleteTrainingJob: forgets the job and frees its name. Throws ResourceNotFound, or
  // ResourceInUse when the job has not ended.
  void remove(std::string_view name);

  // AddTags: adds or overwrites by key. Throws ValueError for an empty key or when the job
  // would carry more than 50 tags. Tags do not move LastModifiedTime.
  void add_tags(std::string_view name, const std::vector<Tag>& tags);
  // ListTags, in the order the keys were first added.
  std::vector<Tag> list_tags(std::string_view name) const;
  // DeleteTags: keys the job does not carry are ignored.
  void delete_tags(std::string_view name, const std::vector<std::string>& keys);

 private:
  // REQUIRES for these: mu_ held and a transaction open.
  // The job named `name`; throws ResourceNotFound.
  detail::JobKey find(std::string_view name) const;
  JobRecord load(const detail::JobKey& key) const;
  void touch(const detail::JobKey& key, double time) const;  // sets LastModifiedTime

  // Locks mu_, opens a write transaction, finds the job, runs `body`, sets LastModifiedTime
  // to `time` and commits. Throws ValueError for a non-finite time.
  void modify(std::string_view name, double time, FunctionRef<void(const detail::JobKey&)> body);
  void open_schema();

  // Constant after construction.
  std::filesystem::path path_;
  StoreOptions options_;

  mutable std::mutex mu_;
  detail::Database database_;  // guarded by mu_
};

}  // namespace trainyard::jobs
