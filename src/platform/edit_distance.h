// Edit distance, for "did you mean ...?" suggestions on misspelt names.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace trainyard::platform {

// Levenshtein distance (insertions, deletions, substitutions), ignoring ASCII case.
std::size_t edit_distance(std::string_view a, std::string_view b);

// Up to `count` of `candidates` nearest to `query` by edit_distance, nearest first; ties
// keep the candidates' order.
std::vector<std::string> closest_names(std::string_view query,
                                       const std::vector<std::string>& candidates,
                                       std::size_t count = 3);

}  // namespace trainyard::platform
