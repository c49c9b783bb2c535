// trainyard's data parallelism in one include (tf.distribute's names):
//
//   namespace d = trainyard::distribute;
//   d::MirroredStrategy strategy(4);  // logical CPU devices cpu:0..cpu:3
//   d::ReplicatedModel model(strategy, [] {
//     auto m = std::make_unique<trainyard::keras::Sequential>(...);
//     m->compile({...});
//     return m;
//   });
//   auto logs = model.train_on_batch(x, y);  // x, y: the global batch, split across replicas
#pragma once

#include "distribute/collective.h"
#include "distribute/in_process_collective.h"
#include "distribute/mpi_collective.h"
#include "distribute/replicated_model.h"
#include "distribute/strategy.h"
