// H5File: the few HDF5 operations Keras's weights files need, over the HDF5 C API, with
// every handle owned and every failure turned into an exception that names the file, the
// object and HDF5's own reason. HDF5's habit of printing its error stack is switched off
// around each call. Thread safety: one File per thread; trainyard's calls into HDF5 take
// turns under one process-wide lock.
#pragma once

#include <hdf5.h>

#include <optional>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace trainyard::keras::saving {

// Owns one HDF5 identifier and closes it with the matching H5?close function.
class H5Handle {
 public:
  using Closer = herr_t (*)(hid_t);
  H5Handle() = default;
  H5Handle(hid_t id, Closer closer) : id_(id), closer_(closer) {}
  ~H5Handle() { reset(); }
  H5Handle(H5Handle&& other) noexcept : id_(other.id_), closer_(other.closer_) { other.id_ = -1; }
  H5Handle& operator=(H5Handle&& other) noexcept;
  H5Handle(const H5Handle&) = delete;
  H5Handle& operator=(const H5Handle&) = delete;

  hid_t get() const { return id_; }
  bool valid() const { return id_ >= 0; }
  // Closes now; returns false when HDF5 reports the close failed.
  bool reset();

 private:
  hid_t id_ = -1;
  Closer closer_ = nullptr;
};

// What a dataset holds, read from its header without reading its data.
struct H5DatasetInfo {
  std::vector<int64_t> dims;   // empty for a scalar
  std::optional<DType> dtype;  // nullopt: an element type trainyard has no dtype for
  std::string type_name;       // dtype_name(*dtype), or what the type is ("string", ...)
};

// The character set of a string attribute: h5py writes a Python str as UTF-8 and bytes as
// ASCII, and Keras's legacy .h5 files use both.
enum class H5StringEncoding { kUtf8, kAscii };

class H5File {
 public:
  // A new, empty file at `path`, replacing any file there. Throws IOError naming the path.
  static H5File create(const std::string& path);
  // An existing file for reading. Throws IOError when it cannot be opened, DataError when
  // it is not HDF5 or HDF5 refuses it (truncated, corrupt), each naming the path.
  static H5File open_read_only(const std::string& path);

  H5File(H5File&&) noexcept = default;
  H5File& operator=(H5File&&) noexcept = default;

  const std::string& path() const { return path_; }

  // Creates the group at `group_path` ("layers/dense/vars") and any missing parents.
  void create_group(const std::string& group_path);
  // A variable-length string attribute on the object at `object_path` ("." is the root),
  // as h5py writes a Python str (UTF-8) or bytes (ASCII). Any length: the text lives in the
  // file's heap, not in the object header.
  void set_string_attribute(const std::string& object_path, const std::string& name,
                            const std::string& value,
                            H5StringEncoding encoding = H5StringEncoding::kUtf8);
  // A one-dimensional attribute of variable-length ASCII strings, as h5py writes a list of
  // bytes; an empty list is written as NumPy's empty array (float64, shape (0,)), as h5py
  // writes np.asarray([]). Throws IOError naming the attribute when HDF5 fails.
  void set_string_list_attribute(const std::string& object_path, const std::string& name,
                                 const std::vector<std::string>& values);
  // The string attribute `name`, or nullopt when absent. Throws DataError when it exists
  // but is not a single variable-length string.
  std::optional<std::string> string_attribute(const std::string& object_path,
                                              const std::string& name) const;
  // The one-dimensional string-array attribute `name` (variable- or fixed-length strings, as
  // h5py writes a list of str or of bytes), or nullopt when absent. An empty array of any
  // type (h5py's spelling of an empty list) gives an empty list. Throws DataError otherwise.
  std::optional<std::vector<std::string>> string_list_attribute(const std::string& object_path,
                                                                const std::string& name) const;
  // A scalar int64 attribute.
  void set_int_attribute(const std::string& object_path, const std::string& name, int64_t value);
  // The scalar integer attribute `name`, or nullopt when absent. Throws DataError when it
  // exists but is not a scalar integer.
  std::optional<int64_t> int_attribute(const std::string& object_path,
                                       const std::string& name) const;
  // Writes `value` (float32, float64, int32, int64 or uint8) as a new contiguous dataset,
  // little-endian as NumPy writes it; a rank-0 tensor becomes a scalar dataset. Throws
  // ValueError for other dtypes, IOError when HDF5 fails.
  void write_dataset(const std::string& dataset_path, const Tensor& value);

  // Whether every link of `path` exists and leads to a group / a dataset.
  bool is_group(const std::string& path) const;
  bool is_dataset(const std::string& path) const;
  // Names of the links directly inside the group at `group_path`, in name order.
  std::vector<std::string> children(const std::string& group_path) const;
  // The shape and element type of the dataset at `dataset_path`. Throws DataError when its
  // dataspace is not simple.
  H5DatasetInfo inspect(const std::string& dataset_path) const;
  // Reads the whole dataset into `destination`, converting byte order as needed.
  // REQUIRES: inspect() showed the same shape and dtype as `destination`; throws DataError
  // naming the dataset otherwise or when the data cannot be read (truncated, corrupt).
  void read_dataset(const std::string& dataset_path, const Tensor& destination) const;

  // Flushes and closes the file. Throws IOError when HDF5 cannot finish writing it.
  void close();

 private:
  H5File(std::string path, H5Handle file) : path_(std::move(path)), file_(std::move(file)) {}
  H5Handle open_object(const std::string& path, const char* what) const;
  // The open attribute, nullopt when absent; DataError when HDF5 cannot tell.
  std::optional<H5Handle> find_attribute(const std::string& object_path,
                                         const std::string& name) const;
  std::string where(const std::string& object_path) const;

  std::string path_;
  H5Handle file_;
};

}  // namespace trainyard::keras::saving
