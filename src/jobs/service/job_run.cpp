#include "jobs/service/job_run.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include "core/error.h"
#include "jobs/placement/gpu_allocator.h"
#include "jobs/runners/metric_extractor.h"
#include "jobs/service/gpu_grants.h"
#include "jobs/service/job_log.h"
#include "jobs/service/service_clock.h"
#include "jobs/service/training_command.h"
#include "jobs/staging/artifacts.h"
#include "jobs/staging/channel_stager.h"
#include "jobs/staging/container_config.h"
#include "platform/instance_catalog.h"
#include "platform/runtime_libraries.h"

namespace trainyard::jobs::detail {
namespace {

constexpr size_t kFailureReasonLength = 1024;

// How the program ended, from the supervisor's point of view.
enum class Ending { kExited, kStopped, kTimedOut };

class JobRun {
 public:
  JobRun(const RunContext& context, std::string name)
      : context_(context),
        service_(context.service),
        store_(context.service.store()),
        name_(std::move(name)),
        directory_(service_.directory(name_)),
        log_(directory_.log_file()) {}

  JobRecord run() {
    JobRecord record = store_.require(name_);
    if (is_terminal(record.status)) return record;
    spec_ = record.spec;
    metrics_.emplace(spec_.algorithm_specification->metric_definitions);
    if (record.runner_process) return adopt(record);
    if (record.stop_requested) return finish_stopped_before_start();
    std::optional<JobPlacement> placement = place();
    if (!placement) return store_.require(name_);
    if (!wait_for_gpus(*placement)) return finish_stopped_before_start();
    if (!stage()) return store_.require(name_);
    return train(*placement);
  }

 private:
  // ---- reporting --------------------------------------------------------------------
  void notify() {
    if (context_.observer.on_status) context_.observer.on_status(store_.require(name_));
  }
  void move_to(SecondaryStatus status, const std::string& message) {
    double now = epoch_seconds();
    store_.transition(name_, status, message, now);
    log_.append_status(now, status, message);
    follow_log();
    notify();
  }
  void say(const std::string& message) {
    double now = epoch_seconds();
    store_.update_message(name_, message, now);
    log_.append_status(now, store_.require(name_).secondary_status, message);
    follow_log();
    notify();
  }
  JobRecord fail(const std::string& reason) {
    double now = epoch_seconds();
    store_.set_failure_reason(name_, reason, now);
    release_gpus();
    move_to(SecondaryStatus::kFailed, "Training job failed");
    record_times();
    return store_.require(name_);
  }

  // ---- Starting ---------------------------------------------------------------------
  std::optional<JobPlacement> place() {
    say("Launching requested ML instances");
    PlacementHost host{platform::InstanceCatalog::builtin(), context_.gpus,
                       platform::HostResources::detect(), service_.options().build_targets};
    PlacementDecision decision =
        place_job(*spec_.resource_config, host, service_.options().placement);
    if (!decision.fits()) {
      fail("ClientError: " + decision.refusal);
      return std::nullopt;
    }
    for (const auto& warning : decision.warnings)
      log_.append_line("[trainyard] warning: " + warning);
    return decision.placement;
  }

  // False when a stop arrived while waiting.
  bool wait_for_gpus(const JobPlacement& placement) {
    if (placement.gpus.total_gpus() > 0) {
      std::string last_message;
      for (;;) {
        if (store_.require(name_).stop_requested) return false;
        std::optional<std::string> waiting =
            try_grant_gpus(store_, context_.gpus, name_, placement.gpus, epoch_seconds());
        if (!waiting) break;
        if (*waiting != last_message) say(*waiting);
        last_message = *waiting;
        std::this_thread::sleep_for(service_.options().poll_interval);
      }
    }
    gpu_indices_ = store_.require(name_).gpu_allocation;
    say("Preparing the instances for training");
    return true;
  }

  // ---- Downloading ------------------------------------------------------------------
  bool stage() {
    double start = epoch_seconds();
    store_.set_training_start_time(name_, start, start);
    move_to(SecondaryStatus::kDownloading, "Downloading input data");
    try {
      // Each host gets its own /opt/ml: its resourceconfig.json and its share of the data.
      for (int host = 0; host < host_count(); ++host) {
        const JobDirectory host_directory = directory_.for_host(host);
        host_directory.create();
        write_container_config(spec_, host, host_count(), host_directory);
        for (const Channel& channel : spec_.input_data_config) {
          TrainingInputMode mode = effective_input_mode(spec_, channel);
          if (std::string problem = channel_staging_problem(channel, mode); !problem.empty()) {
            fail("ClientError: " + problem);
            return false;
          }
          ChannelStaging staging = stage_channel(service_.object_store(), channel, mode,
                                                 host_directory, host, host_count());
          log_.append_line("[trainyard] " + (host_count() > 1 ? host_name(host) + ": " : "") +
                           staging.summary());
        }
      }
    } catch (const Error& error) {
      fail(std::string("ClientError: ") + error.what());
      return false;
    }
    return true;
  }

  int host_count() const { return spec_.resource_config->instance_count.value_or(1); }

  // ---- Training ---------------------------------------------------------------------
  JobRecord train(const JobPlacement& placement) {
    move_to(SecondaryStatus::kTraining, "Downloading the training image");
    ProcessOptions process;
    try {
      std::vector<TrainingCommand> hosts;
      for (int host = 0; host < host_count(); ++host) {
        std::vector<int> gpus;
        auto it = gpu_indices_.find(host_name(host));
        if (it != gpu_indices_.end()) gpus = it->second;
        hosts.push_back(training_command(spec_, directory_.for_host(host), service_.options(), gpus,
                                         placement, store_.arn_of(name_), host));
      }
      TrainingCommand command =
          host_count() == 1
              ? hosts.front()
              : multi_host_command(hosts, platform::find_on_path("mpirun").value_or(""));
      process.argv = command.argv;
      process.environment = command.environment;
      process.working_directory = command.working_directory;
    } catch (const Error& error) {
      return fail(std::string("ClientError: ") + error.what());
    }
    process.log_file = directory_.log_file();
    process.exit_status_file = exit_status_file();
    try {
      child_.emplace(ChildProcess::start(process));
    } catch (const Error& error) {
      return fail(std::string("ClientError: ") + error.what());
    }
    store_.set_runner_process(name_, RunnerProcess{child_->pid(), child_->start_ticks()},
                              epoch_seconds());
    say("Training image download completed. Training in progress.");
    return supervise();
  }

  std::filesystem::path exit_status_file() const { return directory_.root() / "exit-status"; }

  // Waits for the program, acting on stop requests and MaxRuntimeInSeconds meanwhile.
  JobRecord supervise() {
    Ending ending = Ending::kExited;
    std::optional<ExitStatus> status;
    std::optional<double> deadline = runtime_deadline();
    while (!status) {
      status = wait_once();
      if (status) break;
      follow_log();
      JobRecord record = store_.require(name_);
      bool out_of_time = deadline && epoch_seconds() >= *deadline;
      if (record.stop_requested || out_of_time) {
        ending = record.stop_requested ? Ending::kStopped : Ending::kTimedOut;
        move_to(SecondaryStatus::kStopping,
                ending == Ending::kStopped
                    ? "Stopping the training job"
                    : "Stopping the training job: MaxRuntimeInSeconds reached");
        status = terminate();
      }
    }
    follow_log();
    // The runner stays recorded until the job ends: if this supervisor dies while uploading,
    // the next one finds the exit status again and finishes the job.
    return finish(ending, status);
  }

  std::optional<double> runtime_deadline() const {
    const auto& stopping = spec_.stopping_condition;
    if (!stopping || !stopping->max_runtime_in_seconds) return std::nullopt;
    std::optional<double> start = store_.require(name_).training_start_time;
    return start.value_or(epoch_seconds()) + double(*stopping->max_runtime_in_seconds);
  }

  std::optional<ExitStatus> wait_once() {
    auto poll = service_.options().poll_interval;
    if (child_) return child_->wait(poll);
    const RunnerProcess& process = *adopted_;
    if (!wait_for_exit_of_foreign(int(process.pid), process.start_time, poll)) return std::nullopt;
    return read_exit_status_file(exit_status_file());  // nullopt: outcome unknown
  }

  std::optional<ExitStatus> terminate() {
    auto grace = service_.options().stop_grace;
    if (child_) return child_->terminate(grace);
    terminate_foreign(int(adopted_->pid), adopted_->start_time, grace);
    return read_exit_status_file(exit_status_file());
  }

  void follow_log() {
    if (!metrics_) return;
    log_.read_new(
        [&](std::string_view bytes) {
          if (context_.observer.on_log) context_.observer.on_log(bytes);
        },
        [&](const std::string& line) { metrics_->feed(line, epoch_seconds()); });
    for (const std::string& problem : metrics_->take_problems()) {
      log_.append_line("[trainyard] warning: " + problem);
    }
  }

  // ---- the end ----------------------------------------------------------------------
  JobRecord finish(Ending ending, const std::optional<ExitStatus>& status) {
    store_.set_final_metrics(name_, metrics_->final_metrics(), epoch_seconds());
    if (ending == Ending::kExited && !(status && status->success())) {
      return fail(failure_reason(status));
    }
    if (!upload()) return store_.require(name_);
    release_gpus();
    if (ending == Ending::kExited) {
      move_to(SecondaryStatus::kCompleted, "Training job completed");
    } else if (ending == Ending::kStopped) {
      move_to(SecondaryStatus::kStopped, "Training job stopped");
    } else {
      move_to(SecondaryStatus::kMaxRuntimeExceeded,
              "Training job stopped: MaxRuntimeInSeconds exceeded");
    }
    record_times();
    return store_.require(name_);
  }

  bool upload() {
    move_to(SecondaryStatus::kUploading, "Uploading generated training model");
    try {
      OutputCompressionType compression =
          spec_.output_data_config.compression_type.value_or(OutputCompressionType::kGzip);
      ArtifactUpload upload =
          upload_job_artifacts(service_.object_store(), directory_,
                               spec_.output_data_config.s3_output_path, name_, compression);
      store_.set_model_artifacts(name_, upload.model_artifacts, epoch_seconds());
      log_.append_line("[trainyard] model artifacts: " + upload.model_artifacts);
    } catch (const Error& error) {
      fail(std::string("ClientError: uploading the model failed: ") + error.what());
      return false;
    }
    return true;
  }

  // SageMaker's shape: "AlgorithmError: <output/failure, or the log's last lines>, exit code: N".
  std::string failure_reason(const std::optional<ExitStatus>& status) const {
    if (!status) {
      return "InternalServerError: the job's process ended while no trainyard supervised it, "
             "and its exit status was not recorded";
    }
    std::string detail = read_prefix(directory_.failure_file(), kFailureReasonLength);
    if (detail.empty()) detail = other_hosts_failure();
    if (detail.empty()) detail = log_.last_lines(5);
    std::string reason =
        "AlgorithmError: " + detail + ", exit code: " + std::to_string(status->shell_code());
    if (status->signaled()) reason += " (" + status->description() + ")";
    return reason;
  }

  // For a multi-host job: the first failure file another host wrote, or which host mpirun
  // saw end abnormally ("process rank N ... exited on signal 9"), named as SageMaker names
  // hosts; empty when neither says.
  std::string other_hosts_failure() const {
    for (int host = 1; host < host_count(); ++host) {
      std::string text =
          read_prefix(directory_.for_host(host).failure_file(), kFailureReasonLength);
      if (!text.empty()) return host_name(host) + ": " + text;
    }
    if (host_count() == 1) return "";
    std::string tail = log_.last_lines(40);
    static const std::regex rank_line(
        R"(process rank (\d+) with PID (\d+)[^\n]*?(exited on [^\n]*))");
    std::smatch match;
    if (!std::regex_search(tail, match, rank_line)) return "";
    const int rank = std::stoi(match[1].str());
    if (rank < 0 || rank >= host_count()) return "";
    return "host " + host_name(rank) + " (rank " + match[1].str() + ", PID " + match[2].str() +
           ") " + match[3].str();
  }

  static std::string read_prefix(const std::filesystem::path& path, size_t limit) {
    std::ifstream file(path, std::ios::binary);
    if (!file) return "";
    std::string text(limit, '\0');
    file.read(text.data(), static_cast<std::streamsize>(limit));
    text.resize(static_cast<size_t>(file.gcount()));
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    return text;
  }

  void release_gpus() {
    if (!store_.require(name_).gpu_allocation.empty()) {
      store_.set_gpu_allocation(name_, {}, epoch_seconds());
    }
  }

  void record_times() {
    JobRecord record = store_.require(name_);
    if (!record.training_start_time || !record.training_end_time) return;
    double seconds = *record.training_end_time - *record.training_start_time;
    int64_t whole = std::max<int64_t>(1, static_cast<int64_t>(std::ceil(seconds)));
    store_.set_training_times(name_, whole, whole, epoch_seconds());
    const platform::InstanceType* type = platform::InstanceCatalog::builtin().find(
        spec_.resource_config->instance_type.value_or(""));
    if (type && type->price_usd_per_hour) {
      double cost = *type->price_usd_per_hour * double(whole) / 3600.0 * double(host_count());
      store_.set_estimated_cost(name_, cost, epoch_seconds());
    }
  }

  // ---- jobs whose earlier supervisor died -------------------------------------------
  JobRecord adopt(const JobRecord& record) {
    adopted_ = record.runner_process;
    gpu_indices_ = record.gpu_allocation;
    // The metrics are rebuilt from the whole log, including what the program wrote while no
    // supervisor watched; only the observer starts at the current end, having seen the rest.
    log_.read_new(nullptr, [&](const std::string& line) { metrics_->feed(line, epoch_seconds()); });
    metrics_->take_problems();
    log_.append_line("[trainyard] supervising the job again after its supervisor ended");
    return supervise();
  }

  JobRecord finish_stopped_before_start() {
    release_gpus();
    move_to(SecondaryStatus::kStopped, "Training job stopped");
    return store_.require(name_);
  }

  const RunContext& context_;
  JobService& service_;
  JobStore& store_;
  std::string name_;
  JobDirectory directory_;
  JobLog log_;
  TrainingJobSpec spec_;
  std::optional<MetricExtractor> metrics_;
  GpuAllocation gpu_indices_;
  std::optional<ChildProcess> child_;
  std::optional<RunnerProcess> adopted_;
};

}  // namespace

JobRecord run_job(const RunContext& context, const std::string& name) {
  return JobRun(context, name).run();
}

}  // namespace trainyard::jobs::detail
