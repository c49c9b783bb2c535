// Helpers shared by the job-spec tests: test documents and short ways to parse them.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "jobs/job_spec_parse.h"

namespace trainyard::jobs::testing {

inline std::filesystem::path source_dir() {
  if (const char* dir = std::getenv("TRAINYARD_SOURCE_DIR")) return dir;
  return TRAINYARD_JOBS_SOURCE_DIR;
}

inline std::string read_text(const std::filesystem::path& path) {
  std::ifstream file(path, std::ios::binary);
  EXPECT_TRUE(file.good()) << "cannot open " << path;
  std::stringstream buffer;
  buffer << file.rdbuf();
  return buffer.str();
}

// tests/jobs/testdata/<name> as text.
inline std::string testdata_text(const std::string& name) {
  return read_text(source_dir() / "tests" / "jobs" / "testdata" / name);
}

inline nlohmann::json testdata_json(const std::string& name) {
  return nlohmann::json::parse(testdata_text(name));
}

// The SageMaker GPU guide's example request, which must parse.
inline nlohmann::json seed_request() {
  return testdata_json("seed_job.json");
}

// The violations of `request`; fails the test when it parses.
inline ValidationErrors errors_of(const std::string& text, const ParseOptions& options = {}) {
  ParseResult result = parse_create_training_job(text, options);
  if (result.ok()) {
    ADD_FAILURE() << "expected violations, but the request parsed: " << text.substr(0, 400);
    return {};
  }
  return result.errors();
}
inline ValidationErrors errors_of(const nlohmann::json& request, const ParseOptions& options = {}) {
  return errors_of(request.dump(), options);
}

// The item texts, in order.
inline std::vector<std::string> messages(const ValidationErrors& errors) {
  std::vector<std::string> out;
  for (const Violation& v : errors.violations()) out.push_back(v.message);
  return out;
}

// The one violation of `request`; fails the test when there is not exactly one.
inline std::string single_message(const nlohmann::json& request, const ParseOptions& options = {}) {
  const ValidationErrors errors = errors_of(request, options);
  EXPECT_EQ(errors.size(), 1u) << errors.message();
  return errors.empty() ? "" : errors.violations().front().message;
}

// The spec of `request`; fails the test (and returns an empty spec) when it does not parse.
inline TrainingJobSpec spec_of(const std::string& text, const ParseOptions& options = {}) {
  ParseResult result = parse_create_training_job(text, options);
  if (!result.ok()) {
    ADD_FAILURE() << result.errors().message();
    return {};
  }
  return result.spec();
}
inline TrainingJobSpec spec_of(const nlohmann::json& request, const ParseOptions& options = {}) {
  return spec_of(request.dump(), options);
}

// prefix followed by the decimal digits of number ("c7"). Written out rather than as
// "c" + std::to_string(n), which trips a false -Wrestrict in GCC 12.
inline std::string numbered(const char* prefix, int number) {
  std::string text(prefix);
  text += std::to_string(number);
  return text;
}

// "Value '<value>' at '<path>' failed to satisfy constraint: <phrase>", written out here so
// tests state AWS's format independently of the code under test.
inline std::string aws_item(const std::string& value, const std::string& path,
                            const std::string& phrase) {
  return "Value '" + value + "' at '" + path + "' failed to satisfy constraint: " + phrase;
}

}  // namespace trainyard::jobs::testing
