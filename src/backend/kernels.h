// The parameters of the kernel families every backend implements: which activation, loss,
// metric or optimizer update to run and with which constants. Plain data, no behaviour.
#pragma once

#include <cstdint>
#include <string_view>

namespace trainyard::backend {

enum class ActivationKind : uint8_t {
  kLinear,
  kRelu,
  kSigmoid,
  kTanh,
  kSoftmax,  // over the last axis
  kGelu,     // exact: x * 0.5 * (1 + erf(x / sqrt(2)))
  kSilu,     // x * sigmoid(x); Keras's "swish" is an alias
  kLeakyRelu,
  kElu,
  kSoftplus,
};

struct Activation {
  ActivationKind kind = ActivationKind::kLinear;
  // leaky_relu: negative slope (layer default 0.3, function default 0.2); elu: alpha (1.0).
  double alpha = 0.0;
};

// Keras's name for the activation ("relu", "leaky_relu", ...).
std::string_view activation_name(ActivationKind kind);
// Whether f'(x) follows from y = f(x) alone (linear, relu, sigmoid, tanh), so a backward pass
// may run from the output without keeping the input.
bool derivative_from_output(ActivationKind kind);

enum class PoolKind : uint8_t { kMax, kAverage };

enum class LossKind : uint8_t {
  kMeanSquaredError,
  kMeanAbsoluteError,
  kBinaryCrossentropy,
  kCategoricalCrossentropy,
  kSparseCategoricalCrossentropy,
};

struct Loss {
  LossKind kind = LossKind::kMeanSquaredError;
  bool from_logits = false;
  double label_smoothing = 0.0;  // binary and categorical crossentropy only
};

enum class MetricKind : uint8_t {
  kBinaryAccuracy,  // y_pred > threshold compared with y_true, mean over the last axis
  kCategoricalAccuracy,
  kSparseCategoricalAccuracy,
  kMeanSquaredError,
  kMeanAbsoluteError,
};

struct Metric {
  MetricKind kind = MetricKind::kSparseCategoricalAccuracy;
  double threshold = 0.5;  // binary accuracy only
};

enum class OptimizerKind : uint8_t { kSgd, kAdam, kAdamW, kRmsprop };

// One optimizer step's constants, computed on the host before the update kernel runs.
// Keras 3's update rules (keras-semantics.md section 3.2) with t = iteration + 1.
struct OptimizerStep {
  OptimizerKind kind = OptimizerKind::kSgd;
  double learning_rate = 0.01;
  double weight_decay = 0.0;  // decoupled: w -= w * weight_decay * learning_rate first
  // Adam / AdamW
  double beta_1 = 0.9;
  double beta_2 = 0.999;
  double epsilon = 1e-7;
  bool amsgrad = false;
  // SGD and RMSprop
  double momentum = 0.0;
  bool nesterov = false;
  // RMSprop
  double rho = 0.9;
  bool centered = false;
  int64_t iteration = 0;  // optimizer.iterations before this step
};

// Zero padding of the two spatial axes of a channels_last [N, H, W, C] tensor: rows added
// above and below, columns added left and right. All four are >= 0.
struct Padding2d {
  int64_t top = 0, bottom = 0, left = 0, right = 0;
  bool operator==(const Padding2d&) const = default;
};

}  // namespace trainyard::backend
