// ReplicatedModel::fit: epochs of synchronized steps over arrays, in one sample order that
// every process shares.
#include <cstring>
#include <iostream>
#include <numeric>

#include "core/random.h"
#include "distribute/replicated_model.h"

namespace trainyard::distribute {
namespace {

void check_fit_arguments(const Tensor& x, const Tensor& y, const ReplicatedFitOptions& options,
                         int replicas) {
  if (x.shape().rank() < 1 || y.shape().rank() < 1 || x.shape()[0] != y.shape()[0]) {
    throw ShapeError("ReplicatedModel::fit: x " + x.shape().to_string() + " and y " +
                     y.shape().to_string() + " must have the same number of samples");
  }
  if (options.batch_size < replicas) {
    throw ValueError("ReplicatedModel::fit: batch_size " + std::to_string(options.batch_size) +
                     " is the global batch and must be at least num_replicas_in_sync (" +
                     std::to_string(replicas) + ")");
  }
  if (options.epochs < 1) {
    throw ValueError("ReplicatedModel::fit: epochs must be at least 1, got " +
                     std::to_string(options.epochs));
  }
}

// Rows `order[begin, end)` of `source` as a new contiguous tensor.
Tensor gather(const Tensor& source, const std::vector<int64_t>& order, int64_t begin, int64_t end) {
  Shape shape = source.shape();
  shape[0] = end - begin;
  Tensor batch = Tensor::zeros(shape, source.dtype());
  const size_t row_bytes = source.nbytes() / static_cast<size_t>(source.shape()[0]);
  const auto* from = static_cast<const unsigned char*>(source.raw_data());
  auto* to = static_cast<unsigned char*>(batch.raw_data());
  for (int64_t i = begin; i < end; ++i) {
    std::memcpy(to + static_cast<size_t>(i - begin) * row_bytes,
                from + static_cast<size_t>(order[static_cast<size_t>(i)]) * row_bytes, row_bytes);
  }
  return batch;
}

// The shuffling seed every process uses: the given one, or rank 0's draw sent to the others
// (a double carries any value below 2^53 exactly).
uint64_t shared_seed(Strategy& strategy, const std::optional<uint64_t>& seed) {
  if (seed) return *seed;
  const auto drawn = static_cast<double>(next_random_seed() % (uint64_t{1} << 52));
  std::vector<double> copies(static_cast<size_t>(strategy.local_replicas()), drawn);
  // Every local replica takes part in the broadcast, as in build().
  strategy.run([&](int local) {
    strategy.collective().broadcast(strategy.rank_of(local),
                                    std::span(&copies[static_cast<size_t>(local)], 1));
  });
  return static_cast<uint64_t>(copies[0]);
}

Tensor as_float32(const Tensor& tensor) {
  return tensor.dtype() == DType::kFloat32 ? tensor : tensor.cast(DType::kFloat32);
}

}  // namespace

keras::History ReplicatedModel::fit(const Tensor& x_given, const Tensor& y_given,
                                    const ReplicatedFitOptions& options) {
  // The steps take float32; integer class labels and float64 arrays convert once, exactly for
  // labels below 2^24.
  const Tensor x = as_float32(x_given), y = as_float32(y_given);
  const int replicas = num_replicas_in_sync();
  check_fit_arguments(x, y, options, replicas);
  std::ostream& out = options.output ? *options.output : std::cout;
  const bool printing = options.verbose != 0 && strategy_.is_chief();
  const int64_t samples = x.shape()[0];
  RandomGenerator generator(shared_seed(strategy_, options.seed));
  std::vector<int64_t> order(static_cast<size_t>(samples));

  keras::History history;
  history.epochs = options.epochs;
  history.verbose = options.verbose;
  for (int epoch = 0; epoch < options.epochs; ++epoch) {
    std::iota(order.begin(), order.end(), int64_t{0});
    if (options.shuffle) {
      // Fisher-Yates with trainyard's generator: the same order on every process.
      for (int64_t i = samples - 1; i > 0; --i) {
        std::swap(order[static_cast<size_t>(i)],
                  order[static_cast<size_t>(generator.below(static_cast<uint64_t>(i + 1)))]);
      }
    }
    keras::Logs sums;
    int64_t seen = 0, steps = 0;
    for (int64_t begin = 0; begin < samples; begin += options.batch_size) {
      int64_t end = std::min(samples, begin + options.batch_size);
      end -= (end - begin) % replicas;
      if (end == begin) break;
      keras::Logs logs = train_on_batch(gather(x, order, begin, end), gather(y, order, begin, end));
      const auto weight = static_cast<double>(end - begin);
      if (sums.empty()) {
        for (auto& [name, value] : logs) sums.emplace_back(name, 0.0);
      }
      for (size_t i = 0; i < logs.size(); ++i) sums[i].second += logs[i].second * weight;
      seen += end - begin;
      ++steps;
    }
    keras::Logs epoch_logs;
    for (auto& [name, total] : sums) epoch_logs.emplace_back(name, total / double(seen));
    if (options.validation_x.defined()) {
      keras::Logs validation =
          replica(0).evaluate({options.validation_x}, {options.validation_y},
                              {.batch_size = options.batch_size, .verbose = 0});
      for (auto& [name, value] : validation) epoch_logs.emplace_back("val_" + name, value);
    }
    for (auto& [name, value] : epoch_logs) history.history[name].push_back(value);
    history.epoch.push_back(epoch);
    history.steps = steps;
    if (printing) {
      out << "Epoch " << epoch + 1 << "/" << options.epochs << " - " << steps << " steps";
      for (auto& [name, value] : epoch_logs) out << " - " << name << ": " << value;
      out << "\n";
      out.flush();
    }
  }
  return history;
}

}  // namespace trainyard::distribute
