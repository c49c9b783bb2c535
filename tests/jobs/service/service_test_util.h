// A JobService on a temporary data directory and fake GPUs, and the job requests the service
// tests run: small shell programs in a `code` channel, run as SageMaker script mode runs
// them (the sagemaker_program hyperparameter).
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>

#include "jobs/job_spec_parse.h"
#include "jobs/service/job_service.h"
#include "platform/fake_gpu_inventory.h"

namespace trainyard::jobs {

// A fresh directory under $TMPDIR (or /tmp), removed with everything in it at scope exit.
class ServiceTempDir {
 public:
  ServiceTempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string pattern =
        std::string(base != nullptr ? base : "/tmp") + "/trainyard-service-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = std::filesystem::canonical(pattern);
  }
  ServiceTempDir(const ServiceTempDir&) = delete;
  ServiceTempDir& operator=(const ServiceTempDir&) = delete;
  ~ServiceTempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

inline std::string read_file_text(const std::filesystem::path& path) {
  std::ifstream file(path, std::ios::binary);
  std::stringstream buffer;
  buffer << file.rdbuf();
  return buffer.str();
}

inline void write_file_text(const std::filesystem::path& path, const std::string& text) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  file << text;
}

// Options for tests: short polls and a short stop grace, so stops take a fraction of a second.
inline JobServiceOptions test_service_options(const std::filesystem::path& data_dir) {
  JobServiceOptions options;
  options.data_dir = data_dir;
  options.poll_interval = std::chrono::milliseconds(20);
  options.stop_grace = std::chrono::milliseconds(500);
  return options;
}

// A CreateTrainingJob request that runs `script` (a /bin/sh program) from the `code`
// channel, with a `training` channel holding data.csv, on `instance_type`.
inline nlohmann::json script_job_request(const std::string& name,
                                         const std::string& instance_type) {
  return {{"TrainingJobName", name},
          {"AlgorithmSpecification",
           {{"TrainingImage", "trainyard-keras"}, {"TrainingInputMode", "File"}}},
          {"HyperParameters",
           {{"sagemaker_program", "\"train.sh\""}, {"epochs", "3"}, {"learning_rate", "0.5"}}},
          {"InputDataConfig",
           {{{"ChannelName", "code"},
             {"DataSource",
              {{"S3DataSource",
                {{"S3DataType", "S3Prefix"}, {"S3Uri", "s3://code-bucket/" + name + "/"}}}}}},
            {{"ChannelName", "training"},
             {"DataSource",
              {{"S3DataSource",
                {{"S3DataType", "S3Prefix"}, {"S3Uri", "s3://data-bucket/training/"}}}}}}}},
          {"OutputDataConfig", {{"S3OutputPath", "s3://output-bucket/jobs"}}},
          {"ResourceConfig",
           {{"InstanceType", instance_type}, {"InstanceCount", 1}, {"VolumeSizeInGB", 30}}},
          {"StoppingCondition", {{"MaxRuntimeInSeconds", 600}}}};
}

inline TrainingJobSpec parse_spec(const nlohmann::json& request) {
  ParseResult result = parse_create_training_job(request.dump());
  if (!result.ok()) throw std::runtime_error(result.errors().message());
  return result.spec();
}

// A service over a temporary data directory whose object store holds the `training`
// channel's data; each test adds its job's program with put_program.
class JobServiceFixture : public ::testing::Test {
 protected:
  void SetUp() override { put_object("data-bucket/training/data.csv", "1,2\n3,4\n"); }

  // The service on `gpus` (default: a host without GPUs), created on first use.
  JobService& service(const platform::GpuInventory* gpus = nullptr) {
    if (!service_) {
      gpus_ = gpus ? nullptr
                   : std::make_unique<platform::FakeGpuInventory>(
                         platform::FakeGpuInventory::without_gpus("no driver"));
      service_ = std::make_unique<JobService>(test_service_options(directory_.path()),
                                              gpus ? *gpus : *gpus_);
    }
    return *service_;
  }

  void put_object(const std::string& bucket_and_key, const std::string& content) {
    write_file_text(directory_.path() / "s3" / bucket_and_key, content);
  }
  // The program of job `name`: s3://code-bucket/<name>/train.sh.
  void put_program(const std::string& name, const std::string& script) {
    put_object("code-bucket/" + name + "/train.sh", script);
  }
  std::filesystem::path object_path(const std::string& bucket_and_key) const {
    return directory_.path() / "s3" / bucket_and_key;
  }

  JobRecord submit_and_run(const nlohmann::json& request, const RunObserver& observer = {}) {
    TrainingJobSpec spec = parse_spec(request);
    service().submit(spec);
    return service().run(spec.training_job_name, observer);
  }

  // Polls the store until `predicate` holds for job `name` (at most 20 s).
  bool wait_until(const std::string& name, const std::function<bool(const JobRecord&)>& predicate) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (std::chrono::steady_clock::now() < deadline) {
      std::optional<JobRecord> record = service().store().get(name);
      if (record && predicate(*record)) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }

  ServiceTempDir directory_;
  std::unique_ptr<platform::FakeGpuInventory> gpus_;
  std::unique_ptr<JobService> service_;
};

}  // namespace trainyard::jobs
