// Everything wrong with a CreateTrainingJob request, reported at once in AWS's wording:
//   1 validation error detected: Value 'my_job' at 'trainingJobName' failed to satisfy
//   constraint: Member must satisfy regular expression pattern: ^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}
// Items are joined with "; " after "N validation errors detected: ".
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace trainyard::jobs {

// One problem with one member of a request.
struct Violation {
  enum class Kind {
    kConstraint,       // a model or trainyard constraint: null, length, pattern, enum, range, rule
    kType,             // the JSON type is wrong (a string where a number belongs, ...)
    kUnknownMember,    // a member the model does not define (strict parsing only)
    kDuplicateMember,  // a JSON object names the same member twice
    kMalformedJson,    // the text is not JSON at all; then it is the only violation
  };
  Kind kind = Kind::kConstraint;
  // The member, as AWS writes it: lowerCamelCase, dotted, list items as `<i>.member` with i
  // counted from 1 (inputDataConfig.1.member.channelName). Empty for the request as a whole.
  std::string path;
  // The complete item text ("Value '0' at 'resourceConfig.instanceCount' failed to ...").
  std::string message;
  bool operator==(const Violation&) const = default;
};

// The violations of one request, in a stable order: duplicate JSON keys first (found while
// reading the text), then the model's member order, depth first; within a structure, its
// members' own checks, then its cross-member rules, then its unknown members (in key order).
class ValidationErrors {
 public:
  void add(Violation violation) { violations_.push_back(std::move(violation)); }

  bool empty() const { return violations_.empty(); }
  size_t size() const { return violations_.size(); }
  const std::vector<Violation>& violations() const { return violations_; }

  // True when the request was not readable as JSON (the wire maps this to
  // SerializationException instead of ValidationException).
  bool is_malformed_json() const;

  // The message AWS would send: "1 validation error detected: <item>" or "N validation errors
  // detected: <item>; <item>". For malformed JSON, that violation's text alone. Empty when
  // there are no violations.
  std::string message() const;

  // True when some violation's path equals `path` (handy in tests and for UIs).
  bool has_path(const std::string& path) const;

 private:
  std::vector<Violation> violations_;
};

}  // namespace trainyard::jobs
