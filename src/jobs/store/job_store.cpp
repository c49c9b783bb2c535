// Opening the job database, creating and reading jobs, and status transitions.
#include "jobs/store/job_store.h"

#include <algorithm>
#include <cmath>
#include <system_error>

#include "jobs/job_spec_parse.h"
#include "jobs/store/job_store_internal.h"

namespace trainyard::jobs {
namespace {

using detail::JobKey;
using detail::Statement;
using detail::Transaction;

// Stored specs are read back leniently: a newer trainyard may store members this one does
// not know, and they should not make the job unreadable.
const ParseOptions kStoredSpecOptions{
    .reject_unknown_fields = false, .require_role_arn = false, .allow_file_uris = true};

bool is_ascii_lower_alnum_or_hyphen(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
}

void check_options(const StoreOptions& options) {
  if (options.region.empty() || !is_ascii_lower_alnum_or_hyphen(options.region)) {
    throw ValueError("StoreOptions.region must match [a-z0-9-]+, not '" + options.region + "'");
  }
  if (options.account.size() != 12 || !std::all_of(options.account.begin(), options.account.end(),
                                                   [](char c) { return c >= '0' && c <= '9'; })) {
    throw ValueError("StoreOptions.account must be 12 digits, not '" + options.account + "'");
  }
  if (options.busy_timeout_ms < 0) {
    throw ValueError("StoreOptions.busy_timeout_ms must be >= 0, not " +
                     std::to_string(options.busy_timeout_ms));
  }
}

// Checks what JobStore::create REQUIRES of a record and returns it ready to store.
JobRecord normalized(JobRecord record) {
  const std::string job = "training job '" + record.name + "'";
  if (record.name != record.spec.training_job_name) {
    throw ValueError(job + ": the record's name differs from its spec's TrainingJobName '" +
                     record.spec.training_job_name + "'");
  }
  if (record.transitions.empty()) throw ValueError(job + " has no status transitions");
  if (record.transitions.back().status != record.secondary_status) {
    throw ValueError(job + ": the last transition is " +
                     std::string(to_string(record.transitions.back().status)) +
                     " but SecondaryStatus is " + std::string(to_string(record.secondary_status)));
  }
  if (record.status != primary_status_of(record.secondary_status)) {
    throw ValueError(job + ": TrainingJobStatus " + std::string(to_string(record.status)) +
                     " does not go with SecondaryStatus " +
                     std::string(to_string(record.secondary_status)));
  }
  detail::check_time(record.creation_time, "CreationTime");
  detail::check_time(record.last_modified_time, "LastModifiedTime");
  for (const auto& time : {record.training_start_time, record.training_end_time,
                           record.stop_requested_time, record.estimated_cost}) {
    if (time) detail::check_time(*time, job + ": a time or the estimated cost");
  }
  for (StatusTransition& transition : record.transitions) {
    detail::check_time(transition.start_time, "a transition's StartTime");
    if (transition.end_time) detail::check_time(*transition.end_time, "a transition's EndTime");
    transition.status_message = sanitize_text(transition.status_message);
  }
  detail::check_final_metrics(record.final_metrics);
  if (record.failure_reason) {
    record.failure_reason = sanitize_text(*record.failure_reason, kMaxFailureReasonLength);
  }
  return record;
}

}  // namespace

JobStore::JobStore(const std::filesystem::path& data_dir, StoreOptions options)
    : path_(data_dir / "trainyard.db"), options_(std::move(options)) {
  check_options(options_);
  std::error_code error;
  std::filesystem::create_directories(data_dir, error);
  if (error) {
    throw IOError("cannot create the data directory " + data_dir.string() + ": " + error.message());
  }
  database_ = detail::Database::open(path_, options_.busy_timeout_ms);
  open_schema();
}

void JobStore::open_schema() {
  database_.execute("PRAGMA foreign_keys = ON");
  // Look before changing anything: a file that is not ours is refused untouched. The first
  // read of the file: a corrupt file or one that is not a database fails here (DataError).
  const auto check_version = [&] {
    const int64_t version = database_.query_integer("PRAGMA user_version");
    if (version > kSchemaVersion) {
      throw DataError("the job database " + path_.string() + " has schema version " +
                      std::to_string(version) + ", written by a newer trainyard; this " +
                      "trainyard reads version " + std::to_string(kSchemaVersion) +
                      " and older. Upgrade trainyard or use another data directory.");
    }
    if (version == 0 && database_.query_integer("SELECT count(*) FROM sqlite_schema") != 0) {
      throw DataError("the file " + path_.string() +
                      " is an SQLite database but not a trainyard job database (it has tables "
                      "and no trainyard schema version)");
    }
    return version;
  };
  {
    Transaction look(database_, Transaction::Kind::kRead);
    check_version();
    look.commit();
  }
  // WAL lets readers in other processes go on while one process writes. On a filesystem
  // without shared memory SQLite keeps its rollback journal, slower under contention but just
  // as correct, so the answer is not checked.
  {
    Statement journal(database_, "PRAGMA journal_mode = WAL");
    journal.step();
  }
  database_.execute("PRAGMA synchronous = FULL");

  // Again under the write lock: another process may have created the schema meanwhile.
  Transaction transaction(database_, Transaction::Kind::kWrite);
  if (check_version() == 0) detail::create_schema(database_);
  // Versions 1..kSchemaVersion - 1 would be migrated here.
  transaction.commit();
}

std::string JobStore::arn_of(std::string_view name) const {
  return training_job_arn(options_.region, options_.account, name);
}

JobRecord JobStore::create(JobRecord record) {
  record = normalized(std::move(record));
  record.arn = arn_of(record.name);
  const nlohmann::json request = to_json(record.spec);
  if (ParseResult parsed = validate_create_training_job(request, kStoredSpecOptions); !parsed) {
    throw ValueError("the spec of training job '" + record.name +
                     "' is not valid: " + parsed.errors().message());
  }

  std::lock_guard lock(mu_);
  Transaction transaction(database_, Transaction::Kind::kWrite);
  {
    Statement existing(database_, "SELECT name, arn FROM jobs WHERE name = ?1");
    if (existing.bind_all(record.name).step()) {
      throw ResourceInUse("a training job named '" + existing.text(0) + "' already exists (" +
                          existing.text(1) + "); job names must be unique, even after a job " +
                          "has ended, until the job is deleted");
    }
  }
  Statement insert(database_, R"sql(
      INSERT INTO jobs (name, arn, spec_json, status, secondary_status, failure_reason,
                        creation_time, training_start_time, training_end_time,
                        last_modified_time, model_artifacts, training_time_in_seconds,
                        billable_time_in_seconds, runner_pid, runner_start_time, estimated_cost,
                        stop_requested, stop_requested_time)
      VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18))sql");
  insert.bind_all(record.name, record.arn, request.dump(), to_string(record.status),
                  to_string(record.secondary_status), record.failure_reason, record.creation_time,
                  record.training_start_time, record.training_end_time, record.last_modified_time,
                  record.model_artifacts, record.training_time_in_seconds,
                  record.billable_time_in_seconds);
  if (record.runner_process) {
    insert.bind(14, record.runner_process->pid).bind(15, record.runner_process->start_time);
  } else {
    insert.bind(14, std::nullopt).bind(15, std::nullopt);
  }
  insert.bind(16, record.estimated_cost)
      .bind(17, int64_t{record.stop_requested})
      .bind(18, record.stop_requested_time)
      .run();

  JobKey key{.id = database_.last_insert_rowid(),
             .name = record.name,
             .status = record.status,
             .secondary_status = record.secondary_status,
             .current_transition = static_cast<int64_t>(record.transitions.size()) - 1};
  Statement transition(database_, R"sql(
      INSERT INTO status_transitions (job_id, seq, status, start_time, end_time, status_message)
      VALUES (?1, ?2, ?3, ?4, ?5, ?6))sql");
  for (size_t seq = 0; seq < record.transitions.size(); ++seq) {
    const StatusTransition& entry = record.transitions[seq];
    transition.reset();
    transition
        .bind_all(key.id, static_cast<int64_t>(seq), to_string(entry.status), entry.start_time,
                  entry.end_time, entry.status_message)
        .run();
  }
  Statement metric(database_, R"sql(
      INSERT INTO final_metrics (job_id, seq, metric_name, value, timestamp)
      VALUES (?1, ?2, ?3, ?4, ?5))sql");
  for (size_t seq = 0; seq < record.final_metrics.size(); ++seq) {
    const FinalMetric& entry = record.final_metrics[seq];
    metric.reset();
    metric.bind_all(key.id, static_cast<int64_t>(seq), entry.name, entry.value, entry.timestamp)
        .run();
  }
  detail::write_tags(database_, key, record.tags);
  detail::write_gpu_allocation(database_, key, record.gpu_allocation);
  JobRecord stored = load(key);
  transaction.commit();
  return stored;
}

std::optional<JobRecord> JobStore::get(std::string_view name) const {
  std::lock_guard lock(mu_);
  Transaction transaction(database_, Transaction::Kind::kRead);
  try {
    JobRecord record = load(find(name));
    transaction.commit();
    return record;
  } catch (const ResourceNotFound&) {
    return std::nullopt;
  }
}

JobRecord JobStore::require(std::string_view name) const {
  std::lock_guard lock(mu_);
  Transaction transaction(database_, Transaction::Kind::kRead);
  JobRecord record = load(find(name));
  transaction.commit();
  return record;
}

detail::JobKey JobStore::find(std::string_view name) const {
  Statement statement(database_, R"sql(
      SELECT id, name, status, secondary_status,
             (SELECT max(seq) FROM status_transitions WHERE job_id = jobs.id)
      FROM jobs WHERE name = ?1)sql");
  if (!statement.bind_all(name).step()) {
    throw ResourceNotFound("training job '" + std::string(name) + "' does not exist",
                           std::string(name));
  }
  JobKey key;
  key.id = statement.integer(0);
  key.name = statement.text(1);
  key.status = detail::stored_status(database_, key.name, statement.text(2));
  key.secondary_status = detail::stored_secondary_status(database_, key.name, statement.text(3));
  if (statement.is_null(4)) {
    throw DataError("the job database " + path_.string() + " has no status transitions for " +
                    "training job '" + key.name + "'");
  }
  key.current_transition = statement.integer(4);
  return key;
}

void JobStore::touch(const detail::JobKey& key, double time) const {
  Statement(database_, "UPDATE jobs SET last_modified_time = ?1 WHERE id = ?2")
      .bind_all(time, key.id)
      .run();
}

void JobStore::modify(std::string_view name, double time,
                      FunctionRef<void(const detail::JobKey&)> body) {
  detail::check_time(time, "the time of a change to training job '" + std::string(name) + "'");
  std::lock_guard lock(mu_);
  Transaction transaction(database_, Transaction::Kind::kWrite);
  const JobKey key = find(name);
  body(key);
  touch(key, time);
  transaction.commit();
}

void JobStore::transition(std::string_view name, SecondaryStatus status, std::string_view message,
                          double time) {
  modify(name, time, [&](const JobKey& key) {
    if (is_terminal(key.status)) {
      throw InvalidJobState("training job '" + key.name + "' has ended (" +
                            std::string(to_string(key.secondary_status)) + "); it cannot move to " +
                            std::string(to_string(status)));
    }
    const TrainingJobStatus primary = primary_status_of(status);
    const bool ends = is_terminal(primary);
    Statement(database_,
              "UPDATE status_transitions SET end_time = ?1 WHERE job_id = ?2 AND seq = ?3")
        .bind_all(time, key.id, key.current_transition)
        .run();
    Statement(database_, R"sql(
        INSERT INTO status_transitions (job_id, seq, status, start_time, end_time, status_message)
        VALUES (?1, ?2, ?3, ?4, ?5, ?6))sql")
        .bind_all(key.id, key.current_transition + 1, to_string(status), time,
                  ends ? std::optional<double>(time) : std::nullopt, sanitize_text(message))
        .run();
    Statement(database_, R"sql(
        UPDATE jobs SET status = ?1, secondary_status = ?2,
                        training_end_time = CASE WHEN ?3 THEN ?4 ELSE training_end_time END
        WHERE id = ?5)sql")
        .bind_all(to_string(primary), to_string(status), int64_t{ends}, time, key.id)
        .run();
  });
}

void JobStore::update_message(std::string_view name, std::string_view message, double time) {
  modify(name, time, [&](const JobKey& key) {
    if (is_terminal(key.status)) {
      throw InvalidJobState("training job '" + key.name + "' has ended (" +
                            std::string(to_string(key.secondary_status)) +
                            "); its status message cannot change");
    }
    Statement(database_, R"sql(
        UPDATE status_transitions SET status_message = ?1 WHERE job_id = ?2 AND seq = ?3)sql")
        .bind_all(sanitize_text(message), key.id, key.current_transition)
        .run();
  });
}

}  // namespace trainyard::jobs
