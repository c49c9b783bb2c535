// Random numbers that are the same on every machine and every run for a given seed:
// the counter-based Philox4x32-10 generator (the one cuRAND and TensorFlow use), with our
// own uniform and normal transforms so no standard-library distribution decides results.
#pragma once

#include <array>
#include <cstdint>

namespace trainyard {

// One Philox4x32-10 block: four 32-bit words for (counter, key). Pure function, so a
// kernel can derive element i's random bits from (seed, i) on any device.
std::array<uint32_t, 4> philox4x32(uint64_t counter_low, uint64_t counter_high, uint64_t key);

// Maps 32 random bits to a float in [0, 1) using the top 24 bits.
inline float uniform_from_bits(uint32_t bits) {
  return static_cast<float>(bits >> 8) * (1.0f / 16777216.0f);
}

// A sequential stream of Philox output. Not thread-safe; give each thread its own.
class RandomGenerator {
 public:
  explicit RandomGenerator(uint64_t seed, uint64_t stream = 0);

  uint32_t next_u32();
  uint64_t next_u64();
  // Uniform in [0, 1) with 53 random bits.
  double uniform();
  // Standard normal (Box-Muller on two uniforms).
  double normal();
  // Uniform integer in [0, bound) without modulo bias. REQUIRES: bound > 0.
  uint64_t below(uint64_t bound);

 private:
  void refill();

  uint64_t key_;
  uint64_t stream_;
  uint64_t counter_ = 0;
  std::array<uint32_t, 4> block_{};
  int used_ = 4;
  bool has_spare_normal_ = false;
  double spare_normal_ = 0;
};

// Keras's keras.utils.set_random_seed: fixes the seed from which every later unseeded
// initializer, dropout layer and shuffle derives its own seed, in creation order.
void set_random_seed(uint64_t seed);
// The next seed of that global stream (seeded from the OS when set_random_seed was never
// called). Thread-safe.
uint64_t next_random_seed();

}  // namespace trainyard
