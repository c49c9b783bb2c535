#include "keras/history.h"

#include "core/error.h"

namespace trainyard::keras {

double History::last(const std::string& name) const {
  auto it = history.find(name);
  if (it == history.end() || it->second.empty()) {
    std::string known;
    for (const auto& [key, values] : history) known += (known.empty() ? "" : ", ") + key;
    throw ValueError("History has no values for '" + name + "' (logged: " + known + ")");
  }
  return it->second.back();
}

}  // namespace trainyard::keras
