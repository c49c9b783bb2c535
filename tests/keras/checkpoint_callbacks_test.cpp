// ModelCheckpoint and BackupAndRestore in real fit() runs, Keras's filepath templates, and
// the promise BackupAndRestore exists for: a training process killed mid-epoch and started
// again ends with the weights an uninterrupted run ends with, bit for bit.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/wait.h>
#include <trainyard/keras.h>
#include <unistd.h>

#include <cmath>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "keras/callbacks/backup_and_restore.h"
#include "keras/callbacks/model_checkpoint.h"
#include "keras/callbacks/terminate_on_nan.h"
#include "keras/saving/atomic_file.h"
#include "keras/saving/filepath_template.h"
#include "keras/saving/h5_file.h"
#include "keras/saving/weights_file.h"

extern char** environ;

namespace trainyard::keras {
namespace {

namespace fs = std::filesystem;
using saving::TemplateValue;

// ---- filepath templates -------------------------------------------------------------------

std::string format(const std::string& pattern, std::map<std::string, TemplateValue> values) {
  return saving::format_filepath(pattern,
                                 [&](std::string_view name) -> std::optional<TemplateValue> {
                                   auto it = values.find(std::string(name));
                                   if (it == values.end()) return std::nullopt;
                                   return it->second;
                                 });
}

// Expected strings are what Python 3's str.format returns for the same arguments.
TEST(FilepathTemplateTest, FormatsAsPythonDoes) {
  EXPECT_EQ(format("ckpt-{epoch:02d}-{val_loss:.2f}.weights.h5",
                   {{"epoch", int64_t{3}}, {"val_loss", 0.4237}}),
            "ckpt-03-0.42.weights.h5");
  EXPECT_EQ(format("{epoch}", {{"epoch", int64_t{12}}}), "12");
  EXPECT_EQ(format("{loss}", {{"loss", 0.1}}), "0.1");
  EXPECT_EQ(format("{loss}", {{"loss", 1e-05}}), "1e-05");
  EXPECT_EQ(format("{loss}", {{"loss", 123456789012345678.0}}), "1.2345678901234568e+17");
  EXPECT_EQ(format("{loss}", {{"loss", -INFINITY}}), "-inf");
  EXPECT_EQ(format("{loss:.3}", {{"loss", 1.0}}), "1.0");
  EXPECT_EQ(format("{loss:.3}", {{"loss", 123.0}}), "1.23e+02");
  EXPECT_EQ(format("{loss:.3}", {{"loss", 0.0001234}}), "0.000123");
  EXPECT_EQ(format("{loss:.0}", {{"loss", 1.5}}), "2e+00");
  EXPECT_EQ(format("{loss:e}", {{"loss", 12345.678}}), "1.234568e+04");
  EXPECT_EQ(format("{loss:.3E}", {{"loss", 0.000123}}), "1.230E-04");
  EXPECT_EQ(format("{loss:g}", {{"loss", 1e-5}}), "1e-05");
  EXPECT_EQ(format("{loss:.3g}", {{"loss", 123456.0}}), "1.23e+05");
  EXPECT_EQ(format("{loss:.15g}", {{"loss", 0.1}}), "0.1");
  EXPECT_EQ(format("{loss:%}", {{"loss", 0.25}}), "25.000000%");
  EXPECT_EQ(format("{acc:.1%}", {{"acc", 0.8765}}), "87.6%");
  EXPECT_EQ(format("{e:>5}|{e:<5}|{e:^5}|{e:*^6d}", {{"e", int64_t{7}}}),
            "    7|7    |  7  |**7***");
  EXPECT_EQ(format("{e:+d} {e: d} {n:05d} {n:=+6}", {{"e", int64_t{7}}, {"n", int64_t{-3}}}),
            "+7  7 -0003 -    3");
  EXPECT_EQ(format("{epoch:.2f}", {{"epoch", int64_t{3}}}), "3.00");
  EXPECT_EQ(format("{{literal}}-{epoch:03}", {{"epoch", int64_t{5}}}), "{literal}-005");
  EXPECT_EQ(format("{loss:08.3f}", {{"loss", -1.5}}), "-001.500");
  EXPECT_EQ(format("{loss:f}", {{"loss", INFINITY}}), "inf");
  EXPECT_EQ(format("{loss:F}", {{"loss", NAN}}), "NAN");
  EXPECT_EQ(format("{loss:.2f}|{other:.2f}", {{"loss", 0.125}, {"other", 0.375}}), "0.12|0.38");
  EXPECT_EQ(format("{loss:.1f}", {{"loss", -0.04}}), "-0.0");
  EXPECT_EQ(format("{loss:10.4e}", {{"loss", 0.5}}), "5.0000e-01");
}

TEST(FilepathTemplateTest, RefusesWhatPythonRefusesAndWhatItDoesNotSupport) {
  auto refused = [](const std::string& pattern, const std::string& reason) {
    try {
      format(pattern, {{"loss", 0.5}, {"epoch", int64_t{1}}});
      ADD_FAILURE() << pattern << " was accepted";
    } catch (const ValueError& error) {
      std::string message = error.what();
      EXPECT_NE(message.find(pattern), std::string::npos) << message;
      EXPECT_NE(message.find(reason), std::string::npos) << message;
    }
  };
  refused("{loss:d}", "unknown format code 'd'");
  refused("{epoch:.2d}", "precision not allowed");
  refused("{}", "positional");
  refused("{loss", "single '{'");
  refused("a}", "single '}'");
  refused("ckpt-{val_loss}.weights.h5", "no value named 'val_loss'");
  refused("{epoch:,}", "grouping");
  refused("{epoch!r}", "not supported");
  refused("{epoch:x}", "'x' is not supported");
}

// ---- training fixtures --------------------------------------------------------------------

class CheckpointTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    directory_ = fs::temp_directory_path() / ("trainyard_checkpoint_" + std::string(info->name()) +
                                              "_" + std::to_string(::getpid()));
    fs::remove_all(directory_);
    fs::create_directories(directory_);
  }
  void TearDown() override { fs::remove_all(directory_); }
  std::string path(const std::string& name) const { return (directory_ / name).string(); }

  fs::path directory_;
};

Tensor random_tensor(const Shape& shape, uint64_t seed) {
  Tensor tensor = Tensor::zeros(shape);
  RandomGenerator generator(seed);
  for (int64_t i = 0; i < tensor.num_elements(); ++i) {
    tensor.data<float>()[i] = static_cast<float>(generator.uniform() * 2 - 1);
  }
  return tensor;
}

bool same_bytes(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && a.dtype() == b.dtype() &&
         std::memcmp(a.raw_data(), b.raw_data(), a.nbytes()) == 0;
}

bool same_weights(const std::vector<Tensor>& a, const std::vector<Tensor>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (!same_bytes(a[i], b[i])) return false;
  }
  return true;
}

// Dense -> Dropout (seeded from the global stream) -> Dense: 6 inputs -> 3 outputs.
Sequential architecture() {
  return Sequential(
      {layers::Dense(24, {.activation = "relu"}), layers::Dropout(0.4), layers::Dense(3)});
}

// The architecture compiled with Adam and the mean squared error.
Sequential small_model() {
  Sequential model = architecture();
  model.compile({.optimizer = optimizers::Adam({.learning_rate = 0.01}), .loss = "mse"});
  return model;
}

// The model weights stored in `file`.
std::vector<Tensor> weights_in_file(const std::string& file) {
  Sequential model = architecture();
  model.build(Shape{-1, 6});
  load_weights(model, file);
  return model.get_weights();
}

// Replaces `name` in each epoch's logs by the next of `values`.
CallbackPtr script(std::string name, std::vector<double> values) {
  auto index = std::make_shared<size_t>(0);
  return std::make_shared<LambdaCallback>(
      LambdaCallbackFunctions{.on_epoch_end = [=](int, Logs& logs) {
        set_log(logs, name, values.at(std::min(*index, values.size() - 1)));
        ++*index;
      }});
}

// ---- ModelCheckpoint ----------------------------------------------------------------------

TEST_F(CheckpointTest, ModelCheckpointChecksTheFilepathsKind) {
  auto message_of = [&](const std::string& filepath, ModelCheckpointOptions options) {
    try {
      ModelCheckpoint checkpoint(path(filepath), std::move(options));
    } catch (const ValueError& error) {
      return std::string(error.what());
    }
    return std::string();
  };
  // Keras's default saves the whole model, so a weights filepath needs save_weights_only.
  std::string message = message_of("m.weights.h5", {});
  EXPECT_NE(message.find("must end in `.keras`"), std::string::npos) << message;
  EXPECT_NE(message.find("save_weights_only = true"), std::string::npos) << message;
  EXPECT_NE(message.find("filepath=" + path("m.weights.h5")), std::string::npos) << message;
  message = message_of("m.keras", {.save_weights_only = true});
  EXPECT_NE(message.find("must end in `.weights.h5`"), std::string::npos) << message;
  EXPECT_NE(message.find("leave save_weights_only = false"), std::string::npos) << message;
  EXPECT_EQ(message_of("m.h5", {}), "");  // the legacy format, as Keras 3 allows
  message = message_of("m.ckpt", {.save_weights_only = true});
  EXPECT_NE(message.find("filepath=" + path("m.ckpt")), std::string::npos) << message;
  EXPECT_EQ(message_of("m.keras", {}), "");
  EXPECT_EQ(message_of("m.weights.h5", {.save_weights_only = true}), "");
  EXPECT_THROW(ModelCheckpoint(path("m.keras"), {.save_freq = 0}), ValueError);
  EXPECT_THROW(ModelCheckpoint(path("m.keras"), {.save_freq = "batch"}), ValueError);
  EXPECT_THROW(ModelCheckpoint(path("m.keras"), {.save_best_only = true, .mode = "best"}),
               ValueError);
}

TEST_F(CheckpointTest, ModelCheckpointNamesEachEpochsFileFromTheLogs) {
  Tensor x = random_tensor({40, 6}, 1), y = random_tensor({40, 3}, 2);
  Sequential model = small_model();
  std::vector<std::vector<Tensor>> per_epoch;
  auto record = std::make_shared<LambdaCallback>(LambdaCallbackFunctions{
      .on_epoch_end = [&](int, Logs&) { per_epoch.push_back(model.get_weights()); }});
  std::ostringstream out;
  auto checkpoint = std::make_shared<ModelCheckpoint>(
      path("ckpt-{epoch:02d}-{loss:.4f}.weights.h5"),
      ModelCheckpointOptions{
          .monitor = "loss", .verbose = 1, .save_weights_only = true, .output = &out});
  History history = model.fit(
      x, y, {.batch_size = 8, .epochs = 3, .verbose = 0, .callbacks = {checkpoint, record}});

  std::string expected_messages;
  for (int epoch = 0; epoch < 3; ++epoch) {
    char name[64];
    std::snprintf(name, sizeof(name), "ckpt-%02d-%.4f.weights.h5", epoch + 1,
                  history.history.at("loss")[static_cast<size_t>(epoch)]);
    ASSERT_TRUE(fs::exists(path(name))) << name;
    EXPECT_TRUE(same_weights(weights_in_file(path(name)), per_epoch[static_cast<size_t>(epoch)]))
        << name;
    std::string prefix = "\nEpoch " + std::to_string(epoch + 1) + ": ";
    expected_messages += prefix + "saving model to " + path(name) + "\n" + prefix +
                         "finished saving model to " + path(name) + "\n";
  }
  EXPECT_EQ(out.str(), expected_messages);
}

TEST_F(CheckpointTest, ModelCheckpointSavesWholeModelsToKerasFilesByDefault) {
  Tensor x = random_tensor({40, 6}, 1), y = random_tensor({40, 3}, 2);
  Sequential model = small_model();
  auto checkpoint = std::make_shared<ModelCheckpoint>(path("model-{epoch}.keras"));
  model.fit(x, y, {.batch_size = 8, .epochs = 2, .verbose = 0, .callbacks = {checkpoint}});
  ASSERT_TRUE(fs::exists(path("model-1.keras")));
  std::unique_ptr<Model> last = load_model(path("model-2.keras"));
  EXPECT_TRUE(same_weights(last->get_weights(), model.get_weights()));
  EXPECT_EQ(last->optimizer().iterations(), model.optimizer().iterations());
  Tensor probe = random_tensor({5, 6}, 9);
  EXPECT_TRUE(
      same_weights({last->predict(probe, {.verbose = 0})}, {model.predict(probe, {.verbose = 0})}));
}

TEST_F(CheckpointTest, ModelCheckpointWritesLegacyH5FilesWhenNamedSo) {
  Tensor x = random_tensor({16, 6}, 1), y = random_tensor({16, 3}, 2);
  Sequential model = small_model();
  auto checkpoint = std::make_shared<ModelCheckpoint>(path("model-{epoch}.h5"));
  model.fit(x, y, {.batch_size = 8, .epochs = 1, .verbose = 0, .callbacks = {checkpoint}});
  std::unique_ptr<Model> saved = load_model(path("model-1.h5"));
  EXPECT_TRUE(saved->compiled());
  EXPECT_TRUE(same_weights(saved->get_weights(), model.get_weights()));
}

TEST_F(CheckpointTest, ModelCheckpointSaveBestOnlyKeepsTheBestEpoch) {
  Tensor x = random_tensor({32, 6}, 3), y = random_tensor({32, 3}, 4);
  Sequential model = small_model();
  std::vector<std::vector<Tensor>> per_epoch;
  auto record = std::make_shared<LambdaCallback>(LambdaCallbackFunctions{
      .on_epoch_end = [&](int, Logs&) { per_epoch.push_back(model.get_weights()); }});
  std::ostringstream out;
  std::string best = path("best.weights.h5");
  auto checkpoint = std::make_shared<ModelCheckpoint>(
      best, ModelCheckpointOptions{
                .verbose = 1, .save_best_only = true, .save_weights_only = true, .output = &out});
  model.fit(x, y,
            {.batch_size = 8,
             .epochs = 3,
             .verbose = 0,
             .callbacks = {script("val_loss", {0.5, 0.4, 0.6}), checkpoint, record}});

  EXPECT_EQ(out.str(),
            "\nEpoch 1: val_loss improved from None to 0.50000, saving model to " + best +
                "\n\nEpoch 1: finished saving model to " + best +
                "\n\nEpoch 2: val_loss improved from 0.50000 to 0.40000, saving model to " + best +
                "\n\nEpoch 2: finished saving model to " + best +
                "\n\nEpoch 3: val_loss did not improve from 0.40000\n");
  EXPECT_EQ(checkpoint->best(), 0.4);
  EXPECT_TRUE(same_weights(weights_in_file(best), per_epoch[1]));
  EXPECT_FALSE(same_weights(per_epoch[1], per_epoch[2]));

  // initial_value_threshold is the value to beat from the start.
  std::ostringstream quiet;
  auto threshold = std::make_shared<ModelCheckpoint>(
      path("threshold.weights.h5"), ModelCheckpointOptions{.verbose = 1,
                                                           .save_best_only = true,
                                                           .save_weights_only = true,
                                                           .initial_value_threshold = 0.45,
                                                           .output = &quiet});
  model.fit(x, y,
            {.batch_size = 8,
             .epochs = 2,
             .verbose = 0,
             .callbacks = {script("val_loss", {0.5, 0.42}), threshold}});
  EXPECT_NE(quiet.str().find("\nEpoch 1: val_loss did not improve from 0.45000\n"),
            std::string::npos)
      << quiet.str();
  EXPECT_NE(quiet.str().find("\nEpoch 2: val_loss improved from 0.45000 to 0.42000"),
            std::string::npos)
      << quiet.str();
}

TEST_F(CheckpointTest, ModelCheckpointSavesEveryNBatchesAcrossEpochs) {
  Tensor x = random_tensor({32, 6}, 5), y = random_tensor({32, 3}, 6);  // 4 batches an epoch
  Sequential model = small_model();
  auto checkpoint =
      callbacks::ModelCheckpoint(path("e{epoch}-b{batch}-{loss:.3f}.keras"), {.save_freq = 3});
  model.fit(x, y, {.batch_size = 8, .epochs = 2, .verbose = 0, .callbacks = {checkpoint}});
  std::set<std::string> prefixes;
  for (const auto& entry : fs::directory_iterator(directory_)) {
    prefixes.insert(entry.path().filename().string().substr(0, 5));
  }
  // Batches 3 and 6 of 8: the third of epoch 1, the second of epoch 2.
  EXPECT_EQ(prefixes, (std::set<std::string>{"e1-b3", "e2-b2"}));

  auto missing = std::make_shared<ModelCheckpoint>(path("{val_accuracy:.2f}.keras"));
  EXPECT_THROW(
      model.fit(x, y, {.batch_size = 8, .epochs = 1, .verbose = 0, .callbacks = {missing}}),
      ValueError);
}

// ---- BackupAndRestore in one process ------------------------------------------------------

TEST_F(CheckpointTest, BackupAndRestoreWritesKerasFilesAndResumes) {
  Tensor x = random_tensor({32, 6}, 7), y = random_tensor({32, 3}, 8);
  std::string backup_dir = path("backup");
  Sequential first = small_model();
  auto keep = std::make_shared<BackupAndRestore>(
      backup_dir, BackupAndRestoreOptions{.delete_checkpoint = false});
  first.fit(x, y, {.batch_size = 8, .epochs = 2, .verbose = 0, .callbacks = {keep}});
  EXPECT_FALSE(keep->resumed_epoch());
  EXPECT_EQ(saving::read_small_file(keep->metadata_path(), 100), "{\"epoch\": 2, \"batch\": 0}");
  saving::H5File file = saving::H5File::open_read_only(keep->weights_path());
  EXPECT_EQ(file.int_attribute(".", "trainyard_epoch"), 2);
  EXPECT_TRUE(file.is_dataset("optimizer/vars/0"));
  EXPECT_TRUE(same_weights(weights_in_file(keep->weights_path()), first.get_weights()));

  // A new process's model resumes at epoch 2 with the saved weights and optimizer state.
  Sequential second = small_model();
  std::vector<std::vector<Tensor>> at_begin;
  auto probe = std::make_shared<LambdaCallback>(LambdaCallbackFunctions{
      .on_epoch_begin = [&](int) { at_begin.push_back(second.get_weights()); }});
  auto resume = callbacks::BackupAndRestore(backup_dir);
  History history =
      second.fit(x, y, {.batch_size = 8, .epochs = 4, .verbose = 0, .callbacks = {resume, probe}});
  EXPECT_EQ(resume->resumed_epoch(), 2);
  EXPECT_EQ(history.epoch, (std::vector<int>{2, 3}));
  ASSERT_FALSE(at_begin.empty());
  EXPECT_TRUE(same_weights(at_begin[0], first.get_weights()));
  EXPECT_EQ(second.optimizer().iterations(), 16);  // 8 restored + 8 trained
  EXPECT_FALSE(fs::exists(backup_dir));            // deleted at the end
}

TEST_F(CheckpointTest, BackupAndRestoreTrustsTheWeightsFileOverStaleMetadata) {
  Tensor x = random_tensor({16, 6}, 9), y = random_tensor({16, 3}, 10);
  std::string backup_dir = path("backup");
  Sequential first = small_model();
  first.fit(x, y, {.batch_size = 8, .epochs = 3, .verbose = 0});
  fs::create_directories(backup_dir);

  // Killed between the two renames: new weights (epoch 3) beside old metadata (epoch 2).
  save_weights(first, backup_dir + "/latest.weights.h5",
               {.root_attributes = {{"trainyard_epoch", 3}}});
  saving::write_text_file_atomically(backup_dir + "/training_metadata.json",
                                     "{\"epoch\": 2, \"batch\": 0}");
  Sequential second = small_model();
  auto resume = std::make_shared<BackupAndRestore>(backup_dir);
  History history =
      second.fit(x, y, {.batch_size = 8, .epochs = 4, .verbose = 0, .callbacks = {resume}});
  EXPECT_EQ(history.epoch, (std::vector<int>{3}));

  // A backup Keras wrote has no such record: its metadata decides.
  fs::create_directories(backup_dir);
  save_weights(first, backup_dir + "/latest.weights.h5");
  saving::write_text_file_atomically(backup_dir + "/training_metadata.json",
                                     "{\"epoch\": 1, \"batch\": 0}");
  Sequential third = small_model();
  history = third.fit(x, y,
                      {.batch_size = 8,
                       .epochs = 3,
                       .verbose = 0,
                       .callbacks = {std::make_shared<BackupAndRestore>(backup_dir)}});
  EXPECT_EQ(history.epoch, (std::vector<int>{1, 2}));

  // Metadata that is not Keras's record is refused with its name.
  fs::create_directories(backup_dir);
  save_weights(first, backup_dir + "/latest.weights.h5");
  saving::write_text_file_atomically(backup_dir + "/training_metadata.json", "{\"epoch\": \"x\"}");
  Sequential fourth = small_model();
  try {
    fourth.fit(x, y,
               {.batch_size = 8,
                .epochs = 3,
                .verbose = 0,
                .callbacks = {std::make_shared<BackupAndRestore>(backup_dir)}});
    FAIL();
  } catch (const DataError& error) {
    EXPECT_NE(std::string(error.what()).find("training_metadata.json"), std::string::npos);
  }
}

// ---- BackupAndRestore across a killed process ---------------------------------------------

constexpr const char* kRoleVariable = "TRAINYARD_BACKUP_TEST_DIR";
constexpr const char* kOutputVariable = "TRAINYARD_BACKUP_TEST_OUTPUT";
constexpr const char* kKillVariable = "TRAINYARD_BACKUP_TEST_KILL_EPOCH";

// Kills its own process in the middle of epoch `epoch` (0-based), after its third batch.
class KillMidEpoch final : public Callback {
 public:
  explicit KillMidEpoch(int epoch) : epoch_(epoch) {}
  void on_epoch_begin(int epoch) override { current_ = epoch; }
  void on_train_batch_end(int64_t batch, const BatchLogs&) override {
    if (current_ == epoch_ && batch == 2) std::raise(SIGKILL);
  }
  bool wants_batch_events() const override { return true; }

 private:
  int epoch_;
  int current_ = -1;
};

// The training process the test below starts (and kills): 5 epochs of a shuffled fit with
// Dropout, every seed drawn from set_random_seed's stream, under BackupAndRestore. It writes
// the final weights and the epochs it ran. Skipped unless started by that test.
TEST(BackupAndRestoreProcess, TrainingRun) {
  const char* backup_dir = std::getenv(kRoleVariable);
  if (!backup_dir) GTEST_SKIP() << "the training process of KilledTrainingResumesBitwise";
  ASSERT_NE(std::getenv(kOutputVariable), nullptr);
  const std::string output = std::getenv(kOutputVariable);
  set_random_seed(20240611);
  Tensor x = random_tensor({96, 6}, 31), y = random_tensor({96, 3}, 32);
  Sequential model = small_model();
  const char* kill = std::getenv(kKillVariable);
  // Epoch -1 never comes: without the variable the run goes to the end.
  std::vector<CallbackPtr> callbacks{std::make_shared<BackupAndRestore>(backup_dir),
                                     std::make_shared<KillMidEpoch>(kill ? std::atoi(kill) : -1)};
  History history =
      model.fit(x, y, {.batch_size = 16, .epochs = 5, .verbose = 0, .callbacks = callbacks});
  save_weights(model, output);
  std::ofstream epochs(output + ".epochs");
  for (int epoch : history.epoch) epochs << epoch << " ";
}

// Runs this test binary's TrainingRun as its own process on one thread; returns its wait
// status.
int run_training_process(const std::string& backup_dir, const std::string& output,
                         std::optional<int> kill_epoch, const std::string& log) {
  std::vector<std::string> variables;
  for (char** entry = environ; *entry; ++entry) {
    std::string variable = *entry;
    if (variable.rfind("TRAINYARD_BACKUP_TEST_", 0) != 0 &&
        variable.rfind("TRAINYARD_NUM_THREADS=", 0) != 0) {
      variables.push_back(variable);
    }
  }
  variables.push_back("TRAINYARD_NUM_THREADS=1");
  variables.push_back(std::string(kRoleVariable) + "=" + backup_dir);
  variables.push_back(std::string(kOutputVariable) + "=" + output);
  if (kill_epoch)
    variables.push_back(std::string(kKillVariable) + "=" + std::to_string(*kill_epoch));
  std::vector<char*> environment;
  for (std::string& variable : variables) environment.push_back(variable.data());
  environment.push_back(nullptr);
  std::string program = "/proc/self/exe";
  std::string filter = "--gtest_filter=BackupAndRestoreProcess.TrainingRun";
  std::vector<char*> arguments{program.data(), filter.data(), nullptr};

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(),
                                   O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  pid_t child = -1;
  int error =
      posix_spawn(&child, program.c_str(), &actions, nullptr, arguments.data(), environment.data());
  posix_spawn_file_actions_destroy(&actions);
  if (error != 0) throw IOError("posix_spawn failed: " + std::string(std::strerror(error)));
  int status = 0;
  while (waitpid(child, &status, 0) < 0) {
    if (errno != EINTR) throw IOError("waitpid failed: " + std::string(std::strerror(errno)));
  }
  return status;
}

std::string read_all(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST_F(CheckpointTest, KilledTrainingResumesBitwise) {
  std::string log = path("children.log");

  // The uninterrupted run.
  int status = run_training_process(path("reference_backup"), path("reference.weights.h5"),
                                    std::nullopt, log);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << read_all(log);
  EXPECT_EQ(read_all(path("reference.weights.h5.epochs")), "0 1 2 3 4 ");

  // Killed in the middle of epoch 3 (index 2): the backup holds the end of epoch 2.
  std::string backup_dir = path("backup");
  status = run_training_process(backup_dir, path("resumed.weights.h5"), 2, log);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << read_all(log);
  ASSERT_FALSE(fs::exists(path("resumed.weights.h5")));
  EXPECT_EQ(saving::read_small_file(backup_dir + "/training_metadata.json", 100),
            "{\"epoch\": 2, \"batch\": 0}");

  // Started again: it resumes at epoch 3 and finishes.
  status = run_training_process(backup_dir, path("resumed.weights.h5"), std::nullopt, log);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << read_all(log);
  EXPECT_EQ(read_all(path("resumed.weights.h5.epochs")), "2 3 4 ");
  EXPECT_FALSE(fs::exists(backup_dir));

  std::vector<Tensor> reference = weights_in_file(path("reference.weights.h5"));
  std::vector<Tensor> resumed = weights_in_file(path("resumed.weights.h5"));
  ASSERT_EQ(resumed.size(), reference.size());
  for (size_t i = 0; i < reference.size(); ++i) {
    EXPECT_TRUE(same_bytes(resumed[i], reference[i])) << "weight " << i;
  }
}

}  // namespace
}  // namespace trainyard::keras
