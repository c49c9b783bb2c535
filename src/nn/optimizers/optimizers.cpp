#include "nn/optimizers/optimizers.h"

#include "core/error.h"

namespace trainyard::nn {
namespace {

std::vector<std::string> sgd_slots(const SgdOptions& options) {
  if (options.momentum == 0.0) return {};
  return {"momentum"};
}

std::vector<std::string> adam_slots(const AdamOptions& options) {
  if (options.amsgrad) return {"momentum", "velocity", "velocity_hat"};
  return {"momentum", "velocity"};
}

std::vector<std::string> rmsprop_slots(const RmspropOptions& options) {
  if (options.centered) return {"velocity", "momentum", "average_gradient"};
  if (options.momentum > 0.0) return {"velocity", "momentum"};
  return {"velocity"};
}

// The options every optimizer shares, taken from one optimizer's own options.
template <typename Options>
OptimizerOptions common_options(const Options& options) {
  return {options.learning_rate, options.weight_decay, options.name,
          options.clipnorm,      options.clipvalue,    options.global_clipnorm};
}

void require_unit_interval(const std::string& optimizer, const char* name, double value) {
  if (!(value >= 0.0 && value < 1.0)) {
    throw ValueError(optimizer + ": " + name + " must be in [0, 1), got " + std::to_string(value));
  }
}

}  // namespace

Sgd::Sgd(SgdOptions options)
    : Optimizer("SGD", common_options(options), sgd_slots(options)), options_(std::move(options)) {
  if (!(options_.momentum >= 0.0 && options_.momentum <= 1.0)) {
    throw ValueError("SGD: momentum must be in [0, 1], got " + std::to_string(options_.momentum));
  }
}

backend::OptimizerStep Sgd::step_constants() const {
  backend::OptimizerStep step;
  step.kind = backend::OptimizerKind::kSgd;
  step.momentum = options_.momentum;
  step.nesterov = options_.nesterov;
  return step;
}

Adam::Adam(AdamOptions options) : Adam(std::move(options), false) {}

AdamW::AdamW(AdamWOptions options)
    : Adam(AdamOptions{options.learning_rate, options.beta_1, options.beta_2, options.epsilon,
                       options.amsgrad, options.weight_decay, options.name, options.clipnorm,
                       options.clipvalue, options.global_clipnorm},
           true) {}

Adam::Adam(AdamOptions options, bool adamw)
    : Optimizer(adamw ? "adamw" : "adam", common_options(options), adam_slots(options)),
      options_(std::move(options)),
      adamw_(adamw) {
  require_unit_interval(name(), "beta_1", options_.beta_1);
  require_unit_interval(name(), "beta_2", options_.beta_2);
  if (adamw_ && options_.weight_decay <= 0.0) {
    throw ValueError("AdamW: weight_decay must be set (Keras's default is 0.004)");
  }
}

backend::OptimizerStep Adam::step_constants() const {
  backend::OptimizerStep step;
  step.kind = adamw_ ? backend::OptimizerKind::kAdamW : backend::OptimizerKind::kAdam;
  step.beta_1 = options_.beta_1;
  step.beta_2 = options_.beta_2;
  step.epsilon = options_.epsilon;
  step.amsgrad = options_.amsgrad;
  return step;
}

Rmsprop::Rmsprop(RmspropOptions options)
    : Optimizer("rmsprop", common_options(options), rmsprop_slots(options)),
      options_(std::move(options)) {
  require_unit_interval(name(), "rho", options_.rho);
}

backend::OptimizerStep Rmsprop::step_constants() const {
  backend::OptimizerStep step;
  step.kind = backend::OptimizerKind::kRmsprop;
  step.rho = options_.rho;
  step.momentum = options_.momentum;
  step.epsilon = options_.epsilon;
  step.centered = options_.centered;
  return step;
}

OptimizerPtr make_optimizer(const std::string& identifier) {
  return make_optimizer(identifier, ClipOptions{});
}

OptimizerPtr make_optimizer(const std::string& identifier, const ClipOptions& clipping) {
  auto with_clipping = [&](auto options) {
    options.clipnorm = clipping.clipnorm;
    options.clipvalue = clipping.clipvalue;
    options.global_clipnorm = clipping.global_clipnorm;
    return options;
  };
  if (identifier == "sgd" || identifier == "SGD") {
    return std::make_shared<Sgd>(with_clipping(SgdOptions{}));
  }
  if (identifier == "adam" || identifier == "Adam") {
    return std::make_shared<Adam>(with_clipping(AdamOptions{}));
  }
  if (identifier == "adamw" || identifier == "AdamW") {
    return std::make_shared<AdamW>(with_clipping(AdamWOptions{}));
  }
  if (identifier == "rmsprop" || identifier == "RMSprop") {
    return std::make_shared<Rmsprop>(with_clipping(RmspropOptions{}));
  }
  throw ValueError("unknown optimizer '" + identifier + "' (known: sgd, adam, adamw, rmsprop)");
}

}  // namespace trainyard::nn
