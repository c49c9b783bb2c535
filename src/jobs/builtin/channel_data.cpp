#include "jobs/builtin/channel_data.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <map>
#include <optional>
#include <set>
#include <vector>

#include "core/error.h"
#include "data/csv.h"
#include "data/idx.h"
#include "data/npy.h"
#include "data/npz.h"

namespace trainyard::jobs::builtin {
namespace {

namespace fs = std::filesystem;

// A fault this file found itself; its message already names the channel.
class ChannelError : public DataError {
 public:
  using DataError::DataError;
};

struct ChannelFiles {
  std::vector<fs::path> images;  // IDX
  std::vector<fs::path> labels;  // IDX
  std::vector<fs::path> npz;
  std::vector<fs::path> npy;
  std::vector<fs::path> csv;
};

std::string lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

bool ends_with(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() &&
         text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// The file name without a ".gz" ending, lower-cased.
std::string plain_name(const fs::path& path) {
  std::string name = lower(path.filename().string());
  if (ends_with(name, ".gz")) name.resize(name.size() - 3);
  return name;
}

std::string join_names(const std::vector<fs::path>& paths, const fs::path& directory) {
  std::string text;
  for (const auto& path : paths) {
    text += (text.empty() ? "" : ", ") + path.lexically_relative(directory).string();
  }
  return text;
}

// What an IDX file's name says besides "images"/"labels" and the rank ("idx3"), so that
// train-images-idx3-ubyte.gz and train-labels-idx1-ubyte.gz get the same key.
std::string pair_key(const fs::path& path, const std::string& word) {
  std::string name = plain_name(path);
  name.erase(name.find(word), word.size());
  for (size_t at = name.find("idx"); at != std::string::npos; at = name.find("idx", at)) {
    size_t end = at + 3;
    while (end < name.size() && std::isdigit(static_cast<unsigned char>(name[end]))) ++end;
    name.erase(at, end - at);
  }
  return name;
}

// Words that mark a file or array as belonging to `channel` when several are present.
std::vector<std::string> part_words(const std::string& channel) {
  if (channel == "training") return {"train", "training"};
  if (channel == "validation") return {"val", "valid", "validation"};
  if (channel == "test") return {"test", "t10k"};
  return {channel};
}

class ChannelReader {
 public:
  ChannelReader(fs::path directory, std::string channel)
      : directory_(std::move(directory)), channel_(std::move(channel)) {}

  [[noreturn]] void fail(const std::string& what) const {
    throw ChannelError(channel_ + " channel '" + directory_.string() + "' " + what);
  }

  ChannelFiles scan() const {
    std::error_code error;
    if (!fs::is_directory(directory_, error)) fail("is not a directory");
    ChannelFiles files;
    fs::recursive_directory_iterator it(directory_, fs::directory_options::none, error);
    if (error) fail("cannot be listed: " + error.message());
    for (; it != fs::recursive_directory_iterator(); it.increment(error)) {
      if (error) fail("cannot be listed: " + error.message());
      const fs::path& path = it->path();
      if (path.filename().string().front() == '.') {
        if (it->is_directory(error)) it.disable_recursion_pending();
        continue;
      }
      if (!it->is_regular_file(error)) continue;
      std::string name = plain_name(path);
      if (ends_with(name, ".npz")) {
        files.npz.push_back(path);
      } else if (ends_with(name, ".npy")) {
        files.npy.push_back(path);
      } else if (ends_with(name, ".csv")) {
        files.csv.push_back(path);
      } else if (ends_with(name, ".json") || ends_with(name, ".txt") || ends_with(name, ".md")) {
        continue;
      } else if (name.find("images") != std::string::npos) {
        files.images.push_back(path);
      } else if (name.find("labels") != std::string::npos) {
        files.labels.push_back(path);
      }
    }
    for (auto* list : {&files.images, &files.labels, &files.npz, &files.npy, &files.csv}) {
      std::sort(list->begin(), list->end());
    }
    return files;
  }

  ChannelData read(const LabelColumn& label_column) const {
    ChannelFiles files = scan();
    std::vector<std::string> formats;
    if (!files.images.empty() || !files.labels.empty()) formats.push_back("IDX");
    if (!files.npz.empty()) formats.push_back(".npz");
    if (!files.npy.empty()) formats.push_back(".npy");
    if (!files.csv.empty()) formats.push_back(".csv");
    if (formats.empty()) {
      fail("holds no data file trainyard can read (looked for IDX pairs, .npz, .npy, .csv)");
    }
    if (formats.size() > 1) {
      std::string list;
      for (const auto& format : formats) list += (list.empty() ? "" : ", ") + format;
      fail("holds data in several formats (" + list + "); keep one format per channel");
    }
    ChannelData data;
    try {
      if (formats[0] == "IDX") {
        data = read_idx_pair(files);
      } else if (formats[0] == ".npz") {
        data = read_npz_file(files.npz);
      } else if (formats[0] == ".npy") {
        data = read_npy_files(files.npy);
      } else {
        data = read_csv_files(files.csv, label_column);
      }
    } catch (const ChannelError&) {
      throw;
    } catch (const IOError& error) {
      throw IOError(channel_ + " channel '" + directory_.string() + "': " + error.what());
    } catch (const DataError& error) {
      throw DataError(channel_ + " channel '" + directory_.string() + "': " + error.what());
    }
    check_samples(data);
    return data;
  }

 private:
  void check_samples(const ChannelData& data) const {
    if (data.x.shape().rank() < 1 || data.y.shape().rank() < 1) {
      fail("(" + data.description + "): x and y need a sample dimension, got x " +
           data.x.shape().to_string() + " and y " + data.y.shape().to_string());
    }
    if (data.x.shape()[0] != data.y.shape()[0]) {
      fail("(" + data.description + "): x holds " + std::to_string(data.x.shape()[0]) +
           " samples but y holds " + std::to_string(data.y.shape()[0]));
    }
    if (data.x.shape()[0] == 0) fail("(" + data.description + ") holds no samples");
  }

  // One images file and one labels file; with several, the pairs whose names differ only in
  // "images"/"labels" and the rank, narrowed to those named for this channel.
  ChannelData read_idx_pair(const ChannelFiles& files) const {
    if (files.images.empty() || files.labels.empty()) {
      fail("holds IDX " + std::string(files.images.empty() ? "labels" : "images") + " (" +
           join_names(files.images.empty() ? files.labels : files.images, directory_) +
           ") without the matching " + (files.images.empty() ? "images" : "labels") + " file");
    }
    std::vector<std::pair<fs::path, fs::path>> pairs;
    if (files.images.size() == 1 && files.labels.size() == 1) {
      pairs.emplace_back(files.images[0], files.labels[0]);
    } else {
      for (const auto& images : files.images) {
        for (const auto& labels : files.labels) {
          if (pair_key(images, "images") == pair_key(labels, "labels")) {
            pairs.emplace_back(images, labels);
          }
        }
      }
      if (pairs.size() > 1) {
        std::vector<std::pair<fs::path, fs::path>> named;
        for (const auto& pair : pairs) {
          std::string name = lower(pair.first.filename().string());
          for (const auto& word : part_words(channel_)) {
            if (name.find(word) != std::string::npos) {
              named.push_back(pair);
              break;
            }
          }
        }
        pairs = named;
      }
      if (pairs.size() != 1) {
        fail("holds IDX files (" + join_names(files.images, directory_) + "; " +
             join_names(files.labels, directory_) +
             ") without one clear images/labels pair for this channel");
      }
    }
    ChannelData data;
    data.x = data::read_idx(pairs[0].first.string());
    data.y = data::read_idx(pairs[0].second.string());
    data.description = "IDX files " + pairs[0].first.lexically_relative(directory_).string() +
                       " and " + pairs[0].second.lexically_relative(directory_).string();
    if (data.x.dtype() == DType::kUInt8 && data.x.shape().rank() >= 2) {
      data.default_scale = 1.0 / 255.0;
    }
    return data;
  }

  // x/y, then x_<part>/y_<part> for this channel, then the only x_<s>/y_<s> pair.
  std::optional<std::pair<std::string, std::string>> pick_pair(const std::set<std::string>& names,
                                                               const std::string& where) const {
    if (names.count("x") && names.count("y")) return std::pair<std::string, std::string>("x", "y");
    for (const auto& word : part_words(channel_)) {
      if (names.count("x_" + word) && names.count("y_" + word)) {
        return std::pair("x_" + word, "y_" + word);
      }
    }
    std::vector<std::pair<std::string, std::string>> pairs;
    for (const auto& name : names) {
      if (name.rfind("x_", 0) == 0 && names.count("y_" + name.substr(2))) {
        pairs.emplace_back(name, "y_" + name.substr(2));
      }
    }
    if (pairs.size() == 1) return pairs[0];
    std::string list;
    for (const auto& name : names) list += (list.empty() ? "" : ", ") + name;
    if (pairs.size() > 1) {
      fail(where + " holds several x_*/y_* pairs (" + list + ") and none named for the " +
           channel_ + " channel");
    }
    fail(where + " holds no arrays named x and y (or x_<part> and y_<part>); found: " + list);
  }

  ChannelData read_npz_file(const std::vector<fs::path>& files) const {
    if (files.size() > 1) {
      fail("holds " + std::to_string(files.size()) + " .npz files (" +
           join_names(files, directory_) + "); keep one per channel");
    }
    std::map<std::string, Tensor> arrays = data::read_npz(files[0].string());
    std::set<std::string> names;
    for (const auto& [name, array] : arrays) names.insert(name);
    std::string relative = files[0].lexically_relative(directory_).string();
    auto [x_name, y_name] = *pick_pair(names, "the archive " + relative);
    ChannelData data;
    data.x = arrays.at(x_name);
    data.y = arrays.at(y_name);
    data.description = "arrays " + x_name + " and " + y_name + " of " + relative;
    return data;
  }

  ChannelData read_npy_files(const std::vector<fs::path>& files) const {
    std::map<std::string, fs::path> by_name;
    for (const auto& path : files) {
      std::string name = path.filename().string();
      if (ends_with(lower(name), ".gz")) name.resize(name.size() - 3);
      name.resize(name.size() - 4);  // ".npy"
      if (!by_name.emplace(name, path).second) {
        fail("holds two files for the array " + name + " (" +
             join_names({by_name[name], path}, directory_) + ")");
      }
    }
    std::set<std::string> names;
    for (const auto& [name, path] : by_name) names.insert(name);
    auto [x_name, y_name] = *pick_pair(names, "the .npy files");
    ChannelData data;
    data.x = data::read_npy(by_name.at(x_name).string());
    data.y = data::read_npy(by_name.at(y_name).string());
    data.description = "files " + by_name.at(x_name).lexically_relative(directory_).string() +
                       " and " + by_name.at(y_name).lexically_relative(directory_).string();
    return data;
  }

  ChannelData read_csv_files(const std::vector<fs::path>& files,
                             const LabelColumn& label_column) const {
    std::vector<data::CsvTable> tables;
    std::vector<std::string> header;
    int64_t columns = -1, rows = 0;
    for (const auto& path : files) {
      data::CsvTable table = read_csv_file(path);
      int64_t width = table.values.shape()[1];
      if (columns >= 0 && width != columns) {
        fail("holds CSV files with different column counts: " +
             files[0].lexically_relative(directory_).string() + " has " + std::to_string(columns) +
             ", " + path.lexically_relative(directory_).string() + " has " + std::to_string(width));
      }
      columns = width;
      if (!table.column_names.empty()) {
        if (!header.empty() && header != table.column_names) {
          fail("holds CSV files with different header rows (" +
               path.lexically_relative(directory_).string() + ")");
        }
        header = table.column_names;
      }
      rows += table.values.shape()[0];
      tables.push_back(std::move(table));
    }
    if (columns < 2)
      fail("holds CSV files with " + std::to_string(columns) +
           " column; need a label column and at least one feature");
    int64_t label = resolve_label_column(label_column, header, columns);

    ChannelData data;
    data.x = Tensor::zeros(Shape{rows, columns - 1});
    data.y = Tensor::zeros(Shape{rows});
    float* x = data.x.data<float>();
    float* y = data.y.data<float>();
    for (const auto& table : tables) {
      const float* values = table.values.data<float>();
      for (int64_t row = 0; row < table.values.shape()[0]; ++row) {
        for (int64_t column = 0; column < columns; ++column) {
          float value = values[row * columns + column];
          if (column == label) {
            *y++ = value;
          } else {
            *x++ = value;
          }
        }
      }
    }
    data.description = (files.size() == 1 ? "CSV file " : "CSV files ") +
                       join_names(files, directory_) + " (label column " +
                       (header.empty() ? std::to_string(label) : "'" + header[label] + "'") + ")";
    return data;
  }

  // A CSV file whose first line is a header when any of its fields is not a number.
  static data::CsvTable read_csv_file(const fs::path& path) {
    data::CsvTable table = data::read_csv(path.string(), {.header = true});
    std::vector<float> first_row;
    for (const auto& name : table.column_names) {
      std::string text = name;
      while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())))
        text.pop_back();
      const char* begin = text.c_str();
      while (std::isspace(static_cast<unsigned char>(*begin))) ++begin;
      char* end = nullptr;
      errno = 0;
      float value = std::strtof(begin, &end);
      if (*begin == '\0' || end == nullptr || *end != '\0' || errno == ERANGE) return table;
      first_row.push_back(value);
    }
    // Every "name" is a number: the file has no header, and that line is data.
    int64_t columns = static_cast<int64_t>(first_row.size());
    int64_t rows = table.values.defined() ? table.values.shape()[0] : 0;
    Tensor values = Tensor::zeros(Shape{rows + 1, columns});
    std::copy(first_row.begin(), first_row.end(), values.data<float>());
    if (rows > 0) {
      std::memcpy(values.data<float>() + columns, table.values.raw_data(), table.values.nbytes());
    }
    return {values, {}};
  }

  int64_t resolve_label_column(const LabelColumn& label_column,
                               const std::vector<std::string>& header, int64_t columns) const {
    if (label_column.name) {
      if (header.empty()) {
        throw ValueError("hyperparameter label_column = '" + *label_column.name + "': the " +
                         channel_ + " channel's CSV files have no header row to name it");
      }
      auto it = std::find(header.begin(), header.end(), *label_column.name);
      if (it == header.end()) {
        std::string list;
        for (const auto& name : header) list += (list.empty() ? "" : ", ") + name;
        throw ValueError("hyperparameter label_column = '" + *label_column.name +
                         "' is not a column of the " + channel_ + " channel's CSV files (" + list +
                         ")");
      }
      return it - header.begin();
    }
    int64_t index = label_column.index < 0 ? columns + label_column.index : label_column.index;
    if (index < 0 || index >= columns) {
      throw ValueError("hyperparameter label_column = " + std::to_string(label_column.index) +
                       " is outside the " + std::to_string(columns) + " columns of the " +
                       channel_ + " channel's CSV files");
    }
    return index;
  }

  fs::path directory_;
  std::string channel_;
};

}  // namespace

ChannelData read_channel(const std::filesystem::path& directory, const std::string& channel,
                         const LabelColumn& label_column) {
  return ChannelReader(directory, channel).read(label_column);
}

}  // namespace trainyard::jobs::builtin
