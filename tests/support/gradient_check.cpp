#include "support/gradient_check.h"

#include <cmath>
#include <sstream>

#include "backend/backend.h"
#include "core/random.h"

namespace trainyard::testing {
namespace {

// Sum of x * weights over all elements: reduces any output to a scalar with a gradient
// that differs per element, so a wrong index in a backward pass cannot cancel out.
class WeightedSum final : public graph::Op {
 public:
  explicit WeightedSum(Tensor weights) : weights_(std::move(weights)) {}
  std::string name() const override { return "WeightedSum"; }
  graph::TensorSpec infer(std::span<const graph::TensorSpec> inputs) const override {
    return {Shape{}, inputs[0].dtype};
  }
  void forward(const graph::OpContext& context) const override {
    const double* x = context.input(0).data<double>();
    const double* w = weights_.data<double>();
    double total = 0;
    for (int64_t i = 0; i < weights_.num_elements(); ++i) total += x[i] * w[i];
    context.output().data<double>()[0] = total;
  }
  void backward(const graph::OpContext& context) const override {
    double upstream = context.output_grad().data<double>()[0];
    const double* w = weights_.data<double>();
    double* dx = context.input_grad(0).data<double>();
    for (int64_t i = 0; i < weights_.num_elements(); ++i) {
      dx[i] = (context.accumulate(0) ? dx[i] : 0.0) + upstream * w[i];
    }
  }

 private:
  Tensor weights_;
};

struct Harness {
  graph::Graph graph;
  std::vector<graph::VariablePtr> variables;
  graph::NodeId head = -1;
};

Harness build_harness(const GraphBuilder& build, const std::vector<GradientCheckInput>& inputs,
                      uint64_t weight_seed) {
  Harness harness;
  std::vector<graph::NodeId> nodes;
  for (size_t i = 0; i < inputs.size(); ++i) {
    auto variable = inputs[i].variable;
    if (!variable) {
      variable = std::make_shared<graph::Variable>();
      variable->path = "input_" + std::to_string(i);
      variable->value = inputs[i].value.clone();
    }
    variable->trainable = inputs[i].differentiable;
    if (variable->trainable) {
      variable->gradient = Tensor::zeros(variable->value.shape(), variable->value.dtype());
    }
    harness.variables.push_back(variable);
    nodes.push_back(harness.graph.add_variable(variable));
  }
  graph::NodeId output = build(harness.graph, nodes);
  Tensor weights = random_tensor(harness.graph.spec(output).shape, weight_seed, 0.5, 1.5);
  harness.head = harness.graph.add_op(std::make_shared<WeightedSum>(weights), {output}, "head");
  return harness;
}

}  // namespace

Tensor random_tensor(const Shape& shape, uint64_t seed, double low, double high) {
  Tensor tensor = Tensor::zeros(shape, DType::kFloat64);
  RandomGenerator generator(seed);
  double* data = tensor.data<double>();
  for (int64_t i = 0; i < tensor.num_elements(); ++i) {
    data[i] = low + (high - low) * generator.uniform();
  }
  return tensor;
}

GradientCheckResult check_gradients(const GraphBuilder& build,
                                    const std::vector<GradientCheckInput>& inputs,
                                    const GradientCheckOptions& options) {
  Harness harness = build_harness(build, inputs, options.weight_seed);
  graph::StepPlan plan(harness.graph, {.outputs = {}, .loss = harness.head},
                       backend::cpu_backend());
  plan.forward(options.step_info);
  plan.backward(options.step_info);

  auto evaluate = [&]() {
    plan.forward(options.step_info);
    return plan.value(harness.head).data<double>()[0];
  };

  GradientCheckResult result;
  for (size_t v = 0; v < harness.variables.size(); ++v) {
    auto& variable = *harness.variables[v];
    if (!variable.trainable) continue;
    double* values = variable.value.data<double>();
    Tensor analytic = variable.gradient.clone();
    for (int64_t i = 0; i < variable.value.num_elements(); ++i) {
      double original = values[i];
      values[i] = original + options.step;
      double plus = evaluate();
      values[i] = original - options.step;
      double minus = evaluate();
      values[i] = original;
      double numeric = (plus - minus) / (2 * options.step);
      double got = analytic.data<double>()[i];
      double error = std::abs(got - numeric) / std::max(1.0, std::abs(numeric));
      if (!(error <= result.worst_error) || std::isnan(error)) {
        result.worst_error = std::isnan(error) ? INFINITY : error;
        std::ostringstream report;
        report << "input " << v << " element " << i << ": backward " << got
               << ", finite difference " << numeric;
        result.report = report.str();
      }
    }
  }
  result.passed = result.worst_error <= options.tolerance;
  return result;
}

}  // namespace trainyard::testing
