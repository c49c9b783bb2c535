#include "platform/accelerator.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <vector>

#include "core/error.h"

namespace trainyard::platform {
namespace {

// Lower-cased runs of letters and digits: "NVIDIA Tesla K80 (GK210)" -> nvidia tesla k80 gk210.
std::vector<std::string> words_of(std::string_view text) {
  std::vector<std::string> words;
  std::string current;
  for (char c : text) {
    if (std::isalnum(static_cast<unsigned char>(c))) {
      current.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    } else if (!current.empty()) {
      words.push_back(std::move(current));
      current.clear();
    }
  }
  if (!current.empty()) words.push_back(std::move(current));
  return words;
}

bool parse_non_negative_int(std::string_view text, int& value) {
  if (text.empty()) return false;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  return error == std::errc() && end == text.data() + text.size() && value >= 0;
}

}  // namespace

std::string_view accelerator_kind_name(AcceleratorKind kind) {
  switch (kind) {
    case AcceleratorKind::kNone:
      return "none";
    case AcceleratorKind::kNvidiaGpu:
      return "nvidia_gpu";
    case AcceleratorKind::kTrainium:
      return "trainium";
    case AcceleratorKind::kInferentia:
      return "inferentia";
  }
  return "none";
}

ComputeCapability ComputeCapability::parse(std::string_view text) {
  ComputeCapability result;
  auto dot = text.find('.');
  if (dot == std::string_view::npos || !parse_non_negative_int(text.substr(0, dot), result.major) ||
      !parse_non_negative_int(text.substr(dot + 1), result.minor)) {
    throw ValueError("compute capability '" + std::string(text) +
                     "' is not of the form major.minor (e.g. 8.6)");
  }
  return result;
}

std::string ComputeCapability::to_string() const {
  return std::to_string(major) + "." + std::to_string(minor);
}

bool AcceleratorModel::matches(std::string_view query) const {
  auto wanted = words_of(query);
  if (wanted.empty()) return false;
  auto have = words_of(name);
  return std::all_of(wanted.begin(), wanted.end(), [&](const std::string& word) {
    return std::find(have.begin(), have.end(), word) != have.end();
  });
}

}  // namespace trainyard::platform
