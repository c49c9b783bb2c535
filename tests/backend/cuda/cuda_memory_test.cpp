// The CUDA backend's memory: transfers, fill and copy, the caching allocator's steady state,
// and the errors for tensors on the wrong device or a GPU the build has no kernels for.
#include <gtest/gtest.h>

#include "backend/cuda/cuda_check.h"
#include "core/error.h"
#include "cuda_test_util.h"

namespace trainyard::cuda_test {
namespace {

using backend::cuda::CachingAllocator;

TEST(CudaArchitectureTest, NamesTheComputeCapabilityAndTheBuildTargets) {
  // Runs without a GPU: the message is a pure function of the build's targets.
  const std::string message = backend::cuda::no_kernel_image_message(7, 0);
  EXPECT_NE(message.find("no kernel image for compute capability 7.0; this build targets "),
            std::string::npos)
      << message;
  EXPECT_FALSE(backend::cuda::runs_on_compute_capability(5, 2));
  EXPECT_TRUE(backend::cuda::runs_on_compute_capability(12, 0));  // through PTX
}

TEST(CudaDeviceTest, AMissingDeviceIsAClearError) {
  std::string reason;
  const int count = backend::cuda::cuda_device_count(&reason);
  const Device absent(DeviceType::kCuda, count);
  try {
    backend::backend_for(absent);
    FAIL() << "backend_for(" << absent.to_string() << ") should throw";
  } catch (const ValueError& error) {
    EXPECT_NE(std::string(error.what()).find("no CUDA device cuda:" + std::to_string(count)),
              std::string::npos)
        << error.what();
  }
}

TEST(CachingAllocatorTest, RoundsRequestsToSharedSizes) {
  EXPECT_EQ(CachingAllocator::rounded_size(1), 512u);
  EXPECT_EQ(CachingAllocator::rounded_size(513), 1024u);
  EXPECT_EQ(CachingAllocator::rounded_size((1u << 20) + 1), 2u << 20);
}

class CudaMemoryTest : public CudaTest {};

TEST_F(CudaMemoryTest, HostRoundTripKeepsEveryBit) {
  for (DType dtype : {DType::kFloat32, DType::kFloat64}) {
    Tensor host = random_host(Shape{37, 129}, dtype);
    Tensor device = on_gpu(host);
    EXPECT_EQ(device.device(), gpu().device());
    Tensor back = on_host(device);
    ASSERT_EQ(back.nbytes(), host.nbytes());
    EXPECT_EQ(std::memcmp(back.raw_data(), host.raw_data(), host.nbytes()), 0);
  }
}

TEST_F(CudaMemoryTest, StagedHostCopiesAreFreeToReuseAndKeepEveryBatch) {
  // More copies than staging slots, growing, with each host buffer overwritten as soon as
  // its copy returns: every device tensor must still hold what was copied.
  std::vector<Tensor> expected, devices;
  for (int64_t i = 0; i < 11; ++i) {
    Tensor host = random_host(Shape{100 + 700 * i});
    expected.push_back(host.clone());
    Tensor device = Tensor::zeros(host.shape(), DType::kFloat32, gpu().allocator());
    gpu().copy_from_host(host, device);
    host.fill(-1.0);
    devices.push_back(device);
  }
  for (size_t i = 0; i < devices.size(); ++i) {
    EXPECT_EQ(relative_error(devices[i], expected[i]), 0.0) << "copy " << i;
  }
}

TEST_F(CudaMemoryTest, NewTensorsAreZero) {
  Tensor device = Tensor::zeros(Shape{1000, 3}, DType::kFloat32, gpu().allocator());
  Tensor host = on_host(device);
  for (int64_t i = 0; i < host.num_elements(); ++i) ASSERT_EQ(host.data<float>()[i], 0.0f) << i;
}

TEST_F(CudaMemoryTest, FillWritesEveryElement) {
  Tensor out = poisoned(Shape{4099});
  gpu().fill(out, 2.5);
  Tensor host = on_host(out);
  for (int64_t i = 0; i < host.num_elements(); ++i) ASSERT_EQ(host.data<float>()[i], 2.5f) << i;
}

TEST_F(CudaMemoryTest, CopyAndAccumulateMatchTheCpu) {
  Tensor a = random_host(Shape{3000});
  Tensor b = random_host(Shape{3000});
  Tensor out = on_gpu(b);
  gpu().copy(on_gpu(a), out, /*accumulate=*/true);
  Tensor expected = b.clone();
  backend::cpu_backend().copy(a, expected, true);
  EXPECT_EQ(relative_error(out, expected), 0.0);
  gpu().copy(on_gpu(a), out, false);
  EXPECT_EQ(relative_error(out, a), 0.0);
}

TEST_F(CudaMemoryTest, ATensorOnTheWrongDeviceIsNamed) {
  Tensor host = random_host(Shape{8});
  Tensor device = on_gpu(host);
  try {
    gpu().copy(host, device, false);
    FAIL() << "a CPU tensor given to the CUDA backend should throw";
  } catch (const ValueError& error) {
    EXPECT_NE(std::string(error.what()).find("copy: source is on cpu:0"), std::string::npos)
        << error.what();
  }
  EXPECT_THROW(device.fill(1.0), ValueError);  // host helpers refuse device memory
  EXPECT_THROW(device.item(0), ValueError);
}

TEST_F(CudaMemoryTest, SteadyStateReusesCachedBlocks) {
  CachingAllocator& allocator = gpu().caching_allocator();
  // The first round may reach the driver; later rounds of the same sizes must not.
  for (int round = 0; round < 3; ++round) {
    const int64_t before = allocator.driver_allocation_count();
    {
      Tensor a = Tensor::zeros(Shape{256, 256}, DType::kFloat32, allocator);
      Tensor b = Tensor::zeros(Shape{1 << 20}, DType::kFloat32, allocator);
      Tensor c = Tensor::zeros(Shape{3}, DType::kFloat64, allocator);
      gpu().fill(a, 1.0);
    }
    if (round > 0) {
      EXPECT_EQ(allocator.driver_allocation_count(), before) << "round " << round;
    }
  }
  EXPECT_GT(allocator.cached_bytes(), 0u);
}

TEST_F(CudaMemoryTest, ReusedBlocksAreZeroedAgain) {
  CachingAllocator& allocator = gpu().caching_allocator();
  {
    Tensor dirty = Tensor::zeros(Shape{4096}, DType::kFloat32, allocator);
    gpu().fill(dirty, 7.0);
  }
  Tensor reused = Tensor::zeros(Shape{4096}, DType::kFloat32, allocator);
  Tensor host = on_host(reused);
  for (int64_t i = 0; i < host.num_elements(); ++i) ASSERT_EQ(host.data<float>()[i], 0.0f) << i;
}

}  // namespace
}  // namespace trainyard::cuda_test
