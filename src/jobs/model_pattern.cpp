#include "jobs/model_pattern.h"

#include <algorithm>
#include <cstdint>
#include <optional>

#include "core/error.h"
#include "jobs/unicode_tables.h"
#include "jobs/utf8.h"

namespace trainyard::jobs {
namespace {

constexpr char32_t kMaxCodePoint = 0x10FFFF;
// Bounds the size of a compiled program ({n,m} repeats are expanded); the model's largest
// pattern compiles to about a thousand instructions.
constexpr size_t kMaxProgramSize = 100000;

using CharSet = ModelPattern::CharSet;

CharSet single(char32_t c) {
  return CharSet{.ranges = {{c, c}}};
}

// The complement of sorted or unsorted ranges over [0, U+10FFFF].
std::vector<std::pair<char32_t, char32_t>> complement(
    std::vector<std::pair<char32_t, char32_t>> ranges) {
  std::sort(ranges.begin(), ranges.end());
  std::vector<std::pair<char32_t, char32_t>> out;
  char32_t next = 0;
  bool done = false;
  for (const auto& [first, last] : ranges) {
    if (first > next) out.emplace_back(next, first - 1);
    if (last >= kMaxCodePoint) {
      done = true;
      break;
    }
    next = std::max(next, static_cast<char32_t>(last + 1));
  }
  if (!done) out.emplace_back(next, kMaxCodePoint);
  return out;
}

// One node of the parsed pattern.
struct Node {
  enum class Kind { kEmpty, kSet, kConcat, kAlternate, kRepeat, kAssertNotAfter };
  Kind kind = Kind::kEmpty;
  int set = -1;
  std::vector<Node> children;
  int min = 0;
  int max = -1;  // -1: unbounded
};

}  // namespace

bool CharSet::contains(char32_t code_point) const {
  bool inside = false;
  for (const auto& [first, last] : ranges) {
    if (code_point >= first && code_point <= last) {
      inside = true;
      break;
    }
  }
  for (size_t i = 0; !inside && i < categories.size(); ++i) {
    switch (categories[i]) {
      case Category::kLetter:
        inside = detail::in_ranges(detail::unicode_letter_ranges(), code_point);
        break;
      case Category::kNumber:
        inside = detail::in_ranges(detail::unicode_number_ranges(), code_point);
        break;
      case Category::kSeparator:
        inside = detail::in_ranges(detail::unicode_separator_ranges(), code_point);
        break;
      case Category::kNotLetter:
        inside = !detail::in_ranges(detail::unicode_letter_ranges(), code_point);
        break;
      case Category::kNotNumber:
        inside = !detail::in_ranges(detail::unicode_number_ranges(), code_point);
        break;
      case Category::kNotSeparator:
        inside = !detail::in_ranges(detail::unicode_separator_ranges(), code_point);
        break;
    }
  }
  return inside != negated;
}

// Recursive-descent parser over the pattern's code points, then code generation.
class ModelPattern::Compiler {
 public:
  Compiler(ModelPattern& out, std::vector<char32_t> pattern)
      : out_(out), pattern_(std::move(pattern)) {}

  void compile() {
    Node root = parse_alternation();
    if (pos_ != pattern_.size()) fail("unbalanced ')'");
    emit(root);
    out_.program_.push_back({.op = Op::kMatch});
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw ValueError("model pattern '" + out_.text_ + "': " + what + " at offset " +
                     std::to_string(pos_));
  }
  bool at_end() const { return pos_ >= pattern_.size(); }
  char32_t peek(size_t ahead = 0) const {
    return pos_ + ahead < pattern_.size() ? pattern_[pos_ + ahead] : 0;
  }
  bool accept(char32_t c) {
    if (!at_end() && pattern_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }

  int add_set(CharSet set) {
    out_.sets_.push_back(std::move(set));
    return static_cast<int>(out_.sets_.size()) - 1;
  }
  Node set_node(CharSet set) {
    return Node{.kind = Node::Kind::kSet, .set = add_set(std::move(set))};
  }

  Node parse_alternation() {
    Node first = parse_concat();
    if (peek() != U'|') return first;
    Node alternate{.kind = Node::Kind::kAlternate};
    alternate.children.push_back(std::move(first));
    while (accept(U'|')) alternate.children.push_back(parse_concat());
    return alternate;
  }

  Node parse_concat() {
    Node concat{.kind = Node::Kind::kConcat};
    while (!at_end() && peek() != U'|' && peek() != U')') concat.children.push_back(parse_repeat());
    return concat;
  }

  int parse_number() {
    if (at_end() || peek() < U'0' || peek() > U'9') fail("expected a number in {}");
    int value = 0;
    while (!at_end() && peek() >= U'0' && peek() <= U'9') {
      value = value * 10 + static_cast<int>(pattern_[pos_++] - U'0');
      if (value > 100000) fail("repeat count too large");
    }
    return value;
  }

  Node parse_repeat() {
    Node atom = parse_atom();
    int min = -2, max = -1;
    if (accept(U'*')) {
      min = 0;
    } else if (accept(U'+')) {
      min = 1;
    } else if (accept(U'?')) {
      min = 0, max = 1;
    } else if (accept(U'{')) {
      min = parse_number();
      max = min;
      if (accept(U',')) max = peek() == U'}' ? -1 : parse_number();
      if (!accept(U'}')) fail("expected '}'");
      if (max != -1 && max < min) fail("{n,m} with m < n");
    }
    if (min == -2) return atom;
    if (atom.kind == Node::Kind::kAssertNotAfter) fail("quantified look-behind");
    accept(U'?');  // lazy: same set of full matches
    if (peek() == U'+' || peek() == U'*' || peek() == U'{') fail("unsupported repeated quantifier");
    Node repeat{.kind = Node::Kind::kRepeat, .min = min, .max = max};
    repeat.children.push_back(std::move(atom));
    return repeat;
  }

  Node parse_atom() {
    if (at_end()) fail("unexpected end");
    const char32_t c = pattern_[pos_];
    if (c == U'(') {
      ++pos_;
      if (accept(U'?')) {
        if (accept(U':')) {
          // non-capturing group: same as a group for matching
        } else if (accept(U'<') && accept(U'!')) {
          CharSet set = parse_single_set();
          if (!accept(U')')) fail("look-behind must hold one character or class");
          return Node{.kind = Node::Kind::kAssertNotAfter, .set = add_set(std::move(set))};
        } else {
          fail("unsupported group construct");
        }
      }
      Node inner = parse_alternation();
      if (!accept(U')')) fail("expected ')'");
      return inner;
    }
    if (c == U'^') {
      if (pos_ != 0) fail("'^' is supported only at the start");
      ++pos_;
      return Node{};
    }
    if (c == U'$') {
      if (pos_ + 1 != pattern_.size()) fail("'$' is supported only at the end");
      ++pos_;
      return Node{};
    }
    if (c == U'*' || c == U'+' || c == U'?' || c == U'{') fail("quantifier without operand");
    return set_node(parse_single_set());
  }

  // One character, escape, class or '.', as a set.
  CharSet parse_single_set() {
    if (at_end()) fail("unexpected end");
    const char32_t c = pattern_[pos_];
    if (c == U'[') return parse_class();
    if (c == U'.') {
      ++pos_;
      return CharSet{.ranges = {{U'\n', U'\n'}, {U'\r', U'\r'}, {0x85, 0x85}, {0x2028, 0x2029}},
                     .negated = true};
    }
    if (c == U'\\') return parse_escape();
    ++pos_;
    return single(c);
  }

  // After a backslash: a shorthand class, a \p{..} property, a control escape or a literal.
  CharSet parse_escape() {
    ++pos_;  // the backslash
    if (at_end()) fail("trailing backslash");
    const char32_t c = pattern_[pos_++];
    switch (c) {
      case U'd':
        return CharSet{.ranges = {{U'0', U'9'}}};
      case U'D':
        return CharSet{.ranges = complement({{U'0', U'9'}})};
      case U'w':
        return CharSet{.ranges = word_ranges()};
      case U'W':
        return CharSet{.ranges = complement(word_ranges())};
      case U's':
        return CharSet{.ranges = space_ranges()};
      case U'S':
        return CharSet{.ranges = complement(space_ranges())};
      case U't':
        return single(U'\t');
      case U'n':
        return single(U'\n');
      case U'r':
        return single(U'\r');
      case U'f':
        return single(U'\f');
      case U'p':
        return parse_property(false);
      case U'P':
        return parse_property(true);
      default:
        if ((c >= U'a' && c <= U'z') || (c >= U'A' && c <= U'Z') || (c >= U'0' && c <= U'9')) {
          --pos_;
          fail("unsupported escape");
        }
        return single(c);
    }
  }

  static std::vector<std::pair<char32_t, char32_t>> word_ranges() {
    return {{U'0', U'9'}, {U'A', U'Z'}, {U'_', U'_'}, {U'a', U'z'}};
  }
  static std::vector<std::pair<char32_t, char32_t>> space_ranges() {
    return {{U'\t', U'\r'}, {U' ', U' '}};  // \t \n \x0B \f \r and space
  }

  CharSet parse_property(bool negated) {
    if (!accept(U'{')) fail("expected '{' after \\p");
    std::string name;
    while (!at_end() && peek() != U'}') name.push_back(static_cast<char>(pattern_[pos_++]));
    if (!accept(U'}')) fail("expected '}'");
    using Category = CharSet::Category;
    CharSet set;
    if (name == "L") {
      set.categories = {negated ? Category::kNotLetter : Category::kLetter};
      return set;
    }
    if (name == "N") {
      set.categories = {negated ? Category::kNotNumber : Category::kNumber};
      return set;
    }
    if (name == "Z") {
      set.categories = {negated ? Category::kNotSeparator : Category::kSeparator};
      return set;
    }
    // POSIX classes: ASCII only, as in java.util.regex without UNICODE_CHARACTER_CLASS.
    if (name == "Alnum") {
      set.ranges = {{U'0', U'9'}, {U'A', U'Z'}, {U'a', U'z'}};
    } else if (name == "Alpha") {
      set.ranges = {{U'A', U'Z'}, {U'a', U'z'}};
    } else if (name == "Digit") {
      set.ranges = {{U'0', U'9'}};
    } else {
      fail("unsupported property \\p{" + name + "}");
    }
    if (negated) set.ranges = complement(set.ranges);
    return set;
  }

  // '[' already current. Unions of members; negated members are folded into ranges or
  // categories so one flat set results.
  CharSet parse_class() {
    ++pos_;  // '['
    CharSet set;
    set.negated = accept(U'^');
    bool first = true;
    while (true) {
      if (at_end()) fail("unterminated class");
      const char32_t c = peek();
      if (c == U']' && !first) {
        ++pos_;
        break;
      }
      if (c == U'[' || (c == U'&' && peek(1) == U'&')) fail("nested classes are unsupported");
      first = false;
      CharSet member;
      std::optional<char32_t> low;
      if (c == U'\\') {
        member = parse_escape();
        if (member.categories.empty() && member.ranges.size() == 1 && !member.negated &&
            member.ranges[0].first == member.ranges[0].second) {
          low = member.ranges[0].first;
        }
      } else {
        ++pos_;
        low = c;
        member = single(c);
      }
      if (low && peek() == U'-' && peek(1) != U']' && pos_ + 1 < pattern_.size()) {
        ++pos_;  // '-'
        char32_t high;
        if (peek() == U'\\') {
          CharSet end = parse_escape();
          if (!end.categories.empty() || end.ranges.size() != 1 ||
              end.ranges[0].first != end.ranges[0].second) {
            fail("class range must end in one character");
          }
          high = end.ranges[0].first;
        } else {
          high = pattern_[pos_++];
        }
        if (high < *low) fail("reversed class range");
        member = CharSet{.ranges = {{*low, high}}};
      }
      set.ranges.insert(set.ranges.end(), member.ranges.begin(), member.ranges.end());
      set.categories.insert(set.categories.end(), member.categories.begin(),
                            member.categories.end());
    }
    return set;
  }

  void push(Instruction instruction) {
    if (out_.program_.size() >= kMaxProgramSize) fail("pattern compiles to too many instructions");
    out_.program_.push_back(instruction);
  }
  int here() const { return static_cast<int>(out_.program_.size()); }

  void emit(const Node& node) {
    switch (node.kind) {
      case Node::Kind::kEmpty:
        return;
      case Node::Kind::kSet:
        push({.op = Op::kChar, .set = node.set});
        return;
      case Node::Kind::kAssertNotAfter:
        push({.op = Op::kAssertNotAfter, .set = node.set});
        return;
      case Node::Kind::kConcat:
        for (const Node& child : node.children) emit(child);
        return;
      case Node::Kind::kAlternate: {
        std::vector<int> jumps_to_end;
        for (size_t i = 0; i < node.children.size(); ++i) {
          if (i + 1 == node.children.size()) {
            emit(node.children[i]);
            break;
          }
          const int split = here();
          push({.op = Op::kSplit, .x = split + 1});
          emit(node.children[i]);
          jumps_to_end.push_back(here());
          push({.op = Op::kJump});
          out_.program_[split].y = here();
        }
        for (int jump : jumps_to_end) out_.program_[jump].x = here();
        return;
      }
      case Node::Kind::kRepeat: {
        const Node& child = node.children[0];
        for (int i = 0; i < node.min; ++i) emit(child);
        if (node.max == -1) {
          const int split = here();
          push({.op = Op::kSplit, .x = split + 1});
          emit(child);
          push({.op = Op::kJump, .x = split});
          out_.program_[split].y = here();
          return;
        }
        std::vector<int> splits;
        for (int i = node.min; i < node.max; ++i) {
          splits.push_back(here());
          push({.op = Op::kSplit, .x = here() + 1});
          emit(child);
        }
        for (int split : splits) out_.program_[split].y = here();
        return;
      }
    }
  }

  ModelPattern& out_;
  std::vector<char32_t> pattern_;
  size_t pos_ = 0;
};

ModelPattern::ModelPattern(std::string_view pattern) : text_(pattern) {
  auto code_points = detail::decode_utf8(pattern);
  if (!code_points) throw ValueError("model pattern is not valid UTF-8: " + text_);
  Compiler(*this, std::move(*code_points)).compile();
}

bool ModelPattern::full_match(std::string_view utf8_text) const {
  const auto code_points = detail::decode_utf8(utf8_text);
  return code_points && full_match(*code_points);
}

bool ModelPattern::full_match(const std::vector<char32_t>& input) const {
  const size_t size = program_.size();
  std::vector<int> current, next, stack;
  current.reserve(size), next.reserve(size), stack.reserve(size);
  // added_at[pc] == generation + 1 when pc is already in the list being built.
  std::vector<size_t> added_at(size, 0);

  // Adds pc and everything reachable from it without consuming input, at input position pos.
  auto add_thread = [&](std::vector<int>& list, int start_pc, size_t pos) {
    stack.push_back(start_pc);
    while (!stack.empty()) {
      const int pc = stack.back();
      stack.pop_back();
      if (added_at[pc] == pos + 1) continue;
      added_at[pc] = pos + 1;
      const Instruction& instruction = program_[pc];
      switch (instruction.op) {
        case Op::kJump:
          stack.push_back(instruction.x);
          break;
        case Op::kSplit:
          stack.push_back(instruction.y);
          stack.push_back(instruction.x);
          break;
        case Op::kAssertNotAfter:
          if (pos == 0 || !sets_[instruction.set].contains(input[pos - 1])) stack.push_back(pc + 1);
          break;
        case Op::kChar:
        case Op::kMatch:
          list.push_back(pc);
          break;
      }
    }
  };

  add_thread(current, 0, 0);
  for (size_t pos = 0; pos < input.size(); ++pos) {
    if (current.empty()) return false;  // every thread died: no need to read further
    next.clear();
    for (int pc : current) {
      const Instruction& instruction = program_[pc];
      if (instruction.op == Op::kChar && sets_[instruction.set].contains(input[pos])) {
        add_thread(next, pc + 1, pos + 1);
      }
    }
    std::swap(current, next);
  }
  return std::any_of(current.begin(), current.end(),
                     [&](int pc) { return program_[pc].op == Op::kMatch; });
}

namespace detail {

bool in_ranges(const std::vector<CodePointRange>& ranges, char32_t code_point) {
  auto it =
      std::upper_bound(ranges.begin(), ranges.end(), code_point,
                       [](char32_t value, const CodePointRange& r) { return value < r.first; });
  if (it == ranges.begin()) return false;
  --it;
  return code_point <= it->last;
}

}  // namespace detail
}  // namespace trainyard::jobs
