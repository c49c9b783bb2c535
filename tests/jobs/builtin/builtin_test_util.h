// Helpers for the built-in trainer's tests: a scratch directory, files written byte by
// byte (IDX, CSV, text), and a learnable synthetic problem.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>
#include <zlib.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/random.h"
#include "core/tensor.h"

namespace trainyard::jobs::builtin::testing {

class TempDir {
 public:
  TempDir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "trainyard-builtin-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

inline void write_file(const std::filesystem::path& path, const std::string& bytes) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

inline std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// One gzip member holding `bytes`.
inline std::string gzip(const std::string& bytes) {
  z_stream stream{};
  if (deflateInit2(&stream, Z_BEST_SPEED, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) !=
      Z_OK) {
    throw std::runtime_error("deflateInit2 failed");
  }
  std::string out(deflateBound(&stream, bytes.size()) + 64, '\0');
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
  stream.avail_in = static_cast<uInt>(bytes.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  int result = deflate(&stream, Z_FINISH);
  deflateEnd(&stream);
  if (result != Z_STREAM_END) throw std::runtime_error("deflate failed");
  out.resize(stream.total_out);
  return out;
}

// An IDX file of uint8 elements (type 0x08) with `dims`, as MNIST's files are laid out.
inline std::string idx_uint8(const std::vector<uint32_t>& dims, const std::vector<uint8_t>& data) {
  std::string bytes{'\0', '\0', '\x08', static_cast<char>(dims.size())};
  for (uint32_t dim : dims) {
    for (int shift = 24; shift >= 0; shift -= 8) bytes += static_cast<char>((dim >> shift) & 0xFF);
  }
  bytes.append(data.begin(), data.end());
  return bytes;
}

// A learnable problem: 4 features uniform in [0, 1); the class is the index of the largest.
struct ArgmaxProblem {
  std::vector<std::vector<float>> features;
  std::vector<int> labels;
};

inline ArgmaxProblem argmax_problem(int rows, uint64_t seed) {
  ArgmaxProblem problem;
  RandomGenerator generator(seed);
  for (int r = 0; r < rows; ++r) {
    std::vector<float> row(4);
    int best = 0;
    for (int j = 0; j < 4; ++j) {
      row[j] = static_cast<float>(generator.uniform());
      if (row[j] > row[best]) best = j;
    }
    problem.features.push_back(row);
    problem.labels.push_back(best);
  }
  return problem;
}

inline Tensor features_tensor(const ArgmaxProblem& problem) {
  std::vector<float> values;
  for (const auto& row : problem.features) values.insert(values.end(), row.begin(), row.end());
  return Tensor::from_vector<float>(Shape{int64_t(problem.features.size()), 4}, values);
}

inline Tensor labels_tensor(const ArgmaxProblem& problem) {
  std::vector<int64_t> values(problem.labels.begin(), problem.labels.end());
  return Tensor::from_vector<int64_t>(Shape{int64_t(values.size())}, values);
}

// The problem as CSV text, the label in column `label_column` of 5.
inline std::string argmax_csv(const ArgmaxProblem& problem, int label_column, bool header) {
  std::ostringstream text;
  text.precision(9);
  if (header) text << "a,b,label,c,d\n";
  for (size_t r = 0; r < problem.features.size(); ++r) {
    int feature = 0;
    for (int column = 0; column < 5; ++column) {
      if (column > 0) text << ',';
      if (column == label_column) {
        text << problem.labels[r];
      } else {
        text << problem.features[r][feature++];
      }
    }
    text << '\n';
  }
  return text.str();
}

// A Keras 3 model config for the problem: 4 inputs, Dense(16, tanh), Dense(4) logits; with
// a compile_config when `compile_config` is not empty.
inline std::string argmax_model_json(const std::string& compile_config = "") {
  std::string json = R"({"module": "keras", "class_name": "Sequential", "config": {
    "name": "argmax", "trainable": true, "layers": [
      {"module": "keras.layers", "class_name": "InputLayer",
       "config": {"batch_shape": [null, 4], "dtype": "float32", "sparse": false,
                  "name": "features"}},
      {"module": "keras.layers", "class_name": "Dense",
       "config": {"name": "hidden", "units": 16, "activation": "tanh"}},
      {"module": "keras.layers", "class_name": "Dense",
       "config": {"name": "logits", "units": 4, "activation": "linear"}}]})";
  if (!compile_config.empty()) json += ", \"compile_config\": " + compile_config;
  return json + "}";
}

}  // namespace trainyard::jobs::builtin::testing
