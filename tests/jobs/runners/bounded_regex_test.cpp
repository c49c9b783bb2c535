#include "jobs/runners/bounded_regex.h"

#include <gtest/gtest.h>
#include <pthread.h>

#include "core/error.h"

namespace trainyard::jobs {
namespace {

using Outcome = BoundedRegex::Outcome;

TEST(BoundedRegexTest, FindsTheFirstMatchAndItsFirstGroup) {
  const BoundedRegex regex("loss: ([0-9.]+)");
  const BoundedRegex::Result result = regex.search("accuracy: 0.5 - loss: 0.25 - val_loss: 0.75");
  EXPECT_EQ(result.outcome, Outcome::kMatch);
  EXPECT_EQ(result.first_group, "0.25");
  EXPECT_EQ(regex.search("accuracy: 0.5").outcome, Outcome::kNoMatch);
  EXPECT_EQ(regex.capture_groups(), 1u);
}

TEST(BoundedRegexTest, GroupThatDidNotTakePartIsAbsent) {
  const BoundedRegex regex("(x)|y");
  const BoundedRegex::Result result = regex.search("y");
  EXPECT_EQ(result.outcome, Outcome::kMatch);
  EXPECT_EQ(result.first_group, std::nullopt);
}

TEST(BoundedRegexTest, InvalidPatternIsAValueError) {
  EXPECT_THROW(BoundedRegex("loss: ([0-9"), ValueError);
  EXPECT_THROW(BoundedRegex("a)"), ValueError);
  EXPECT_THROW(BoundedRegex("*a"), ValueError);
}

TEST(BoundedRegexTest, ExpandedAtomCountMultipliesRepetitions) {
  EXPECT_EQ(expanded_atom_count("abc"), 3u);
  EXPECT_EQ(expanded_atom_count("a{10}"), 10u);
  EXPECT_EQ(expanded_atom_count("a{2,10}"), 10u);
  EXPECT_EQ(expanded_atom_count("a{4,}"), 5u);
  EXPECT_EQ(expanded_atom_count("(ab){3}"), 6u);
  EXPECT_EQ(expanded_atom_count("(?:a{10}){10}"), 100u);
  EXPECT_EQ(expanded_atom_count("x(?:a{10}|b){10}"), 1u + 120u);  // (10 + 1 + 1) * 10
  EXPECT_EQ(expanded_atom_count("[a-z{}]{5}"), 5u);
  EXPECT_EQ(expanded_atom_count("\\d{4}-\\d{2}"), 7u);
  EXPECT_EQ(expanded_atom_count("a*"), 3u);
  EXPECT_EQ(expanded_atom_count("a{"), 2u);  // not a repetition: two atoms
  EXPECT_EQ(expanded_atom_count("((("), 0u);
  EXPECT_EQ(expanded_atom_count("(?:(?:(?:a{999999}){999999}){999999}){999999}"), SIZE_MAX);
}

TEST(BoundedRegexTest, HugeRepetitionsAreRefused) {
  EXPECT_NO_THROW(BoundedRegex("(?:a{10}){100}"));
  try {
    BoundedRegex("(?:a?){10000}x");
    FAIL() << "expected ValueError";
  } catch (const ValueError& error) {
    EXPECT_EQ(std::string(error.what()),
              "its repetition counts expand it to about 30001 atoms, more than 1000");
  }
}

TEST(BoundedRegexTest, ExponentialBacktrackingIsAbandoned) {
  const BoundedRegex regex("(a+)+b");
  EXPECT_EQ(regex.search(std::string(2000, 'a')).outcome, Outcome::kTooCostly);
  // The same regex on text where it matches is fine.
  EXPECT_EQ(regex.search("aaab").outcome, Outcome::kMatch);
}

TEST(BoundedRegexTest, EmptyGroupLoopsCountAsSteps) {
  // Paths through empty groups read no character; they are charged for copying positions.
  std::string pattern = "(?:a|";
  for (int i = 0; i < 200; ++i) pattern += "()";
  pattern += ")*x";
  EXPECT_EQ(BoundedRegex(pattern).search(std::string(200, 'a')).outcome, Outcome::kTooCostly);
}

TEST(BoundedRegexTest, TextBeyondTheLimitIsNotSearched) {
  const BoundedRegex regex("x=([0-9]+)", {.max_text_bytes = 8});
  EXPECT_EQ(regex.search("x=123456").first_group, "123456");
  EXPECT_EQ(regex.search("x=1234567").first_group, "123456");
  EXPECT_EQ(regex.search("        x=1").outcome, Outcome::kNoMatch);
}

struct DeepSearch {
  const BoundedRegex* regex;
  const std::string* text;
  Outcome outcome = Outcome::kMatch;
};

void* run_search(void* argument) {
  auto* search = static_cast<DeepSearch*>(argument);
  search->outcome = search->regex->search(*search->text).outcome;
  return nullptr;
}

TEST(BoundedRegexTest, DeepRecursionIsAbandonedOnASmallStack) {
  // libstdc++ recurses for every character `(.)*` consumes; 100k characters would need far
  // more than the thread's 1 MiB stack. The search gives up instead of crashing.
  const BoundedRegex regex("((.)|(,))*x", {.max_text_bytes = 1 << 20, .max_steps = UINT64_MAX});
  const std::string text(100000, 'a');
  DeepSearch search{.regex = &regex, .text = &text};
  pthread_attr_t attributes;
  ASSERT_EQ(pthread_attr_init(&attributes), 0);
  ASSERT_EQ(pthread_attr_setstacksize(&attributes, size_t{1} << 20), 0);
  pthread_t thread;
  ASSERT_EQ(pthread_create(&thread, &attributes, run_search, &search), 0);
  pthread_join(thread, nullptr);
  pthread_attr_destroy(&attributes);
  EXPECT_EQ(search.outcome, Outcome::kTooCostly);
}

}  // namespace
}  // namespace trainyard::jobs
