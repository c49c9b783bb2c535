// Patterns from SageMaker's service model, matched the way AWS's Java service matches them.
//
// The model writes constraints as java.util.regex patterns (e.g.
// `[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}`,
// `([\p{L}\p{Z}\p{N}_.:/=+\-@]*)`, `...{0,62})(?<!-)`) and AWS applies them as a full match.
// std::regex knows neither \p{..} nor look-behind and backtracks, so this is a small engine for
// the subset the model uses, compiled to a Pike VM: linear in the input, no recursion on input.
//
// Supported: literals and escapes, `.` (any code point but Java's line terminators \n \r U+0085
// U+2028 U+2029), classes `[...]` with ranges and negation, \d \D \w \W \s \S, \p{L} \p{N} \p{Z}
// \p{Alnum} \p{Alpha} \p{Digit} and their \P negations, groups `(...)` and `(?:...)`,
// alternation, the quantifiers * + ? {n} {n,} {n,m} (a trailing lazy `?` is accepted: it does not
// change what fully matches), a `(?<!c)` look-behind of one character or class, and `^` / `$` at
// the very ends (a full match is implied anyway). Anything else is rejected at compile time.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace trainyard::jobs {

class ModelPattern {
 public:
  // Compiles `pattern`. Throws ValueError naming the offending position for constructs outside
  // the supported subset; the patterns in trainyard's tables are compiled by the tests.
  explicit ModelPattern(std::string_view pattern);

  // True when all of `utf8_text` matches the pattern. Text that is not well-formed UTF-8 never
  // matches. Thread-safe (const, no shared mutable state).
  bool full_match(std::string_view utf8_text) const;
  // True when the whole code point sequence matches.
  bool full_match(const std::vector<char32_t>& code_points) const;

  // The pattern as given to the constructor.
  const std::string& text() const { return text_; }

  // Exposed for tests of the engine: a set of code points (a class, a literal, or `.`).
  struct CharSet {
    enum class Category { kLetter, kNumber, kSeparator, kNotLetter, kNotNumber, kNotSeparator };
    std::vector<std::pair<char32_t, char32_t>> ranges;  // inclusive
    std::vector<Category> categories;
    bool negated = false;
    bool contains(char32_t code_point) const;
  };

 private:
  enum class Op { kChar, kSplit, kJump, kAssertNotAfter, kMatch };
  struct Instruction {
    Op op;
    int set = -1;  // index into sets_ for kChar and kAssertNotAfter
    int x = -1;    // jump target (kJump, kSplit first choice)
    int y = -1;    // kSplit second choice
  };
  class Compiler;

  std::string text_;
  std::vector<CharSet> sets_;
  std::vector<Instruction> program_;
};

}  // namespace trainyard::jobs
