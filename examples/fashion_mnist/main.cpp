// TensorFlow's beginner tutorial on Fashion-MNIST, written against trainyard's Keras API:
// Flatten -> Dense(128, relu) -> Dense(10) logits, Adam, sparse categorical cross-entropy,
// batch 32, 10 epochs. Expected: test accuracy of about 0.88 (at least 0.875).
//
// Usage: fashion_mnist [--epochs N] [--data-dir DIR] [--seed S] [--device cpu|cuda:N] [--verbose
// 0|1|2]
#include <trainyard/keras.h>

#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>

namespace k = trainyard::keras;
using trainyard::DType;

int main(int argc, char** argv) {
  int epochs = 10;
  int verbose = 1;
  uint64_t seed = 42;
  std::string device = "cpu";
  std::string data_dir = "/usr/share/datasets/fashion-mnist";
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--epochs")
      epochs = std::atoi(argv[i + 1]);
    else if (flag == "--data-dir")
      data_dir = argv[i + 1];
    else if (flag == "--seed")
      seed = std::strtoull(argv[i + 1], nullptr, 10);
    else if (flag == "--verbose")
      verbose = std::atoi(argv[i + 1]);
    else if (flag == "--device")
      device = argv[i + 1];
    else {
      std::cerr << "fashion_mnist: unknown option " << flag << "\n";
      return 2;
    }
  }

  try {
    k::utils::set_random_seed(seed);
    auto data = trainyard::data::load_fashion_mnist(data_dir);
    auto train_images = data.train_images.cast(DType::kFloat32, 1.0 / 255);
    auto test_images = data.test_images.cast(DType::kFloat32, 1.0 / 255);

    auto model = k::Sequential({
        k::layers::Flatten(),
        k::layers::Dense(128, {.activation = "relu"}),
        k::layers::Dense(10),
    });
    model.to(trainyard::Device(device));
    model.compile({.optimizer = k::optimizers::Adam(),
                   .loss = k::losses::SparseCategoricalCrossentropy({.from_logits = true}),
                   .metrics = {"accuracy"}});
    model.fit(train_images, data.train_labels,
              {.batch_size = 32, .epochs = epochs, .verbose = verbose});

    auto results = model.evaluate(test_images, data.test_labels, {.verbose = 2});
    for (const auto& [name, value] : results) {
      if (name == "accuracy") std::cout << "\nTest accuracy: " << value << "\n";
    }
  } catch (const trainyard::Error& error) {
    std::cerr << "fashion_mnist: " << error.what() << "\n";
    return 1;
  }
  return 0;
}
