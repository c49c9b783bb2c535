#include "jobs/runners/bounded_regex.h"

#include <pthread.h>

#include <algorithm>
#include <iterator>
#include <limits>
#include <vector>

#include "core/error.h"

namespace trainyard::jobs {
namespace {

constexpr uintptr_t kStackReserve = uintptr_t{512} << 10;  // left for unwinding and callees

// The budget of one search, shared by every copy of its iterators.
struct SearchGuard {
  uint64_t steps_left = 0;
  uintptr_t lowest_frame = 0;  // the stack grows down; abandon below this address
};

struct Abandoned {};

// A pointer into the searched text that charges a step for every read, move and comparison
// the regex engine makes, and checks how deep the engine has recursed.
class GuardedIterator {
 public:
  using iterator_category = std::bidirectional_iterator_tag;
  using value_type = char;
  using difference_type = std::ptrdiff_t;
  using pointer = const char*;
  using reference = const char&;

  GuardedIterator() = default;
  GuardedIterator(const char* position, SearchGuard* guard) : position_(position), guard_(guard) {}
  // Copies are charged too: the engine copies the position into a capture group at each '('
  // and ')', and a path through empty groups does nothing else.
  GuardedIterator(const GuardedIterator& other) : position_(other.position_), guard_(other.guard_) {
    spend();
  }
  GuardedIterator& operator=(const GuardedIterator& other) {
    position_ = other.position_;
    guard_ = other.guard_;
    spend();
    return *this;
  }

  reference operator*() const {
    spend();
    return *position_;
  }
  pointer operator->() const {
    spend();
    return position_;
  }
  GuardedIterator& operator++() {
    spend();
    ++position_;
    return *this;
  }
  GuardedIterator operator++(int) {
    GuardedIterator before = *this;
    ++*this;
    return before;
  }
  GuardedIterator& operator--() {
    spend();
    --position_;
    return *this;
  }
  GuardedIterator operator--(int) {
    GuardedIterator before = *this;
    --*this;
    return before;
  }
  friend bool operator==(const GuardedIterator& a, const GuardedIterator& b) {
    a.spend();
    return a.position_ == b.position_;
  }
  friend bool operator!=(const GuardedIterator& a, const GuardedIterator& b) { return !(a == b); }

  const char* base() const { return position_; }

 private:
  void spend() const {
    if (guard_ == nullptr) return;  // iterators the engine default-constructs
    if (guard_->steps_left == 0) throw Abandoned{};
    --guard_->steps_left;
    if (reinterpret_cast<uintptr_t>(__builtin_frame_address(0)) < guard_->lowest_frame) {
      throw Abandoned{};
    }
  }

  const char* position_ = nullptr;
  SearchGuard* guard_ = nullptr;
};

// The lowest usable address of the calling thread's stack, or 0 if unknown.
uintptr_t thread_stack_bottom() {
  thread_local const uintptr_t bottom = [] {
    pthread_attr_t attributes;
    if (pthread_getattr_np(pthread_self(), &attributes) != 0) return uintptr_t{0};
    void* address = nullptr;
    size_t size = 0;
    const int error = pthread_attr_getstack(&attributes, &address, &size);
    pthread_attr_destroy(&attributes);
    return error == 0 ? reinterpret_cast<uintptr_t>(address) : uintptr_t{0};
  }();
  return bottom;
}

size_t saturating_add(size_t a, size_t b) {
  return a > std::numeric_limits<size_t>::max() - b ? std::numeric_limits<size_t>::max() : a + b;
}

size_t saturating_multiply(size_t a, size_t b) {
  if (a != 0 && b > std::numeric_limits<size_t>::max() / a) {
    return std::numeric_limits<size_t>::max();
  }
  return a * b;
}

// Parses "{n}", "{n,}" or "{n,m}" at pattern[start]; returns how many copies of the repeated
// atom libstdc++ builds (m, n + 1 for an open range, n) and sets `end` to the '}'.
std::optional<size_t> repetition_copies(std::string_view pattern, size_t start, size_t& end) {
  size_t i = start + 1;
  const auto number = [&]() -> std::optional<size_t> {
    const size_t first = i;
    size_t value = 0;
    while (i < pattern.size() && pattern[i] >= '0' && pattern[i] <= '9') {
      value = saturating_add(saturating_multiply(value, 10), static_cast<size_t>(pattern[i] - '0'));
      ++i;
    }
    if (i == first) return std::nullopt;
    return value;
  };
  const std::optional<size_t> low = number();
  if (!low) return std::nullopt;
  size_t copies = *low;
  if (i < pattern.size() && pattern[i] == ',') {
    ++i;
    const std::optional<size_t> high = number();
    copies = high ? std::max(*low, *high) : saturating_add(*low, 1);
  }
  if (i >= pattern.size() || pattern[i] != '}') return std::nullopt;
  end = i;
  return std::max<size_t>(copies, 1);
}

}  // namespace

size_t expanded_atom_count(std::string_view pattern) {
  struct Group {
    size_t total = 0;
    size_t last = 0;  // the size of the last atom or group, which a quantifier repeats
  };
  std::vector<Group> groups(1);
  const auto add_atom = [&](size_t size) {
    groups.back().total = saturating_add(groups.back().total, size);
    groups.back().last = size;
  };
  for (size_t i = 0; i < pattern.size(); ++i) {
    switch (pattern[i]) {
      case '\\':
        ++i;  // the escaped character; the digits of \x41 or \u0041 count as atoms too
        add_atom(1);
        break;
      case '[':
        for (++i; i < pattern.size() && pattern[i] != ']'; ++i) {
          if (pattern[i] == '\\') ++i;
        }
        add_atom(1);
        break;
      case '(':
        groups.emplace_back();
        // (?:  (?=  (?!  open groups too; their marks are not atoms.
        if (i + 2 < pattern.size() && pattern[i + 1] == '?' &&
            (pattern[i + 2] == ':' || pattern[i + 2] == '=' || pattern[i + 2] == '!')) {
          i += 2;
        }
        break;
      case ')':
        if (groups.size() > 1) {
          const size_t size = std::max<size_t>(groups.back().total, 1);
          groups.pop_back();
          add_atom(size);
        }
        break;
      case '|':
        groups.back().total = saturating_add(groups.back().total, 1);
        groups.back().last = 0;
        break;
      case '*':
      case '+':
      case '?':
        groups.back().total = saturating_add(groups.back().total, 2);
        break;
      case '{': {
        size_t end = i;
        const std::optional<size_t> copies = repetition_copies(pattern, i, end);
        if (!copies) {
          add_atom(1);
          break;
        }
        Group& group = groups.back();
        const size_t repeated = saturating_multiply(group.last, *copies);
        group.total = saturating_add(group.total - group.last, repeated);
        group.last = repeated;
        i = end;
        break;
      }
      default:
        add_atom(1);
    }
  }
  size_t total = 0;
  for (const Group& group : groups) total = saturating_add(total, group.total);
  return total;
}

BoundedRegex::BoundedRegex(const std::string& pattern, BoundedRegexLimits limits)
    : limits_(limits) {
  const size_t atoms = expanded_atom_count(pattern);
  if (atoms > kMaxExpandedAtoms) {
    throw ValueError("its repetition counts expand it to about " + std::to_string(atoms) +
                     " atoms, more than " + std::to_string(kMaxExpandedAtoms));
  }
  try {
    regex_.assign(pattern, std::regex::ECMAScript);
  } catch (const std::regex_error& error) {
    throw ValueError(std::string("not a valid ECMAScript regex: ") + error.what());
  }
}

BoundedRegex::Result BoundedRegex::search(std::string_view text) const {
  text = text.substr(0, std::min(text.size(), limits_.max_text_bytes));
  const uintptr_t here = reinterpret_cast<uintptr_t>(__builtin_frame_address(0));
  uintptr_t lowest = here > limits_.max_stack_bytes ? here - limits_.max_stack_bytes : 0;
  const uintptr_t bottom = thread_stack_bottom();
  if (bottom != 0) lowest = std::max(lowest, bottom + kStackReserve);
  SearchGuard guard{.steps_left = limits_.max_steps, .lowest_frame = lowest};
  const GuardedIterator first(text.data(), &guard);
  const GuardedIterator last(text.data() + text.size(), &guard);
  std::match_results<GuardedIterator> match;
  try {
    if (!std::regex_search(first, last, match, regex_)) return Result{};
  } catch (const Abandoned&) {
    return Result{.outcome = Outcome::kTooCostly, .first_group = std::nullopt};
  } catch (const std::regex_error&) {
    // libstdc++ gives up on some searches itself (error_complexity, error_stack).
    return Result{.outcome = Outcome::kTooCostly, .first_group = std::nullopt};
  }
  Result result{.outcome = Outcome::kMatch, .first_group = std::nullopt};
  if (match.size() > 1 && match[1].matched) {
    result.first_group = std::string(match[1].first.base(), match[1].second.base());
  }
  return result;
}

}  // namespace trainyard::jobs
