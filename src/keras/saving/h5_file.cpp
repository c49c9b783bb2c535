#include "keras/saving/h5_file.h"

#include <unistd.h>

#include <filesystem>
#include <limits>

#include "backend/backend.h"
#include "core/error.h"
#include "keras/saving/h5_errors.h"

namespace trainyard::keras::saving {
namespace {

struct TypePair {
  hid_t file;    // the little-endian type NumPy writes
  hid_t memory;  // the native type trainyard's tensors hold
};

std::optional<TypePair> types_for(DType dtype) {
  switch (dtype) {
    case DType::kFloat32:
      return TypePair{H5T_IEEE_F32LE, H5T_NATIVE_FLOAT};
    case DType::kFloat64:
      return TypePair{H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE};
    case DType::kInt32:
      return TypePair{H5T_STD_I32LE, H5T_NATIVE_INT32};
    case DType::kInt64:
      return TypePair{H5T_STD_I64LE, H5T_NATIVE_INT64};
    case DType::kUInt8:
      return TypePair{H5T_STD_U8LE, H5T_NATIVE_UINT8};
    default:
      return std::nullopt;
  }
}

// A link-creation property list that creates missing parent groups.
H5Handle parents_created() {
  H5Handle list(H5Pcreate(H5P_LINK_CREATE), H5Pclose);
  if (list.valid()) H5Pset_create_intermediate_group(list.get(), 1);
  return list;
}

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> parts;
  size_t begin = 0;
  while (begin <= path.size()) {
    size_t end = path.find('/', begin);
    if (end == std::string::npos) end = path.size();
    // "." names the group itself (the root, at the start of a path).
    if (end > begin && path.compare(begin, end - begin, ".") != 0) {
      parts.push_back(path.substr(begin, end - begin));
    }
    begin = end + 1;
  }
  return parts;
}

// Element counts past this are refused before anything is read: no model has them, and a
// crafted header must not make trainyard reserve memory for them.
constexpr int64_t kMaxGroupEntries = 1 << 20;

}  // namespace

H5Handle& H5Handle::operator=(H5Handle&& other) noexcept {
  if (this != &other) {
    reset();
    id_ = other.id_;
    closer_ = other.closer_;
    other.id_ = -1;
  }
  return *this;
}

bool H5Handle::reset() {
  if (id_ < 0) return true;
  QuietErrors quiet;
  herr_t status = closer_(id_);
  id_ = -1;
  if (status < 0) H5Eclear2(H5E_DEFAULT);
  return status >= 0;
}

H5File H5File::create(const std::string& path) {
  QuietErrors quiet;
  H5Handle access(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
  // Closing the file closes every object still open in it, so nothing keeps it half-open.
  if (access.valid()) H5Pset_fclose_degree(access.get(), H5F_CLOSE_STRONG);
  hid_t file = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT,
                         access.valid() ? access.get() : H5P_DEFAULT);
  if (file < 0) throw IOError("cannot create HDF5 file '" + path + "' (" + hdf5_reason() + ")");
  return H5File(path, H5Handle(file, H5Fclose));
}

H5File H5File::open_read_only(const std::string& path) {
  QuietErrors quiet;
  std::error_code error;
  std::filesystem::file_status status = std::filesystem::status(path, error);
  if (error || !std::filesystem::exists(status)) {
    throw IOError("cannot open '" + path + "': no such file");
  }
  if (!std::filesystem::is_regular_file(status)) {
    throw IOError("cannot open '" + path + "': not a regular file");
  }
  if (::access(path.c_str(), R_OK) != 0) {
    throw IOError("cannot open '" + path + "': permission denied");
  }
  htri_t is_hdf5 = H5Fis_hdf5(path.c_str());
  if (is_hdf5 < 0) throw DataError("cannot read '" + path + "' (" + hdf5_reason() + ")");
  if (is_hdf5 == 0) throw DataError("'" + path + "' is not an HDF5 file (no HDF5 signature)");
  H5Handle access(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
  if (access.valid()) H5Pset_fclose_degree(access.get(), H5F_CLOSE_STRONG);
  hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, access.valid() ? access.get() : H5P_DEFAULT);
  if (file < 0) {
    throw DataError("'" + path + "' is truncated or not a valid HDF5 file (" + hdf5_reason() + ")");
  }
  return H5File(path, H5Handle(file, H5Fclose));
}

std::string H5File::where(const std::string& object_path) const {
  return "'" + object_path + "' in '" + path_ + "'";
}

H5Handle H5File::open_object(const std::string& path, const char* what) const {
  hid_t object = H5Oopen(file_.get(), path.c_str(), H5P_DEFAULT);
  if (object < 0)
    throw DataError("cannot open " + std::string(what) + " " + where(path) + " (" + hdf5_reason() +
                    ")");
  return H5Handle(object, H5Oclose);
}

void H5File::create_group(const std::string& group_path) {
  QuietErrors quiet;
  H5Handle links = parents_created();
  H5Handle group(H5Gcreate2(file_.get(), group_path.c_str(), links.get(), H5P_DEFAULT, H5P_DEFAULT),
                 H5Gclose);
  if (!group.valid()) {
    throw IOError("cannot create group " + where(group_path) + " (" + hdf5_reason() + ")");
  }
}

void H5File::write_dataset(const std::string& dataset_path, const Tensor& value) {
  QuietErrors quiet;
  std::optional<TypePair> types = types_for(value.dtype());
  if (!types) {
    throw ValueError("cannot write " + where(dataset_path) + ": dtype " +
                     std::string(dtype_name(value.dtype())) +
                     " is not supported in weights files yet");
  }
  std::vector<hsize_t> dims(value.shape().dims().begin(), value.shape().dims().end());
  H5Handle space(dims.empty()
                     ? H5Screate(H5S_SCALAR)
                     : H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr),
                 H5Sclose);
  H5Handle links = parents_created();
  H5Handle dataset;
  if (space.valid()) {
    dataset = H5Handle(H5Dcreate2(file_.get(), dataset_path.c_str(), types->file, space.get(),
                                  links.get(), H5P_DEFAULT, H5P_DEFAULT),
                       H5Dclose);
  }
  // Weights on a GPU are written from a host copy.
  const Tensor host = value.num_elements() == 0 ? value : backend::to_device(value, cpu_device());
  bool written = dataset.valid() && (value.num_elements() == 0 ||
                                     H5Dwrite(dataset.get(), types->memory, H5S_ALL, H5S_ALL,
                                              H5P_DEFAULT, host.raw_data()) >= 0);
  if (!written) {
    throw IOError("cannot write dataset " + where(dataset_path) + " (" + hdf5_reason() + ")");
  }
}

namespace {

// Whether every component of `path` is a hard link that resolves to an object. Soft and
// external links count as absent: a weights file never has them, and following an
// external link would open some other file named by the one being read.
bool hard_link_chain(hid_t file, const std::string& path) {
  std::string prefix;
  for (const std::string& part : split_path(path)) {
    prefix += prefix.empty() ? part : "/" + part;
    if (H5Lexists(file, prefix.c_str(), H5P_DEFAULT) <= 0) return false;
    H5L_info_t info;
    if (H5Lget_info(file, prefix.c_str(), &info, H5P_DEFAULT) < 0) return false;
    if (info.type != H5L_TYPE_HARD) return false;
  }
  return true;
}

// The kind of object at `path` (H5I_BADID when there is none reached by hard links).
H5I_type_t object_type(hid_t file, const std::string& path) {
  H5I_type_t type = H5I_BADID;
  if (hard_link_chain(file, path)) {
    H5Handle object(H5Oopen(file, path.c_str(), H5P_DEFAULT), H5Oclose);
    if (object.valid()) type = H5Iget_type(object.get());
  }
  H5Eclear2(H5E_DEFAULT);
  return type;
}

}  // namespace

bool H5File::is_group(const std::string& path) const {
  QuietErrors quiet;
  return object_type(file_.get(), path) == H5I_GROUP;
}

bool H5File::is_dataset(const std::string& path) const {
  QuietErrors quiet;
  return object_type(file_.get(), path) == H5I_DATASET;
}

std::vector<std::string> H5File::children(const std::string& group_path) const {
  QuietErrors quiet;
  if (!is_group(group_path)) throw DataError(where(group_path) + " is not a group");
  H5Handle group(H5Gopen2(file_.get(), group_path.c_str(), H5P_DEFAULT), H5Gclose);
  H5G_info_t info;
  if (!group.valid() || H5Gget_info(group.get(), &info) < 0) {
    throw DataError("cannot list group " + where(group_path) + " (" + hdf5_reason() + ")");
  }
  if (info.nlinks > static_cast<hsize_t>(kMaxGroupEntries)) {
    throw DataError("group " + where(group_path) + " claims " + std::to_string(info.nlinks) +
                    " entries; refusing to list it");
  }
  std::vector<std::string> names;
  auto collect = [](hid_t, const char* name, const H5L_info_t*, void* data) -> herr_t {
    auto* out = static_cast<std::vector<std::string>*>(data);
    if (static_cast<int64_t>(out->size()) >= kMaxGroupEntries) return 1;
    out->emplace_back(name);
    return 0;
  };
  if (H5Literate(group.get(), H5_INDEX_NAME, H5_ITER_INC, nullptr, collect, &names) < 0) {
    throw DataError("cannot list group " + where(group_path) + " (" + hdf5_reason() + ")");
  }
  return names;
}

namespace {

// The element type of `type` in trainyard's terms.
void describe_type(hid_t type, H5DatasetInfo& info) {
  size_t size = H5Tget_size(type);
  switch (H5Tget_class(type)) {
    case H5T_FLOAT:
      if (size == 4) info.dtype = DType::kFloat32;
      if (size == 8) info.dtype = DType::kFloat64;
      info.type_name =
          info.dtype ? std::string(dtype_name(*info.dtype)) : "float" + std::to_string(size * 8);
      return;
    case H5T_INTEGER: {
      bool is_signed = H5Tget_sign(type) == H5T_SGN_2;
      if (is_signed && size == 4) info.dtype = DType::kInt32;
      if (is_signed && size == 8) info.dtype = DType::kInt64;
      if (!is_signed && size == 1) info.dtype = DType::kUInt8;
      info.type_name = info.dtype ? std::string(dtype_name(*info.dtype))
                                  : (is_signed ? "int" : "uint") + std::to_string(size * 8);
      return;
    }
    case H5T_STRING:
      info.type_name = "string";
      return;
    default:
      info.type_name = "an HDF5 type of class " + std::to_string(H5Tget_class(type));
      return;
  }
}

}  // namespace

H5DatasetInfo H5File::inspect(const std::string& dataset_path) const {
  QuietErrors quiet;
  if (!is_dataset(dataset_path)) throw DataError(where(dataset_path) + " is not a dataset");
  H5Handle dataset(H5Dopen2(file_.get(), dataset_path.c_str(), H5P_DEFAULT), H5Dclose);
  H5Handle space(dataset.valid() ? H5Dget_space(dataset.get()) : -1, H5Sclose);
  H5Handle type(dataset.valid() ? H5Dget_type(dataset.get()) : -1, H5Tclose);
  if (!space.valid() || !type.valid()) {
    throw DataError("cannot open dataset " + where(dataset_path) + " (" + hdf5_reason() + ")");
  }
  H5DatasetInfo info;
  H5S_class_t space_class = H5Sget_simple_extent_type(space.get());
  if (space_class == H5S_SIMPLE) {
    int rank = H5Sget_simple_extent_ndims(space.get());
    if (rank < 0 || rank > H5S_MAX_RANK) {
      throw DataError("dataset " + where(dataset_path) + " has an invalid rank");
    }
    std::vector<hsize_t> dims(static_cast<size_t>(rank));
    H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
    for (hsize_t dim : dims) {
      if (dim > static_cast<hsize_t>(std::numeric_limits<int64_t>::max())) {
        throw DataError("dataset " + where(dataset_path) + " claims a dimension of " +
                        std::to_string(dim) + " elements");
      }
      info.dims.push_back(static_cast<int64_t>(dim));
    }
  } else if (space_class != H5S_SCALAR) {
    throw DataError("dataset " + where(dataset_path) + " has no simple shape");
  }
  describe_type(type.get(), info);
  // Keras stores bfloat16 arrays as raw 16-bit values marked by a "dtype" attribute.
  if (H5Aexists(dataset.get(), "dtype") > 0) {
    info.dtype.reset();
    info.type_name = "bfloat16";
  }
  H5Eclear2(H5E_DEFAULT);
  return info;
}

void H5File::read_dataset(const std::string& dataset_path, const Tensor& destination) const {
  H5DatasetInfo info = inspect(dataset_path);
  QuietErrors quiet;
  if (info.dims != destination.shape().dims() || info.dtype != destination.dtype()) {
    throw DataError("dataset " + where(dataset_path) + " is " + info.type_name + " " +
                    Shape(info.dims).to_string() + ", not " + destination.to_string());
  }
  std::optional<TypePair> types = types_for(destination.dtype());
  TY_CHECK(types.has_value(), "inspect() returned a dtype with no HDF5 type");
  H5Handle dataset(H5Dopen2(file_.get(), dataset_path.c_str(), H5P_DEFAULT), H5Dclose);
  H5Handle create(dataset.valid() ? H5Dget_create_plist(dataset.get()) : -1, H5Pclose);
  if (!create.valid()) {
    throw DataError("cannot open dataset " + where(dataset_path) + " (" + hdf5_reason() + ")");
  }
  // HDF5 sizes its buffers by the chunk shape in the header; a crafted chunk far larger than
  // the dataset must not make it allocate gigabytes.
  if (H5Pget_layout(create.get()) == H5D_CHUNKED) {
    std::vector<hsize_t> chunk(info.dims.size() + 1);
    int rank = H5Pget_chunk(create.get(), static_cast<int>(chunk.size()), chunk.data());
    bool fits = rank == static_cast<int>(info.dims.size());
    for (int i = 0; fits && i < rank; ++i) {
      fits = chunk[static_cast<size_t>(i)] <=
             static_cast<hsize_t>(std::max<int64_t>(info.dims[static_cast<size_t>(i)], 1));
    }
    if (!fits) {
      throw DataError("dataset " + where(dataset_path) + " has chunks larger than its shape " +
                      Shape(info.dims).to_string());
    }
  }
  if (destination.num_elements() == 0) return;
  destination.require_host("H5File::read_dataset");
  if (H5Dread(dataset.get(), types->memory, H5S_ALL, H5S_ALL, H5P_DEFAULT, destination.raw_data()) <
      0) {
    throw DataError("cannot read dataset " + where(dataset_path) + " (" + hdf5_reason() + ")");
  }
}

void H5File::close() {
  if (!file_.valid()) return;
  QuietErrors quiet;
  bool flushed = H5Fflush(file_.get(), H5F_SCOPE_GLOBAL) >= 0;
  std::string reason = flushed ? "" : hdf5_reason();
  bool closed = file_.reset();
  if (!flushed || !closed) {
    throw IOError("cannot finish writing '" + path_ + "' (" +
                  (flushed ? std::string("HDF5 could not close it") : reason) + ")");
  }
}

}  // namespace trainyard::keras::saving
