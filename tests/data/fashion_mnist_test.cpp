#include "data/fashion_mnist.h"

#include <gtest/gtest.h>

#include <array>
#include <filesystem>

#include "core/error.h"
#include "test_files.h"

namespace trainyard::data {
namespace {

using testing::error_of;

bool fashion_mnist_installed() {
  return std::filesystem::exists(std::string(kFashionMnistDirectory) +
                                 "/train-images-idx3-ubyte.gz");
}

std::array<int64_t, 10> class_counts(const Tensor& labels) {
  std::array<int64_t, 10> counts{};
  const uint8_t* values = labels.data<uint8_t>();
  for (int64_t i = 0; i < labels.num_elements(); ++i) ++counts.at(values[i]);
  return counts;
}

TEST(FashionMnistTest, RealFilesHaveThePublishedSizesAndBalancedClasses) {
  if (!fashion_mnist_installed()) {
    GTEST_SKIP() << "Fashion-MNIST is not installed at " << kFashionMnistDirectory
                 << " (Debian package dataset-fashion-mnist)";
  }
  FashionMnist dataset = load_fashion_mnist();
  EXPECT_EQ(dataset.train_images.shape(), Shape({60000, 28, 28}));
  EXPECT_EQ(dataset.train_labels.shape(), Shape({60000}));
  EXPECT_EQ(dataset.test_images.shape(), Shape({10000, 28, 28}));
  EXPECT_EQ(dataset.test_labels.shape(), Shape({10000}));
  EXPECT_EQ(dataset.train_images.dtype(), DType::kUInt8);
  EXPECT_EQ(dataset.test_labels.dtype(), DType::kUInt8);
  // The dataset is published with exactly 6000 training and 1000 test images per class.
  for (int64_t count : class_counts(dataset.train_labels)) EXPECT_EQ(count, 6000);
  for (int64_t count : class_counts(dataset.test_labels)) EXPECT_EQ(count, 1000);
  // Pixels span the full 0..255 range, and the images are not all blank.
  const uint8_t* pixels = dataset.train_images.data<uint8_t>();
  uint8_t lowest = 255, highest = 0;
  for (int64_t i = 0; i < dataset.train_images.num_elements(); ++i) {
    lowest = std::min(lowest, pixels[i]);
    highest = std::max(highest, pixels[i]);
  }
  EXPECT_EQ(lowest, 0);
  EXPECT_EQ(highest, 255);
}

TEST(FashionMnistTest, MissingDirectoryNamesTheFileAndThePackage) {
  testing::TempDir dir;
  std::string message = error_of<IOError>([&] { load_fashion_mnist(dir.path().string()); });
  EXPECT_NE(message.find(dir.file("train-images-idx3-ubyte.gz")), std::string::npos) << message;
  EXPECT_NE(message.find("dataset-fashion-mnist"), std::string::npos) << message;
}

// Writes a miniature Fashion-MNIST (gzip IDX files) with the given image and label counts.
void write_miniature(const testing::TempDir& dir, const std::string& prefix, uint32_t images,
                     const testing::Bytes& labels) {
  auto header = [](uint8_t rank, std::vector<uint32_t> dims) {
    testing::Bytes bytes = {0, 0, 0x08, rank};
    for (uint32_t dim : dims) {
      for (int shift = 24; shift >= 0; shift -= 8)
        bytes.push_back(static_cast<uint8_t>(dim >> shift));
    }
    return bytes;
  };
  testing::Bytes image_file = header(3, {images, 28, 28});
  image_file.resize(image_file.size() + images * 28 * 28, 17);
  testing::Bytes label_file = header(1, {static_cast<uint32_t>(labels.size())});
  testing::append(label_file, labels);
  testing::write_bytes(dir.file(prefix + "-images-idx3-ubyte.gz"), testing::gzip(image_file));
  testing::write_bytes(dir.file(prefix + "-labels-idx1-ubyte.gz"), testing::gzip(label_file));
}

TEST(FashionMnistTest, MiniatureLoadsAndMismatchedCountsOrBadLabelsAreRejected) {
  testing::TempDir dir;
  write_miniature(dir, "train", 3, {0, 9, 4});
  write_miniature(dir, "t10k", 2, {1, 2});
  FashionMnist dataset = load_fashion_mnist(dir.path().string());
  EXPECT_EQ(dataset.train_images.shape(), Shape({3, 28, 28}));
  EXPECT_EQ(dataset.test_labels.to_vector<uint8_t>(), (std::vector<uint8_t>{1, 2}));

  write_miniature(dir, "t10k", 2, {1, 2, 3});
  std::string message = error_of<DataError>([&] { load_fashion_mnist(dir.path().string()); });
  EXPECT_NE(message.find("holds 3 labels but " + dir.file("t10k-images-idx3-ubyte.gz") +
                         " holds 2 images"),
            std::string::npos)
      << message;

  write_miniature(dir, "t10k", 2, {1, 10});
  message = error_of<DataError>([&] { load_fashion_mnist(dir.path().string()); });
  EXPECT_NE(message.find("label 1 is 10, outside the classes 0..9"), std::string::npos) << message;
}

}  // namespace
}  // namespace trainyard::data
