// The built-in trainer end to end: a job directory laid out as SageMaker lays /opt/ml, the
// environment the contract sets, and the artifacts and failure file it must leave.
#include "jobs/builtin/builtin_trainer.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

#include "builtin_job.h"
#include "builtin_test_util.h"
#include "data/npy.h"
#include "data/npz.h"
#include "jobs/builtin/output_files.h"
#include "jobs/builtin/step_times.h"
#include "keras/model_config.h"

namespace trainyard::jobs {
namespace {

namespace fs = std::filesystem;
using builtin::testing::argmax_csv;
using builtin::testing::argmax_model_json;
using builtin::testing::argmax_problem;
using builtin::testing::ArgmaxProblem;
using builtin::testing::features_tensor;
using builtin::testing::Job;
using builtin::testing::labels_tensor;
using builtin::testing::read_file;
using builtin::testing::TempDir;
using builtin::testing::write_file;
using Json = nlohmann::json;

constexpr const char* kLogitsLoss =
    R"({"loss": "sparse_categorical_crossentropy", "from_logits": true, "learning_rate": 0.02,
        "epochs": 8, "seed": 3})";

// The fraction of `problem` the saved model (model.json + weights.npz) classifies right,
// computed here from its predictions.
double saved_model_accuracy(const fs::path& model_dir, const ArgmaxProblem& problem) {
  keras::Sequential model = keras::model_from_json(read_file(model_dir / "model.json"));
  std::map<std::string, Tensor> weights = data::read_npz((model_dir / "weights.npz").string());
  EXPECT_EQ(weights.size(), model.weights().size());
  for (auto& variable : model.weights()) {
    auto found = weights.find(variable->path);
    if (found == weights.end()) {
      ADD_FAILURE() << "weights.npz lacks " << variable->path;
      continue;
    }
    variable->value.copy_from(found->second);
  }
  Tensor predictions = model.predict(features_tensor(problem));
  const float* logits = predictions.data<float>();
  int correct = 0;
  for (size_t r = 0; r < problem.labels.size(); ++r) {
    int best = 0;
    for (int j = 1; j < 4; ++j) {
      if (logits[r * 4 + j] > logits[r * 4 + best]) best = j;
    }
    correct += best == problem.labels[r];
  }
  return double(correct) / double(problem.labels.size());
}

TEST(BuiltinTrainerTest, TrainsFromNpyFilesAndWritesTheArtifacts) {
  Job job;
  ArgmaxProblem train = argmax_problem(1000, 1), test = argmax_problem(300, 2);
  job.write_arrays("training", train);
  job.write_arrays("test", test);
  job.set_model(argmax_model_json());
  job.set_hyperparameters(kLogitsLoss);
  ASSERT_EQ(job.run(), 0) << job.err();
  EXPECT_EQ(job.err(), "");
  EXPECT_EQ(job.failure(), "");

  // Keras's per-epoch lines (verbose 2), then lines a MetricDefinitions regex can match.
  std::string out = job.out();
  EXPECT_NE(out.find("Epoch 1/8\n"), std::string::npos) << out;
  EXPECT_NE(out.find("Epoch 8/8\n"), std::string::npos) << out;
  EXPECT_TRUE(std::regex_search(
      out, std::regex(R"(\n32/32 - \S+ - \S+/step - accuracy: \d\.\d{4} - loss: \d\.\d{4}\n)")))
      << out;
  std::smatch match;
  ASSERT_TRUE(std::regex_search(out, match, std::regex(R"(\ntest_accuracy: (\d\.\d{4})\n)")))
      << out;

  Json metrics = job.metrics();
  EXPECT_EQ(metrics["epochs"], 8);
  double test_accuracy = metrics["test"]["accuracy"].get<double>();
  EXPECT_GT(test_accuracy, 0.8);
  EXPECT_NEAR(std::stod(match[1].str()), test_accuracy, 5e-5);
  EXPECT_EQ(metrics["history"]["loss"].size(), 8u);
  EXPECT_EQ(metrics["train"]["loss"], metrics["history"]["loss"].back());
  EXPECT_EQ(metrics.count("validation"), 0u);

  // The weights, named by variable path, are the trained ones: the saved model scores the
  // test set as the trainer reported.
  std::map<std::string, Tensor> weights =
      data::read_npz((job.model_dir() / "weights.npz").string());
  ASSERT_EQ(weights.count("hidden/kernel"), 1u);
  EXPECT_EQ(weights.at("hidden/kernel").shape(), (Shape{4, 16}));
  EXPECT_EQ(weights.at("logits/bias").shape(), (Shape{4}));
  EXPECT_NEAR(saved_model_accuracy(job.model_dir(), test), test_accuracy, 1e-9);

  Json config = Json::parse(read_file(job.model_dir() / "model.json"));
  EXPECT_EQ(config["class_name"], "Sequential");
  EXPECT_EQ(config["compile_config"]["loss"]["config"]["from_logits"], true);
  EXPECT_EQ(config["compile_config"]["metrics"], Json::parse(R"(["accuracy"])"));
  // Nothing but the three artifacts (no temporaries left behind).
  std::set<std::string> names;
  for (const auto& entry : fs::directory_iterator(job.model_dir())) {
    names.insert(entry.path().filename().string());
  }
  EXPECT_EQ(names, (std::set<std::string>{"metrics.json", "model.json", "weights.npz"}));
}

TEST(BuiltinTrainerTest, SameSeedSameWeights) {
  std::string weights[2];
  for (std::string& bytes : weights) {
    Job job;
    job.write_arrays("training", argmax_problem(200, 4));
    job.set_model(argmax_model_json());
    job.set_hyperparameters(R"({"loss": "sparse_categorical_crossentropy", "seed": 9,
                                "epochs": 2, "verbose": 0})");
    ASSERT_EQ(job.run(), 0) << job.err();
    EXPECT_EQ(job.out().find("Epoch"), std::string::npos);  // verbose 0
    bytes = read_file(job.model_dir() / "weights.npz");
  }
  EXPECT_FALSE(weights[0].empty());
  EXPECT_EQ(weights[0], weights[1]);
}

TEST(BuiltinTrainerTest, NpzChannelsAndACompileConfigFromTheModel) {
  Job job;
  ArgmaxProblem train = argmax_problem(1000, 5), test = argmax_problem(300, 6);
  // Like keras.datasets' archives: one .npz with both parts, given to both channels.
  std::vector<graph::VariablePtr> arrays;
  auto add = [&](const std::string& name, const Tensor& value) {
    arrays.push_back(std::make_shared<graph::Variable>(graph::Variable{name, value, {}, false}));
  };
  add("x_train", features_tensor(train));
  add("y_train", labels_tensor(train));
  add("x_test", features_tensor(test));
  add("y_test", labels_tensor(test));
  builtin::write_weights_npz(job.channel("training") / "argmax.npz", arrays);
  fs::copy_file(job.channel("training") / "argmax.npz", job.channel("test") / "argmax.npz");
  job.set_model(argmax_model_json(R"({
      "optimizer": {"module": "keras.optimizers", "class_name": "Adam",
                    "config": {"name": "adam", "learning_rate": 0.02}},
      "loss": {"module": "keras.losses", "class_name": "SparseCategoricalCrossentropy",
               "config": {"name": "sparse_categorical_crossentropy",
                          "reduction": "sum_over_batch_size", "from_logits": true}},
      "metrics": ["accuracy"], "loss_weights": null, "weighted_metrics": null,
      "run_eagerly": false, "steps_per_execution": 1, "jit_compile": false})"));
  job.set_hyperparameters(R"({"epochs": "8", "seed": "11", "validation_split": "0.2"})");
  ASSERT_EQ(job.run(), 0) << job.err();
  Json metrics = job.metrics();
  EXPECT_GT(metrics["test"]["accuracy"].get<double>(), 0.8);
  EXPECT_EQ(metrics["history"]["val_accuracy"].size(), 8u);
  EXPECT_EQ(metrics["validation"]["accuracy"], metrics["history"]["val_accuracy"].back());
  EXPECT_NE(job.out().find("\nval_accuracy: "), std::string::npos);
  EXPECT_NE(job.out().find("arrays x_train and y_train of argmax.npz"), std::string::npos);
  EXPECT_NEAR(saved_model_accuracy(job.model_dir(), test),
              metrics["test"]["accuracy"].get<double>(), 1e-9);
}

TEST(BuiltinTrainerTest, CsvWithAHeaderAndAValidationChannel) {
  Job job;
  ArgmaxProblem first = argmax_problem(500, 7), second = argmax_problem(500, 8);
  ArgmaxProblem validation = argmax_problem(200, 9);
  // Two shards in the training channel, rows concatenated.
  write_file(job.channel("training") / "part-0.csv", argmax_csv(first, 2, true));
  write_file(job.channel("training") / "part-1.csv", argmax_csv(second, 2, true));
  write_file(job.channel("validation") / "validation.csv", argmax_csv(validation, 2, true));
  job.set_model(argmax_model_json());
  job.set_hyperparameters(R"({"loss": "sparse_categorical_crossentropy", "from_logits": "true",
      "learning_rate": "0.02", "epochs": 8, "seed": 5, "label_column": "label",
      "metrics": "accuracy, sparse_categorical_accuracy"})");
  ASSERT_EQ(job.run(), 0) << job.err();
  Json metrics = job.metrics();
  EXPECT_GT(metrics["validation"]["accuracy"].get<double>(), 0.8);
  EXPECT_EQ(metrics["train"]["sparse_categorical_accuracy"], metrics["train"]["accuracy"]);
  EXPECT_NE(job.out().find("validating on 200 samples"), std::string::npos) << job.out();
  EXPECT_NE(job.out().find("training on 1000 samples"), std::string::npos) << job.out();
}

TEST(BuiltinTrainerTest, IdxImagesWithAnInlineModelConfig) {
  Job job;
  // 8x8 images of two classes: bright top half or bright bottom half, with noise.
  auto images = [](int count, uint64_t seed, std::vector<uint8_t>& labels) {
    RandomGenerator generator(seed);
    std::vector<uint8_t> pixels;
    for (int i = 0; i < count; ++i) {
      int label = static_cast<int>(generator.below(2));
      labels.push_back(static_cast<uint8_t>(label));
      for (int row = 0; row < 8; ++row) {
        bool bright = (row < 4) == (label == 0);
        for (int column = 0; column < 8; ++column) {
          pixels.push_back(static_cast<uint8_t>((bright ? 150 : 0) + generator.below(100)));
        }
      }
    }
    return pixels;
  };
  std::vector<uint8_t> train_labels, test_labels;
  std::vector<uint8_t> train_pixels = images(400, 1, train_labels);
  std::vector<uint8_t> test_pixels = images(100, 2, test_labels);
  using builtin::testing::gzip;
  using builtin::testing::idx_uint8;
  fs::path training = job.channel("training");
  write_file(training / "train-images-idx3-ubyte.gz", gzip(idx_uint8({400, 8, 8}, train_pixels)));
  write_file(training / "train-labels-idx1-ubyte.gz", gzip(idx_uint8({400}, train_labels)));
  fs::path test = job.channel("test");
  write_file(test / "t10k-images-idx3-ubyte", idx_uint8({100, 8, 8}, test_pixels));
  write_file(test / "t10k-labels-idx1-ubyte", idx_uint8({100}, test_labels));
  Json hyperparameters{
      {"model_config",
       Json::parse(R"({"class_name": "Sequential", "config": {"name": "images", "layers": [
           {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 8, 8]}},
           {"class_name": "Flatten", "config": {"name": "flatten"}},
           {"class_name": "Dense", "config": {"name": "out", "units": 2,
                                              "activation": "softmax"}}]}})")},
      {"loss", "sparse_categorical_crossentropy"},
      {"epochs", 5},
      {"seed", 2},
      {"learning_rate", 0.05},
      {"dropout_rate", 0.5},             // unknown: warned about, not fatal
      {"sagemaker_program", "train.py"}  // SageMaker's own: skipped quietly
  };
  job.set_hyperparameters(hyperparameters.dump());
  ASSERT_EQ(job.run(), 0) << job.err();
  EXPECT_NE(job.err().find("warning: hyperparameter 'dropout_rate' is not used"), std::string::npos)
      << job.err();
  EXPECT_EQ(job.err().find("sagemaker_program"), std::string::npos) << job.err();
  EXPECT_GT(job.metrics()["test"]["accuracy"].get<double>(), 0.9);
  EXPECT_NE(job.out().find("IDX files train-images-idx3-ubyte.gz and train-labels-idx1-ubyte.gz"),
            std::string::npos)
      << job.out();
}

// A failed job: exit code 1, "<Category>: <reason>" in the failure file and on err, no
// model artifacts.
void expect_failure(Job& job, const std::string& category, const std::string& reason) {
  EXPECT_EQ(job.run(), 1) << job.out();
  std::string failure = job.failure();
  EXPECT_EQ(failure.rfind(category + ": ", 0), 0u) << failure;
  EXPECT_NE(failure.find(reason), std::string::npos) << failure;
  EXPECT_NE(job.err().find(failure), std::string::npos) << job.err();
  EXPECT_FALSE(fs::exists(job.model_dir() / "model.json"));
  EXPECT_FALSE(fs::exists(job.model_dir() / "weights.npz"));
}

TEST(BuiltinTrainerTest, MissingTrainingChannel) {
  Job job;
  job.set_model(argmax_model_json());
  job.set_hyperparameters(kLogitsLoss);
  expect_failure(job, "ClientError", "no training channel");
}

TEST(BuiltinTrainerTest, TrainingChannelWithoutData) {
  Job job;
  fs::path training = job.channel("training");
  write_file(training / "README.txt", "nothing here");
  job.set_model(argmax_model_json());
  job.set_hyperparameters(kLogitsLoss);
  expect_failure(job, "ClientError",
                 "training channel '" + training.string() +
                     "' holds no data file trainyard can read (looked for IDX pairs, .npz, "
                     ".npy, .csv)");
}

TEST(BuiltinTrainerTest, MalformedModelJson) {
  Job job;
  job.write_arrays("training", argmax_problem(50, 1));
  job.set_model("{\"class_name\": \"Sequential\",\n \"config\": {\"layers\": [}}");
  job.set_hyperparameters(kLogitsLoss);
  expect_failure(job, "ClientError",
                 "model.json': model config JSON is malformed at line 2, column");
}

TEST(BuiltinTrainerTest, UnsupportedLayer) {
  Job job;
  job.write_arrays("training", argmax_problem(50, 1));
  job.set_model(R"({"class_name": "Sequential", "config": {"name": "s", "layers": [
      {"class_name": "LSTM", "config": {"name": "rnn", "units": 4}}]}})");
  job.set_hyperparameters(kLogitsLoss);
  expect_failure(job, "ClientError", "layer 'rnn' (LSTM): layer class LSTM is not supported");
}

TEST(BuiltinTrainerTest, LabelAndFeatureCountsDiffer) {
  Job job;
  fs::path training = job.channel("training");
  ArgmaxProblem problem = argmax_problem(100, 1);
  data::write_npy((training / "x.npy").string(), features_tensor(problem));
  data::write_npy((training / "y.npy").string(), labels_tensor(problem).slice_rows(0, 90));
  job.set_model(argmax_model_json());
  job.set_hyperparameters(kLogitsLoss);
  expect_failure(job, "ClientError", "x holds 100 samples but y holds 90");
}

TEST(BuiltinTrainerTest, FeaturesThatDoNotFitTheModel) {
  Job job;
  write_file(job.channel("training") / "data.csv", "0,1,2,3,4,5\n1,0.5,0.5,0.5,0.5,0.5\n");
  job.set_model(argmax_model_json());
  job.set_hyperparameters(kLogitsLoss);
  expect_failure(job, "ClientError", "have shape (None, 5) but model config");
}

TEST(BuiltinTrainerTest, LabelsOutsideTheClasses) {
  Job job;
  fs::path training = job.channel("training");
  data::write_npy((training / "x.npy").string(), Tensor::zeros(Shape{10, 4}));
  data::write_npy((training / "y.npy").string(),
                  Tensor::from_vector<int32_t>(Shape{10}, std::vector<int32_t>(10, 7)));
  job.set_model(argmax_model_json());
  job.set_hyperparameters(kLogitsLoss);
  expect_failure(job, "ClientError", "the model cannot train on the data");
}

TEST(BuiltinTrainerTest, LossIsRequiredWithoutACompileConfig) {
  Job job;
  job.write_arrays("training", argmax_problem(50, 1));
  job.set_model(argmax_model_json());
  job.set_hyperparameters(R"({"epochs": 1})");
  expect_failure(job, "ClientError", "hyperparameter loss is required");
}

TEST(BuiltinTrainerTest, BadHyperparameters) {
  for (const char* hyperparameters :
       {R"({"epochs": "many", "loss": "mse"})", R"({"batch_size": 0, "loss": "mse"})",
        R"({"loss": "hinge"})", R"({"loss": "mse", "optimizer": "adagrad"})", "not json"}) {
    Job job;
    job.write_arrays("training", argmax_problem(50, 1));
    job.set_model(argmax_model_json());
    job.set_hyperparameters(hyperparameters);
    EXPECT_EQ(job.run(), 1) << hyperparameters;
    EXPECT_EQ(job.failure().rfind("ClientError: ", 0), 0u) << job.failure();
  }
  Job job;
  job.write_arrays("training", argmax_problem(50, 1));
  job.set_model(argmax_model_json());
  job.set_hyperparameters(R"({"epochs": "many", "loss": "mse"})");
  expect_failure(job, "ClientError", "hyperparameter epochs = \"many\" must be an integer");
}

TEST(BuiltinTrainerTest, NoModelConfig) {
  Job job;
  job.write_arrays("training", argmax_problem(50, 1));
  job.set_hyperparameters(kLogitsLoss);
  expect_failure(job, "ClientError", "no model config");
}

// The Keras tutorial's Fashion-MNIST model, one epoch, from the Debian package's IDX files.
TEST(BuiltinTrainerTest, FashionMnistTutorialModel) {
  const fs::path source = "/usr/share/datasets/fashion-mnist";
  if (!fs::exists(source / "train-images-idx3-ubyte.gz")) {
    GTEST_SKIP() << source << " is absent (Debian package dataset-fashion-mnist)";
  }
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "60,000 images take too long under AddressSanitizer";
#endif
  Job job;
  fs::path training = job.channel("training");
  fs::path test = job.channel("test");
  for (const char* name : {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"}) {
    fs::create_symlink(source / name, training / name);
  }
  for (const char* name : {"t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"}) {
    fs::create_symlink(source / name, test / name);
  }
  job.set_model(R"({"module": "keras", "class_name": "Sequential", "config": {"name": "fashion",
      "layers": [
        {"module": "keras.layers", "class_name": "InputLayer",
         "config": {"batch_shape": [null, 28, 28], "dtype": "float32"}},
        {"module": "keras.layers", "class_name": "Flatten", "config": {"name": "flatten"}},
        {"module": "keras.layers", "class_name": "Dense",
         "config": {"name": "dense", "units": 128, "activation": "relu"}},
        {"module": "keras.layers", "class_name": "Dense",
         "config": {"name": "dense_1", "units": 10}}]}})");
  job.set_hyperparameters(R"({"epochs": 1, "loss": "sparse_categorical_crossentropy",
                              "from_logits": true, "seed": 1})");
  ASSERT_EQ(job.run(), 0) << job.err();
  EXPECT_GT(job.metrics()["test"]["accuracy"].get<double>(), 0.8) << job.out();
  EXPECT_NE(job.out().find("1875/1875 - "), std::string::npos) << job.out();
}

// TRAINYARD_STEP_TIMES_FILE: the first step's start and the last step's end, in microseconds
// of CLOCK_REALTIME, inside the span of the call; one step per batch over every epoch.
TEST(BuiltinTrainerTest, WritesStepTimesWhenAsked) {
  Job job;
  job.write_arrays("training", argmax_problem(100, 1));
  job.set_model(argmax_model_json());
  job.set_hyperparameters(R"({"loss": "sparse_categorical_crossentropy", "epochs": 3,
                              "batch_size": 32, "verbose": 0, "seed": 2})");
  fs::path times_file = job.root() / "step-times.json";
  job.set_environment("TRAINYARD_STEP_TIMES_FILE", times_file.string());
  int64_t before = builtin::realtime_microseconds();
  ASSERT_EQ(job.run(), 0) << job.err();
  int64_t after = builtin::realtime_microseconds();
  EXPECT_EQ(job.err(), "");

  Json times = Json::parse(read_file(times_file));
  EXPECT_EQ(times["clock"], "CLOCK_REALTIME");
  EXPECT_EQ(times["unit"], "us");
  EXPECT_EQ(times["steps"], 3 * 4);  // ceil(100 / 32) batches in each of 3 epochs
  int64_t first = times["first_step_begin_us"].get<int64_t>();
  int64_t last = times["last_step_end_us"].get<int64_t>();
  EXPECT_LE(before, first);
  EXPECT_LT(first, last);
  EXPECT_LE(last, after);
  // The model directory holds the artifacts only.
  EXPECT_FALSE(fs::exists(job.model_dir() / "step-times.json"));
}

TEST(BuiltinTrainerTest, NoStepTimesFileUnlessAsked) {
  Job job;
  job.write_arrays("training", argmax_problem(50, 1));
  job.set_model(argmax_model_json());
  job.set_hyperparameters(R"({"loss": "sparse_categorical_crossentropy", "verbose": 0})");
  job.set_environment("TRAINYARD_STEP_TIMES_FILE", "");
  ASSERT_EQ(job.run(), 0) << job.err();
  for (const auto& entry : fs::recursive_directory_iterator(job.root())) {
    EXPECT_EQ(entry.path().filename().string().find("step"), std::string::npos) << entry.path();
  }
}

// The times only serve measurements: a file that cannot be written is a warning naming the
// variable and the path, and the trained model is kept.
TEST(BuiltinTrainerTest, UnwritableStepTimesFileIsAWarning) {
  Job job;
  job.write_arrays("training", argmax_problem(50, 1));
  job.set_model(argmax_model_json());
  job.set_hyperparameters(R"({"loss": "sparse_categorical_crossentropy", "verbose": 0})");
  fs::path times_file = job.root() / "no-such-directory" / "times.json";
  job.set_environment("TRAINYARD_STEP_TIMES_FILE", times_file.string());
  ASSERT_EQ(job.run(), 0) << job.err();
  EXPECT_EQ(job.failure(), "");
  EXPECT_NE(job.err().find("warning: TRAINYARD_STEP_TIMES_FILE: " + times_file.string()),
            std::string::npos)
      << job.err();
  EXPECT_FALSE(fs::exists(times_file));
  EXPECT_TRUE(fs::exists(job.model_dir() / "weights.npz"));
}

}  // namespace
}  // namespace trainyard::jobs
