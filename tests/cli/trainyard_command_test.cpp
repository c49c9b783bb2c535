// The trainyard executable, run as a child process: exit codes, stdout and stderr.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

namespace {

struct CommandResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs `trainyard <arguments>` through the shell with `environment` (NAME=value words)
// in front, capturing both streams.
CommandResult run_trainyard(const std::string& arguments, const std::string& environment = "") {
  std::filesystem::path err_path = std::filesystem::path(testing::TempDir()) /
                                   ("trainyard_stderr_" + std::to_string(::getpid()) + ".txt");
  std::string command = environment + " '" + TRAINYARD_EXECUTABLE + "' " + arguments + " 2>'" +
                        err_path.string() + "'";
  CommandResult result;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return result;
  char buffer[4096];
  std::size_t n;
  while ((n = fread(buffer, 1, sizeof(buffer), pipe)) > 0) result.out.append(buffer, n);
  int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream err_file(err_path);
  std::stringstream err;
  err << err_file.rdbuf();
  result.err = err.str();
  std::filesystem::remove(err_path);
  return result;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// Names of the reference CSV's rows with NVIDIA GPUs of at least `min_gib` each, read
// independently of the catalog; nullopt when the reference is not on this machine.
std::optional<std::set<std::string>> reference_types_with_gpu_memory(double min_gib) {
  std::ifstream file("/work/shared/reference/instance-catalog.csv");
  if (!file) return std::nullopt;
  std::set<std::string> names;
  std::string line;
  std::getline(file, line);  // header
  while (std::getline(file, line)) {
    // The first six fields never hold quotes or commas in the reference layout.
    std::vector<std::string> fields;
    std::stringstream stream(line);
    std::string field;
    for (int i = 0; i < 6 && std::getline(stream, field, ','); ++i) fields.push_back(field);
    if (fields.size() < 6 || fields[4].rfind("NVIDIA", 0) != 0 || fields[5].empty()) continue;
    if (std::stod(fields[5]) >= min_gib) names.insert(fields[0]);
  }
  return names;
}

TEST(TrainyardCommandTest, VersionFlag) {
  auto result = run_trainyard("--version");
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, std::string("trainyard ") + TRAINYARD_EXPECTED_VERSION + "\n");
}

TEST(TrainyardCommandTest, InstancesJsonKeepsOnlyBigGpus) {
  auto result = run_trainyard("instances --gpu --min-gpu-memory 40 --json");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  nlohmann::json types = nlohmann::json::parse(result.out);
  ASSERT_TRUE(types.is_array());
  ASSERT_FALSE(types.empty());
  std::set<std::string> names;
  for (const auto& type : types) {
    SCOPED_TRACE(type.dump());
    EXPECT_EQ(type.at("accelerator_type"), "nvidia_gpu");
    ASSERT_TRUE(type.at("accelerator_memory_gib").is_number());
    EXPECT_GE(type.at("accelerator_memory_gib").get<double>(), 40.0);
    names.insert(type.at("name").get<std::string>());
  }
  EXPECT_TRUE(names.contains("ml.p4d.24xlarge"));  // 8 x A100 40 GiB
  EXPECT_FALSE(names.contains("ml.g5.xlarge"));    // A10G, 24 GiB
  if (auto expected = reference_types_with_gpu_memory(40)) {
    EXPECT_EQ(names, *expected);
  } else {
    std::printf("reference instance-catalog.csv not found; compared spot facts only\n");
  }
}

TEST(TrainyardCommandTest, InstancesTableListsEveryTypeAndUnknownPrices) {
  auto result = run_trainyard("instances");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_TRUE(result.out.starts_with("type ")) << result.out.substr(0, 200);
  EXPECT_TRUE(contains(result.out, "\nml.p2.xlarge "));
  EXPECT_TRUE(contains(result.out, "\nlocal_gpu "));
  EXPECT_TRUE(contains(result.out, "unknown"));  // prices not known are said so, not 0
  auto json = nlohmann::json::parse(run_trainyard("instances --json").out);
  std::size_t lines = std::count(result.out.begin(), result.out.end(), '\n');
  EXPECT_EQ(lines, json.size() + 1);  // a header, then one line per type
  for (const auto& type : json) {
    if (type.at("price_usd_per_hour").is_number()) {
      EXPECT_GT(type.at("price_usd_per_hour").get<double>(), 0.0) << type.at("name");
    }
  }
}

TEST(TrainyardCommandTest, NamedInstanceTypes) {
  auto result = run_trainyard("instances ml.g5.xlarge --json");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  auto types = nlohmann::json::parse(result.out);
  ASSERT_EQ(types.size(), 1u);
  EXPECT_EQ(types[0].at("accelerator_model"), "NVIDIA A10G");
  EXPECT_EQ(types[0].at("gpu_count"), 1);
  EXPECT_EQ(types[0].at("compute_capability"), "8.6");

  result = run_trainyard("instances ml.p4d.24xlarg");
  EXPECT_NE(result.exit_code, 0);
  EXPECT_TRUE(result.out.empty());
  EXPECT_TRUE(contains(result.err, "unknown instance type 'ml.p4d.24xlarg'")) << result.err;
  EXPECT_TRUE(contains(result.err, "did you mean ml.p4d.24xlarge")) << result.err;
}

TEST(TrainyardCommandTest, GpusWithoutADriverSaysSo) {
  const std::string no_driver =
      "TRAINYARD_NVML_LIBRARY=/nonexistent/libnvidia-ml.so.1 "
      "TRAINYARD_CUDA_DRIVER_LIBRARY=/nonexistent/libcuda.so.1";
  auto result = run_trainyard("gpus", no_driver);
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_TRUE(contains(result.out, "No NVIDIA GPU found: no NVIDIA driver found")) << result.out;

  result = run_trainyard("gpus --json", no_driver);
  ASSERT_EQ(result.exit_code, 0) << result.err;
  auto report = nlohmann::json::parse(result.out);
  EXPECT_TRUE(report.at("gpus").empty());
  EXPECT_TRUE(report.at("driver_version").is_null());
  EXPECT_TRUE(contains(report.at("detection_error").get<std::string>(), "not loadable"));
}

TEST(TrainyardCommandTest, GpusOnThisHostExitsZero) {
  auto result = run_trainyard("gpus");
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_FALSE(result.out.empty());
}

TEST(TrainyardCommandTest, GpusListsWhatNvmlReports) {
  auto result =
      run_trainyard("gpus", std::string("TRAINYARD_NVML_LIBRARY=") + TRAINYARD_FAKE_NVML_LIBRARY);
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_TRUE(contains(result.out, "NVIDIA driver 550.54.15, CUDA driver 12.4")) << result.out;
  EXPECT_TRUE(contains(result.out, "NVIDIA A100-SXM4-80GB")) << result.out;
  EXPECT_TRUE(contains(result.out, "Tesla T4")) << result.out;

  result = run_trainyard("gpus --json",
                         std::string("TRAINYARD_NVML_LIBRARY=") + TRAINYARD_FAKE_NVML_LIBRARY);
  auto report = nlohmann::json::parse(result.out);
  ASSERT_EQ(report.at("gpus").size(), 2u);
  EXPECT_EQ(report["gpus"][0].at("compute_capability"), "8.0");
  EXPECT_EQ(report["gpus"][0].at("total_memory_bytes"), 85899345920ull);
  EXPECT_TRUE(report["gpus"][1].at("ecc_enabled").is_null());
  EXPECT_TRUE(report.at("detection_error").is_null());
}

// ---- trainyard doctor --------------------------------------------------------------------

// The check named `name` in a `doctor --json` report.
nlohmann::json doctor_check(const nlohmann::json& report, const std::string& name) {
  for (const nlohmann::json& check : report.at("checks")) {
    if (check.at("name") == name) return check;
  }
  ADD_FAILURE() << "no check " << name << " in " << report.dump();
  return nlohmann::json::object({{"result", ""}, {"finding", ""}});
}

TEST(TrainyardCommandTest, DoctorWithoutADriverSaysSoAndChecksTheCpu) {
  const std::string no_driver =
      "TRAINYARD_NVML_LIBRARY=/nonexistent/libnvidia-ml.so.1 "
      "TRAINYARD_CUDA_DRIVER_LIBRARY=/nonexistent/libcuda.so.1";
  auto result = run_trainyard("doctor", no_driver);
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_TRUE(contains(result.out, "no NVIDIA GPU found")) << result.out;
  EXPECT_TRUE(contains(result.out, "How to fix:")) << result.out;

  result = run_trainyard("doctor --json", no_driver);
  ASSERT_EQ(result.exit_code, 0) << result.err;
  auto report = nlohmann::json::parse(result.out);
  EXPECT_EQ(doctor_check(report, "gpus").at("result"), "WARN");
  EXPECT_EQ(doctor_check(report, "cpu").at("result"), "PASS");
  EXPECT_FALSE(report.at("failed").get<bool>());
}

TEST(TrainyardCommandTest, DoctorFailsOnADriverTooOldForThisBuild) {
  // The fake NVML reports driver 550.54.15 (CUDA 12.4) with an A100 and a T4.
  const std::string fake = std::string("TRAINYARD_NVML_LIBRARY=") + TRAINYARD_FAKE_NVML_LIBRARY;
  auto result = run_trainyard("doctor --json", fake);
  auto report = nlohmann::json::parse(result.out);
  if (report.at("build").at("cuda").is_null()) {
    // A CPU-only build: the GPUs would sit idle, which is a warning, not a failure.
    EXPECT_EQ(result.exit_code, 0) << result.err;
    EXPECT_EQ(doctor_check(report, "cuda build").at("result"), "WARN");
    return;
  }
  EXPECT_NE(result.exit_code, 0);
  EXPECT_TRUE(contains(result.err, "failed check")) << result.err;
  nlohmann::json driver = doctor_check(report, "driver");
  EXPECT_EQ(driver.at("result"), "FAIL");
  EXPECT_TRUE(contains(driver.at("finding").get<std::string>(), "550.54.15 is older than CUDA"))
      << driver.dump();
  EXPECT_TRUE(contains(driver.at("fix").get<std::string>(), "580")) << driver.dump();
  EXPECT_TRUE(report.at("failed").get<bool>());
}

TEST(TrainyardCommandTest, BadUsageFailsWithCli11sMessage) {
  auto result = run_trainyard("instances --bogus");
  EXPECT_NE(result.exit_code, 0);
  EXPECT_TRUE(contains(result.err, "--bogus")) << result.err;

  result = run_trainyard("frobnicate");
  EXPECT_NE(result.exit_code, 0);
  EXPECT_TRUE(contains(result.err, "frobnicate")) << result.err;

  result = run_trainyard("instances --min-gpu-memory -3");
  EXPECT_NE(result.exit_code, 0);
  EXPECT_TRUE(contains(result.err, "--min-gpu-memory")) << result.err;

  result = run_trainyard("");
  EXPECT_NE(result.exit_code, 0);
  EXPECT_TRUE(contains(result.err, "instances")) << result.err;  // the help lists commands
}

// ---- trainyard model ---------------------------------------------------------------------

// The Keras-written fixtures (shared/fixtures/keras), or empty when absent.
std::filesystem::path keras_fixture(const std::string& name) {
  std::vector<std::filesystem::path> roots;
  if (const char* source = std::getenv("TRAINYARD_SOURCE_DIR")) {
    roots.push_back(std::filesystem::path(source) / ".." / "shared" / "fixtures" / "keras");
  }
  roots.push_back("/work/shared/fixtures/keras");
  for (const auto& root : roots) {
    if (std::filesystem::exists(root / name)) return root / name;
  }
  return {};
}

// A fresh directory for one test's files, removed afterwards.
class ModelCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    directory_ = std::filesystem::temp_directory_path() /
                 ("trainyard_cli_" + std::string(info->name()) + "_" + std::to_string(::getpid()));
    std::filesystem::remove_all(directory_);
    std::filesystem::create_directories(directory_);
  }
  void TearDown() override { std::filesystem::remove_all(directory_); }
  std::string path(const std::string& name) const { return (directory_ / name).string(); }
  std::vector<std::string> listing() const {
    std::vector<std::string> names;
    for (const auto& entry : std::filesystem::directory_iterator(directory_)) {
      names.push_back(entry.path().filename().string());
    }
    std::sort(names.begin(), names.end());
    return names;
  }

  std::filesystem::path directory_;
};

TEST_F(ModelCommandTest, SummaryPrintsKerasTableForArchivesAndConfigs) {
  auto cnn = keras_fixture("keras3_functional_cnn.keras");
  auto json = keras_fixture("keras3_sequential_mlp.to_json.json");
  if (cnn.empty() || json.empty()) GTEST_SKIP() << "shared/fixtures/keras absent";
  auto result = run_trainyard("model summary '" + cnn.string() + "'");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_TRUE(contains(result.out, "Model: \"functional\"\n")) << result.out;
  EXPECT_TRUE(contains(result.out, "│ conv2d_1 (Conv2D)")) << result.out;
  EXPECT_TRUE(contains(result.out, "(None, 7, 7, 128)")) << result.out;
  EXPECT_TRUE(contains(result.out, " Total params: 105,218 (411.01 KB)\n")) << result.out;

  result = run_trainyard("model summary '" + json.string() + "'");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_TRUE(contains(result.out, "│ dense_5 (Dense)")) << result.out;
  EXPECT_TRUE(contains(result.out, " Total params: 289 (1.13 KB)\n")) << result.out;
}

TEST_F(ModelCommandTest, ConvertsBetweenArchivesWeightsAndConfigs) {
  auto mlp = keras_fixture("keras3_sequential_mlp.keras");
  if (mlp.empty()) GTEST_SKIP() << "shared/fixtures/keras/keras3_sequential_mlp.keras absent";
  auto result =
      run_trainyard("model convert '" + mlp.string() + "' '" + path("w.weights.h5") + "'");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "wrote " + path("w.weights.h5") + "\n");
  result = run_trainyard("model convert '" + mlp.string() + "' '" + path("config.json") + "'");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  auto config = nlohmann::json::parse(std::ifstream(path("config.json")));
  EXPECT_EQ(config.at("class_name"), "Sequential");
  EXPECT_EQ(config.at("compile_config").at("loss"), "binary_crossentropy");

  // Weights alone need the architecture.
  result = run_trainyard("model convert '" + path("w.weights.h5") + "' '" + path("m.keras") + "'");
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_TRUE(contains(result.err, "'" + path("w.weights.h5") + "' holds weights only"))
      << result.err;
  EXPECT_TRUE(contains(result.err, "--config")) << result.err;
  result = run_trainyard("model convert '" + path("w.weights.h5") + "' '" + path("m.keras") +
                         "' --config '" + path("config.json") + "'");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  // The rebuilt archive has the fixture's weights: converting it back gives the same file's
  // summary, and its weights load into the fixture's architecture again.
  result = run_trainyard("model summary '" + path("m.keras") + "'");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_TRUE(contains(result.out, " Total params: 289")) << result.out;
  EXPECT_EQ(listing(), (std::vector<std::string>{"config.json", "m.keras", "w.weights.h5"}));
}

TEST_F(ModelCommandTest, ReadsAndWritesLegacyH5ModelFiles) {
  auto h5 = keras_fixture("keras3_legacy_sequential_mlp.h5");
  if (h5.empty()) GTEST_SKIP() << "shared/fixtures/keras/keras3_legacy_sequential_mlp.h5 absent";
  auto result = run_trainyard("model summary '" + h5.string() + "'");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_TRUE(contains(result.out, " Total params: 289 (1.13 KB)\n")) << result.out;
  result = run_trainyard("model convert '" + h5.string() + "' '" + path("m.keras") + "'");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  result = run_trainyard("model summary '" + path("m.keras") + "'");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_TRUE(contains(result.out, "│ dense_4 (Dense)")) << result.out;
  // And back to a legacy file, which reads as the archive did.
  result = run_trainyard("model convert '" + path("m.keras") + "' '" + path("again.h5") + "'");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "wrote " + path("again.h5") + "\n");
  result = run_trainyard("model summary '" + path("again.h5") + "'");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_TRUE(contains(result.out, "│ dense_4 (Dense)")) << result.out;
  EXPECT_TRUE(contains(result.out, " Total params: 289 (1.13 KB)\n")) << result.out;
}

TEST_F(ModelCommandTest, ErrorsNameTheFileAndLeaveNothingBehind) {
  auto result = run_trainyard("model summary '" + path("missing.keras") + "'");
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_TRUE(contains(result.err, "trainyard: error: cannot open '" + path("missing.keras")))
      << result.err;

  std::ofstream(path("text.keras")) << "not a zip";
  result = run_trainyard("model convert '" + path("text.keras") + "' '" + path("out.keras") + "'");
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_TRUE(contains(result.err, "'" + path("text.keras") + "' is not a zip archive"))
      << result.err;

  result = run_trainyard("model convert '" + path("text.keras") + "' '" + path("model.h5") + "'");
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_TRUE(contains(result.err, "'" + path("text.keras") + "' is not a zip archive"))
      << result.err;

  result = run_trainyard("model convert '" + path("text.keras") + "' '" + path("out.txt") + "'");
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_TRUE(contains(result.err, "unknown kind of model file")) << result.err;
  EXPECT_EQ(listing(), std::vector<std::string>{"text.keras"});

  result = run_trainyard("model");
  EXPECT_NE(result.exit_code, 0);
}

}  // namespace
