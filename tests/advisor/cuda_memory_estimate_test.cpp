// The memory estimate against the CUDA caching allocator's measured peak (bytes handed out,
// at block size) of a real fit on cuda:0, for the Fashion-MNIST MLP and CNN at batch 32, 256
// and 4096. Skips with the reason printed when this machine has no GPU.
#include <gtest/gtest.h>

#include "../backend/cuda/cuda_test_util.h"
#include "memory_fit_support.h"

namespace trainyard::advisor {
namespace {

using testing::expect_within_20_percent;
using testing::fashion_mnist_cnn;
using testing::fashion_mnist_mlp;
using testing::measure_fit;

class CudaMemoryEstimateTest : public ::testing::TestWithParam<int64_t> {
 protected:
  void SetUp() override {
    std::string reason;
    if (cuda_test::gpu_or_null(&reason) == nullptr) {
      GTEST_SKIP() << "no GPU, CUDA memory estimate test skipped: " << reason;
    }
  }
};

TEST_P(CudaMemoryEstimateTest, Mlp) {
  int64_t batch = GetParam();
  expect_within_20_percent("mlp cuda:0 " + std::to_string(batch),
                           measure_fit(fashion_mnist_mlp, batch, Device("cuda:0")));
}

TEST_P(CudaMemoryEstimateTest, Cnn) {
  int64_t batch = GetParam();
  expect_within_20_percent("cnn cuda:0 " + std::to_string(batch),
                           measure_fit(fashion_mnist_cnn, batch, Device("cuda:0")));
}

INSTANTIATE_TEST_SUITE_P(Batches, CudaMemoryEstimateTest, ::testing::Values(32, 256, 4096));

}  // namespace
}  // namespace trainyard::advisor
