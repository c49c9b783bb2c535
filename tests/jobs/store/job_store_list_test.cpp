// JobStore::list: ListTrainingJobs' filters, sorts and NextToken pagination, checked against
// a reference that filters and sorts the same jobs in plain C++.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <set>

#include "jobs/store/job_store.h"
#include "store_test_util.h"

namespace trainyard::jobs {
namespace {

struct Seed {
  std::string name;
  double creation_time;
  std::optional<SecondaryStatus> moved_to;  // transitioned at creation_time + 1000
};

// Ties in creation time (b/c, and three at 40) exercise the name tie-break.
const std::vector<Seed> kSeeds = {
    {"alpha-run", 10, std::nullopt},
    {"bravo-run", 20, SecondaryStatus::kCompleted},
    {"charlie-run", 20, SecondaryStatus::kFailed},
    {"Delta-Run", 30, SecondaryStatus::kTraining},
    {"echo-test", 40, SecondaryStatus::kStopping},
    {"foxtrot-test", 40, SecondaryStatus::kStopped},
    {"golf-test", 40, SecondaryStatus::kCompleted},
    {"hotel-run", 50, std::nullopt},
    {"india-run", 60, SecondaryStatus::kMaxRuntimeExceeded},
    {"juliet-test", 70, SecondaryStatus::kCompleted},
    {"kilo-run", 80, SecondaryStatus::kDownloading},
    {"lima-run", 90, std::nullopt},
    {"mike-test", 100, SecondaryStatus::kFailed},
    {"november-run", 110, SecondaryStatus::kCompleted},
};

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

class JobStoreListTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const Seed& seed : kSeeds) add(seed);
  }

  void add(const Seed& seed) {
    store_.create(new_job_record(testing::small_spec(seed.name), seed.creation_time));
    JobSummary expected{.name = seed.name,
                        .arn = store_.arn_of(seed.name),
                        .creation_time = seed.creation_time,
                        .last_modified_time = seed.creation_time};
    if (seed.moved_to) {
      const double when = seed.creation_time + 1000;
      store_.transition(seed.name, *seed.moved_to, "", when);
      expected.status = primary_status_of(*seed.moved_to);
      expected.secondary_status = *seed.moved_to;
      expected.last_modified_time = when;
      if (is_terminal(expected.status)) expected.training_end_time = when;
    }
    all_.push_back(expected);
  }

  // The reference answer: filter, then sort by (key, name ignoring case).
  std::vector<JobSummary> reference(const ListQuery& query) const {
    std::vector<JobSummary> out;
    for (const JobSummary& job : all_) {
      if (query.status_equals && job.status != *query.status_equals) continue;
      if (query.name_contains &&
          lower(job.name).find(lower(*query.name_contains)) == std::string::npos) {
        continue;
      }
      if (query.creation_time_after && !(job.creation_time > *query.creation_time_after)) continue;
      if (query.creation_time_before && !(job.creation_time < *query.creation_time_before)) {
        continue;
      }
      if (query.last_modified_time_after &&
          !(job.last_modified_time > *query.last_modified_time_after)) {
        continue;
      }
      if (query.last_modified_time_before &&
          !(job.last_modified_time < *query.last_modified_time_before)) {
        continue;
      }
      out.push_back(job);
    }
    const auto less = [&](const JobSummary& a, const JobSummary& b) {
      switch (query.sort_by) {
        case ListSortBy::kCreationTime:
          if (a.creation_time != b.creation_time) return a.creation_time < b.creation_time;
          break;
        case ListSortBy::kStatus:
          if (a.status != b.status) return to_string(a.status) < to_string(b.status);
          break;
        case ListSortBy::kName:
          break;
      }
      return lower(a.name) < lower(b.name);
    };
    std::sort(out.begin(), out.end(), less);
    if (query.sort_order == ListSortOrder::kDescending) std::reverse(out.begin(), out.end());
    return out;
  }

  // Every page of `query`, concatenated; checks each page's size and token on the way.
  std::vector<JobSummary> all_pages(ListQuery query) const {
    std::vector<JobSummary> out;
    for (int pages = 0; pages < 100; ++pages) {
      const ListPage page = store_.list(query);
      EXPECT_LE(page.jobs.size(), static_cast<size_t>(query.max_results));
      out.insert(out.end(), page.jobs.begin(), page.jobs.end());
      if (!page.next_token) return out;
      EXPECT_EQ(page.jobs.size(), static_cast<size_t>(query.max_results));
      query.next_token = page.next_token;
    }
    ADD_FAILURE() << "pagination did not end";
    return out;
  }

  testing::TempDir dir_;
  JobStore store_{dir_.path()};
  std::vector<JobSummary> all_;
};

std::vector<std::string> names(const std::vector<JobSummary>& jobs) {
  std::vector<std::string> out;
  for (const JobSummary& job : jobs) out.push_back(job.name);
  return out;
}

TEST_F(JobStoreListTest, DefaultsAreTenOldestFirst) {
  const ListPage first = store_.list({});
  ASSERT_EQ(first.jobs.size(), 10u);
  ASSERT_TRUE(first.next_token.has_value());
  const std::vector<JobSummary> expected = reference({});
  EXPECT_EQ(first.jobs, std::vector<JobSummary>(expected.begin(), expected.begin() + 10));
  const ListPage second = store_.list({.next_token = first.next_token});
  EXPECT_EQ(second.jobs, std::vector<JobSummary>(expected.begin() + 10, expected.end()));
  EXPECT_FALSE(second.next_token.has_value());
}

TEST_F(JobStoreListTest, EverySortOrderAndPageSizeMatchesTheReference) {
  for (ListSortBy sort_by : {ListSortBy::kName, ListSortBy::kCreationTime, ListSortBy::kStatus}) {
    for (ListSortOrder order : {ListSortOrder::kAscending, ListSortOrder::kDescending}) {
      for (int max_results : {1, 3, 4, 14, 100}) {
        const ListQuery query{.sort_by = sort_by, .sort_order = order, .max_results = max_results};
        EXPECT_EQ(names(all_pages(query)), names(reference(query)))
            << to_string(sort_by) << " " << to_string(order) << " max " << max_results;
      }
    }
  }
}

TEST_F(JobStoreListTest, SummariesCarryEndTimesOnlyForEndedJobs) {
  for (const JobSummary& job : all_pages({.max_results = 100})) {
    EXPECT_EQ(job.training_end_time.has_value(), is_terminal(job.status)) << job.name;
  }
  EXPECT_EQ(all_pages({.max_results = 100}), reference({}));
}

TEST_F(JobStoreListTest, FiltersMatchTheReference) {
  const std::vector<ListQuery> queries = {
      {.status_equals = TrainingJobStatus::kCompleted},
      {.status_equals = TrainingJobStatus::kStopped},
      {.status_equals = TrainingJobStatus::kInProgress, .sort_by = ListSortBy::kName},
      {.name_contains = "test"},
      {.name_contains = "DELTA"},  // ignoring case
      {.name_contains = "-"},
      {.name_contains = "zulu"},
      {.creation_time_after = 40},  // exclusive: the three jobs at 40 are out
      {.creation_time_before = 40},
      {.creation_time_after = 20, .creation_time_before = 60},
      {.last_modified_time_after = 1040, .last_modified_time_before = 1100},
      {.last_modified_time_before = 1000},  // jobs never moved
      {.status_equals = TrainingJobStatus::kFailed,
       .name_contains = "run",
       .sort_order = ListSortOrder::kDescending},
  };
  for (const ListQuery& base : queries) {
    for (int max_results : {2, 100}) {
      ListQuery query = base;
      query.max_results = max_results;
      EXPECT_EQ(all_pages(query), reference(query)) << "max " << max_results;
    }
  }
  // Spot checks that do not rely on the reference.
  EXPECT_EQ(names(store_.list({.name_contains = "DELTA"}).jobs),
            (std::vector<std::string>{"Delta-Run"}));
  EXPECT_EQ(names(store_.list({.creation_time_before = 20}).jobs),
            (std::vector<std::string>{"alpha-run"}));
  EXPECT_TRUE(store_.list({.name_contains = "zulu"}).jobs.empty());
}

TEST_F(JobStoreListTest, NextTokenStaysCorrectWhenJobsArriveBetweenPages) {
  const ListQuery query{.max_results = 5};
  const ListPage first = store_.list(query);
  ASSERT_EQ(names(first.jobs), (std::vector<std::string>{"alpha-run", "bravo-run", "charlie-run",
                                                         "Delta-Run", "echo-test"}));
  // Before the cursor (left out), at the cursor's time on either side of its name, after it.
  add({"aaa-early", 15, std::nullopt});
  add({"echo-a", 40, std::nullopt});  // sorts before echo-test: behind the cursor
  add({"echo-z", 40, std::nullopt});  // sorts after echo-test: still to come
  add({"zz-late", 200, std::nullopt});
  ListQuery rest = query;
  rest.next_token = first.next_token;
  const std::vector<JobSummary> remaining = all_pages(rest);
  EXPECT_EQ(names(remaining),
            (std::vector<std::string>{"echo-z", "foxtrot-test", "golf-test", "hotel-run",
                                      "india-run", "juliet-test", "kilo-run", "lima-run",
                                      "mike-test", "november-run", "zz-late"}));

  // Descending, with a deletion between pages: the deleted job is simply not there.
  const ListQuery newest{.sort_order = ListSortOrder::kDescending, .max_results = 3};
  const ListPage top = store_.list(newest);
  ASSERT_EQ(names(top.jobs), (std::vector<std::string>{"zz-late", "november-run", "mike-test"}));
  store_.remove("juliet-test");  // Completed, so it may be deleted
  ListQuery after_top = newest;
  after_top.next_token = top.next_token;
  const ListPage next = store_.list(after_top);
  EXPECT_EQ(names(next.jobs), (std::vector<std::string>{"lima-run", "kilo-run", "india-run"}));
}

TEST_F(JobStoreListTest, BadQueriesAndTokensAreValueErrors) {
  EXPECT_THROW(store_.list({.max_results = 0}), ValueError);
  EXPECT_THROW(store_.list({.max_results = 101}), ValueError);
  EXPECT_THROW(store_.list({.creation_time_after = std::numeric_limits<double>::quiet_NaN()}),
               ValueError);
  const std::vector<std::string> bad_tokens = {
      "",
      "not a token!",
      "bm90IGpzb24=",                  // base64 of "not json"
      "eyJ2IjoxfQ==",                  // {"v":1}: members missing
      "eyJ2Ijo5LCJzb3J0IjoiTmFtZSJ9",  // {"v":9,"sort":"Name"}: unknown version
      std::string(9000, 'A'),          // longer than NextToken may be
  };
  for (const std::string& token : bad_tokens) {
    try {
      store_.list({.next_token = token});
      ADD_FAILURE() << "token accepted: " << token.substr(0, 40);
    } catch (const ValueError& error) {
      EXPECT_NE(std::string(error.what()).find("NextToken"), std::string::npos) << error.what();
    }
  }
  // A token from one sort cannot continue another.
  const ListPage by_name = store_.list({.sort_by = ListSortBy::kName, .max_results = 2});
  ASSERT_TRUE(by_name.next_token.has_value());
  EXPECT_THROW(store_.list({.next_token = by_name.next_token}), ValueError);
  EXPECT_THROW(store_.list({.sort_by = ListSortBy::kName,
                            .sort_order = ListSortOrder::kDescending,
                            .next_token = by_name.next_token}),
               ValueError);
  // A token altered by one character is refused or still lands on a valid page, never crashes.
  std::string altered = *by_name.next_token;
  altered[altered.size() / 2] = altered[altered.size() / 2] == 'A' ? 'B' : 'A';
  try {
    store_.list({.sort_by = ListSortBy::kName, .next_token = altered});
  } catch (const ValueError&) {
  }
}

}  // namespace
}  // namespace trainyard::jobs
