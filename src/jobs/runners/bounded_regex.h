// BoundedRegex: std::regex (ECMAScript) searches whose cost is capped, for regexes that users
// write (MetricDefinitions) run over text that programs print.
//
// std::regex backtracks: `(a+)+b` takes time exponential in the length of a line of a's, and
// libstdc++ recurses once or more per character matched, so a long line can overflow the
// stack. Capping the line length alone does not help against the first. So each search
//   - looks at no more than max_text_bytes bytes of the text;
//   - runs on iterators that count the engine's steps (each read of a character, each move,
//     each comparison of positions) and abandon the search past max_steps;
//   - abandons it too when the engine's recursion has used max_stack_bytes of stack, or
//     would come within 512 KiB of the end of the calling thread's stack;
// and compile() refuses a pattern whose counted repetitions ({n,m}) would expand beyond
// kMaxExpandedAtoms, because libstdc++ copies the repeated part n or m times and walks such
// copies recursively between two steps.
//
// Costs measured on this project's 2-core build machine are in runners/README.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <regex>
#include <string>
#include <string_view>

namespace trainyard::jobs {

struct BoundedRegexLimits {
  size_t max_text_bytes = 2048;      // a longer text is searched in its first bytes only
  uint64_t max_steps = 4'000'000;    // engine steps per search
  size_t max_stack_bytes = 4 << 20;  // stack the engine may use per search
};

// Atoms a pattern may have once its {n,m} repetitions are multiplied out.
inline constexpr size_t kMaxExpandedAtoms = 1000;

class BoundedRegex {
 public:
  enum class Outcome { kMatch, kNoMatch, kTooCostly };
  struct Result {
    Outcome outcome = Outcome::kNoMatch;
    // The first capture group's text when it took part in a match.
    std::optional<std::string> first_group;
  };

  // Compiles `pattern` as ECMAScript. Throws ValueError with the reason ("unbalanced
  // parenthesis", "repetition counts expand it to about N atoms, more than 1000") when it is
  // not a valid ECMAScript regex or is refused.
  explicit BoundedRegex(const std::string& pattern, BoundedRegexLimits limits = {});

  // Finds the first (leftmost) match in `text`, as std::regex_search does. Thread-safe.
  Result search(std::string_view text) const;

  // Number of capture groups in the pattern.
  size_t capture_groups() const { return regex_.mark_count(); }

 private:
  std::regex regex_;
  BoundedRegexLimits limits_;
};

// The estimate compile() checks: atoms in `pattern` with each {n,m} repetition multiplied out
// (saturating at SIZE_MAX). Exposed for tests.
size_t expanded_atom_count(std::string_view pattern);

}  // namespace trainyard::jobs
