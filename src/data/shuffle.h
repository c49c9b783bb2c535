// The per-epoch sample order of a shuffled Dataset: the same on every machine, every run and
// every thread count, because it depends only on (seed, epoch).
#pragma once

#include <cstdint>
#include <span>

namespace trainyard::data {

// Fills `order` with a permutation of [0, order.size()): order[i] = i, then a Fisher–Yates
// pass from the last position down, swapping position i with RandomGenerator(seed,
// stream = epoch).below(i + 1). Allocates nothing.
void epoch_permutation(uint64_t seed, int64_t epoch, std::span<int64_t> order);

}  // namespace trainyard::data
