// H5File's attributes: the "name" strings Keras puts on each "vars" group, the integer
// records trainyard adds at the root, and the string lists of legacy .h5 model files.
#include <cstring>

#include "core/error.h"
#include "keras/saving/h5_errors.h"
#include "keras/saving/h5_file.h"

namespace trainyard::keras::saving {

void H5File::set_string_attribute(const std::string& object_path, const std::string& name,
                                  const std::string& value, H5StringEncoding encoding) {
  QuietErrors quiet;
  H5Handle object = open_object(object_path, "object");
  H5Handle type(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Handle space(H5Screate(H5S_SCALAR), H5Sclose);
  H5T_cset_t cset = encoding == H5StringEncoding::kUtf8 ? H5T_CSET_UTF8 : H5T_CSET_ASCII;
  bool ok = type.valid() && space.valid() && H5Tset_size(type.get(), H5T_VARIABLE) >= 0 &&
            H5Tset_cset(type.get(), cset) >= 0;
  H5Handle attribute;
  if (ok) {
    attribute = H5Handle(
        H5Acreate2(object.get(), name.c_str(), type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT),
        H5Aclose);
  }
  const char* text = value.c_str();
  if (!attribute.valid() || H5Awrite(attribute.get(), type.get(), &text) < 0) {
    throw IOError("cannot write attribute '" + name + "' of " + where(object_path) + " (" +
                  hdf5_reason() + ")");
  }
}

void H5File::set_string_list_attribute(const std::string& object_path, const std::string& name,
                                       const std::vector<std::string>& values) {
  QuietErrors quiet;
  H5Handle object = open_object(object_path, "object");
  hsize_t count = values.size();
  H5Handle space(H5Screate_simple(1, &count, nullptr), H5Sclose);
  H5Handle type(values.empty() ? H5Tcopy(H5T_IEEE_F64LE) : H5Tcopy(H5T_C_S1), H5Tclose);
  bool ok = type.valid() && space.valid() &&
            (values.empty() || H5Tset_size(type.get(), H5T_VARIABLE) >= 0);
  H5Handle attribute;
  if (ok) {
    attribute = H5Handle(
        H5Acreate2(object.get(), name.c_str(), type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT),
        H5Aclose);
  }
  std::vector<const char*> texts;
  for (const std::string& value : values) texts.push_back(value.c_str());
  if (!attribute.valid() ||
      (!values.empty() && H5Awrite(attribute.get(), type.get(), texts.data()) < 0)) {
    throw IOError("cannot write attribute '" + name + "' of " + where(object_path) + " (" +
                  hdf5_reason() + ")");
  }
}

void H5File::set_int_attribute(const std::string& object_path, const std::string& name,
                               int64_t value) {
  QuietErrors quiet;
  H5Handle object = open_object(object_path, "object");
  H5Handle space(H5Screate(H5S_SCALAR), H5Sclose);
  H5Handle attribute;
  if (space.valid()) {
    attribute = H5Handle(H5Acreate2(object.get(), name.c_str(), H5T_STD_I64LE, space.get(),
                                    H5P_DEFAULT, H5P_DEFAULT),
                         H5Aclose);
  }
  if (!attribute.valid() || H5Awrite(attribute.get(), H5T_NATIVE_INT64, &value) < 0) {
    throw IOError("cannot write attribute '" + name + "' of " + where(object_path) + " (" +
                  hdf5_reason() + ")");
  }
}

std::optional<H5Handle> H5File::find_attribute(const std::string& object_path,
                                               const std::string& name) const {
  htri_t exists = H5Aexists_by_name(file_.get(), object_path.c_str(), name.c_str(), H5P_DEFAULT);
  if (exists < 0) {
    throw DataError("cannot look up attribute '" + name + "' of " + where(object_path) + " (" +
                    hdf5_reason() + ")");
  }
  if (exists == 0) return std::nullopt;
  return H5Handle(
      H5Aopen_by_name(file_.get(), object_path.c_str(), name.c_str(), H5P_DEFAULT, H5P_DEFAULT),
      H5Aclose);
}

std::optional<std::string> H5File::string_attribute(const std::string& object_path,
                                                    const std::string& name) const {
  QuietErrors quiet;
  std::optional<H5Handle> found = find_attribute(object_path, name);
  if (!found) return std::nullopt;
  const H5Handle& attribute = *found;
  H5Handle type(attribute.valid() ? H5Aget_type(attribute.get()) : -1, H5Tclose);
  H5Handle space(attribute.valid() ? H5Aget_space(attribute.get()) : -1, H5Sclose);
  if (!type.valid() || !space.valid() || H5Tget_class(type.get()) != H5T_STRING ||
      H5Tis_variable_str(type.get()) <= 0 || H5Sget_simple_extent_npoints(space.get()) != 1) {
    throw DataError("attribute '" + name + "' of " + where(object_path) +
                    " is not a single variable-length string");
  }
  char* text = nullptr;
  if (H5Aread(attribute.get(), type.get(), &text) < 0) {
    throw DataError("cannot read attribute '" + name + "' of " + where(object_path) + " (" +
                    hdf5_reason() + ")");
  }
  std::string value = text ? text : "";
  H5free_memory(text);
  return value;
}

std::optional<std::vector<std::string>> H5File::string_list_attribute(
    const std::string& object_path, const std::string& name) const {
  QuietErrors quiet;
  std::optional<H5Handle> found = find_attribute(object_path, name);
  if (!found) return std::nullopt;
  const H5Handle& attribute = *found;
  H5Handle type(attribute.valid() ? H5Aget_type(attribute.get()) : -1, H5Tclose);
  H5Handle space(attribute.valid() ? H5Aget_space(attribute.get()) : -1, H5Sclose);
  if (!type.valid() || !space.valid() || H5Sget_simple_extent_ndims(space.get()) > 1) {
    throw DataError("attribute '" + name + "' of " + where(object_path) +
                    " is not a list of strings");
  }
  hssize_t count = H5Sget_simple_extent_npoints(space.get());
  if (count == 0) return std::vector<std::string>{};
  std::string problem = "attribute '" + name + "' of " + where(object_path);
  if (count < 0 || count > (1 << 20) || H5Tget_class(type.get()) != H5T_STRING) {
    throw DataError(problem + " is not a list of strings");
  }
  std::vector<std::string> values;
  if (H5Tis_variable_str(type.get()) > 0) {
    std::vector<char*> texts(static_cast<size_t>(count), nullptr);
    if (H5Aread(attribute.get(), type.get(), texts.data()) < 0) {
      throw DataError("cannot read " + problem + " (" + hdf5_reason() + ")");
    }
    for (char* text : texts) values.emplace_back(text ? text : "");
    H5Dvlen_reclaim(type.get(), space.get(), H5P_DEFAULT, texts.data());
    return values;
  }
  size_t width = H5Tget_size(type.get());
  if (width == 0 || width > (1 << 16)) throw DataError(problem + " has strings of odd width");
  std::vector<char> buffer(width * static_cast<size_t>(count));
  if (H5Aread(attribute.get(), type.get(), buffer.data()) < 0) {
    throw DataError("cannot read " + problem + " (" + hdf5_reason() + ")");
  }
  for (hssize_t i = 0; i < count; ++i) {
    const char* start = buffer.data() + static_cast<size_t>(i) * width;
    values.emplace_back(start, strnlen(start, width));  // NUL-padded or NUL-terminated
  }
  return values;
}

std::optional<int64_t> H5File::int_attribute(const std::string& object_path,
                                             const std::string& name) const {
  QuietErrors quiet;
  std::optional<H5Handle> found = find_attribute(object_path, name);
  if (!found) return std::nullopt;
  const H5Handle& attribute = *found;
  H5Handle type(attribute.valid() ? H5Aget_type(attribute.get()) : -1, H5Tclose);
  H5Handle space(attribute.valid() ? H5Aget_space(attribute.get()) : -1, H5Sclose);
  if (!type.valid() || !space.valid() || H5Tget_class(type.get()) != H5T_INTEGER ||
      H5Sget_simple_extent_npoints(space.get()) != 1) {
    throw DataError("attribute '" + name + "' of " + where(object_path) +
                    " is not a single integer");
  }
  int64_t value = 0;
  if (H5Aread(attribute.get(), H5T_NATIVE_INT64, &value) < 0) {
    throw DataError("cannot read attribute '" + name + "' of " + where(object_path) + " (" +
                    hdf5_reason() + ")");
  }
  return value;
}

}  // namespace trainyard::keras::saving
