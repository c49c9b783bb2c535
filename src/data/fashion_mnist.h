// Fashion-MNIST (Zalando): 70,000 28x28 grayscale images of clothing in 10 classes, as the
// Debian package dataset-fashion-mnist installs it (the four IDX files, gzip-compressed).
#pragma once

#include <string>

#include "core/tensor.h"

namespace trainyard::data {

struct FashionMnist {
  Tensor train_images;  // [60000, 28, 28] uint8, pixel values 0..255
  Tensor train_labels;  // [60000] uint8, class 0..9
  Tensor test_images;   // [10000, 28, 28] uint8
  Tensor test_labels;   // [10000] uint8
};

// Where Debian's dataset-fashion-mnist puts the files.
inline constexpr const char* kFashionMnistDirectory = "/usr/share/datasets/fashion-mnist";

// Loads train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz and
// t10k-labels-idx1-ubyte.gz from `directory` (each may also be present without ".gz").
// Throws IOError when a file is missing (with a hint to install the package) and DataError
// when a file is corrupt, has the wrong dtype or shape, its image and label counts differ, or
// a label lies outside 0..9.
FashionMnist load_fashion_mnist(const std::string& directory = kFashionMnistDirectory);

}  // namespace trainyard::data
