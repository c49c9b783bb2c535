// Reading jobs back: whole records, ListTrainingJobs pages, active jobs, held GPUs and tags.
#include <algorithm>
#include <limits>

#include "jobs/job_spec_parse.h"
#include "jobs/store/job_store.h"
#include "jobs/store/job_store_internal.h"
#include "jobs/store/list_token.h"

namespace trainyard::jobs {
namespace {

using detail::JobKey;
using detail::Statement;
using detail::Transaction;

// See job_store.cpp: stored specs are read leniently.
const ParseOptions kStoredSpecOptions{
    .reject_unknown_fields = false, .require_role_arn = false, .allow_file_uris = true};

// The SQL condition for "not ended", kept beside is_terminal's definition in job_status.cpp.
constexpr std::string_view kNotEnded = "status NOT IN ('Completed', 'Failed', 'Stopped')";

TrainingJobSpec stored_spec(const detail::Database& database, const std::string& job,
                            const std::string& text) {
  const nlohmann::json request = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  const std::string where =
      "the stored spec of training job '" + job + "' in " + database.path().string();
  if (request.is_discarded()) throw DataError(where + " is not JSON");
  ParseResult parsed = validate_create_training_job(request, kStoredSpecOptions);
  if (!parsed) throw DataError(where + " does not validate: " + parsed.errors().message());
  return std::move(parsed.spec());
}

std::string_view sort_column(ListSortBy sort_by) {
  switch (sort_by) {
    case ListSortBy::kName:
      return "name";
    case ListSortBy::kCreationTime:
      return "creation_time";
    case ListSortBy::kStatus:
      return "status";
  }
  return "creation_time";
}

// The WHERE and ORDER BY of a list query; parameters ?1..?8 are bound by JobStore::list.
std::string list_sql(const ListQuery& query) {
  const bool ascending = query.sort_order == ListSortOrder::kAscending;
  const std::string after = ascending ? " > " : " < ";
  const std::string direction = ascending ? " ASC" : " DESC";
  const std::string key(sort_column(query.sort_by));
  // Keyset pagination: rows strictly after the previous page's last (key, name).
  const std::string cursor =
      query.sort_by == ListSortBy::kName
          ? "(?8 IS NULL OR name" + after + "?8)"
          : "(?8 IS NULL OR " + key + after + "?7 OR (" + key + " = ?7 AND name" + after + "?8))";
  std::string sql = R"sql(
      SELECT name, arn, creation_time, training_end_time, last_modified_time, status,
             secondary_status
      FROM jobs
      WHERE (?1 IS NULL OR status = ?1)
        AND (?2 IS NULL OR instr(lower(name), lower(?2)) > 0)
        AND (?3 IS NULL OR creation_time > ?3) AND (?4 IS NULL OR creation_time < ?4)
        AND (?5 IS NULL OR last_modified_time > ?5) AND (?6 IS NULL OR last_modified_time < ?6)
        AND )sql";
  sql += cursor + "\n      ORDER BY ";
  if (query.sort_by != ListSortBy::kName) sql += key + direction + ", ";
  sql += "name" + direction + "\n      LIMIT ?9";
  return sql;
}

void check_list_query(const ListQuery& query) {
  if (query.max_results < 1 || query.max_results > kMaxListMaxResults) {
    throw ValueError("MaxResults must be between 1 and 100, not " +
                     std::to_string(query.max_results));
  }
  for (const auto& [bound, what] :
       {std::pair{query.creation_time_after, "CreationTimeAfter"},
        std::pair{query.creation_time_before, "CreationTimeBefore"},
        std::pair{query.last_modified_time_after, "LastModifiedTimeAfter"},
        std::pair{query.last_modified_time_before, "LastModifiedTimeBefore"}}) {
    if (bound) detail::check_time(*bound, what);
  }
}

}  // namespace

JobRecord JobStore::load(const detail::JobKey& key) const {
  JobRecord record;
  record.name = key.name;
  record.status = key.status;
  record.secondary_status = key.secondary_status;
  {
    Statement job(database_, R"sql(
        SELECT arn, spec_json, failure_reason, creation_time, training_start_time,
               training_end_time, last_modified_time, model_artifacts, training_time_in_seconds,
               billable_time_in_seconds, runner_pid, runner_start_time, estimated_cost,
               stop_requested, stop_requested_time
        FROM jobs WHERE id = ?1)sql");
    if (!job.bind_all(key.id).step()) {
      throw InternalError("training job '" + key.name + "' vanished inside a transaction");
    }
    record.arn = job.text(0);
    record.spec = stored_spec(database_, key.name, job.text(1));
    record.failure_reason = job.optional_text(2);
    record.creation_time = job.real(3);
    record.training_start_time = job.optional_real(4);
    record.training_end_time = job.optional_real(5);
    record.last_modified_time = job.real(6);
    record.model_artifacts = job.optional_text(7);
    record.training_time_in_seconds = job.optional_integer(8);
    record.billable_time_in_seconds = job.optional_integer(9);
    if (!job.is_null(10)) {
      record.runner_process = RunnerProcess{.pid = job.integer(10), .start_time = job.integer(11)};
    }
    record.estimated_cost = job.optional_real(12);
    record.stop_requested = job.integer(13) != 0;
    record.stop_requested_time = job.optional_real(14);
  }
  Statement transitions(database_, R"sql(
      SELECT status, start_time, end_time, status_message FROM status_transitions
      WHERE job_id = ?1 ORDER BY seq)sql");
  transitions.bind_all(key.id);
  while (transitions.step()) {
    record.transitions.push_back(
        {.status = detail::stored_secondary_status(database_, key.name, transitions.text(0)),
         .start_time = transitions.real(1),
         .end_time = transitions.optional_real(2),
         .status_message = transitions.text(3)});
  }
  Statement metrics(database_, R"sql(
      SELECT metric_name, value, timestamp FROM final_metrics WHERE job_id = ?1 ORDER BY seq)sql");
  metrics.bind_all(key.id);
  while (metrics.step()) {
    // SQLite stores NaN as NULL.
    const double value =
        metrics.is_null(1) ? std::numeric_limits<double>::quiet_NaN() : metrics.real(1);
    record.final_metrics.push_back(
        {.name = metrics.text(0), .value = value, .timestamp = metrics.real(2)});
  }
  Statement tags(database_, "SELECT key, value FROM tags WHERE job_id = ?1 ORDER BY id");
  tags.bind_all(key.id);
  while (tags.step()) record.tags.push_back({.key = tags.text(0), .value = tags.text(1)});
  Statement gpus(database_, R"sql(
      SELECT host, gpu_index FROM gpu_allocations WHERE job_id = ?1 ORDER BY host, gpu_index)sql");
  gpus.bind_all(key.id);
  while (gpus.step()) {
    record.gpu_allocation[gpus.text(0)].push_back(static_cast<int>(gpus.integer(1)));
  }
  return record;
}

ListPage JobStore::list(const ListQuery& query) const {
  check_list_query(query);
  std::optional<detail::ListCursor> cursor;
  if (query.next_token) {
    cursor = detail::decode_list_token(*query.next_token);
    if (cursor->sort_by != query.sort_by || cursor->sort_order != query.sort_order) {
      throw ValueError(
          "NextToken belongs to a list sorted by " + std::string(to_string(cursor->sort_by)) + " " +
          std::string(to_string(cursor->sort_order)) + ", not by " +
          std::string(to_string(query.sort_by)) + " " + std::string(to_string(query.sort_order)));
    }
  }
  const auto status_filter = query.status_equals
                                 ? std::optional<std::string>(to_string(*query.status_equals))
                                 : std::nullopt;

  std::lock_guard lock(mu_);
  Transaction transaction(database_, Transaction::Kind::kRead);
  Statement statement(database_, list_sql(query));
  statement.bind_all(status_filter, query.name_contains, query.creation_time_after,
                     query.creation_time_before, query.last_modified_time_after,
                     query.last_modified_time_before);
  if (cursor && cursor->creation_time) statement.bind(7, *cursor->creation_time);
  if (cursor && cursor->status) statement.bind(7, *cursor->status);
  if (cursor) statement.bind(8, cursor->name);
  // One row more than asked tells whether another page follows.
  statement.bind(9, query.max_results + 1);

  ListPage page;
  while (statement.step()) {
    const std::string name = statement.text(0);
    page.jobs.push_back(
        {.name = name,
         .arn = statement.text(1),
         .creation_time = statement.real(2),
         .training_end_time = statement.optional_real(3),
         .last_modified_time = statement.real(4),
         .status = detail::stored_status(database_, name, statement.text(5)),
         .secondary_status = detail::stored_secondary_status(database_, name, statement.text(6))});
  }
  transaction.commit();
  if (page.jobs.size() > static_cast<size_t>(query.max_results)) {
    page.jobs.resize(static_cast<size_t>(query.max_results));
    const JobSummary& last = page.jobs.back();
    detail::ListCursor next{
        .sort_by = query.sort_by, .sort_order = query.sort_order, .name = last.name};
    if (query.sort_by == ListSortBy::kCreationTime) next.creation_time = last.creation_time;
    if (query.sort_by == ListSortBy::kStatus) next.status = std::string(to_string(last.status));
    page.next_token = detail::encode_list_token(next);
  }
  return page;
}

std::vector<JobRecord> JobStore::active_jobs() const {
  std::lock_guard lock(mu_);
  Transaction transaction(database_, Transaction::Kind::kRead);
  std::vector<std::string> names;
  {
    Statement statement(database_, "SELECT name FROM jobs WHERE " + std::string(kNotEnded) +
                                       " ORDER BY creation_time, name");
    while (statement.step()) names.push_back(statement.text(0));
  }
  std::vector<JobRecord> records;
  for (const std::string& name : names) records.push_back(load(find(name)));
  transaction.commit();
  return records;
}

std::vector<GpuHold> JobStore::allocated_gpus() const {
  std::lock_guard lock(mu_);
  Transaction transaction(database_, Transaction::Kind::kRead);
  Statement statement(database_, R"sql(
      SELECT gpu_allocations.host, gpu_allocations.gpu_index, jobs.name
      FROM gpu_allocations JOIN jobs ON jobs.id = gpu_allocations.job_id
      WHERE jobs.)sql" + std::string(kNotEnded) +
                                     " ORDER BY gpu_allocations.host, gpu_allocations.gpu_index");
  std::vector<GpuHold> holds;
  while (statement.step()) {
    holds.push_back({.host = statement.text(0),
                     .gpu_index = static_cast<int>(statement.integer(1)),
                     .job_name = statement.text(2)});
  }
  transaction.commit();
  return holds;
}

std::vector<Tag> JobStore::list_tags(std::string_view name) const {
  std::lock_guard lock(mu_);
  Transaction transaction(database_, Transaction::Kind::kRead);
  const JobKey key = find(name);
  Statement statement(database_, "SELECT key, value FROM tags WHERE job_id = ?1 ORDER BY id");
  statement.bind_all(key.id);
  std::vector<Tag> tags;
  while (statement.step()) tags.push_back({.key = statement.text(0), .value = statement.text(1)});
  transaction.commit();
  return tags;
}

}  // namespace trainyard::jobs
