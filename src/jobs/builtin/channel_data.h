// Finding and reading x and y in a channel directory of the built-in trainer. Formats, in
// the order they are looked for (README.md in this folder has the details):
//   - IDX: a file whose name holds "images" and one whose name holds "labels" (gzip or not),
//     e.g. Fashion-MNIST's train-images-idx3-ubyte.gz / train-labels-idx1-ubyte.gz;
//   - NPZ: one .npz holding arrays x and y (or x_<part>/y_<part>, e.g. x_train/y_train);
//   - NPY: x.npy and y.npy (or x_<part>.npy / y_<part>.npy);
//   - CSV: every .csv / .csv.gz file, rows concatenated, the label in one column.
// A channel must hold exactly one of these; other files are ignored.
#pragma once

#include <filesystem>
#include <string>

#include "core/tensor.h"
#include "jobs/builtin/trainer_settings.h"

namespace trainyard::jobs::builtin {

struct ChannelData {
  Tensor x;  // [N, ...] as stored (uint8 images stay uint8)
  Tensor y;  // [N, ...]
  // What was read, for logs and errors: "IDX files train-images-idx3-ubyte.gz and ...".
  std::string description;
  // The scale x gets unless the `scale` hyperparameter says otherwise: 1/255 for uint8 IDX
  // images, 1 for everything else.
  double default_scale = 1.0;
};

// Reads x and y from `directory`, the channel `channel` ("training", "validation", "test";
// it picks x_<part>/y_<part> pairs and IDX pairs named for that part when several are
// present). `label_column` applies to CSV files. Throws DataError naming the channel and
// directory when it holds no readable data, data in several formats, an ambiguous choice of
// files, or x and y of different sample counts; the readers' IOError/DataError (naming the
// file) for a corrupt file; ValueError for a label column that does not exist.
ChannelData read_channel(const std::filesystem::path& directory, const std::string& channel,
                         const LabelColumn& label_column);

}  // namespace trainyard::jobs::builtin
