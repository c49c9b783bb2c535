#include "jobs/store/job_record.h"

#include <cmath>

namespace trainyard::jobs {
namespace {

constexpr std::string_view kReplacementCharacter = "\xEF\xBF\xBD";  // U+FFFD

// Length of the well-formed UTF-8 sequence at the start of `text` (1..4), or 0 when it is
// not one (stray continuation byte, overlong form, surrogate, above U+10FFFF, truncated).
size_t well_formed_sequence_length(std::string_view text) {
  const auto byte = [&](size_t i) { return static_cast<unsigned char>(text[i]); };
  const unsigned char lead = byte(0);
  if (lead < 0x80) return 1;
  size_t length = 0;
  unsigned char low = 0x80, high = 0xBF;  // allowed range of the second byte
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) low = 0xA0;   // overlong
    if (lead == 0xED) high = 0x9F;  // surrogates
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) low = 0x90;   // overlong
    if (lead == 0xF4) high = 0x8F;  // above U+10FFFF
  } else {
    return 0;
  }
  if (text.size() < length) return 0;
  if (byte(1) < low || byte(1) > high) return 0;
  for (size_t i = 2; i < length; ++i) {
    if (byte(i) < 0x80 || byte(i) > 0xBF) return 0;
  }
  return length;
}

}  // namespace

bool FinalMetric::operator==(const FinalMetric& other) const {
  const bool same_value = value == other.value || (std::isnan(value) && std::isnan(other.value));
  return name == other.name && same_value && timestamp == other.timestamp;
}

JobRecord new_job_record(const TrainingJobSpec& spec, double creation_time) {
  JobRecord record;
  record.name = spec.training_job_name;
  record.spec = spec;
  record.status = TrainingJobStatus::kInProgress;
  record.secondary_status = SecondaryStatus::kStarting;
  record.transitions.push_back({.status = SecondaryStatus::kStarting,
                                .start_time = creation_time,
                                .end_time = std::nullopt,
                                .status_message = "Starting the training job"});
  record.creation_time = creation_time;
  record.last_modified_time = creation_time;
  record.tags = spec.tags;
  return record;
}

std::string training_job_arn(std::string_view region, std::string_view account,
                             std::string_view name) {
  std::string arn = "arn:aws:sagemaker:";
  arn.append(region).append(":").append(account).append(":training-job/").append(name);
  return arn;
}

std::string sanitize_text(std::string_view text, size_t max_length) {
  std::string out;
  out.reserve(std::min(text.size(), max_length));
  size_t units = 0;  // UTF-16 code units so far
  size_t i = 0;
  while (i < text.size()) {
    const size_t length = well_formed_sequence_length(text.substr(i));
    const std::string_view piece = length == 0 ? kReplacementCharacter : text.substr(i, length);
    const size_t piece_units = length == 4 ? 2 : 1;  // above U+FFFF: a surrogate pair
    if (units + piece_units > max_length) break;
    out.append(piece);
    units += piece_units;
    i += length == 0 ? 1 : length;
  }
  return out;
}

}  // namespace trainyard::jobs
