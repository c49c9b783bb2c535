#include "data/fashion_mnist.h"

#include <filesystem>

#include "core/error.h"
#include "data/idx.h"

namespace trainyard::data {
namespace {

// The gzip file as shipped, or its decompressed twin when a user unpacked it.
std::string locate(const std::string& directory, const std::string& stem) {
  std::filesystem::path base(directory);
  std::filesystem::path compressed = base / (stem + ".gz");
  std::filesystem::path plain = base / stem;
  std::error_code ignored;
  if (std::filesystem::exists(compressed, ignored)) return compressed.string();
  if (std::filesystem::exists(plain, ignored)) return plain.string();
  throw IOError(compressed.string() + ": cannot open: no such file (Fashion-MNIST comes with " +
                "the Debian package dataset-fashion-mnist)");
}

Tensor load_images(const std::string& path) {
  Tensor images = read_idx(path);
  const Shape& shape = images.shape();
  if (images.dtype() != DType::kUInt8 || shape.rank() != 3 || shape[1] != 28 || shape[2] != 28) {
    throw DataError(path + ": expected uint8 images of shape [N, 28, 28], found " +
                    std::string(dtype_name(images.dtype())) + " " + shape.to_string());
  }
  return images;
}

Tensor load_labels(const std::string& path, const Tensor& images, const std::string& images_path) {
  Tensor labels = read_idx(path);
  if (labels.dtype() != DType::kUInt8 || labels.shape().rank() != 1) {
    throw DataError(path + ": expected uint8 labels of shape [N], found " +
                    std::string(dtype_name(labels.dtype())) + " " + labels.shape().to_string());
  }
  if (labels.shape()[0] != images.shape()[0]) {
    throw DataError(path + ": holds " + std::to_string(labels.shape()[0]) + " labels but " +
                    images_path + " holds " + std::to_string(images.shape()[0]) + " images");
  }
  const uint8_t* values = labels.data<uint8_t>();
  for (int64_t i = 0; i < labels.num_elements(); ++i) {
    if (values[i] > 9) {
      throw DataError(path + ": label " + std::to_string(i) + " is " + std::to_string(values[i]) +
                      ", outside the classes 0..9");
    }
  }
  return labels;
}

}  // namespace

FashionMnist load_fashion_mnist(const std::string& directory) {
  FashionMnist dataset;
  std::string train_images = locate(directory, "train-images-idx3-ubyte");
  std::string train_labels = locate(directory, "train-labels-idx1-ubyte");
  std::string test_images = locate(directory, "t10k-images-idx3-ubyte");
  std::string test_labels = locate(directory, "t10k-labels-idx1-ubyte");
  dataset.train_images = load_images(train_images);
  dataset.train_labels = load_labels(train_labels, dataset.train_images, train_images);
  dataset.test_images = load_images(test_images);
  dataset.test_labels = load_labels(test_labels, dataset.test_images, test_images);
  return dataset;
}

}  // namespace trainyard::data
