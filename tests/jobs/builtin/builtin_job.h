// A job's /opt/ml for the built-in trainer's tests: channels, hyperparameters and the
// environment SageMaker's contract sets, the trainer run in this process, and its results.
#pragma once

#include <cctype>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "builtin_test_util.h"
#include "data/npy.h"
#include "jobs/builtin/builtin_trainer.h"

namespace trainyard::jobs::builtin::testing {

namespace fs = std::filesystem;
using Json = nlohmann::json;

// One job's /opt/ml, its environment and the trainer's results.
class Job {
 public:
  Job() {
    root_ = temp_.path() / "ml";
    fs::create_directories(root_ / "input" / "data");
    environment_["SAGEMAKER_BASE_DIR"] = root_.string();
    environment_["SM_MODEL_DIR"] = (root_ / "model").string();
    environment_["SM_OUTPUT_DIR"] = (root_ / "output").string();
    environment_["SM_OUTPUT_DATA_DIR"] = (root_ / "output" / "data").string();
  }

  // Creates the channel's directory and sets SM_CHANNEL_<NAME>.
  fs::path channel(const std::string& name) {
    fs::path directory = root_ / "input" / "data" / name;
    fs::create_directories(directory);
    std::string key = "SM_CHANNEL_";
    for (char c : name) key += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    environment_[key] = directory.string();
    return directory;
  }
  void set_hyperparameters(const std::string& json) { environment_["SM_HPS"] = json; }
  void set_environment(const std::string& name, const std::string& value) {
    environment_[name] = value;
  }
  void set_model(const std::string& json) { write_file(channel("model") / "model.json", json); }
  void write_arrays(const std::string& channel_name, const ArgmaxProblem& problem) {
    fs::path directory = channel(channel_name);
    data::write_npy((directory / "x.npy").string(), features_tensor(problem));
    data::write_npy((directory / "y.npy").string(), labels_tensor(problem));
  }

  int run() {
    rc_ = run_builtin_trainer(environment_, out_, err_);
    return rc_;
  }
  std::string out() const { return out_.str(); }
  std::string err() const { return err_.str(); }
  fs::path model_dir() const { return root_ / "model"; }
  std::string failure() const {
    fs::path path = root_ / "output" / "failure";
    return fs::exists(path) ? read_file(path) : "";
  }
  Json metrics() const { return Json::parse(read_file(model_dir() / "metrics.json")); }
  const fs::path& root() const { return root_; }

 private:
  TempDir temp_;
  fs::path root_;
  std::map<std::string, std::string> environment_;
  std::ostringstream out_, err_;
  int rc_ = -1;
};

}  // namespace trainyard::jobs::builtin::testing
