// `trainyard advise`, run as a user would: the seed job (a TensorFlow container script, no
// model), the same job with the Fashion-MNIST MLP, and the errors.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace {

struct CommandResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

CommandResult run_trainyard(const std::string& arguments) {
  const std::filesystem::path err_path =
      std::filesystem::path(testing::TempDir()) /
      ("trainyard_advise_stderr_" + std::to_string(::getpid()) + ".txt");
  const std::string command = "cd '" + std::string(TRAINYARD_SOURCE_ROOT) + "' && '" +
                              TRAINYARD_EXECUTABLE + "' " + arguments + " 2>'" + err_path.string() +
                              "'";
  CommandResult result;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return result;
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof(buffer), pipe)) > 0) result.out.append(buffer, n);
  const int status = pclose(pipe);
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

TEST(AdviseCommandTest, SeedJobRejectsKeplerAndVoltaAndRanksTheRest) {
  const CommandResult result = run_trainyard("advise examples/seed/job.json");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_TRUE(contains(result.out, "ml.p2.xlarge: Kepler 3.7: CUDA 13 dropped")) << result.out;
  EXPECT_TRUE(contains(result.out, "ml.p3.2xlarge: Volta 7.0: CUDA 13 dropped")) << result.out;
  EXPECT_TRUE(contains(result.out, "times need --model")) << result.out;
  EXPECT_TRUE(contains(result.out, "Recommendation: ml.")) << result.out;
}

TEST(AdviseCommandTest, SeedJobWithAModelGivesTimesAsJson) {
  const CommandResult result = run_trainyard(
      "advise examples/seed/job.json --model examples/fashion_mnist/model.json --samples 60000 "
      "--epochs 5 --deadline 1h --max-instances 2 --json");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const nlohmann::json advice = nlohmann::json::parse(result.out);
  EXPECT_TRUE(advice["model_known"].get<bool>());
  ASSERT_TRUE(advice["recommended"].is_object()) << result.out;
  const nlohmann::json& best = advice["ranked"][0];
  EXPECT_EQ(best["instance_type"], advice["recommended"]["instance_type"]);
  EXPECT_TRUE(best["meets_constraints"].get<bool>());
  EXPECT_LE(best["total_seconds"].get<double>(), 3600);
  // ceil(60000 / 32) steps per epoch of the MLP's per-sample FLOPs, 5 epochs, plus startup.
  const double step = best["step_seconds"].get<double>();
  EXPECT_NEAR(best["epoch_seconds"].get<double>(), 1875 * step, 1e-9);
  EXPECT_NEAR(best["total_seconds"].get<double>(), 300 + 5 * 1875 * step, 1e-6);
  bool p3_rejected = false;
  for (const auto& rejection : advice["rejected"]) {
    if (rejection["instance_type"] == "ml.p3.16xlarge") p3_rejected = true;
  }
  EXPECT_TRUE(p3_rejected);
}

TEST(AdviseCommandTest, CalibrationSetsOneEfficiencyForEveryType) {
  const CommandResult result = run_trainyard(
      "advise examples/seed/job.json --model examples/fashion_mnist/model.json --samples 1000 "
      "--calibrate --json");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const nlohmann::json advice = nlohmann::json::parse(result.out);
  ASSERT_TRUE(advice["calibration"].is_string()) << result.out;
  const double efficiency = advice["ranked"][0]["efficiency"].get<double>();
  EXPECT_GT(efficiency, 0);
  EXPECT_LE(efficiency, 1);
  for (const auto& row : advice["ranked"]) EXPECT_EQ(row["efficiency"].get<double>(), efficiency);
  // The measured figure, not the 0.3 default: the line ends "efficiency 0.xyz.".
  const std::string line = advice["calibration"].get<std::string>();
  const size_t at = line.rfind("efficiency ");
  ASSERT_NE(at, std::string::npos) << line;
  EXPECT_NEAR(std::stod(line.substr(at + 11)), efficiency, 5e-4) << line;
}

TEST(AdviseCommandTest, ErrorsNameWhatIsWrong) {
  CommandResult result = run_trainyard("advise no/such/job.json");
  EXPECT_NE(result.exit_code, 0);
  EXPECT_TRUE(contains(result.err, "no/such/job.json")) << result.err;

  result = run_trainyard("advise examples/seed/job.json --deadline 2x");
  EXPECT_NE(result.exit_code, 0);
  EXPECT_TRUE(contains(result.err, "bad duration '2x'")) << result.err;

  result = run_trainyard("advise examples/seed/job.json --budget -5");
  EXPECT_NE(result.exit_code, 0);
  EXPECT_TRUE(contains(result.err, "--budget")) << result.err;

  result = run_trainyard("advise examples/seed/job.json --frobnicate");
  EXPECT_NE(result.exit_code, 0);
  EXPECT_TRUE(contains(result.err, "--frobnicate")) << result.err;

  result = run_trainyard("advise examples/seed/job.json --model examples/fashion_mnist/model.json");
  EXPECT_NE(result.exit_code, 0);
  EXPECT_TRUE(contains(result.err, "give --samples N")) << result.err;
}

}  // namespace
