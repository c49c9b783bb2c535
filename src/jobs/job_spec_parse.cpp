// Entry points: text -> JSON (with positions for syntax errors, duplicate keys and a nesting
// limit) -> TrainingJobSpec or ValidationErrors. Nothing escapes as an exception.
#include "jobs/job_spec_parse.h"

#include <exception>
#include <set>

#include "core/error.h"
#include "jobs/job_spec_read.h"
#include "jobs/utf8.h"

namespace trainyard::jobs {
namespace {

using detail::Json;

// A CreateTrainingJob request nests about six levels; anything far deeper is not a request
// and is refused before it can cost stack or time.
constexpr size_t kMaxNesting = 64;

struct NestingTooDeep {};

// Where a syntax error is, from the byte count nlohmann reports: 1-based line, and column in
// code points.
std::pair<size_t, size_t> line_and_column(std::string_view text, size_t bytes_read) {
  const size_t offset = std::min(bytes_read == 0 ? 0 : bytes_read - 1, text.size());
  size_t line = 1, line_start = 0;
  for (size_t i = 0; i < offset; ++i) {
    if (text[i] == '\n') ++line, line_start = i + 1;
  }
  const size_t column = detail::count_code_points(text.substr(line_start, offset - line_start)) + 1;
  return {line, column};
}

// nlohmann's description without its "[json.exception...] parse error at ...: " prefix.
std::string describe_parse_error(const std::string& what) {
  const size_t column = what.find("column ");
  if (column != std::string::npos) {
    const size_t colon = what.find(": ", column);
    if (colon != std::string::npos) return what.substr(colon + 2);
  }
  const size_t bracket = what.find("] ");
  return bracket == std::string::npos ? what : what.substr(bracket + 2);
}

Violation malformed(std::string message) {
  return {.kind = Violation::Kind::kMalformedJson, .path = "", .message = std::move(message)};
}

// Tracks the path of the value being parsed, to name duplicate keys where they occur.
class DuplicateKeyFinder {
 public:
  explicit DuplicateKeyFinder(ValidationErrors& errors) : errors_(errors) {}

  bool on_event(Json::parse_event_t event, const Json& parsed) {
    switch (event) {
      case Json::parse_event_t::object_start:
      case Json::parse_event_t::array_start:
        if (frames_.size() >= kMaxNesting) throw NestingTooDeep{};
        frames_.push_back(
            {.is_object = event == Json::parse_event_t::object_start, .path = child_path()});
        break;
      case Json::parse_event_t::key: {
        Frame& frame = frames_.back();
        frame.key = parsed.get<std::string>();
        if (!frame.keys.insert(frame.key).second) {
          const std::string where = frame.path.empty() ? "the request" : "'" + frame.path + "'";
          errors_.add({.kind = Violation::Kind::kDuplicateMember,
                       .path = detail::member_path(frame.path, frame.key),
                       .message = "Duplicate member '" + frame.key + "' in " + where +
                                  ": a JSON object may give each member only once"});
        }
        break;
      }
      case Json::parse_event_t::object_end:
      case Json::parse_event_t::array_end:
        frames_.pop_back();
        finish_value();
        break;
      case Json::parse_event_t::value:
        finish_value();
        break;
    }
    return true;
  }

 private:
  struct Frame {
    bool is_object = false;
    std::string path;
    std::set<std::string> keys;
    std::string key;   // the member being read (objects)
    size_t index = 0;  // the element being read (arrays)
  };

  std::string child_path() const {
    if (frames_.empty()) return "";
    const Frame& parent = frames_.back();
    return parent.is_object ? detail::member_path(parent.path, parent.key)
                            : detail::element_path(parent.path, parent.index);
  }
  void finish_value() {
    if (!frames_.empty() && !frames_.back().is_object) ++frames_.back().index;
  }

  ValidationErrors& errors_;
  std::vector<Frame> frames_;
};

ValidationErrors validate(const Json& request, const ParseOptions& options, ValidationErrors errors,
                          TrainingJobSpec& spec) {
  if (!request.is_object()) {
    errors.add({.kind = Violation::Kind::kType,
                .path = "",
                .message = "The request must be a JSON object, not " +
                           detail::describe_json_type(request)});
    return errors;
  }
  detail::Context context(options, errors);
  detail::ObjectReader reader(context, request, "", "CreateTrainingJobRequest");
  spec = detail::read_training_job_request(reader);
  reader.finish();
  return errors;
}

ParseResult finish(ValidationErrors errors, TrainingJobSpec spec) {
  if (!errors.empty()) return ParseResult(std::move(errors));
  return ParseResult(std::move(spec));
}

}  // namespace

const TrainingJobSpec& ParseResult::spec() const {
  TY_CHECK(ok(), "ParseResult::spec() called on a failed parse");
  return std::get<TrainingJobSpec>(value_);
}

TrainingJobSpec& ParseResult::spec() {
  TY_CHECK(ok(), "ParseResult::spec() called on a failed parse");
  return std::get<TrainingJobSpec>(value_);
}

const ValidationErrors& ParseResult::errors() const {
  TY_CHECK(!ok(), "ParseResult::errors() called on a successful parse");
  return std::get<ValidationErrors>(value_);
}

ParseResult parse_create_training_job(std::string_view json_text, const ParseOptions& options) {
  ValidationErrors errors;
  try {
    Json request;
    try {
      DuplicateKeyFinder finder(errors);
      request = Json::parse(
          json_text.begin(), json_text.end(),
          [&finder](int, Json::parse_event_t event, Json& parsed) {
            return finder.on_event(event, parsed);
          },
          /*allow_exceptions=*/true, /*ignore_comments=*/false);
    } catch (const Json::parse_error& error) {
      const auto [line, column] = line_and_column(json_text, error.byte);
      ValidationErrors syntax;
      syntax.add(malformed("Malformed JSON at line " + std::to_string(line) + ", column " +
                           std::to_string(column) + ": " +
                           detail::printable_ascii(describe_parse_error(error.what()))));
      return ParseResult(std::move(syntax));
    } catch (const NestingTooDeep&) {
      ValidationErrors nesting;
      nesting.add(malformed("Malformed request: JSON nested deeper than " +
                            std::to_string(kMaxNesting) + " levels"));
      return ParseResult(std::move(nesting));
    }
    TrainingJobSpec spec;
    errors = validate(request, options, std::move(errors), spec);
    return finish(std::move(errors), std::move(spec));
  } catch (const std::exception& error) {
    ValidationErrors failure;
    failure.add(malformed(std::string("Could not read the request: ") + error.what()));
    return ParseResult(std::move(failure));
  }
}

ParseResult validate_create_training_job(const nlohmann::json& request,
                                         const ParseOptions& options) {
  try {
    TrainingJobSpec spec;
    ValidationErrors errors = validate(request, options, ValidationErrors{}, spec);
    return finish(std::move(errors), std::move(spec));
  } catch (const std::exception& error) {
    ValidationErrors failure;
    failure.add(malformed(std::string("Could not read the request: ") + error.what()));
    return ParseResult(std::move(failure));
  }
}

}  // namespace trainyard::jobs
