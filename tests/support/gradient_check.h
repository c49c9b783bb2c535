// The finite-difference gradient check every op, loss and layer test shares. It builds a
// float64 graph whose inputs are variables, reduces the op's output to a scalar with fixed
// random weights, and compares StepPlan's backward pass with central differences of
// forward passes.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "graph/graph.h"
#include "graph/step_plan.h"

namespace trainyard::testing {

struct GradientCheckInput {
  Tensor value;                // float64 (or an integer dtype for labels)
  bool differentiable = true;  // false for labels and sample weights
  // When set, this existing variable (a layer's weight) is checked and perturbed in place
  // instead of a new one made from `value`.
  graph::VariablePtr variable;
};

struct GradientCheckOptions {
  double step = 1e-6;       // finite-difference step
  double tolerance = 1e-6;  // on |analytic - numeric| / max(1, |numeric|)
  graph::StepInfo step_info{.training = true, .step = 3};
  uint64_t weight_seed = 1234;  // seeds the random reduction weights
};

struct GradientCheckResult {
  bool passed = true;
  double worst_error = 0;
  std::string report;  // the worst element, for the failure message
};

// `build` adds the computation under test to `graph` given one node per input and returns
// the node whose value is checked.
using GraphBuilder =
    std::function<graph::NodeId(graph::Graph& graph, const std::vector<graph::NodeId>& inputs)>;

GradientCheckResult check_gradients(const GraphBuilder& build,
                                    const std::vector<GradientCheckInput>& inputs,
                                    const GradientCheckOptions& options = {});

// A float64 tensor of `shape` filled with uniform values in [low, high) from `seed`.
Tensor random_tensor(const Shape& shape, uint64_t seed, double low = -1.0, double high = 1.0);

}  // namespace trainyard::testing
