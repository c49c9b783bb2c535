// Small models, data and probes shared by the fit option tests.
#pragma once

#include <trainyard/keras.h>

#include <cstring>
#include <vector>

namespace trainyard::keras::testing {

// [rows, 4] uniform features; the class is the index of the largest feature (int32 [rows]).
struct Problem {
  Tensor x, y;
};

inline Problem argmax_problem(int64_t rows, uint64_t seed) {
  Problem p{Tensor::zeros(Shape{rows, 4}), Tensor::zeros(Shape{rows}, DType::kInt32)};
  RandomGenerator generator(seed);
  for (int64_t r = 0; r < rows; ++r) {
    int best = 0;
    for (int j = 0; j < 4; ++j) {
      float v = static_cast<float>(generator.uniform());
      p.x.data<float>()[r * 4 + j] = v;
      if (v > p.x.data<float>()[r * 4 + best]) best = j;
    }
    p.y.data<int32_t>()[r] = best;
  }
  return p;
}

// A compiled two-layer classifier whose initial weights depend only on `seed`.
inline Sequential seeded_classifier(uint64_t seed) {
  set_random_seed(seed);
  auto model = Sequential({layers::Dense(8, {.activation = "tanh"}), layers::Dense(4)});
  model.compile({.optimizer = optimizers::SGD({.learning_rate = 0.1}),
                 .loss = losses::SparseCategoricalCrossentropy({.from_logits = true}),
                 .metrics = {"accuracy"}});
  return model;
}

inline std::vector<float> all_weights(const Model& model) {
  std::vector<float> values;
  for (auto& variable : model.weights()) {
    auto v = variable->value.to_vector<float>();
    values.insert(values.end(), v.begin(), v.end());
  }
  return values;
}

inline bool bitwise_equal(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

// Records, per epoch, the training steps seen and the keys logged at its end.
class EpochProbe : public Callback {
 public:
  std::vector<std::vector<int64_t>> steps;     // per epoch: the batch index of each step
  std::vector<std::vector<std::string>> keys;  // per epoch: the names in the epoch's logs

  void on_epoch_begin(int /*epoch*/) override { steps.emplace_back(); }
  void on_train_batch_end(int64_t batch, const BatchLogs& /*logs*/) override {
    steps.back().push_back(batch);
  }
  void on_epoch_end(int /*epoch*/, Logs& logs) override {
    keys.emplace_back();
    for (const auto& [name, value] : logs) keys.back().push_back(name);
  }
  bool wants_batch_events() const override { return true; }
};

}  // namespace trainyard::keras::testing
