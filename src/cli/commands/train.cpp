// `trainyard train job.json`: runs a CreateTrainingJob request on this host. Validates it
// (every violation at once, in AWS's wording), refuses it when it can never run here, then
// supervises it in the foreground, streaming its log, and ends with a summary. --detach
// leaves it to a background supervisor instead. --endpoint sends it to a running `trainyard
// serve` and follows it there.
#include <cstdio>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "cli/commands/commands.h"
#include "cli/job_cli.h"
#include "core/error.h"
#include "jobs/job_spec_parse.h"
#include "server/api_client.h"

namespace trainyard::cli {
namespace {

struct TrainArguments {
  std::string job_file;
  std::string name;  // replaces TrainingJobName, so one job file can run many times
  std::string data_dir;
  bool detach = false;
  bool quiet = false;
  std::string endpoint;
};

std::string read_file(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) throw IOError("cannot read job file '" + path + "'");
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

void print_summary(const jobs::JobRecord& record, const jobs::JobService& service) {
  std::cout << "\nTraining job " << record.name << ": " << jobs::to_string(record.status);
  if (record.secondary_status != jobs::SecondaryStatus::kCompleted &&
      record.secondary_status != jobs::SecondaryStatus::kFailed) {
    std::cout << " (" << jobs::to_string(record.secondary_status) << ")";
  }
  std::cout << '\n';
  if (record.failure_reason) std::cout << "  FailureReason: " << *record.failure_reason << '\n';
  for (const jobs::FinalMetric& metric : record.final_metrics) {
    std::cout << "  " << metric.name << ": " << metric.value << '\n';
  }
  if (record.model_artifacts) {
    std::cout << "  Model artifacts: " << *record.model_artifacts << '\n';
    std::cout << "  (object store: " << service.object_store().root().string() << ")\n";
  }
  if (record.training_time_in_seconds) {
    std::cout << "  Training time: " << *record.training_time_in_seconds << " s, billable "
              << record.billable_time_in_seconds.value_or(0) << " s\n";
  }
  if (record.estimated_cost) {
    std::cout << "  Estimated cost: $" << std::fixed << std::setprecision(4)
              << *record.estimated_cost << " at on-demand prices\n";
  } else {
    std::cout << "  Estimated cost: unknown (no price for "
              << (record.spec.resource_config
                      ? record.spec.resource_config->instance_type.value_or("its instance type")
                      : "its instance type")
              << ")\n";
  }
}

// CreateTrainingJob on a server, then DescribeTrainingJob every second until the job ends,
// printing each new secondary status.
int run_remote(const TrainArguments& arguments, const std::string& text) {
  nlohmann::json request = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!request.is_object()) {
    throw ValueError(arguments.job_file + " is not a JSON object (a CreateTrainingJob request)");
  }
  server::ApiClient client(server::ApiClientOptions::from_environment(arguments.endpoint));
  client.call("CreateTrainingJob", request);
  const std::string name = request.value("TrainingJobName", "");
  if (arguments.detach) {
    std::cout << name << '\n';
    return 0;
  }
  std::string shown;
  for (;;) {
    nlohmann::json job = client.call("DescribeTrainingJob", {{"TrainingJobName", name}});
    const std::string status = job.value("TrainingJobStatus", "");
    const std::string secondary = job.value("SecondaryStatus", "");
    if (secondary != shown && !arguments.quiet) std::cout << name << ": " << secondary << '\n';
    shown = secondary;
    if (status == "Completed" || status == "Failed" || status == "Stopped") {
      std::cout << "\nTraining job " << name << ": " << status << '\n';
      if (job.contains("FailureReason")) {
        std::cout << "  FailureReason: " << job["FailureReason"].get<std::string>() << '\n';
      }
      for (const nlohmann::json& metric : job.value("FinalMetricDataList", nlohmann::json())) {
        std::cout << "  " << metric.value("MetricName", "") << ": " << metric.value("Value", 0.0)
                  << '\n';
      }
      if (job.contains("ModelArtifacts")) {
        std::cout << "  Model artifacts: " << job["ModelArtifacts"].value("S3ModelArtifacts", "")
                  << '\n';
      }
      return status == "Completed" ? 0 : status == "Stopped" ? 3 : 1;
    }
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
}

int run_train(const TrainArguments& arguments) {
  std::string text = read_file(arguments.job_file);
  if (!arguments.name.empty()) {
    nlohmann::json request = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (request.is_object()) {
      request["TrainingJobName"] = arguments.name;
      text = request.dump();
    }
  }
  if (!arguments.endpoint.empty()) return run_remote(arguments, text);
  jobs::ParseResult parsed = jobs::parse_create_training_job(text);
  if (!parsed) {
    std::cerr << "trainyard: " << arguments.job_file << ": " << parsed.errors().message() << '\n';
    return 2;
  }
  JobCli cli(arguments.data_dir);
  cli.reconcile();
  std::vector<std::string> warnings;
  jobs::JobRecord record = cli.service().submit(parsed.spec(), &warnings);
  for (const std::string& warning : warnings)
    std::cerr << "trainyard: warning: " << warning << '\n';
  if (arguments.detach) {
    cli.start_detached_supervisor(record.name);
    std::cout << record.name << '\n';
    return 0;
  }
  jobs::RunObserver observer;
  if (!arguments.quiet) {
    observer.on_log = [](std::string_view bytes) {
      std::cout.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
      std::cout.flush();
    };
  }
  jobs::JobRecord final_record = cli.service().run(record.name, observer);
  print_summary(final_record, cli.service());
  switch (final_record.status) {
    case jobs::TrainingJobStatus::kCompleted:
      return 0;
    case jobs::TrainingJobStatus::kStopped:
      return 3;
    default:
      return 1;
  }
}

}  // namespace

void add_train_command(CLI::App& app) {
  auto arguments = std::make_shared<TrainArguments>();
  CLI::App* command = app.add_subcommand(
      "train", "Run a training job defined like a SageMaker CreateTrainingJob request");
  command->add_option("job", arguments->job_file, "The job's JSON file")->required();
  command->add_option("--data-dir", arguments->data_dir,
                      "Where trainyard keeps jobs and the object store (default: "
                      "$TRAINYARD_DATA_DIR or ~/.trainyard)");
  command->add_option("--name", arguments->name,
                      "Run under this TrainingJobName instead of the file's");
  command->add_flag("--detach", arguments->detach,
                    "Return at once; the job runs in the background");
  command->add_flag("--quiet", arguments->quiet, "Print only the summary");
  command->add_option("--endpoint", arguments->endpoint,
                      "Send the job to a trainyard server at this URL (signed with "
                      "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY when set)");
  command->callback([arguments] {
    int code = run_train(*arguments);
    if (code != 0) throw CLI::RuntimeError(code);
  });
}

}  // namespace trainyard::cli
