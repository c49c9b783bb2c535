#include "jobs/runners/runtime_registry.h"

#include <gtest/gtest.h>

#include "core/error.h"
#include "jobs/runners/process.h"
#include "runner_test_util.h"

namespace trainyard::jobs {
namespace {

using Argv = std::vector<std::string>;

// The message of the exception `action` throws, which must be of type E.
template <typename E, typename F>
std::string message_of(F&& action) {
  try {
    action();
  } catch (const E& error) {
    return error.what();
  }
  ADD_FAILURE() << "expected an exception";
  return "";
}

const char* const kRegistry = R"({"runtimes": [
  {"image": "my-trainer:latest", "entrypoint": ["/opt/trainer/bin/main", "--verbose"],
   "environment": {"OMP_NUM_THREADS": "4"}, "python": "/opt/venv/bin/python"},
  {"image": "my-org/*", "entrypoint": ["/usr/bin/env"]},
  {"image": "my-org/pytorch-training:*", "environment": {"FRAMEWORK": "pytorch"}},
  {"image": "*", "environment": {"FALLBACK": "1"}}
]})";

class RuntimeRegistryTest : public ::testing::Test {
 protected:
  RuntimeRegistry registry(const std::string& text) {
    write_text(dir_.path() / "runtimes.json", text);
    return RuntimeRegistry::load(dir_.path() / "runtimes.json");
  }

  TempDir dir_;
};

TEST_F(RuntimeRegistryTest, DefaultPathIsInTheDataDirectory) {
  EXPECT_EQ(default_runtime_registry_path("/var/lib/trainyard"),
            std::filesystem::path("/var/lib/trainyard/runtimes.json"));
}

TEST_F(RuntimeRegistryTest, MissingFileLeavesOnlyTheBuiltInRuntime) {
  const RuntimeRegistry loaded = RuntimeRegistry::load(dir_.path() / "runtimes.json");
  EXPECT_TRUE(loaded.runtimes().empty());
  EXPECT_TRUE(loaded.find("trainyard-keras").builtin);
  EXPECT_TRUE(loaded.find("trainyard-keras:2.1").builtin);
  EXPECT_EQ(message_of<ValueError>([&] { loaded.find("trainyard-kerasx"); }),
            "training image 'trainyard-kerasx' has no runtime: it is not trainyard-keras and "
            "matches no entry of the runtime registry " +
                (dir_.path() / "runtimes.json").string() + " (no such file)");
}

TEST_F(RuntimeRegistryTest, ExactEntriesBeatPatternsAndLongerPatternsBeatShorter) {
  const RuntimeRegistry loaded = registry(kRegistry);
  ASSERT_EQ(loaded.runtimes().size(), 4u);
  const Runtime exact = loaded.find("my-trainer:latest");
  EXPECT_FALSE(exact.builtin);
  EXPECT_EQ(exact.entrypoint, (Argv{"/opt/trainer/bin/main", "--verbose"}));
  EXPECT_EQ(exact.environment.at("OMP_NUM_THREADS"), "4");
  EXPECT_EQ(exact.python, "/opt/venv/bin/python");
  EXPECT_EQ(loaded.find("my-org/pytorch-training:2.1").image, "my-org/pytorch-training:*");
  EXPECT_EQ(loaded.find("my-org/other").image, "my-org/*");
  EXPECT_EQ(loaded.find("my-org/other").python, "python3");
  EXPECT_EQ(loaded.find("my-trainer:older").image, "*");
  EXPECT_TRUE(loaded.find("trainyard-keras").builtin);  // never shadowed by "*"
}

TEST_F(RuntimeRegistryTest, UnknownImageNamesTheImageAndTheRegistry) {
  const RuntimeRegistry loaded = registry(R"({"runtimes": [{"image": "a"}]})");
  EXPECT_EQ(message_of<ValueError>([&] { loaded.find("b:1"); }),
            "training image 'b:1' has no runtime: it is not trainyard-keras and matches no "
            "entry of the runtime registry " +
                (dir_.path() / "runtimes.json").string());
}

TEST_F(RuntimeRegistryTest, MalformedRegistriesAreRefusedWithTheirPlace) {
  const std::string file = (dir_.path() / "runtimes.json").string();
  EXPECT_TRUE(message_of<DataError>([&] {
                registry("{\"runtimes\": [");
              }).starts_with("runtime registry " + file + " is not valid JSON: "));
  EXPECT_EQ(message_of<DataError>([&] { registry(R"({"runtime": []})"); }),
            "runtime registry " + file + ": unknown member 'runtime' (known: runtimes)");
  EXPECT_EQ(message_of<DataError>(
                [&] { registry(R"({"runtimes": [{"image": "a", "entrypiont": []}]})"); }),
            "runtime registry " + file +
                ": runtimes[0]: unknown member 'entrypiont' (known: image, entrypoint, "
                "environment, python)");
  EXPECT_EQ(message_of<DataError>([&] { registry(R"({"runtimes": [{"entrypoint": ["x"]}]})"); }),
            "runtime registry " + file + ": runtimes[0]: missing member 'image'");
  EXPECT_EQ(
      message_of<DataError>([&] { registry(R"({"runtimes": [{"image": "a*b"}]})"); }),
      "runtime registry " + file + ": runtimes[0].image: '*' may only end a pattern, in 'a*b'");
  EXPECT_EQ(
      message_of<DataError>([&] { registry(R"({"runtimes": [{"image": "a"}, {"image": "a"}]})"); }),
      "runtime registry " + file + ": runtimes[1]: image 'a' is listed twice");
  EXPECT_EQ(
      message_of<DataError>([&] { registry(R"({"runtimes": [{"image": "trainyard-keras:1"}]})"); }),
      "runtime registry " + file +
          ": runtimes[0].image: 'trainyard-keras:1' is trainyard's built-in runtime");
  EXPECT_EQ(message_of<DataError>(
                [&] { registry(R"({"runtimes": [{"image": "a", "entrypoint": "x"}]})"); }),
            "runtime registry " + file + ": runtimes[0].entrypoint: expected an array of strings");
  EXPECT_EQ(message_of<DataError>(
                [&] { registry(R"({"runtimes": [{"image": "a", "environment": {"X": 1}}]})"); }),
            "runtime registry " + file +
                ": runtimes[0].environment.X: expected a string value under a name without '='");
  EXPECT_EQ(message_of<DataError>([&] { registry(R"([])"); }),
            "runtime registry " + file + ": expected an object {\"runtimes\": [...]}");
}

class TrainingProgramTest : public RuntimeRegistryTest {
 protected:
  TrainingProgramTest() : job_(dir_.path() / "data", "job-1") { job_.create(); }

  TrainingProgram resolve(const std::string& image) {
    spec_.algorithm_specification->training_image = image;
    return resolve_training_program(registry_, spec_, job_, inputs_);
  }

  TrainingJobSpec spec_{.algorithm_specification = AlgorithmSpecification{}};
  JobDirectory job_;
  RuntimeRegistry registry_ = registry(kRegistry);
  CommandInputs inputs_{.trainyard_executable = "/usr/bin/trainyard",
                        .hyperparameter_arguments = {"--epochs", "3", "--lr", "0.1"}};
};

TEST_F(TrainingProgramTest, BuiltInImageRunsTheBuiltInTrainer) {
  const TrainingProgram program = resolve("trainyard-keras:latest");
  EXPECT_EQ(program.argv, (Argv{"/usr/bin/trainyard", "builtin-train"}));
  EXPECT_TRUE(program.builtin);
  EXPECT_TRUE(program.environment.empty());
  EXPECT_EQ(program.working_directory, job_.code());
}

TEST_F(TrainingProgramTest, OtherImagesRunTheirEntrypointWithTrain) {
  const TrainingProgram program = resolve("my-trainer:latest");
  EXPECT_EQ(program.argv, (Argv{"/opt/trainer/bin/main", "--verbose", "train"}));
  EXPECT_FALSE(program.builtin);
  EXPECT_EQ(program.environment, (std::map<std::string, std::string>{{"OMP_NUM_THREADS", "4"}}));
  // No entrypoint: like an image without ENTRYPOINT, "train" itself is the program.
  EXPECT_EQ(resolve("my-org/pytorch-training:2.1").argv, Argv{"train"});
}

TEST_F(TrainingProgramTest, ContainerEntrypointReplacesTheImagesCommand) {
  spec_.algorithm_specification->container_entrypoint = {"/bin/bash"};
  spec_.algorithm_specification->container_arguments = {"-c", "echo hi"};
  spec_.hyper_parameters["sagemaker_program"] = "\"train.py\"";  // not consulted
  EXPECT_EQ(resolve("my-trainer:latest").argv, (Argv{"/bin/bash", "-c", "echo hi"}));
  const TrainingProgram builtin = resolve("trainyard-keras");
  EXPECT_EQ(builtin.argv, (Argv{"/bin/bash", "-c", "echo hi"}));
  EXPECT_FALSE(builtin.builtin);
  spec_.algorithm_specification->container_arguments.clear();
  EXPECT_EQ(resolve("my-trainer:latest").argv, Argv{"/bin/bash"});
}

TEST_F(TrainingProgramTest, ContainerArgumentsAloneFollowTheImagesEntrypoint) {
  spec_.algorithm_specification->container_arguments = {"serve", "--port", "8080"};
  EXPECT_EQ(resolve("my-trainer:latest").argv,
            (Argv{"/opt/trainer/bin/main", "--verbose", "serve", "--port", "8080"}));
  EXPECT_EQ(resolve("my-org/pytorch-training:1").argv, (Argv{"serve", "--port", "8080"}));
}

TEST_F(TrainingProgramTest, PythonProgramFromTheCodeChannel) {
  write_text(job_.channel("code") / "train.py", "print('hi')\n");
  spec_.hyper_parameters["sagemaker_program"] = "\"train.py\"";  // as the SageMaker SDK sends it
  TrainingProgram program = resolve("my-trainer:latest");
  EXPECT_EQ(program.argv,
            (Argv{"/opt/venv/bin/python", (job_.channel("code") / "train.py").string(), "--epochs",
                  "3", "--lr", "0.1"}));
  EXPECT_EQ(program.working_directory, job_.channel("code"));
  EXPECT_EQ(program.environment.at("OMP_NUM_THREADS"), "4");
  // The default python, and a program name given plainly.
  spec_.hyper_parameters["sagemaker_program"] = "train.py";
  program = resolve("my-org/x");
  EXPECT_EQ(program.argv.front(), "python3");
}

TEST_F(TrainingProgramTest, ShellAndOtherProgramsFromTheJobsCodeDirectory) {
  write_text(job_.code() / "scripts" / "train.sh", "echo hi\n");
  write_executable(job_.code() / "train-bin", "#!/bin/sh\n");
  spec_.hyper_parameters["sagemaker_program"] = "scripts/train.sh";
  TrainingProgram program = resolve("trainyard-keras");
  EXPECT_EQ(program.argv, (Argv{"/bin/sh", (job_.code() / "scripts" / "train.sh").string(),
                                "--epochs", "3", "--lr", "0.1"}));
  EXPECT_EQ(program.working_directory, job_.code());
  EXPECT_FALSE(program.builtin);
  spec_.hyper_parameters["sagemaker_program"] = "train-bin";
  EXPECT_EQ(resolve("my-org/x").argv,
            (Argv{(job_.code() / "train-bin").string(), "--epochs", "3", "--lr", "0.1"}));
}

TEST_F(TrainingProgramTest, CodeChannelComesBeforeTheCodeDirectory) {
  write_text(job_.channel("code") / "train.py", "");
  write_text(job_.code() / "train.py", "");
  spec_.hyper_parameters["sagemaker_program"] = "train.py";
  EXPECT_EQ(resolve("my-org/x").argv[1], (job_.channel("code") / "train.py").string());
}

TEST_F(TrainingProgramTest, MissingProgramNamesBothPlaces) {
  spec_.hyper_parameters["sagemaker_program"] = "\"train.py\"";
  EXPECT_EQ(message_of<ValueError>([&] { resolve("my-org/x"); }),
            "hyperparameter sagemaker_program 'train.py': no such file in the code channel (" +
                (job_.channel("code") / "train.py").string() + ") or the job's code directory (" +
                (job_.code() / "train.py").string() + ")");
}

TEST_F(TrainingProgramTest, ProgramNamesCannotLeaveTheCodeDirectory) {
  write_text(dir_.path() / "outside.py", "");
  for (const std::string name : {"../../../outside.py", "/etc/passwd", "", "\"\""}) {
    spec_.hyper_parameters["sagemaker_program"] = name;
    EXPECT_THROW(resolve("my-org/x"), ValueError) << name;
  }
  std::filesystem::create_symlink(dir_.path() / "outside.py", job_.code() / "link.py");
  spec_.hyper_parameters["sagemaker_program"] = "link.py";
  EXPECT_EQ(message_of<ValueError>([&] { resolve("my-org/x"); }),
            "hyperparameter sagemaker_program 'link.py': " + (job_.code() / "link.py").string() +
                " leads outside " + job_.code().string() + " through a symlink");
}

TEST_F(TrainingProgramTest, AlgorithmNameAndUnknownImagesAreClientErrors) {
  spec_.algorithm_specification->algorithm_name = "xgboost";
  EXPECT_EQ(
      message_of<ValueError>([&] { resolve_training_program(registry_, spec_, job_, inputs_); }),
      "AlgorithmSpecification.AlgorithmName 'xgboost' is not supported: trainyard runs a "
      "TrainingImage");
  const RuntimeRegistry empty = RuntimeRegistry::load(dir_.path() / "none.json");
  spec_.algorithm_specification->training_image = "my-trainer:latest";
  EXPECT_TRUE(message_of<ValueError>([&] {
                resolve_training_program(empty, spec_, job_, inputs_);
              }).starts_with("training image 'my-trainer:latest' has no runtime"));
}

TEST_F(TrainingProgramTest, ResolvedShellProgramRunsWithItsArguments) {
  write_text(job_.channel("code") / "train.sh", "echo \"$0 got $*\"; pwd\n");
  spec_.hyper_parameters["sagemaker_program"] = "\"train.sh\"";
  const TrainingProgram program = resolve("my-org/x");
  ChildProcess child = ChildProcess::start({.argv = program.argv,
                                            .environment = program.environment,
                                            .working_directory = program.working_directory,
                                            .log_file = job_.log_file()});
  ASSERT_TRUE(child.wait().success());
  EXPECT_EQ(read_text(job_.log_file()),
            (job_.channel("code") / "train.sh").string() + " got --epochs 3 --lr 0.1\n" +
                std::filesystem::canonical(job_.channel("code")).string() + "\n");
}

}  // namespace
}  // namespace trainyard::jobs
