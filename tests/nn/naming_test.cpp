#include "nn/naming.h"

#include <gtest/gtest.h>

#include "nn/layers/dense.h"

namespace trainyard::nn {
namespace {

TEST(NamingTest, SnakeCaseLikeKeras) {
  EXPECT_EQ(to_snake_case("Dense"), "dense");
  EXPECT_EQ(to_snake_case("MaxPooling2D"), "max_pooling2d");
  EXPECT_EQ(to_snake_case("BatchNormalization"), "batch_normalization");
  EXPECT_EQ(to_snake_case("GlobalAveragePooling2D"), "global_average_pooling2d");
  EXPECT_EQ(to_snake_case("Conv2D"), "conv2d");
}

TEST(NamingTest, LayersGetUniqueNamesPerPrefix) {
  clear_session();
  Dense first(4), second(4), named(4, {.name = "head"});
  EXPECT_EQ(first.name(), "dense");
  EXPECT_EQ(second.name(), "dense_1");
  EXPECT_EQ(named.name(), "head");
  clear_session();
  EXPECT_EQ(Dense(2).name(), "dense");
}

}  // namespace
}  // namespace trainyard::nn
