// Reading a CreateTrainingJob request (a trainyard job file or an HTTP body) into a
// TrainingJobSpec, and writing one back. What is checked is listed in README.md here.
#pragma once

#include <nlohmann/json.hpp>
#include <string_view>
#include <variant>

#include "jobs/job_spec.h"
#include "jobs/validation_errors.h"

namespace trainyard::jobs {

struct ParseOptions {
  // Members the model does not define are errors naming their path. True for job files, where
  // an unknown member is a typo; the SageMaker HTTP API sets false (newer SDKs send newer
  // members), and then unknown members are dropped. Default: true.
  bool reject_unknown_fields = true;
  // RoleArn must be given, as AWS requires. Job files run under the user's own identity and
  // may leave it out; when given it is validated either way. Default: false.
  bool require_role_arn = false;
  // file:///absolute/path is accepted wherever the model takes an S3Uri (channel data, output
  // path, checkpoints, Debugger/TensorBoard/profiler outputs). Default: true.
  bool allow_file_uris = true;
};

// Either a spec that satisfies every constraint or the violations found (never both).
class ParseResult {
 public:
  ParseResult(TrainingJobSpec spec) : value_(std::move(spec)) {}       // NOLINT: implicit by design
  ParseResult(ValidationErrors errors) : value_(std::move(errors)) {}  // NOLINT

  bool ok() const { return std::holds_alternative<TrainingJobSpec>(value_); }
  explicit operator bool() const { return ok(); }

  // REQUIRES: ok(). Throws InternalError otherwise.
  const TrainingJobSpec& spec() const;
  TrainingJobSpec& spec();
  // REQUIRES: !ok(). Throws InternalError otherwise.
  const ValidationErrors& errors() const;

 private:
  std::variant<TrainingJobSpec, ValidationErrors> value_;
};

// Parses and validates `json_text`. Never throws: malformed JSON, wrong JSON types and every
// violated constraint come back as ValidationErrors, all of them at once.
ParseResult parse_create_training_job(std::string_view json_text, const ParseOptions& options = {});

// Validates an already-parsed request (duplicate JSON keys can no longer be detected here).
// Never throws.
ParseResult validate_create_training_job(const nlohmann::json& request,
                                         const ParseOptions& options = {});

// The request JSON for `spec`, with the model's member names; absent optionals and empty lists
// and maps are left out. parse_create_training_job(to_json(spec)) gives back `spec`.
nlohmann::json to_json(const TrainingJobSpec& spec);

}  // namespace trainyard::jobs
