#include "distribute/replicated_model.h"

#include <span>

#include "keras/trainer.h"

namespace trainyard::distribute {

// Scales a replica's gradients by 1/N and sums them over the replicas; sums the statistics of
// synchronized BatchNormalization layers over the replicas too.
class ReplicatedModel::GradientReducer final : public keras::GradientHook,
                                               public graph::CrossReplicaSum {
 public:
  GradientReducer(Collective& collective, int rank) : collective_(collective), rank_(rank) {}

  // The compute lock this replica holds during the current step.
  void set_lock(std::unique_lock<std::mutex>* lock) { lock_ = lock; }

  void sum(std::span<double> values) override { all_reduce(values); }

  void on_gradients(Tensor& gradients) override {
    if (gradients.dtype() == DType::kFloat64) {
      reduce(std::span(gradients.data<double>(), static_cast<size_t>(gradients.num_elements())));
    } else {
      reduce(std::span(gradients.data<float>(), static_cast<size_t>(gradients.num_elements())));
    }
  }

 private:
  template <typename T>
  void reduce(std::span<T> values) {
    // Scaling the gradients equals scaling the loss by 1/N (the gradient is linear in the
    // loss); for N a power of two the two are bit for bit the same.
    const T scale = T(1) / static_cast<T>(collective_.world_size());
    for (T& value : values) value *= scale;
    all_reduce(values);
  }

  // Sums over the replicas, releasing the compute pool while this replica waits for the others.
  template <typename T>
  void all_reduce(std::span<T> values) {
    lock_->unlock();
    try {
      collective_.all_reduce_sum(rank_, values);
    } catch (...) {
      lock_->lock();
      throw;
    }
    lock_->lock();
  }

  Collective& collective_;
  const int rank_;
  std::unique_lock<std::mutex>* lock_ = nullptr;
};

ReplicatedModel::ReplicatedModel(Strategy& strategy, const ModelFactory& factory)
    : strategy_(strategy) {
  StrategyScope scope(strategy);
  const int replicas = strategy.local_replicas();
  for (int replica = 0; replica < replicas; ++replica) {
    std::unique_ptr<keras::Model> model = factory();
    if (!model) throw ValueError("ReplicatedModel: the model factory returned null");
    if (!model->compiled()) {
      throw ValueError("ReplicatedModel: the model factory must return a compiled model ('" +
                       model->name() + "' is not)");
    }
    reducers_.push_back(
        std::make_unique<GradientReducer>(strategy.collective(), strategy.rank_of(replica)));
    model->trainer().set_gradient_hook(reducers_.back().get());
    model->trainer().set_cross_replica_sum(reducers_.back().get());
    replicas_.push_back(std::move(model));
  }
  replica_logs_.resize(static_cast<size_t>(replicas));
}

ReplicatedModel::~ReplicatedModel() {
  for (auto& model : replicas_) {
    model->trainer().set_gradient_hook(nullptr);
    model->trainer().set_cross_replica_sum(nullptr);
  }
}

void ReplicatedModel::build(const Shape& x_shape, const Shape& y_shape) {
  // One replica after another on this thread: initializers draw their seeds from the global
  // stream in creation order, so under keras.utils.set_random_seed the weights are the same
  // in every run, which replica threads racing to build would not give.
  for (auto& model : replicas_) model->trainer().prepare(x_shape, y_shape);
  // Every replica starts from replica 0's weights (Keras's MirroredVariables are initialized
  // once and copied).
  broadcast_weights();
  prepared_ = true;
}

void ReplicatedModel::broadcast_weights() {
  strategy_.run([&](int replica) {
    keras::Model& model = *replicas_[static_cast<size_t>(replica)];
    for (const graph::VariablePtr& variable : model.weights()) {
      Tensor& value = variable->value;
      const auto size = static_cast<size_t>(value.num_elements());
      if (value.dtype() == DType::kFloat64) {
        strategy_.collective().broadcast(strategy_.rank_of(replica),
                                         std::span(value.data<double>(), size));
      } else {
        strategy_.collective().broadcast(strategy_.rank_of(replica),
                                         std::span(value.data<float>(), size));
      }
    }
  });
}

void ReplicatedModel::set_weights(const std::vector<Tensor>& values) {
  TY_CHECK(prepared_, "ReplicatedModel::set_weights before build");
  for (auto& model : replicas_) model->set_weights(values);
  broadcast_weights();
}

keras::Logs ReplicatedModel::train_on_batch(const Tensor& x, const Tensor& y) {
  const int64_t replicas = num_replicas_in_sync();
  const int64_t batch = x.shape()[0];
  if (y.shape()[0] != batch) {
    throw ShapeError("ReplicatedModel::train_on_batch: x has " + std::to_string(batch) +
                     " samples but y has " + std::to_string(y.shape()[0]));
  }
  if (batch % replicas != 0) {
    throw ValueError("ReplicatedModel::train_on_batch: the global batch of " +
                     std::to_string(batch) + " samples does not split evenly across " +
                     std::to_string(replicas) + " replicas");
  }
  if (x.dtype() != DType::kFloat32 || y.dtype() != DType::kFloat32) {
    throw ValueError("ReplicatedModel::train_on_batch: x and y must be float32");
  }
  const int64_t per_replica = batch / replicas;
  if (!prepared_) build(x.shape(), y.shape());
  strategy_.run([&](int replica) {
    const int64_t begin = strategy_.rank_of(replica) * per_replica;
    Tensor local_x = x.slice_rows(begin, begin + per_replica);
    Tensor local_y = y.slice_rows(begin, begin + per_replica);
    keras::Trainer& trainer = replicas_[static_cast<size_t>(replica)]->trainer();
    std::unique_lock lock(compute_mu_);
    reducers_[static_cast<size_t>(replica)]->set_lock(&lock);
    trainer.reset_metrics();
    trainer.train_step(local_x, local_y);
    replica_logs_[static_cast<size_t>(replica)] = trainer.results();
  });
  // Mean over replicas in rank order; the names and their order are the same on every replica.
  keras::Logs logs = replica_logs_[0];
  for (size_t i = 0; i < logs.size(); ++i) {
    for (size_t replica = 1; replica < replica_logs_.size(); ++replica) {
      logs[i].second += replica_logs_[replica][i].second;
    }
  }
  if (strategy_.local_replicas() < replicas) {
    // Replicas in other processes: add their sums over the collective.
    std::vector<double> sums;
    for (const auto& entry : logs) sums.push_back(entry.second);
    strategy_.collective().all_reduce_sum(strategy_.rank_of(0), std::span(sums));
    for (size_t i = 0; i < logs.size(); ++i) logs[i].second = sums[i];
  }
  for (auto& entry : logs) entry.second /= static_cast<double>(replicas);
  return logs;
}

}  // namespace trainyard::distribute
