// ListTrainingJobs' NextToken: where the previous page ended, as base64 of a small JSON
// object (version, sort, the last job's sort key and name). Keyset pagination: the next page
// starts strictly after that (key, name) pair, so jobs created or deleted between calls
// neither repeat nor hide the jobs that were already there. Private to the job store.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "jobs/store/list_query.h"

namespace trainyard::jobs::detail {

struct ListCursor {
  ListSortBy sort_by = ListSortBy::kCreationTime;
  ListSortOrder sort_order = ListSortOrder::kAscending;
  std::optional<double> creation_time;  // set when sorting by CreationTime
  std::optional<std::string> status;    // set when sorting by Status
  std::string name;                     // the last job of the page
};

std::string encode_list_token(const ListCursor& cursor);

// Throws ValueError ("NextToken ... is not a token trainyard returned: <why>") for anything
// encode_list_token did not produce: bad base64, bad JSON, missing or mistyped members.
ListCursor decode_list_token(std::string_view token);

}  // namespace trainyard::jobs::detail
