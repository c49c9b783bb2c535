#include "jobs/store/list_token.h"

#include <openssl/evp.h>

#include <nlohmann/json.hpp>

#include "core/error.h"

namespace trainyard::jobs {

std::string_view to_string(ListSortBy sort_by) {
  switch (sort_by) {
    case ListSortBy::kName:
      return "Name";
    case ListSortBy::kCreationTime:
      return "CreationTime";
    case ListSortBy::kStatus:
      return "Status";
  }
  return "Unknown";
}

std::string_view to_string(ListSortOrder sort_order) {
  return sort_order == ListSortOrder::kAscending ? "Ascending" : "Descending";
}

namespace detail {
namespace {

using Json = nlohmann::json;

// Version of the token's JSON layout; a token of another version is refused.
constexpr int kTokenVersion = 1;
// NextToken's limit in the model.
constexpr size_t kMaxTokenLength = 8192;

[[noreturn]] void refuse(std::string_view token, const std::string& why) {
  const std::string shown =
      token.size() > 64 ? std::string(token.substr(0, 64)) + "..." : std::string(token);
  throw ValueError("NextToken '" + shown + "' is not a token trainyard returned: " + why);
}

std::string base64_encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int length = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                     reinterpret_cast<const unsigned char*>(bytes.data()),
                                     static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(length));
  return out;
}

// nullopt unless `text` is canonical padded base64 (EVP_DecodeBlock alone would accept
// surrounding whitespace and silently keep the padding's zero bytes).
std::optional<std::string> base64_decode(std::string_view text) {
  if (text.empty() || text.size() % 4 != 0) return std::nullopt;
  size_t padding = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    const bool alphabet = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                          (c >= '0' && c <= '9') || c == '+' || c == '/';
    if (c == '=' && i + 2 >= text.size()) {
      ++padding;
    } else if (!alphabet || padding > 0) {
      return std::nullopt;
    }
  }
  std::string out(text.size() / 4 * 3, '\0');
  const int length = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                     reinterpret_cast<const unsigned char*>(text.data()),
                                     static_cast<int>(text.size()));
  if (length < 0 || static_cast<size_t>(length) != out.size()) return std::nullopt;
  out.resize(out.size() - padding);
  return out;
}

}  // namespace

std::string encode_list_token(const ListCursor& cursor) {
  Json json{{"v", kTokenVersion},
            {"sort", std::string(to_string(cursor.sort_by))},
            {"order", std::string(to_string(cursor.sort_order))},
            {"name", cursor.name}};
  if (cursor.creation_time) json["time"] = *cursor.creation_time;
  if (cursor.status) json["status"] = *cursor.status;
  return base64_encode(json.dump());
}

ListCursor decode_list_token(std::string_view token) {
  if (token.size() > kMaxTokenLength) refuse(token, "longer than 8192 characters");
  const std::optional<std::string> bytes = base64_decode(token);
  if (!bytes) refuse(token, "not base64");
  const Json json = Json::parse(*bytes, nullptr, /*allow_exceptions=*/false);
  if (!json.is_object()) refuse(token, "not a JSON object");

  const auto string_member = [&](const char* member) -> std::string {
    const auto it = json.find(member);
    if (it == json.end() || !it->is_string()) {
      refuse(token, std::string("member '") + member + "' is missing or not a string");
    }
    return it->get<std::string>();
  };
  const auto version = json.find("v");
  if (version == json.end() || !version->is_number_integer() || *version != kTokenVersion) {
    refuse(token, "unknown token version");
  }

  ListCursor cursor;
  const std::string sort = string_member("sort");
  if (sort == "Name") {
    cursor.sort_by = ListSortBy::kName;
  } else if (sort == "CreationTime") {
    cursor.sort_by = ListSortBy::kCreationTime;
  } else if (sort == "Status") {
    cursor.sort_by = ListSortBy::kStatus;
  } else {
    refuse(token, "unknown sort '" + sort + "'");
  }
  const std::string order = string_member("order");
  if (order == "Ascending") {
    cursor.sort_order = ListSortOrder::kAscending;
  } else if (order == "Descending") {
    cursor.sort_order = ListSortOrder::kDescending;
  } else {
    refuse(token, "unknown order '" + order + "'");
  }
  cursor.name = string_member("name");
  if (cursor.sort_by == ListSortBy::kCreationTime) {
    const auto time = json.find("time");
    if (time == json.end() || !time->is_number()) refuse(token, "member 'time' is missing");
    cursor.creation_time = time->get<double>();
  }
  if (cursor.sort_by == ListSortBy::kStatus) cursor.status = string_member("status");
  return cursor;
}

}  // namespace detail
}  // namespace trainyard::jobs
