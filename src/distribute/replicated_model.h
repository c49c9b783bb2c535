// ReplicatedModel: one copy of a compiled Keras model per replica of a Strategy, trained in
// sync (Keras's model built under strategy.scope()). Each train step splits the global batch
// evenly across the replicas; each replica computes its local mean loss and gradients, scales
// the gradients by 1/num_replicas_in_sync (the gradient of the loss scaled by 1/N), and the
// collective sums them in rank order, so every replica applies the same update, equal to the
// gradient of the global-batch mean loss. Initial weights are broadcast from replica 0.
// BatchNormalization is per replica (statistics of the local batch, moving statistics kept by
// each replica), Keras's default without synchronized=True.
// Thread safety: one thread at a time.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "distribute/strategy.h"
#include "keras/history.h"
#include "keras/model.h"
#include "keras/progress_bar.h"

namespace trainyard::distribute {

// fit()'s arguments: Keras's, for arrays, with batch_size the global batch.
struct ReplicatedFitOptions {
  int64_t batch_size = 32;  // global: split evenly across num_replicas_in_sync() replicas
  int epochs = 1;
  bool shuffle = true;
  // The shuffling seed, the same on every process; unset: rank 0 draws one and sends it.
  std::optional<uint64_t> seed;
  // Evaluated after each epoch on this process's first replica ("val_" logs); undefined x:
  // none.
  Tensor validation_x = {};
  Tensor validation_y = {};
  int verbose = 2;  // 0 silent, otherwise one line per epoch, printed by the chief only
  std::ostream* output = nullptr;  // null: std::cout
};

class ReplicatedModel {
 public:
  // Builds a compiled model for a replica; called once per replica, on the calling thread,
  // under strategy.scope().
  using ModelFactory = std::function<std::unique_ptr<keras::Model>()>;

  // Throws ValueError when the factory returns null or an uncompiled model.
  ReplicatedModel(Strategy& strategy, const ModelFactory& factory);
  ~ReplicatedModel();
  ReplicatedModel(const ReplicatedModel&) = delete;
  ReplicatedModel& operator=(const ReplicatedModel&) = delete;

  int num_replicas_in_sync() const { return strategy_.num_replicas_in_sync(); }

  // Builds every replica for x and y shaped like these ([batch, ...]; the batch is ignored) and
  // copies replica 0's weights to the others. train_on_batch does this on first use.
  void build(const Shape& x_shape, const Shape& y_shape);
  // Overwrites every replica's weights, in get_weights() order (Model::set_weights's errors);
  // every process calls it, and where processes pass different values rank 0's win.
  // REQUIRES: build().
  void set_weights(const std::vector<Tensor>& values);

  // One synchronous step on a global batch: x [batch, ...] and y [batch, ...], float32 (under
  // MultiWorkerMirroredStrategy every process passes the same global batch and each replica
  // takes its rank's slice, Keras's DATA sharding), whose
  // batch divides evenly by num_replicas_in_sync() (ValueError otherwise: Keras would give
  // some replicas one sample more, which makes the step differ from the single-device one).
  // Returns the step's loss and metrics, each the mean of the replicas' values, which is the
  // global-batch value since the replicas' batches are equal. Throws CollectiveError when a
  // replica fails or the collective times out.
  keras::Logs train_on_batch(const Tensor& x, const Tensor& y);

  // Keras's fit over arrays x [N, ...], y [N, ...] (converted to float32: integer labels
  // are fine), every process passing the same
  // arrays: each epoch visits the samples in one order shared by all processes, in global
  // batches of options.batch_size. A batch that does not split evenly across the replicas
  // (the last one) is trimmed to a multiple of num_replicas_in_sync(): the samples left out
  // are at most num_replicas_in_sync() - 1, different ones each shuffled epoch. Returns the
  // History: per epoch the sample-weighted mean of the steps' logs, then val_ logs.
  // Throws ValueError for a batch_size below num_replicas_in_sync(), epochs < 1 or mismatched
  // arrays.
  keras::History fit(const Tensor& x, const Tensor& y, const ReplicatedFitOptions& options = {});

  // Local replica `index`'s model (0..strategy.local_replicas()-1); after a step all
  // replicas hold the same trainable weights.
  keras::Model& replica(int index) const { return *replicas_.at(static_cast<size_t>(index)); }
  // Replica 0's weights (model.get_weights()).
  std::vector<Tensor> get_weights() const { return replica(0).get_weights(); }

 private:
  class GradientReducer;

  // Copies rank 0's weights into every replica.
  void broadcast_weights();

  Strategy& strategy_;
  std::vector<std::unique_ptr<keras::Model>> replicas_;
  std::vector<std::unique_ptr<GradientReducer>> reducers_;
  std::vector<keras::Logs> replica_logs_;
  bool prepared_ = false;
  // The replicas share one compute pool, which takes one caller at a time: a replica holds
  // this while it computes and releases it while it waits in the collective.
  std::mutex compute_mu_;
};

}  // namespace trainyard::distribute
