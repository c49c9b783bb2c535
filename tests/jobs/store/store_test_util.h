// Helpers shared by the job store tests: a scratch directory per test and valid specs.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "jobs/job_spec_parse.h"
#include "jobs/store/job_store.h"

namespace trainyard::jobs::testing {

// A fresh directory under the system's temp directory, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "trainyard_store_XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) ADD_FAILURE() << "mkdtemp failed for " << pattern;
    path_ = pattern;
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

inline std::string testdata_text(const std::string& name) {
  const char* env = std::getenv("TRAINYARD_SOURCE_DIR");
  const std::filesystem::path root = env != nullptr ? env : TRAINYARD_JOBS_SOURCE_DIR;
  std::ifstream file(root / "tests" / "jobs" / "testdata" / name, std::ios::binary);
  EXPECT_TRUE(file.good()) << "cannot open testdata " << name;
  std::stringstream buffer;
  buffer << file.rdbuf();
  return buffer.str();
}

// prefix followed by the number ("m" + std::to_string(i) trips GCC 12's -Wrestrict at -O3).
inline std::string numbered(std::string prefix, int number) {
  prefix += std::to_string(number);
  return prefix;
}

// tests/jobs/testdata/<file> parsed, renamed to `name`.
inline TrainingJobSpec spec_from(const std::string& file, const std::string& name) {
  nlohmann::json request = nlohmann::json::parse(testdata_text(file));
  request["TrainingJobName"] = name;
  ParseResult result = validate_create_training_job(request);
  EXPECT_TRUE(result.ok()) << (result.ok() ? "" : result.errors().message());
  return result.ok() ? result.spec() : TrainingJobSpec{};
}

// The SageMaker guide's small GPU request, named `name`.
inline TrainingJobSpec small_spec(const std::string& name) {
  return spec_from("seed_job.json", name);
}

// A request that uses nearly every member of the model, named `name`.
inline TrainingJobSpec full_spec(const std::string& name) {
  return spec_from("full_job.json", name);
}

}  // namespace trainyard::jobs::testing
