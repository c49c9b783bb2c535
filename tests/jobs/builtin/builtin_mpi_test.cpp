// The built-in trainer started by mpirun (ctest runs it with 2 processes): every process
// trains one replica of the job's model on the same channels, the replicas together take
// global batches of batch_size, and only the chief (rank 0) reports and writes the artifacts.
// Without shuffling, the result matches one process training with the same global batch.
#include <gtest/gtest.h>
#include <mpi.h>

#include <map>

#include "builtin_job.h"
#include "builtin_test_util.h"
#include "data/npz.h"

namespace trainyard::jobs {
namespace {

using builtin::testing::argmax_model_json;
using builtin::testing::argmax_problem;
using builtin::testing::Job;
namespace fs = std::filesystem;
using Json = nlohmann::json;

constexpr const char* kHyperparameters =
    R"({"loss": "sparse_categorical_crossentropy", "from_logits": true, "learning_rate": 0.02,
        "epochs": 3, "batch_size": 32, "seed": 3, "shuffle": false, "verbose": 2})";

int world_rank() {
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  return rank;
}

TEST(BuiltinTrainerAcrossProcessesTest, MatchesOneProcessAndOnlyTheChiefWrites) {
  const int rank = world_rank();
  // Each process has its own /opt/ml with the same channels, as each host of a job has.
  Job job;
  job.write_arrays("training", argmax_problem(400, 1));
  job.write_arrays("test", argmax_problem(100, 2));
  job.set_model(argmax_model_json());
  job.set_hyperparameters(kHyperparameters);
  // The trainer reads its environment from the map it is given: pass on what mpirun set.
  int world = 0;
  MPI_Comm_size(MPI_COMM_WORLD, &world);
  job.set_environment("OMPI_COMM_WORLD_SIZE", std::to_string(world));
  ASSERT_EQ(job.run(), 0) << job.err();
  EXPECT_EQ(job.failure(), "");
  if (rank != 0) {
    EXPECT_EQ(job.out(), "") << "rank " << rank << " printed";
    EXPECT_FALSE(fs::exists(job.model_dir() / "weights.npz")) << "rank " << rank << " wrote";
    return;
  }
  EXPECT_NE(job.out().find("across 2 processes (global batch 32)"), std::string::npos) << job.out();
  EXPECT_NE(job.out().find("Epoch 3/3 - 13 steps - "), std::string::npos) << job.out();
  Json metrics = job.metrics();
  EXPECT_EQ(metrics["history"]["loss"].size(), 3u);
  EXPECT_EQ(metrics["test"].count("accuracy"), 1u);

  // One process, on its own (no OMPI_COMM_WORLD_SIZE): the same global batch and order.
  Job single;
  single.write_arrays("training", argmax_problem(400, 1));
  single.set_model(argmax_model_json());
  single.set_hyperparameters(kHyperparameters);
  ASSERT_EQ(single.run(), 0) << single.err();
  std::map<std::string, Tensor> got = data::read_npz((job.model_dir() / "weights.npz").string());
  std::map<std::string, Tensor> want =
      data::read_npz((single.model_dir() / "weights.npz").string());
  ASSERT_EQ(got.size(), want.size());
  for (const auto& [name, expected] : want) {
    ASSERT_EQ(got.count(name), 1u) << name;
    const Tensor& actual = got.at(name);
    double difference = 0, scale = 0;
    for (int64_t i = 0; i < expected.num_elements(); ++i) {
      difference = std::max(difference, std::abs(double(actual.data<float>()[i]) -
                                                 double(expected.data<float>()[i])));
      scale = std::max(scale, std::abs(double(expected.data<float>()[i])));
    }
    EXPECT_LE(difference / scale, 1e-5) << name;
  }
}

}  // namespace
}  // namespace trainyard::jobs
