#include "data/shuffle.h"

#include <utility>

#include "core/random.h"

namespace trainyard::data {

void epoch_permutation(uint64_t seed, int64_t epoch, std::span<int64_t> order) {
  for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int64_t>(i);
  // Each epoch draws from its own Philox stream, so epoch e's order never depends on how many
  // numbers earlier epochs consumed.
  RandomGenerator generator(seed, static_cast<uint64_t>(epoch));
  for (size_t i = order.size(); i-- > 1;) {
    auto j = static_cast<size_t>(generator.below(i + 1));
    std::swap(order[i], order[j]);
  }
}

}  // namespace trainyard::data
