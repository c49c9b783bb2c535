// BatchNormalization over the last axis: x [B, C] -> y [B, C], with gamma, beta and the
// moving statistics [C] as further inputs (see ops.h for the order). Training mode writes
// the moving statistics during forward, which is why they are inputs rather than outputs:
// the graph stays a DAG, and their Variables' storage is updated where the optimizer, the
// inference graphs and the weights file all read it.
#include "graph/ops/ops.h"
#include "graph/ops/shape_checks.h"
#include "graph/ops/synchronized_batch_norm.h"

namespace trainyard::graph::ops {
namespace {

class BatchNorm final : public Op {
 public:
  explicit BatchNorm(const BatchNormOptions& options) : options_(options) {}

  std::string name() const override {
    std::string mode = options_.training ? "training" : "inference";
    return std::string("BatchNormalization(") + (options_.synchronized ? "synchronized, " : "") +
           mode + ")";
  }

  TensorSpec infer(std::span<const TensorSpec> inputs) const override {
    size_t count = static_cast<size_t>(moving_variance_index()) + 1;
    require_input_count(name(), inputs, count, count);
    const TensorSpec& x = inputs[0];
    require_float(name(), x);
    bool ok = x.shape.rank() >= 1;
    for (size_t i = 1; ok && i < count; ++i) {
      ok = inputs[i].shape == Shape{x.shape[-1]} && inputs[i].dtype == x.dtype;
    }
    if (!ok) {
      throw ShapeError(name() + ": inputs " + describe_specs(inputs) + " do not fit x [..., C]" +
                       (options_.scale ? ", gamma [C]" : "") +
                       (options_.center ? ", beta [C]" : "") +
                       ", moving_mean [C], moving_variance [C]");
    }
    return x;
  }

  void forward(const OpContext& context) const override {
    auto& backend = context.backend();
    if (CrossReplicaSum* replicas = synchronizing(context)) {
      synchronized_batch_norm_forward(
          context.input(0), gamma(context), beta(context), options_.epsilon, options_.momentum,
          context.input(moving_mean_index()), context.input(moving_variance_index()),
          context.output(), *replicas);
      return;
    }
    if (options_.training) {
      backend.batch_norm_training_forward(context.input(0), gamma(context), beta(context),
                                          options_.epsilon, options_.momentum,
                                          context.input(moving_mean_index()),
                                          context.input(moving_variance_index()), context.output());
      return;
    }
    backend.batch_norm_inference_forward(
        context.input(0), gamma(context), beta(context), context.input(moving_mean_index()),
        context.input(moving_variance_index()), options_.epsilon, context.output());
  }

  void backward(const OpContext& context) const override {
    // Training, per column with xhat = (x - mean) / sigma over the batch:
    //   dbeta [C] = sum dy, dgamma [C] = sum dy * xhat,
    //   dx [B, C] = gamma / (N sigma) * (N dy - dbeta - xhat * dgamma).
    // Inference: dx [B, C] = dy * gamma / sqrt(moving_variance + eps); dgamma, dbeta as above
    // with the moving statistics.
    backend::NormGradients grads;
    grads.x_grad = &context.input_grad(0);
    grads.accumulate_x = context.accumulate(0);
    if (options_.scale) {
      grads.gamma_grad = &context.input_grad(gamma_index());
      grads.accumulate_gamma = context.accumulate(gamma_index());
    }
    if (options_.center) {
      grads.beta_grad = &context.input_grad(beta_index());
      grads.accumulate_beta = context.accumulate(beta_index());
    }
    auto& backend = context.backend();
    if (CrossReplicaSum* replicas = synchronizing(context)) {
      synchronized_batch_norm_backward(context.input(0), gamma(context), options_.epsilon,
                                       context.output_grad(), grads, *replicas);
      return;
    }
    if (options_.training) {
      backend.batch_norm_training_backward(context.input(0), gamma(context), options_.epsilon,
                                           context.output_grad(), grads);
      return;
    }
    backend.batch_norm_inference_backward(
        context.input(0), gamma(context), context.input(moving_mean_index()),
        context.input(moving_variance_index()), options_.epsilon, context.output_grad(), grads);
  }

  bool differentiable(int input) const override {
    return input >= 0 && input < moving_mean_index();
  }
  bool backward_reads_input(int input) const override {
    if (input == 0 || (options_.scale && input == gamma_index())) return true;
    return !options_.training && input >= moving_mean_index();
  }

 private:
  // The replicas to synchronize the statistics with, or null for the plain kernels.
  CrossReplicaSum* synchronizing(const OpContext& context) const {
    if (!options_.synchronized || !options_.training) return nullptr;
    return context.step().cross_replica;
  }
  int gamma_index() const { return 1; }
  int beta_index() const { return options_.scale ? 2 : 1; }
  int moving_mean_index() const { return 1 + int{options_.scale} + int{options_.center}; }
  int moving_variance_index() const { return moving_mean_index() + 1; }

  const Tensor& gamma(const OpContext& context) const {
    return options_.scale ? context.input(gamma_index()) : kAbsent;
  }
  const Tensor& beta(const OpContext& context) const {
    return options_.center ? context.input(beta_index()) : kAbsent;
  }

  static inline const Tensor kAbsent{};
  BatchNormOptions options_;
};

}  // namespace

OpPtr batch_norm(const BatchNormOptions& options) {
  return std::make_shared<BatchNorm>(options);
}

}  // namespace trainyard::graph::ops
