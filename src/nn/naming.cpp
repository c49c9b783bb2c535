#include "nn/naming.h"

#include <cctype>
#include <map>
#include <mutex>

namespace trainyard::nn {
namespace {
std::mutex g_mutex;
std::map<std::string, int, std::less<>> g_counters;
}  // namespace

std::string to_snake_case(std::string_view class_name) {
  // Keras: insert "_" before an upper-case letter that follows a lower-case letter or a
  // digit, or that starts a new word after an acronym ("HTTPServer" -> "http_server").
  std::string result;
  for (size_t i = 0; i < class_name.size(); ++i) {
    char c = class_name[i];
    bool upper = std::isupper(static_cast<unsigned char>(c)) != 0;
    if (upper && i > 0) {
      char previous = class_name[i - 1];
      bool after_lower = std::islower(static_cast<unsigned char>(previous)) != 0;
      bool acronym_end = std::isupper(static_cast<unsigned char>(previous)) != 0 &&
                         i + 1 < class_name.size() &&
                         std::islower(static_cast<unsigned char>(class_name[i + 1])) != 0;
      if (after_lower || acronym_end) result += '_';
    }
    result += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return result;
}

std::string unique_name(std::string_view prefix) {
  std::lock_guard lock(g_mutex);
  auto [it, inserted] = g_counters.try_emplace(std::string(prefix), 0);
  int count = it->second++;
  return count == 0 ? std::string(prefix) : std::string(prefix) + "_" + std::to_string(count);
}

void clear_session() {
  std::lock_guard lock(g_mutex);
  g_counters.clear();
}

}  // namespace trainyard::nn
