// trainyard's side of bench/compare_cnn.sh: a small CNN on Fashion-MNIST at batch 64, timed the
// way bench/peers/cnn_common.py times Keras and PyTorch, printing the same JSON lines (see
// bench/peers/README.md).
//
//   Conv2D(32, 3, relu) -> MaxPooling2D(2) -> Conv2D(64, 3, relu) -> MaxPooling2D(2)
//   -> Flatten -> Dense(128, relu) -> Dense(10) logits; Adam, sparse cross-entropy.
//
// Usage: cnn_bench --workload steps_b64|epoch_b64|epoch_b256 [--epochs K] [--steps S] [--threads N]
//                  [--seed S] [--data-dir DIR] [--device D] [--profile [--cpu-clock]]
// --profile runs the same train step through a backend that times every kernel call and prints
// milliseconds per step for each (entry, shapes) on stderr instead of the JSON line. With
// --cpu-clock it reads the calling thread's CPU time instead of the wall clock: with --threads 1
// that figure hardly moves when other processes share the cores.
#include <cblas.h>
#include <trainyard/keras.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bench_support.h"
#include "keras/trainer.h"

namespace k = trainyard::keras;
namespace backend = trainyard::backend;
using trainyard::DType;
using trainyard::Shape;
using trainyard::Tensor;

namespace {

constexpr int64_t kBatchSize = 64;
constexpr int64_t kStepsPerEpoch = 938;  // ceil(60000 / 64)

struct Arguments {
  std::string workload;
  int epochs = 0;
  int64_t steps = 200;
  int threads = 0;
  uint64_t seed = 1;
  bool profile = false;
  bool cpu_clock = false;
  std::string data_dir = "/usr/share/datasets/fashion-mnist";
  std::string device = "cpu";
};

Arguments parse(CLI::App& app, int argc, char** argv) {
  Arguments arguments;
  if (const char* dir = std::getenv("TRAINYARD_FASHION_MNIST")) arguments.data_dir = dir;
  app.add_option("--workload", arguments.workload, "What to time")
      ->required()
      ->check(CLI::IsMember({"steps_b64", "epoch_b64", "epoch_b256"}));
  app.add_option("--epochs", arguments.epochs,
                 "Passes, the first one warm-up for steps_b64 (default 3; 1 for the epochs)")
      ->check(CLI::Range(1, 1000));
  app.add_option("--steps", arguments.steps, "Steps per pass of steps_b64")
      ->check(CLI::Range(int64_t{1}, kStepsPerEpoch));
  app.add_option("--threads", arguments.threads, "Compute threads (default: all cores)");
  app.add_option("--seed", arguments.seed, "Random seed");
  app.add_option("--data-dir", arguments.data_dir, "Fashion-MNIST directory");
  app.add_option("--device", arguments.device, "cpu or cuda:N");
  app.add_flag("--profile", arguments.profile, "Time each op of the step");
  app.add_flag("--cpu-clock", arguments.cpu_clock, "Profile in CPU time instead of wall time");
  trainyard::bench::parse_or_exit(app, argc, argv);
  const bool steps = arguments.workload == "steps_b64";
  if (arguments.epochs == 0) arguments.epochs = steps ? 3 : 1;
  if (steps && arguments.epochs < 2) {
    trainyard::bench::usage_error(app, "--epochs must be >= 2 (the first pass is warm-up)");
  }
  return arguments;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

k::Sequential make_model() {
  return k::Sequential({
      k::layers::Conv2D(32, 3, {.activation = "relu"}),
      k::layers::MaxPooling2D(2),
      k::layers::Conv2D(64, 3, {.activation = "relu"}),
      k::layers::MaxPooling2D(2),
      k::layers::Flatten(),
      k::layers::Dense(128, {.activation = "relu"}),
      k::layers::Dense(10),
  });
}

k::CompileOptions compile_options() {
  return {.optimizer = k::optimizers::Adam(),
          .loss = k::losses::SparseCategoricalCrossentropy({.from_logits = true}),
          .metrics = {"accuracy"}};
}

// A backend that runs every entry on `inner` and adds its wall time to a row named after the
// entry and its tensors' shapes, so one train step can be broken down kernel by kernel.
class TimingBackend final : public backend::Backend {
 public:
  TimingBackend(backend::Backend& inner, bool cpu_clock) : inner_(inner), cpu_clock_(cpu_clock) {}

  void reset() { rows_.clear(); }
  // Milliseconds per step of each row, in the order rows were first seen.
  void print(std::ostream& out, int64_t steps) const {
    std::vector<const Row*> ordered;
    double total = 0;
    for (const auto& [key, row] : rows_) {
      ordered.push_back(&row);
      total += row.seconds;
    }
    std::sort(ordered.begin(), ordered.end(),
              [](const Row* a, const Row* b) { return a->first_seen < b->first_seen; });
    char line[256];
    for (const Row* row : ordered) {
      std::snprintf(line, sizeof line, "%8.3f ms %5.1f%%  %s\n", 1e3 * row->seconds / steps,
                    100 * row->seconds / total, row->name.c_str());
      out << line;
    }
    std::snprintf(line, sizeof line, "%8.3f ms in kernels per step\n", 1e3 * total / steps);
    out << line;
  }

  trainyard::Device device() const override { return inner_.device(); }
  trainyard::Allocator& allocator() override { return inner_.allocator(); }

  void fill(const Tensor& out, double value) override {
    timed("fill", {&out}, [&] { inner_.fill(out, value); });
  }
  void copy(const Tensor& source, const Tensor& out, bool accumulate) override {
    timed("copy", {&source}, [&] { inner_.copy(source, out, accumulate); });
  }
  void cast(const Tensor& source, const Tensor& out, bool accumulate) override {
    timed("cast", {&source}, [&] { inner_.cast(source, out, accumulate); });
  }
  void matmul(const Tensor& a, bool transpose_a, const Tensor& b, bool transpose_b, const Tensor& c,
              double alpha, double beta) override {
    std::string name =
        std::string("matmul") + (transpose_a ? " aT" : "") + (transpose_b ? " bT" : "");
    timed(name.c_str(), {&a, &b},
          [&] { inner_.matmul(a, transpose_a, b, transpose_b, c, alpha, beta); });
  }
  void bias_add(const Tensor& x, const Tensor& bias, const Tensor& out) override {
    timed("bias_add", {&x}, [&] { inner_.bias_add(x, bias, out); });
  }
  void bias_add_backward(const Tensor& output_grad, const Tensor& bias_grad,
                         bool accumulate) override {
    timed("bias_add_backward", {&output_grad},
          [&] { inner_.bias_add_backward(output_grad, bias_grad, accumulate); });
  }
  void activation_forward(const backend::Activation& activation, const Tensor& x,
                          const Tensor& y) override {
    timed("activation_forward", {&x}, [&] { inner_.activation_forward(activation, x, y); });
  }
  void activation_backward(const backend::Activation& activation, const Tensor& x, const Tensor& y,
                           const Tensor& y_grad, const Tensor& x_grad, bool accumulate) override {
    timed("activation_backward", {&x},
          [&] { inner_.activation_backward(activation, x, y, y_grad, x_grad, accumulate); });
  }
  void bias_activation_backward(const backend::Activation& activation, const Tensor& y,
                                const Tensor& y_grad, const Tensor& z_grad, const Tensor& bias_grad,
                                bool accumulate_bias) override {
    timed("bias_activation_backward", {&y}, [&] {
      inner_.bias_activation_backward(activation, y, y_grad, z_grad, bias_grad, accumulate_bias);
    });
  }
  void dropout_forward(double rate, uint64_t seed, uint64_t step, const Tensor& x,
                       const Tensor& y) override {
    timed("dropout_forward", {&x}, [&] { inner_.dropout_forward(rate, seed, step, x, y); });
  }
  void dropout_backward(double rate, uint64_t seed, uint64_t step, const Tensor& y_grad,
                        const Tensor& x_grad, bool accumulate) override {
    timed("dropout_backward", {&y_grad},
          [&] { inner_.dropout_backward(rate, seed, step, y_grad, x_grad, accumulate); });
  }
  void conv2d_forward(const backend::Window2d& window, const Tensor& x, const Tensor& kernel,
                      const Tensor& y) override {
    timed("conv2d_forward", {&x, &kernel}, [&] { inner_.conv2d_forward(window, x, kernel, y); });
  }
  void conv2d_bias_activation_forward(const backend::Window2d& window,
                                      const backend::Activation& activation, const Tensor& x,
                                      const Tensor& kernel, const Tensor& bias,
                                      const Tensor& y) override {
    timed("conv2d_bias_activation_forward", {&x, &kernel},
          [&] { inner_.conv2d_bias_activation_forward(window, activation, x, kernel, bias, y); });
  }
  void conv2d_backward_input(const backend::Window2d& window, const Tensor& y_grad,
                             const Tensor& kernel, const Tensor& x_grad, bool accumulate) override {
    timed("conv2d_backward_input", {&x_grad, &kernel},
          [&] { inner_.conv2d_backward_input(window, y_grad, kernel, x_grad, accumulate); });
  }
  void conv2d_backward_kernel(const backend::Window2d& window, const Tensor& x,
                              const Tensor& y_grad, const Tensor& kernel_grad,
                              bool accumulate) override {
    timed("conv2d_backward_kernel", {&x, &kernel_grad},
          [&] { inner_.conv2d_backward_kernel(window, x, y_grad, kernel_grad, accumulate); });
  }
  void pool2d_forward(backend::PoolKind kind, const backend::Window2d& window, const Tensor& x,
                      const Tensor& y) override {
    timed("pool2d_forward", {&x}, [&] { inner_.pool2d_forward(kind, window, x, y); });
  }
  void pool2d_backward(backend::PoolKind kind, const backend::Window2d& window, const Tensor& x,
                       const Tensor& y, const Tensor& y_grad, const Tensor& x_grad,
                       bool accumulate) override {
    timed("pool2d_backward", {&x},
          [&] { inner_.pool2d_backward(kind, window, x, y, y_grad, x_grad, accumulate); });
  }
  void loss_forward(const backend::Loss& loss, const Tensor& y_pred, const Tensor& y_true,
                    const Tensor& sample_weight, const Tensor& loss_value) override {
    timed("loss_forward", {&y_pred},
          [&] { inner_.loss_forward(loss, y_pred, y_true, sample_weight, loss_value); });
  }
  void loss_backward(const backend::Loss& loss, const Tensor& y_pred, const Tensor& y_true,
                     const Tensor& sample_weight, const Tensor& loss_grad,
                     const Tensor& y_pred_grad, bool accumulate) override {
    timed("loss_backward", {&y_pred}, [&] {
      inner_.loss_backward(loss, y_pred, y_true, sample_weight, loss_grad, y_pred_grad, accumulate);
    });
  }
  void metric_update(const backend::Metric& metric, const Tensor& y_pred, const Tensor& y_true,
                     const Tensor& state) override {
    timed("metric_update", {&y_pred}, [&] { inner_.metric_update(metric, y_pred, y_true, state); });
  }
  void mean_update(const Tensor& value, double weight, const Tensor& state) override {
    timed("mean_update", {}, [&] { inner_.mean_update(value, weight, state); });
  }
  void optimizer_update(const backend::OptimizerStep& step, const Tensor& parameters,
                        const Tensor& gradients, const Tensor& slot_0, const Tensor& slot_1,
                        const Tensor& slot_2) override {
    timed("optimizer_update", {&parameters},
          [&] { inner_.optimizer_update(step, parameters, gradients, slot_0, slot_1, slot_2); });
  }
  void clip_gradients(const backend::GradientClip& clip, const Tensor& gradients,
                      std::span<const backend::BufferSegment> segments) override {
    timed("clip_gradients", {&gradients},
          [&] { inner_.clip_gradients(clip, gradients, segments); });
  }
  // The CNN uses none of the entries below; they pass through untimed.
  void batch_norm_training_forward(const Tensor& x, const Tensor& gamma, const Tensor& beta,
                                   double epsilon, double momentum, const Tensor& moving_mean,
                                   const Tensor& moving_variance, const Tensor& y) override {
    inner_.batch_norm_training_forward(x, gamma, beta, epsilon, momentum, moving_mean,
                                       moving_variance, y);
  }
  void batch_norm_training_backward(const Tensor& x, const Tensor& gamma, double epsilon,
                                    const Tensor& y_grad,
                                    const backend::NormGradients& grads) override {
    inner_.batch_norm_training_backward(x, gamma, epsilon, y_grad, grads);
  }
  void batch_norm_inference_forward(const Tensor& x, const Tensor& gamma, const Tensor& beta,
                                    const Tensor& mean, const Tensor& variance, double epsilon,
                                    const Tensor& y) override {
    inner_.batch_norm_inference_forward(x, gamma, beta, mean, variance, epsilon, y);
  }
  void batch_norm_inference_backward(const Tensor& x, const Tensor& gamma, const Tensor& mean,
                                     const Tensor& variance, double epsilon, const Tensor& y_grad,
                                     const backend::NormGradients& grads) override {
    inner_.batch_norm_inference_backward(x, gamma, mean, variance, epsilon, y_grad, grads);
  }
  void layer_norm_forward(const Tensor& x, const Tensor& gamma, const Tensor& beta, double epsilon,
                          const Tensor& y) override {
    inner_.layer_norm_forward(x, gamma, beta, epsilon, y);
  }
  void layer_norm_backward(const Tensor& x, const Tensor& gamma, double epsilon,
                           const Tensor& y_grad, const backend::NormGradients& grads) override {
    inner_.layer_norm_backward(x, gamma, epsilon, y_grad, grads);
  }
  void embedding_forward(const Tensor& indices, const Tensor& table, const Tensor& y) override {
    inner_.embedding_forward(indices, table, y);
  }
  void embedding_backward(const Tensor& indices, const Tensor& y_grad, const Tensor& table_grad,
                          bool accumulate) override {
    inner_.embedding_backward(indices, y_grad, table_grad, accumulate);
  }
  void insert_slice(const Tensor& part, int64_t axis, int64_t offset,
                    const Tensor& whole) override {
    inner_.insert_slice(part, axis, offset, whole);
  }
  void extract_slice(const Tensor& whole, int64_t axis, int64_t offset, const Tensor& part,
                     bool accumulate) override {
    inner_.extract_slice(whole, axis, offset, part, accumulate);
  }
  void zero_pad2d_forward(const backend::Padding2d& padding, const Tensor& x,
                          const Tensor& y) override {
    inner_.zero_pad2d_forward(padding, x, y);
  }
  void zero_pad2d_backward(const backend::Padding2d& padding, const Tensor& y_grad,
                           const Tensor& x_grad, bool accumulate) override {
    inner_.zero_pad2d_backward(padding, y_grad, x_grad, accumulate);
  }
  void regularizer_forward(double l1, double l2, const Tensor& weights,
                           const Tensor& penalty) override {
    inner_.regularizer_forward(l1, l2, weights, penalty);
  }
  void regularizer_backward(double l1, double l2, const Tensor& weights, const Tensor& penalty_grad,
                            const Tensor& weights_grad, bool accumulate) override {
    inner_.regularizer_backward(l1, l2, weights, penalty_grad, weights_grad, accumulate);
  }

 private:
  struct Row {
    std::string name;
    double seconds = 0;
    int64_t first_seen = 0;
  };

  template <typename Call>
  void timed(const char* entry, std::initializer_list<const Tensor*> tensors, Call&& call) {
    double start = now();
    call();
    double seconds = now() - start;
    std::string name = entry;
    for (const Tensor* tensor : tensors) name += " " + tensor->shape().to_string();
    auto [it, inserted] = rows_.try_emplace(name);
    if (inserted) {
      it->second.name = name;
      it->second.first_seen = static_cast<int64_t>(rows_.size());
    }
    it->second.seconds += seconds;
  }

  double now() const {
    timespec time{};
    clock_gettime(cpu_clock_ ? CLOCK_THREAD_CPUTIME_ID : CLOCK_MONOTONIC, &time);
    return static_cast<double>(time.tv_sec) + 1e-9 * static_cast<double>(time.tv_nsec);
  }

  backend::Backend& inner_;
  bool cpu_clock_;
  std::map<std::string, Row> rows_;
};

// Trains `steps` batches through a Trainer on a timing backend and prints where the time goes.
void profile(const Arguments& arguments, const Tensor& images, const Tensor& labels) {
  auto model = make_model();
  TimingBackend timing(backend::cpu_backend(), arguments.cpu_clock);
  k::Trainer trainer(model, compile_options(), timing);
  trainer.prepare(images.shape(), labels.shape());
  Tensor targets = labels.cast(DType::kFloat32);  // what fit() feeds the plan
  auto run = [&](int64_t steps) {
    auto start = std::chrono::steady_clock::now();
    for (int64_t step = 0; step < steps; ++step) {
      int64_t begin = (step % kStepsPerEpoch) * kBatchSize;
      int64_t end = std::min(begin + kBatchSize, images.shape()[0]);
      if (end - begin != kBatchSize) begin = 0, end = kBatchSize;
      trainer.train_step(images.slice_rows(begin, end), targets.slice_rows(begin, end));
    }
    return seconds_since(start);
  };
  run(10);  // compile the plan, first allocations
  timing.reset();
  double seconds = run(arguments.steps);
  std::cerr << "cnn_bench --profile: " << arguments.steps << " train steps at batch " << kBatchSize
            << ", " << trainyard::num_threads() << " threads, " << 1e3 * seconds / arguments.steps
            << " ms per step (" << seconds / arguments.steps * kStepsPerEpoch
            << " s per 938-step epoch); kernel times from "
            << (arguments.cpu_clock ? "the thread's CPU clock" : "the wall clock") << "\n";
  timing.print(std::cerr, arguments.steps);
}

int run(const Arguments& arguments) {
  if (arguments.threads > 0) trainyard::set_num_threads(arguments.threads);
  k::utils::set_random_seed(arguments.seed);

  auto data = trainyard::data::load_fashion_mnist(arguments.data_dir);
  Tensor images = data.train_images.cast(DType::kFloat32, 1.0 / 255);
  images = images.reshape(Shape{images.shape()[0], 28, 28, 1});
  Tensor labels = data.train_labels;
  if (arguments.profile) {
    profile(arguments, images, labels);
    return 0;
  }
  bool steps_workload = arguments.workload == "steps_b64";
  // epoch_b256 is the GPU comparison's batch size.
  const int64_t batch_size = arguments.workload == "epoch_b256" ? 256 : kBatchSize;
  if (steps_workload) {
    // Each pass is `steps` batches: a fixed slice of the training set, reshuffled every pass.
    images = images.slice_rows(0, arguments.steps * kBatchSize);
    labels = labels.slice_rows(0, arguments.steps * kBatchSize);
  }

  auto model = make_model();
  model.to(trainyard::Device(arguments.device));
  model.compile(compile_options());

  // One fit() call per pass, as a user's epoch: shuffling, batching, the step and the metrics
  // all count. The first pass (plan compilation, first allocations) is warm-up.
  std::vector<double> seconds;
  for (int epoch = 0; epoch < arguments.epochs; ++epoch) {
    auto start = std::chrono::steady_clock::now();
    model.fit(images, labels,
              {.batch_size = batch_size,
               .epochs = epoch + 1,
               .verbose = 0,
               .initial_epoch = epoch,
               .seed = arguments.seed});
    seconds.push_back(seconds_since(start));
  }
  std::cerr << "pass seconds:";
  for (double s : seconds) std::cerr << " " << s;
  std::cerr << "\n";

  nlohmann::json line = {
      {"framework", "trainyard"},
      {"config", "threads=" + std::to_string(trainyard::num_threads()) + ", OpenBLAS " +
                     std::string(openblas_get_corename()) + " single-threaded calls"},
      {"workload", arguments.workload},
      {"device", arguments.device},
      {"unit", "s/epoch"},
      {"test_accuracy", nullptr},
      {"versions", {{"trainyard", "0.1.0"}, {"openblas", openblas_get_config()}}},
  };
  if (steps_workload) {
    // Seconds per 938-step epoch, extrapolated from the median pass of `steps` steps.
    double pass = trainyard::bench::median(std::vector<double>(seconds.begin() + 1, seconds.end()));
    line["value"] = pass / static_cast<double>(arguments.steps) * kStepsPerEpoch;
    line["steps_timed"] = arguments.steps;
  } else {
    // The last epoch's wall time (the only one, warm-up included, with the default --epochs 1).
    line["value"] = seconds.back();
    Tensor test_images = data.test_images.cast(DType::kFloat32, 1.0 / 255);
    test_images = test_images.reshape(Shape{test_images.shape()[0], 28, 28, 1});
    for (const auto& [name, result] :
         model.evaluate(test_images, data.test_labels, {.verbose = 0})) {
      if (name == "accuracy") line["test_accuracy"] = result;
    }
  }
  std::cout << line.dump() << std::endl;
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("The Fashion-MNIST CNN, timed as the peers are", "cnn_bench");
  const Arguments arguments = parse(app, argc, argv);
  return trainyard::bench::run_reporting_errors(app, [&] { return run(arguments); });
}
