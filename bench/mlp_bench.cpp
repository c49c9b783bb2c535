// trainyard's side of bench/compare_mlp.sh: TensorFlow's beginner tutorial MLP on
// Fashion-MNIST, timed the way bench/peers/mlp_common.py times Keras and PyTorch, printing
// the same JSON lines (see bench/peers/README.md).
//
// Usage: mlp_bench --workload epoch_b32|epoch_b256|step_b1 [--epochs K] [--full]
//                  [--threads N] [--steps S] [--seed S] [--data-dir DIR] [--device D]
#include <cblas.h>
#include <trainyard/keras.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "bench_support.h"
#include "keras/trainer.h"

namespace k = trainyard::keras;
using trainyard::DType;
using trainyard::Tensor;

namespace {

struct Arguments {
  std::string workload;
  int epochs = 0;
  bool full = false;
  int threads = 0;
  int64_t steps = 2000;
  uint64_t seed = 1;
  std::string data_dir = "/usr/share/datasets/fashion-mnist";
  std::string device = "cpu";
};

Arguments parse(CLI::App& app, int argc, char** argv) {
  Arguments arguments;
  if (const char* dir = std::getenv("TRAINYARD_FASHION_MNIST")) arguments.data_dir = dir;
  app.add_option("--workload", arguments.workload, "What to time")
      ->required()
      ->check(CLI::IsMember({"epoch_b32", "epoch_b256", "step_b1"}));
  app.add_option("--epochs", arguments.epochs,
                 "Passes over the data, the first one warm-up (default 3, 10 with --full)")
      ->check(CLI::Range(2, 1000));
  app.add_flag("--full", arguments.full, "Ten epochs and the test accuracy");
  app.add_option("--threads", arguments.threads, "Compute threads (default: all cores)");
  app.add_option("--steps", arguments.steps, "Steps of step_b1")
      ->check(trainyard::bench::at_least(1));
  app.add_option("--seed", arguments.seed, "Random seed");
  app.add_option("--data-dir", arguments.data_dir, "Fashion-MNIST directory");
  app.add_option("--device", arguments.device, "cpu or cuda:N");
  trainyard::bench::parse_or_exit(app, argc, argv);
  if (arguments.workload == "step_b1") arguments.full = false;
  if (arguments.epochs == 0) arguments.epochs = arguments.full ? 10 : 3;
  return arguments;
}

int run(const Arguments& arguments) {
  if (arguments.threads > 0) trainyard::set_num_threads(arguments.threads);
  k::utils::set_random_seed(arguments.seed);

  auto data = trainyard::data::load_fashion_mnist(arguments.data_dir);
  Tensor images = data.train_images.cast(DType::kFloat32, 1.0 / 255);
  Tensor labels = data.train_labels;
  int64_t batch_size = arguments.workload == "epoch_b32"    ? 32
                       : arguments.workload == "epoch_b256" ? 256
                                                            : 1;
  if (arguments.workload == "step_b1") {
    images = images.slice_rows(0, arguments.steps);
    labels = labels.slice_rows(0, arguments.steps);
  }

  auto model = k::Sequential({
      k::layers::Flatten(),
      k::layers::Dense(128, {.activation = "relu"}),
      k::layers::Dense(10),
  });
  model.to(trainyard::Device(arguments.device));
  model.compile({.optimizer = k::optimizers::Adam(),
                 .loss = k::losses::SparseCategoricalCrossentropy({.from_logits = true}),
                 .metrics = {"accuracy"}});

  // One fit() call per pass, as a user's epoch: shuffling, batching, the step and the
  // metrics all count. The first pass (plan compilation, first allocations) is warm-up.
  std::vector<double> seconds;
  for (int epoch = 0; epoch < arguments.epochs; ++epoch) {
    auto start = std::chrono::steady_clock::now();
    model.fit(images, labels,
              {.batch_size = batch_size,
               .epochs = epoch + 1,
               .verbose = 0,
               .initial_epoch = epoch,
               .seed = arguments.seed});
    seconds.push_back(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  double value = trainyard::bench::median(std::vector<double>(seconds.begin() + 1, seconds.end()));
  bool per_step = arguments.workload == "step_b1";
  if (per_step) value = value / static_cast<double>(arguments.steps) * 1e6;

  nlohmann::json accuracy = nullptr;
  if (arguments.full) {
    Tensor test_images = data.test_images.cast(DType::kFloat32, 1.0 / 255);
    for (const auto& [name, result] :
         model.evaluate(test_images, data.test_labels, {.verbose = 0})) {
      if (name == "accuracy") accuracy = result;
    }
  }
  nlohmann::json line = {
      {"framework", "trainyard"},
      {"config", "threads=" + std::to_string(trainyard::num_threads()) + ", OpenBLAS " +
                     std::string(openblas_get_corename()) + " single-threaded calls"},
      {"workload", arguments.workload},
      {"device", arguments.device},
      {"value", value},
      {"unit", per_step ? "us/step" : "s/epoch"},
      // Whether training steps ran as recorded CUDA graphs (false on the CPU, or when a step's
      // recording failed: the reason is on stderr).
      {"cuda_graphs", model.trainer().graph_step_count() > 0},
      {"test_accuracy", accuracy},
      {"versions", {{"trainyard", "0.1.0"}, {"openblas", openblas_get_config()}}},
  };
  std::cout << line.dump() << std::endl;
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("TensorFlow's tutorial MLP on Fashion-MNIST, timed as the peers are", "mlp_bench");
  const Arguments arguments = parse(app, argc, argv);
  return trainyard::bench::run_reporting_errors(app, [&] { return run(arguments); });
}
