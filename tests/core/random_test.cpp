#include "core/random.h"

#include <gtest/gtest.h>

#include <cmath>

namespace trainyard {
namespace {

// Known-answer vector from the Random123 distribution (kat_vectors: philox4x32 10 rounds,
// counter and key all zero / all 0xffffffff).
TEST(PhiloxTest, MatchesRandom123KnownAnswers) {
  auto zero = philox4x32(0, 0, 0);
  EXPECT_EQ(zero[0], 0x6627e8d5u);
  EXPECT_EQ(zero[1], 0xe169c58du);
  EXPECT_EQ(zero[2], 0xbc57ac4cu);
  EXPECT_EQ(zero[3], 0x9b00dbd8u);
  auto ones = philox4x32(~0ull, ~0ull, ~0ull);
  EXPECT_EQ(ones[0], 0x408f276du);
  EXPECT_EQ(ones[1], 0x41c83b0eu);
  EXPECT_EQ(ones[2], 0xa20bc7c6u);
  EXPECT_EQ(ones[3], 0x6d5451fdu);
}

TEST(RandomGeneratorTest, SameSeedSameStreamAndSaneMoments) {
  RandomGenerator a(42), b(42), c(43);
  EXPECT_EQ(a.next_u64(), b.next_u64());
  EXPECT_NE(RandomGenerator(42).next_u64(), c.next_u64());
  RandomGenerator g(7);
  double sum = 0, sum_squares = 0;
  const int n = 200000;
  for (int i = 0; i < n; ++i) {
    double x = g.normal();
    sum += x;
    sum_squares += x * x;
  }
  EXPECT_NEAR(sum / n, 0.0, 0.01);
  EXPECT_NEAR(sum_squares / n, 1.0, 0.02);
  for (int i = 0; i < 1000; ++i) {
    double u = g.uniform();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    ASSERT_LT(g.below(10), 10u);
  }
}

TEST(RandomSeedTest, GlobalSeedStreamIsReproducible) {
  set_random_seed(5);
  uint64_t first = next_random_seed();
  uint64_t second = next_random_seed();
  set_random_seed(5);
  EXPECT_EQ(next_random_seed(), first);
  EXPECT_EQ(next_random_seed(), second);
}

}  // namespace
}  // namespace trainyard
