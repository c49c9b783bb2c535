// `trainyard describe NAME`, `trainyard list`, `trainyard logs NAME [--follow]` and
// `trainyard stop NAME`: the SageMaker job APIs on the local store, or with --endpoint on a
// running `trainyard serve` (describe, list and stop).
#include <chrono>
#include <fstream>
#include <iostream>
#include <thread>

#include "cli/commands/commands.h"
#include "cli/job_cli.h"
#include "cli/text_table.h"
#include "core/error.h"
#include "jobs/runners/log_follower.h"
#include "jobs/service/describe.h"
#include "jobs/service/supervision_lock.h"
#include "server/api_client.h"

namespace trainyard::cli {
namespace {

struct QueryArguments {
  std::string name;
  std::string data_dir;
  bool follow = false;
  bool json = false;
  std::string status;
  std::string name_contains;
  int max_results = 100;
  std::string endpoint;  // a trainyard server instead of the local store
};

server::ApiClient api_client(const QueryArguments& arguments) {
  return server::ApiClient(server::ApiClientOptions::from_environment(arguments.endpoint));
}

void describe(const QueryArguments& arguments) {
  if (!arguments.endpoint.empty()) {
    nlohmann::json job =
        api_client(arguments).call("DescribeTrainingJob", {{"TrainingJobName", arguments.name}});
    std::cout << job.dump(2) << '\n';
    return;
  }
  JobCli cli(arguments.data_dir);
  cli.reconcile();
  jobs::JobRecord record = cli.service().store().require(arguments.name);
  std::cout << jobs::describe_training_job(record).dump(2) << '\n';
}

void list_remote(const QueryArguments& arguments) {
  nlohmann::json request = {{"SortOrder", "Descending"}, {"MaxResults", arguments.max_results}};
  if (!arguments.status.empty()) request["StatusEquals"] = arguments.status;
  if (!arguments.name_contains.empty()) request["NameContains"] = arguments.name_contains;
  nlohmann::json page = api_client(arguments).call("ListTrainingJobs", request);
  if (arguments.json) {
    std::cout << page.dump(2) << '\n';
    return;
  }
  TextTable table({"NAME", "STATUS", "SECONDARY", "CREATED"});
  for (const nlohmann::json& job : page.value("TrainingJobSummaries", nlohmann::json::array())) {
    table.add_row({job.value("TrainingJobName", ""), job.value("TrainingJobStatus", ""),
                   job.value("SecondaryStatus", ""), format_time(job.value("CreationTime", 0.0))});
  }
  table.print(std::cout);
}

void list(const QueryArguments& arguments) {
  if (!arguments.endpoint.empty()) return list_remote(arguments);
  JobCli cli(arguments.data_dir);
  cli.reconcile();
  jobs::ListQuery query;
  query.sort_order = jobs::ListSortOrder::kDescending;
  query.max_results = arguments.max_results;
  if (!arguments.status.empty()) {
    query.status_equals = jobs::parse_training_job_status(arguments.status);
    if (!query.status_equals) {
      throw ValueError(
          "--status must be InProgress, Completed, Failed, Stopping or Stopped, got '" +
          arguments.status + "'");
    }
  }
  if (!arguments.name_contains.empty()) query.name_contains = arguments.name_contains;
  jobs::ListPage page = cli.service().store().list(query);
  if (arguments.json) {
    nlohmann::ordered_json summaries = nlohmann::ordered_json::array();
    for (const jobs::JobSummary& summary : page.jobs) {
      summaries.push_back(jobs::training_job_summary(cli.service().store().require(summary.name)));
    }
    nlohmann::ordered_json response = {{"TrainingJobSummaries", summaries}};
    if (page.next_token) response["NextToken"] = *page.next_token;
    std::cout << response.dump(2) << '\n';
    return;
  }
  TextTable table({"NAME", "STATUS", "SECONDARY", "CREATED"});
  for (const jobs::JobSummary& summary : page.jobs) {
    jobs::JobRecord record = cli.service().store().require(summary.name);
    table.add_row({summary.name, std::string(jobs::to_string(summary.status)),
                   std::string(jobs::to_string(summary.secondary_status)),
                   format_time(record.creation_time)});
  }
  table.print(std::cout);
}

void logs(const QueryArguments& arguments) {
  JobCli cli(arguments.data_dir);
  jobs::JobRecord record = cli.service().store().require(arguments.name);
  jobs::LogFollower follower(cli.service().directory(record.name).log_file());
  for (;;) {
    for (jobs::LogChunk chunk = follower.read(); !chunk.bytes.empty(); chunk = follower.read()) {
      std::cout.write(chunk.bytes.data(), static_cast<std::streamsize>(chunk.bytes.size()));
    }
    std::cout.flush();
    if (!arguments.follow) return;
    if (jobs::is_terminal(cli.service().store().require(record.name).status)) {
      for (jobs::LogChunk chunk = follower.read(); !chunk.bytes.empty(); chunk = follower.read()) {
        std::cout.write(chunk.bytes.data(), static_cast<std::streamsize>(chunk.bytes.size()));
      }
      std::cout.flush();
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

void stop(const QueryArguments& arguments) {
  if (!arguments.endpoint.empty()) {
    api_client(arguments).call("StopTrainingJob", {{"TrainingJobName", arguments.name}});
    std::cout << "Stopping training job " << arguments.name << '\n';
    return;
  }
  JobCli cli(arguments.data_dir);
  jobs::JobRecord record = cli.service().store().require(arguments.name);
  cli.service().stop(record.name);
  // Without a live supervisor nobody would act on the request: start one.
  if (!jobs::SupervisionLock::held_by_someone(cli.service().directory(record.name).root())) {
    cli.start_detached_supervisor(record.name);
  }
  std::cout << "Stopping training job " << record.name << '\n';
}

CLI::App* with_common(CLI::App* command, QueryArguments& arguments) {
  command->add_option("--data-dir", arguments.data_dir,
                      "Where trainyard keeps jobs (default: $TRAINYARD_DATA_DIR or ~/.trainyard)");
  return command;
}

// describe, list and stop can also ask a running server (signed with the AWS_* keys).
CLI::App* with_endpoint(CLI::App* command, QueryArguments& arguments) {
  command->add_option("--endpoint", arguments.endpoint,
                      "A trainyard server's URL; requests are signed with AWS_ACCESS_KEY_ID and "
                      "AWS_SECRET_ACCESS_KEY when set");
  return command;
}

}  // namespace

void add_job_query_commands(CLI::App& app) {
  auto arguments = std::make_shared<QueryArguments>();
  CLI::App* describe_command = with_endpoint(
      with_common(app.add_subcommand("describe", "Print a job as DescribeTrainingJob returns it"),
                  *arguments),
      *arguments);
  describe_command->add_option("name", arguments->name, "Training job name")->required();
  describe_command->callback([arguments] { describe(*arguments); });

  CLI::App* list_command = with_endpoint(
      with_common(app.add_subcommand("list", "List training jobs, newest first"), *arguments),
      *arguments);
  list_command->add_option("--status", arguments->status, "Only jobs in this status");
  list_command->add_option("--name-contains", arguments->name_contains,
                           "Only jobs whose name contains this");
  list_command->add_option("--max-results", arguments->max_results, "At most this many (1-100)")
      ->check(CLI::Range(1, 100));
  list_command->add_flag("--json", arguments->json, "ListTrainingJobs' JSON");
  list_command->callback([arguments] { list(*arguments); });

  CLI::App* logs_command = with_common(app.add_subcommand("logs", "Print a job's log"), *arguments);
  logs_command->add_option("name", arguments->name, "Training job name")->required();
  logs_command->add_flag("--follow,-f", arguments->follow, "Keep printing until the job ends");
  logs_command->callback([arguments] { logs(*arguments); });

  CLI::App* stop_command = with_endpoint(
      with_common(app.add_subcommand("stop", "Stop a running job (StopTrainingJob)"), *arguments),
      *arguments);
  stop_command->add_option("name", arguments->name, "Training job name")->required();
  stop_command->callback([arguments] { stop(*arguments); });
}

}  // namespace trainyard::cli
