// The job store's setters, stop requests, deletion and tags.
#include <cmath>

#include "jobs/store/job_store.h"
#include "jobs/store/job_store_internal.h"

namespace trainyard::jobs {
namespace {

using detail::JobKey;
using detail::Statement;
using detail::Transaction;

}  // namespace

void JobStore::set_failure_reason(std::string_view name, std::string_view reason, double time) {
  modify(name, time, [&](const JobKey& key) {
    Statement(database_, "UPDATE jobs SET failure_reason = ?1 WHERE id = ?2")
        .bind_all(sanitize_text(reason, kMaxFailureReasonLength), key.id)
        .run();
  });
}

void JobStore::set_training_start_time(std::string_view name, double training_start_time,
                                       double time) {
  detail::check_time(training_start_time, "TrainingStartTime");
  modify(name, time, [&](const JobKey& key) {
    Statement(database_, "UPDATE jobs SET training_start_time = ?1 WHERE id = ?2")
        .bind_all(training_start_time, key.id)
        .run();
  });
}

void JobStore::set_training_times(std::string_view name, int64_t training_time_in_seconds,
                                  int64_t billable_time_in_seconds, double time) {
  if (training_time_in_seconds < 0 || billable_time_in_seconds < 0) {
    throw ValueError("training job '" + std::string(name) +
                     "': TrainingTimeInSeconds and BillableTimeInSeconds must be >= 0, not " +
                     std::to_string(training_time_in_seconds) + " and " +
                     std::to_string(billable_time_in_seconds));
  }
  modify(name, time, [&](const JobKey& key) {
    Statement(database_, R"sql(
        UPDATE jobs SET training_time_in_seconds = ?1, billable_time_in_seconds = ?2
        WHERE id = ?3)sql")
        .bind_all(training_time_in_seconds, billable_time_in_seconds, key.id)
        .run();
  });
}

void JobStore::set_final_metrics(std::string_view name, const std::vector<FinalMetric>& metrics,
                                 double time) {
  detail::check_final_metrics(metrics);
  modify(name, time, [&](const JobKey& key) {
    Statement(database_, "DELETE FROM final_metrics WHERE job_id = ?1").bind_all(key.id).run();
    Statement insert(database_, R"sql(
        INSERT INTO final_metrics (job_id, seq, metric_name, value, timestamp)
        VALUES (?1, ?2, ?3, ?4, ?5))sql");
    for (size_t seq = 0; seq < metrics.size(); ++seq) {
      insert.reset();
      insert
          .bind_all(key.id, static_cast<int64_t>(seq), metrics[seq].name, metrics[seq].value,
                    metrics[seq].timestamp)
          .run();
    }
  });
}

void JobStore::set_model_artifacts(std::string_view name, std::string_view s3_model_artifacts,
                                   double time) {
  modify(name, time, [&](const JobKey& key) {
    Statement(database_, "UPDATE jobs SET model_artifacts = ?1 WHERE id = ?2")
        .bind_all(s3_model_artifacts, key.id)
        .run();
  });
}

void JobStore::set_runner_process(std::string_view name,
                                  const std::optional<RunnerProcess>& process, double time) {
  modify(name, time, [&](const JobKey& key) {
    Statement statement(database_,
                        "UPDATE jobs SET runner_pid = ?1, runner_start_time = ?2 WHERE id = ?3");
    if (process) {
      statement.bind_all(process->pid, process->start_time, key.id);
    } else {
      statement.bind_all(std::nullopt, std::nullopt, key.id);
    }
    statement.run();
  });
}

void JobStore::set_gpu_allocation(std::string_view name, const GpuAllocation& allocation,
                                  double time) {
  modify(name, time,
         [&](const JobKey& key) { detail::write_gpu_allocation(database_, key, allocation); });
}

void JobStore::set_estimated_cost(std::string_view name, std::optional<double> estimated_cost,
                                  double time) {
  if (estimated_cost && !std::isfinite(*estimated_cost)) {
    throw ValueError("the estimated cost of training job '" + std::string(name) +
                     "' must be finite, not " + std::to_string(*estimated_cost));
  }
  modify(name, time, [&](const JobKey& key) {
    Statement(database_, "UPDATE jobs SET estimated_cost = ?1 WHERE id = ?2")
        .bind_all(estimated_cost, key.id)
        .run();
  });
}

bool JobStore::request_stop(std::string_view name, double time) {
  detail::check_time(time, "the time of a stop request");
  std::lock_guard lock(mu_);
  Transaction transaction(database_, Transaction::Kind::kWrite);
  const JobKey key = find(name);
  if (is_terminal(key.status)) {
    throw InvalidJobState("training job '" + key.name + "' has ended (" +
                          std::string(to_string(key.secondary_status)) +
                          "); there is nothing to stop");
  }
  Statement statement(database_, R"sql(
      UPDATE jobs SET stop_requested = 1, stop_requested_time = ?1, last_modified_time = ?1
      WHERE id = ?2 AND stop_requested = 0)sql");
  statement.bind_all(time, key.id).run();
  const bool first = database_.changes() > 0;
  transaction.commit();
  return first;
}

void JobStore::remove(std::string_view name) {
  std::lock_guard lock(mu_);
  Transaction transaction(database_, Transaction::Kind::kWrite);
  const JobKey key = find(name);
  if (!is_terminal(key.status)) {
    throw ResourceInUse("training job '" + key.name + "' is " + std::string(to_string(key.status)) +
                        "; only Completed, Failed or Stopped jobs can be deleted");
  }
  Statement(database_, "DELETE FROM jobs WHERE id = ?1").bind_all(key.id).run();
  transaction.commit();
}

void JobStore::add_tags(std::string_view name, const std::vector<Tag>& tags) {
  std::lock_guard lock(mu_);
  Transaction transaction(database_, Transaction::Kind::kWrite);
  detail::write_tags(database_, find(name), tags);
  transaction.commit();
}

void JobStore::delete_tags(std::string_view name, const std::vector<std::string>& keys) {
  std::lock_guard lock(mu_);
  Transaction transaction(database_, Transaction::Kind::kWrite);
  const JobKey key = find(name);
  Statement erase(database_, "DELETE FROM tags WHERE job_id = ?1 AND key = ?2");
  for (const std::string& tag_key : keys) {
    erase.reset();
    erase.bind_all(key.id, tag_key).run();
  }
  transaction.commit();
}

}  // namespace trainyard::jobs
