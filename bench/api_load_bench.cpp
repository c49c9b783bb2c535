// A bounded load test of `trainyard serve` on loopback: N concurrent CreateTrainingJob of short
// jobs (one thread and connection each), then M DescribeTrainingJob over C keep-alive
// connections (one thread each), every request SigV4-signed through server::ApiClient. Prints
// each phase's throughput and p50/p99 latency, then checks through ListTrainingJobs (every
// page) that exactly the N created jobs exist, each once, and that each ends Completed.
//
// Usage: api_load_bench TRAINYARD [--creates N] [--describes M] [--connections C]
// Starts the server itself on a fresh data directory under $TMPDIR and stops it at the end.
// Exit status 0 when no job was lost or duplicated and every request succeeded, 1 otherwise.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "bench_support.h"
#include "server/api_client.h"

namespace {

using trainyard::server::ApiClient;
using trainyard::server::ApiClientOptions;
using trainyard::server::Credential;
using Clock = std::chrono::steady_clock;

struct BenchArguments {
  std::string trainyard;
  int creates = 200;
  int describes = 10000;
  int connections = 16;
};

BenchArguments parse_arguments(CLI::App& app, int argc, char** argv) {
  BenchArguments arguments;
  app.add_option("trainyard", arguments.trainyard, "The trainyard program to serve with")
      ->required();
  app.add_option("--creates", arguments.creates, "Concurrent CreateTrainingJob calls")
      ->check(trainyard::bench::at_least(1));
  app.add_option("--describes", arguments.describes, "DescribeTrainingJob calls")
      ->check(trainyard::bench::at_least(1));
  app.add_option("--connections", arguments.connections, "Connections the describes share")
      ->check(trainyard::bench::at_least(1));
  trainyard::bench::parse_or_exit(app, argc, argv);
  return arguments;
}

void write_file(const std::filesystem::path& path, const std::string& text) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream(path) << text;
}

// Runs `command` through the shell and returns what it printed.
std::string output_of(const std::string& command) {
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) throw std::runtime_error("cannot run " + command);
  std::string text;
  char buffer[4096];
  while (size_t read = std::fread(buffer, 1, sizeof buffer, pipe)) text.append(buffer, read);
  if (::pclose(pipe) != 0) throw std::runtime_error(command + " failed: " + text);
  return text;
}

// `trainyard serve` on a free loopback port; the destructor stops it with SIGTERM.
class ServerProcess {
 public:
  ServerProcess(const std::string& trainyard, const std::filesystem::path& data_dir,
                const std::filesystem::path& credentials) {
    int pipe_ends[2];
    if (::pipe(pipe_ends) != 0) throw std::runtime_error("pipe failed");
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(pipe_ends[1], 1);
      ::close(pipe_ends[0]);
      ::execl(trainyard.c_str(), trainyard.c_str(), "serve", "--listen", "127.0.0.1:0",
              "--data-dir", data_dir.c_str(), "--credentials", credentials.c_str(),
              static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::close(pipe_ends[1]);
    std::string line;
    char c;
    while (::read(pipe_ends[0], &c, 1) == 1 && c != '\n') line += c;
    ::close(pipe_ends[0]);
    const std::string marker = " on ";
    size_t start = line.find(marker);
    if (start == std::string::npos) throw std::runtime_error("the server did not start: " + line);
    start += marker.size();
    endpoint_ = line.substr(start, line.find(' ', start) - start);
  }
  ~ServerProcess() {
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
  const std::string& endpoint() const { return endpoint_; }

 private:
  pid_t pid_ = -1;
  std::string endpoint_;
};

nlohmann::json short_job(const std::string& name) {
  auto channel = [](const char* channel_name, const char* uri) {
    return nlohmann::json{
        {"ChannelName", channel_name},
        {"DataSource", {{"S3DataSource", {{"S3DataType", "S3Prefix"}, {"S3Uri", uri}}}}}};
  };
  return {{"TrainingJobName", name},
          {"AlgorithmSpecification",
           {{"TrainingImage", "trainyard-keras"}, {"TrainingInputMode", "File"}}},
          {"RoleArn", "arn:aws:iam::123456789012:role/SageMakerRole"},
          {"HyperParameters", {{"sagemaker_program", "\"train.sh\""}}},
          {"InputDataConfig",
           {channel("code", "s3://code/quick/"), channel("training", "s3://data/train/")}},
          {"OutputDataConfig", {{"S3OutputPath", "s3://out/jobs"}}},
          {"ResourceConfig",
           {{"InstanceType", "ml.m5.large"}, {"InstanceCount", 1}, {"VolumeSizeInGB", 10}}},
          {"StoppingCondition", {{"MaxRuntimeInSeconds", 600}}}};
}

std::string job_name(int index) {
  char name[32];
  std::snprintf(name, sizeof name, "load-%05d", index);
  return name;
}

// What one phase measured: a latency per successful request, and the failures.
struct PhaseResult {
  std::vector<double> latencies_ms;
  std::vector<std::string> failures;
  double seconds = 0;
};

// Runs `requests` calls spread over `threads` threads, each with its own client (connection);
// call(client, i) makes request i.
template <typename Call>
PhaseResult run_phase(const ApiClientOptions& options, int threads, int requests, Call call) {
  std::vector<PhaseResult> per_thread(threads);
  std::atomic<int> ready{0};
  std::atomic<bool> go{false};
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      ApiClient client(options);
      ready.fetch_add(1);
      while (!go.load()) std::this_thread::yield();
      for (int i = t; i < requests; i += threads) {
        const Clock::time_point sent = Clock::now();
        try {
          call(client, i);
          per_thread[t].latencies_ms.push_back(
              std::chrono::duration<double, std::milli>(Clock::now() - sent).count());
        } catch (const std::exception& error) {
          per_thread[t].failures.push_back(error.what());
        }
      }
    });
  }
  while (ready.load() < threads) std::this_thread::yield();
  const Clock::time_point start = Clock::now();
  go.store(true);
  for (std::thread& worker : workers) worker.join();
  PhaseResult result;
  result.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  for (PhaseResult& part : per_thread) {
    result.latencies_ms.insert(result.latencies_ms.end(), part.latencies_ms.begin(),
                               part.latencies_ms.end());
    result.failures.insert(result.failures.end(), part.failures.begin(), part.failures.end());
  }
  std::sort(result.latencies_ms.begin(), result.latencies_ms.end());
  return result;
}

double percentile(const std::vector<double>& sorted, double fraction) {
  if (sorted.empty()) return 0;
  size_t index = static_cast<size_t>(fraction * double(sorted.size() - 1) + 0.5);
  return sorted[std::min(index, sorted.size() - 1)];
}

bool report(const char* phase, const PhaseResult& result, int threads) {
  std::printf(
      "%-20s %6zu ok %4zu failed  %8.0f req/s  p50 %7.2f ms  p99 %7.2f ms  (%d connections)\n",
      phase, result.latencies_ms.size(), result.failures.size(),
      double(result.latencies_ms.size()) / result.seconds, percentile(result.latencies_ms, 0.50),
      percentile(result.latencies_ms, 0.99), threads);
  for (size_t i = 0; i < std::min<size_t>(result.failures.size(), 5); ++i) {
    std::printf("  failure: %s\n", result.failures[i].c_str());
  }
  return result.failures.empty();
}

// Every job whose name starts "load-", through every ListTrainingJobs page: name -> statuses
// seen (more than one entry means the job was listed twice).
std::map<std::string, std::vector<std::string>> list_every_job(const ApiClient& client) {
  std::map<std::string, std::vector<std::string>> jobs;
  nlohmann::json request = {{"NameContains", "load-"}, {"MaxResults", 100}};
  while (true) {
    nlohmann::json page = client.call("ListTrainingJobs", request);
    for (const auto& summary : page.at("TrainingJobSummaries")) {
      jobs[summary.at("TrainingJobName")].push_back(summary.at("TrainingJobStatus"));
    }
    if (!page.contains("NextToken")) return jobs;
    request["NextToken"] = page["NextToken"];
  }
}

// Checks that exactly jobs load-00000 .. load-<creates-1> exist, each once, and waits (up to
// two minutes) for all of them to end; returns whether each ended Completed.
bool verify_jobs(const ApiClient& client, int creates) {
  std::set<std::string> expected;
  for (int i = 0; i < creates; ++i) expected.insert(job_name(i));
  const Clock::time_point deadline = Clock::now() + std::chrono::minutes(2);
  while (true) {
    std::map<std::string, std::vector<std::string>> jobs = list_every_job(client);
    std::set<std::string> listed;
    int in_progress = 0;
    int completed = 0;
    for (const auto& [name, statuses] : jobs) {
      listed.insert(name);
      if (statuses.size() != 1) {
        std::printf("duplicated: %s listed %zu times\n", name.c_str(), statuses.size());
        return false;
      }
      in_progress += statuses[0] == "InProgress";
      completed += statuses[0] == "Completed";
    }
    if (listed != expected) {
      std::printf("lost or extra jobs: %zu listed, %d created\n", listed.size(), creates);
      return false;
    }
    if (in_progress == 0) {
      std::printf("jobs: %d listed once each, %d Completed, %d ended otherwise\n", creates,
                  completed, creates - completed);
      return completed == creates;
    }
    if (Clock::now() > deadline) {
      std::printf("%d jobs still InProgress after two minutes\n", in_progress);
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
}

int run(const BenchArguments& arguments) {
  char root_template[] = "/tmp/trainyard-load-XXXXXX";
  if (::mkdtemp(root_template) == nullptr) throw std::runtime_error("mkdtemp failed");
  const std::filesystem::path root = root_template;
  const std::filesystem::path data_dir = root / "data";
  write_file(data_dir / "s3/data/train/a.csv", "1,2\n");
  write_file(data_dir / "s3/code/quick/train.sh",
             "#!/bin/sh\necho 'loss=0.25'\nmkdir -p \"$SM_MODEL_DIR\"\n"
             "echo weights > \"$SM_MODEL_DIR/model.txt\"\n");
  const std::filesystem::path credentials = root / "credentials.json";
  nlohmann::json keys = nlohmann::json::parse(
      output_of(arguments.trainyard + " credentials create --file " + credentials.string()));

  bool passed = false;
  {
    ServerProcess server(arguments.trainyard, data_dir, credentials);
    ApiClientOptions options;
    options.endpoint = server.endpoint();
    options.credential = Credential{keys.at("AccessKeyId"), keys.at("SecretAccessKey")};
    options.keep_alive = true;
    std::printf("server %s, %d creates, %d describes over %d connections\n",
                server.endpoint().c_str(), arguments.creates, arguments.describes,
                arguments.connections);

    PhaseResult created = run_phase(options, arguments.creates, arguments.creates,
                                    [](const ApiClient& client, int i) {
                                      client.call("CreateTrainingJob", short_job(job_name(i)));
                                    });
    const bool creates_ok = report("CreateTrainingJob", created, arguments.creates);
    PhaseResult described = run_phase(
        options, arguments.connections, arguments.describes,
        [&arguments](const ApiClient& client, int i) {
          nlohmann::json job = client.call("DescribeTrainingJob",
                                           {{"TrainingJobName", job_name(i % arguments.creates)}});
          if (job.at("TrainingJobName") != job_name(i % arguments.creates)) {
            throw std::runtime_error("described the wrong job");
          }
        });
    const bool describes_ok = report("DescribeTrainingJob", described, arguments.connections);
    const bool jobs_ok = verify_jobs(ApiClient(options), arguments.creates);
    passed = creates_ok && describes_ok && jobs_ok;
  }
  std::filesystem::remove_all(root);
  std::printf("%s\n", passed ? "PASSED: no job lost or duplicated" : "FAILED");
  return passed ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("A bounded load test of trainyard serve on loopback", "api_load_bench");
  const BenchArguments arguments = parse_arguments(app, argc, argv);
  try {
    return run(arguments);
  } catch (const std::exception& error) {
    std::cerr << "api_load_bench: " << error.what() << '\n';
    return 2;
  }
}
