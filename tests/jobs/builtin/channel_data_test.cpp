// Finding x and y in a channel directory, and the built-in trainer's hyperparameters.
#include "jobs/builtin/channel_data.h"

#include <gtest/gtest.h>

#include "builtin_test_util.h"
#include "core/error.h"
#include "data/npy.h"
#include "data/npz.h"
#include "jobs/builtin/output_files.h"
#include "jobs/builtin/trainer_settings.h"

namespace trainyard::jobs::builtin {
namespace {

namespace fs = std::filesystem;
using testing::idx_uint8;
using testing::TempDir;
using testing::write_file;
using Json = nlohmann::json;

template <typename E>
std::string error_of(const std::function<void()>& body) {
  try {
    body();
  } catch (const E& error) {
    return error.what();
  } catch (const std::exception& other) {
    ADD_FAILURE() << "wrong exception: " << other.what();
    return "";
  }
  ADD_FAILURE() << "no exception";
  return "";
}

TEST(ChannelDataTest, IdxPairIsScaledByDefaultAndNamedForTheChannel) {
  TempDir dir;
  // Both Fashion-MNIST pairs in one directory: each channel takes its own.
  write_file(dir.path() / "train-images-idx3-ubyte.gz",
             testing::gzip(idx_uint8({2, 2, 2}, {0, 1, 2, 3, 4, 5, 6, 255})));
  write_file(dir.path() / "train-labels-idx1-ubyte.gz", testing::gzip(idx_uint8({2}, {1, 0})));
  write_file(dir.path() / "t10k-images-idx3-ubyte", idx_uint8({1, 2, 2}, {9, 9, 9, 9}));
  write_file(dir.path() / "t10k-labels-idx1-ubyte", idx_uint8({1}, {3}));
  ChannelData training = read_channel(dir.path(), "training", {});
  EXPECT_EQ(training.x.shape(), (Shape{2, 2, 2}));
  EXPECT_EQ(training.x.dtype(), DType::kUInt8);
  EXPECT_EQ(training.x.item(7), 255);
  EXPECT_EQ(training.y.to_vector<uint8_t>(), (std::vector<uint8_t>{1, 0}));
  EXPECT_DOUBLE_EQ(training.default_scale, 1.0 / 255.0);
  ChannelData test = read_channel(dir.path(), "test", {});
  EXPECT_EQ(test.y.to_vector<uint8_t>(), (std::vector<uint8_t>{3}));
  std::string message = error_of<DataError>([&] { read_channel(dir.path(), "validation", {}); });
  EXPECT_NE(message.find("without one clear images/labels pair"), std::string::npos) << message;
}

TEST(ChannelDataTest, IdxWithoutLabels) {
  TempDir dir;
  write_file(dir.path() / "sub" / "my-images.idx", idx_uint8({1, 1}, {1}));
  std::string message = error_of<DataError>([&] { read_channel(dir.path(), "training", {}); });
  EXPECT_NE(message.find("sub/my-images.idx) without the matching labels file"), std::string::npos)
      << message;
}

TEST(ChannelDataTest, NpyAndNpzArrayNames) {
  TempDir dir;
  Tensor x = Tensor::from_vector<float>(Shape{3, 2}, {1, 2, 3, 4, 5, 6});
  Tensor y = Tensor::from_vector<int64_t>(Shape{3}, {0, 1, 0});
  fs::create_directories(dir.path() / "npy");
  data::write_npy((dir.path() / "npy" / "x_val.npy").string(), x);
  data::write_npy((dir.path() / "npy" / "y_val.npy").string(), y);
  ChannelData read = read_channel(dir.path() / "npy", "training", {});  // the only pair
  EXPECT_EQ(read.x.to_vector<float>(), x.to_vector<float>());
  EXPECT_EQ(read.y.to_vector<int64_t>(), y.to_vector<int64_t>());
  EXPECT_EQ(read.default_scale, 1.0);

  auto variable = [](const std::string& name, const Tensor& value) {
    return std::make_shared<graph::Variable>(graph::Variable{name, value, {}, false});
  };
  fs::create_directories(dir.path() / "npz");
  write_weights_npz(dir.path() / "npz" / "all.npz", {variable("x_train", x), variable("y_train", y),
                                                     variable("x_test", x.slice_rows(0, 1)),
                                                     variable("y_test", y.slice_rows(0, 1))});
  EXPECT_EQ(read_channel(dir.path() / "npz", "training", {}).x.shape()[0], 3);
  EXPECT_EQ(read_channel(dir.path() / "npz", "test", {}).x.shape()[0], 1);
  std::string message =
      error_of<DataError>([&] { read_channel(dir.path() / "npz", "validation", {}); });
  EXPECT_NE(message.find("several x_*/y_* pairs"), std::string::npos) << message;

  fs::create_directories(dir.path() / "other");
  write_weights_npz(dir.path() / "other" / "a.npz", {variable("features", x)});
  message = error_of<DataError>([&] { read_channel(dir.path() / "other", "training", {}); });
  EXPECT_NE(message.find("no arrays named x and y"), std::string::npos) << message;
  EXPECT_NE(message.find("found: features"), std::string::npos) << message;
}

TEST(ChannelDataTest, CsvHeaderDetectionAndLabelColumn) {
  TempDir dir;
  write_file(dir.path() / "plain" / "a.csv", "1,2,3\n4,5,6\n");
  ChannelData plain = read_channel(dir.path() / "plain", "training", {});
  EXPECT_EQ(plain.y.to_vector<float>(), (std::vector<float>{1, 4}));
  EXPECT_EQ(plain.x.to_vector<float>(), (std::vector<float>{2, 3, 5, 6}));
  ChannelData last = read_channel(dir.path() / "plain", "training", {.index = -1});
  EXPECT_EQ(last.y.to_vector<float>(), (std::vector<float>{3, 6}));
  EXPECT_EQ(last.x.to_vector<float>(), (std::vector<float>{1, 2, 4, 5}));

  write_file(dir.path() / "named" / "a.csv", "f1,target,f2\n1,2,3\n");
  write_file(dir.path() / "named" / "b.csv.gz", testing::gzip("f1,target,f2\n4,5,6\n"));
  ChannelData named = read_channel(dir.path() / "named", "training", {.name = "target"});
  EXPECT_EQ(named.y.to_vector<float>(), (std::vector<float>{2, 5}));
  EXPECT_EQ(named.x.to_vector<float>(), (std::vector<float>{1, 3, 4, 6}));
  std::string message =
      error_of<ValueError>([&] { read_channel(dir.path() / "named", "training", {.name = "y"}); });
  EXPECT_NE(message.find("label_column = 'y' is not a column"), std::string::npos) << message;
  EXPECT_NE(message.find("(f1, target, f2)"), std::string::npos) << message;
  message =
      error_of<ValueError>([&] { read_channel(dir.path() / "plain", "training", {.index = 3}); });
  EXPECT_NE(message.find("label_column = 3 is outside the 3 columns"), std::string::npos);

  write_file(dir.path() / "ragged" / "a.csv", "1,2,3\n");
  write_file(dir.path() / "ragged" / "b.csv", "1,2\n");
  message = error_of<DataError>([&] { read_channel(dir.path() / "ragged", "training", {}); });
  EXPECT_NE(message.find("different column counts"), std::string::npos) << message;
  write_file(dir.path() / "bad" / "a.csv", "1,2,3\n4,x,6\n");
  message = error_of<DataError>([&] { read_channel(dir.path() / "bad", "training", {}); });
  EXPECT_NE(message.find("a.csv:2"), std::string::npos) << message;
}

TEST(ChannelDataTest, WhatIsNotOneDataSet) {
  TempDir dir;
  std::string message =
      error_of<DataError>([&] { read_channel(dir.path() / "missing", "training", {}); });
  EXPECT_NE(message.find("is not a directory"), std::string::npos);
  write_file(dir.path() / "mixed" / "a.csv", "1,2\n");
  data::write_npy((dir.path() / "mixed" / "x.npy").string(), Tensor::zeros(Shape{1}));
  message = error_of<DataError>([&] { read_channel(dir.path() / "mixed", "training", {}); });
  EXPECT_NE(message.find("several formats (.npy, .csv)"), std::string::npos) << message;
  write_file(dir.path() / "empty" / "a.csv", "label,x\n");
  message = error_of<DataError>([&] { read_channel(dir.path() / "empty", "training", {}); });
  EXPECT_NE(message.find("holds no samples"), std::string::npos) << message;
  write_file(dir.path() / "hidden" / ".x.npy", "");
  message = error_of<DataError>([&] { read_channel(dir.path() / "hidden", "training", {}); });
  EXPECT_NE(message.find("holds no data file"), std::string::npos) << message;
}

TEST(TrainerSettingsTest, DecodesValuesAsTheToolkitDoes) {
  std::vector<std::string> warnings;
  TrainerSettings settings = parse_trainer_settings(
      Json::parse(R"({"epochs": "3", "batch_size": 64.0, "learning_rate": "1e-3",
                      "metrics": "[\"accuracy\", \"mae\"]", "shuffle": "False",
                      "label_column": "-1", "validation_split": 0.25, "verbose": 1,
                      "sagemaker_region": "eu-west-1", "mystery": 1})"),
      warnings);
  EXPECT_EQ(settings.epochs, 3);
  EXPECT_EQ(settings.batch_size, 64);
  EXPECT_EQ(settings.learning_rate, 1e-3);
  EXPECT_EQ(settings.metrics, (std::vector<std::string>{"accuracy", "mae"}));
  EXPECT_FALSE(settings.shuffle);
  EXPECT_EQ(settings.label_column.index, -1);
  EXPECT_FALSE(settings.label_column.name.has_value());
  EXPECT_EQ(settings.validation_split, 0.25);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("'mystery'"), std::string::npos);

  warnings.clear();
  settings = parse_trainer_settings(Json::parse(R"({"metrics": "acc, mse ,", "loss": "mse",
                                                   "label_column": "price"})"),
                                    warnings);
  EXPECT_EQ(settings.metrics, (std::vector<std::string>{"acc", "mse"}));
  EXPECT_EQ(settings.label_column.name, std::optional<std::string>("price"));
  EXPECT_EQ(settings.epochs, 1);
  EXPECT_EQ(settings.batch_size, 32);
  EXPECT_EQ(settings.verbose, 2);

  for (const char* bad : {R"({"epochs": 0})", R"({"epochs": 1.5})", R"({"verbose": 3})",
                          R"({"validation_split": 1})", R"({"learning_rate": -1})",
                          R"({"shuffle": "maybe"})", R"({"loss": 3})", R"({"metrics": {}})"}) {
    EXPECT_THROW(parse_trainer_settings(Json::parse(bad), warnings), ValueError) << bad;
  }
}

TEST(TrainerSettingsTest, HyperparametersFromEachSource) {
  std::string source;
  Json from_hps = read_hyperparameters({{"SM_HPS", R"({"epochs": 4})"}}, source);
  EXPECT_EQ(source, "SM_HPS");
  EXPECT_EQ(from_hps["epochs"], 4);
  Json from_env = read_hyperparameters(
      {{"SM_TRAINING_ENV", R"({"hyperparameters": {"loss": "mse"}, "job_name": "j"})"}}, source);
  EXPECT_EQ(from_env["loss"], "mse");
  EXPECT_THROW(read_hyperparameters({{"SM_HPS", "[1]"}}, source), ValueError);

  TempDir dir;
  write_file(dir.path() / "hyperparameters.json",
             R"({"epochs": "5", "name": "\"abc\"", "plain": "abc", "list": "[1, 2]"})");
  Json from_file = read_hyperparameters({{"SM_INPUT_CONFIG_DIR", dir.path().string()}}, source);
  EXPECT_EQ(from_file["epochs"], 5);
  EXPECT_EQ(from_file["name"], "abc");
  EXPECT_EQ(from_file["plain"], "abc");
  EXPECT_EQ(from_file["list"], Json::parse("[1, 2]"));
  EXPECT_EQ(read_hyperparameters({{"SAGEMAKER_BASE_DIR", (dir.path() / "none").string()}}, source),
            Json::object());
}

}  // namespace
}  // namespace trainyard::jobs::builtin
