#include "core/random.h"

#include <cmath>
#include <mutex>
#include <numbers>
#include <optional>
#include <random>

namespace trainyard {

std::array<uint32_t, 4> philox4x32(uint64_t counter_low, uint64_t counter_high, uint64_t key) {
  constexpr uint32_t kMultiplier0 = 0xD2511F53u;
  constexpr uint32_t kMultiplier1 = 0xCD9E8D57u;
  constexpr uint32_t kWeyl0 = 0x9E3779B9u;
  constexpr uint32_t kWeyl1 = 0xBB67AE85u;
  uint32_t c0 = static_cast<uint32_t>(counter_low);
  uint32_t c1 = static_cast<uint32_t>(counter_low >> 32);
  uint32_t c2 = static_cast<uint32_t>(counter_high);
  uint32_t c3 = static_cast<uint32_t>(counter_high >> 32);
  uint32_t k0 = static_cast<uint32_t>(key);
  uint32_t k1 = static_cast<uint32_t>(key >> 32);
  for (int round = 0; round < 10; ++round) {
    uint64_t product0 = static_cast<uint64_t>(kMultiplier0) * c0;
    uint64_t product1 = static_cast<uint64_t>(kMultiplier1) * c2;
    uint32_t hi0 = static_cast<uint32_t>(product0 >> 32), lo0 = static_cast<uint32_t>(product0);
    uint32_t hi1 = static_cast<uint32_t>(product1 >> 32), lo1 = static_cast<uint32_t>(product1);
    c0 = hi1 ^ c1 ^ k0;
    c1 = lo1;
    c2 = hi0 ^ c3 ^ k1;
    c3 = lo0;
    k0 += kWeyl0;
    k1 += kWeyl1;
  }
  return {c0, c1, c2, c3};
}

RandomGenerator::RandomGenerator(uint64_t seed, uint64_t stream) : key_(seed), stream_(stream) {}

void RandomGenerator::refill() {
  block_ = philox4x32(counter_++, stream_, key_);
  used_ = 0;
}

uint32_t RandomGenerator::next_u32() {
  if (used_ == 4) refill();
  return block_[static_cast<size_t>(used_++)];
}

uint64_t RandomGenerator::next_u64() {
  uint64_t high = next_u32();
  return (high << 32) | next_u32();
}

double RandomGenerator::uniform() {
  return static_cast<double>(next_u64() >> 11) * (1.0 / 9007199254740992.0);
}

double RandomGenerator::normal() {
  if (has_spare_normal_) {
    has_spare_normal_ = false;
    return spare_normal_;
  }
  double u1 = 0;
  while (u1 <= 0) u1 = uniform();
  double u2 = uniform();
  double radius = std::sqrt(-2.0 * std::log(u1));
  double angle = 2.0 * std::numbers::pi * u2;
  spare_normal_ = radius * std::sin(angle);
  has_spare_normal_ = true;
  return radius * std::cos(angle);
}

uint64_t RandomGenerator::below(uint64_t bound) {
  uint64_t threshold = (0 - bound) % bound;  // 2^64 mod bound
  for (;;) {
    uint64_t value = next_u64();
    if (value >= threshold) return value % bound;
  }
}

namespace {
std::mutex g_seed_mutex;
std::optional<RandomGenerator> g_seed_stream;
}  // namespace

void set_random_seed(uint64_t seed) {
  std::lock_guard lock(g_seed_mutex);
  g_seed_stream.emplace(seed, /*stream=*/0x5EED);
}

uint64_t next_random_seed() {
  std::lock_guard lock(g_seed_mutex);
  if (!g_seed_stream) {
    std::random_device device;
    g_seed_stream.emplace((static_cast<uint64_t>(device()) << 32) | device(), 0x5EED);
  }
  return g_seed_stream->next_u64();
}

}  // namespace trainyard
