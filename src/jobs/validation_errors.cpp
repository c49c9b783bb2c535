#include "jobs/validation_errors.h"

#include <algorithm>

namespace trainyard::jobs {

bool ValidationErrors::is_malformed_json() const {
  return std::any_of(violations_.begin(), violations_.end(),
                     [](const Violation& v) { return v.kind == Violation::Kind::kMalformedJson; });
}

std::string ValidationErrors::message() const {
  if (violations_.empty()) return {};
  if (is_malformed_json()) {
    for (const Violation& v : violations_) {
      if (v.kind == Violation::Kind::kMalformedJson) return v.message;
    }
  }
  std::string text = std::to_string(violations_.size());
  text +=
      violations_.size() == 1 ? " validation error detected: " : " validation errors detected: ";
  for (size_t i = 0; i < violations_.size(); ++i) {
    if (i > 0) text += "; ";
    text += violations_[i].message;
  }
  return text;
}

bool ValidationErrors::has_path(const std::string& path) const {
  return std::any_of(violations_.begin(), violations_.end(),
                     [&](const Violation& v) { return v.path == path; });
}

}  // namespace trainyard::jobs
