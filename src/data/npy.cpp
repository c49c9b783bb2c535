#include "data/npy.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bit>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "core/error.h"
#include "data/file_source.h"
#include "data/npy_header.h"
#include "data/payload.h"

namespace trainyard::data {
namespace {

static_assert(std::endian::native == std::endian::little,
              ".npy support assumes a little-endian host");

// Writes all of `bytes` to `descriptor`, retrying short writes.
void write_all(int descriptor, const void* bytes, size_t size, const std::string& path) {
  const auto* cursor = static_cast<const char*>(bytes);
  while (size > 0) {
    ssize_t written = ::write(descriptor, cursor, size);
    if (written < 0 && errno == EINTR) continue;
    if (written <= 0) throw IOError(path + ": write failed: " + std::strerror(errno));
    cursor += written;
    size -= static_cast<size_t>(written);
  }
}

}  // namespace

Tensor read_npy(ByteSource& source) {
  NpyHeader header = read_npy_header(source);
  Tensor bytes = read_payload(source, header.data_bytes, describe_npy_payload(header));
  return bytes.view(0, Shape(header.shape), header.dtype);
}

Tensor read_npy(const std::string& path) {
  FileSource source(path);
  return read_npy(source);
}

void write_npy(const std::string& path, const Tensor& tensor) {
  if (!tensor.defined()) throw ValueError("write_npy: " + path + ": the tensor is undefined");
  if (!tensor.device().is_cpu()) {
    throw ValueError("write_npy: " + path + ": copy the tensor to the CPU first (it is on " +
                     tensor.device().to_string() + ")");
  }
  std::string header = format_npy_header(tensor.dtype(), tensor.shape().dims());

  std::filesystem::path target(path);
  std::filesystem::path directory = target.parent_path().empty() ? "." : target.parent_path();
  // A hidden sibling, so the rename stays within one filesystem.
  std::string temporary_name = target.filename().string();
  temporary_name.insert(0, 1, '.');
  temporary_name.append(".tmp-XXXXXX");
  std::string temporary = (directory / temporary_name).string();
  int descriptor = mkstemp(temporary.data());
  if (descriptor < 0) {
    throw IOError(path + ": cannot create a temporary file in " + directory.string() + ": " +
                  std::strerror(errno));
  }
  try {
    write_all(descriptor, header.data(), header.size(), path);
    if (tensor.nbytes() > 0) write_all(descriptor, tensor.raw_data(), tensor.nbytes(), path);
    if (::fsync(descriptor) != 0) throw IOError(path + ": fsync failed: " + std::strerror(errno));
    // mkstemp creates the file 0600; give it the usual permissions of a data file.
    ::fchmod(descriptor, 0644);
    int closed = ::close(descriptor);
    descriptor = -1;
    if (closed != 0) throw IOError(path + ": close failed: " + std::strerror(errno));
    if (std::rename(temporary.c_str(), path.c_str()) != 0) {
      throw IOError(path +
                    ": cannot rename the temporary file into place: " + std::strerror(errno));
    }
  } catch (...) {
    if (descriptor >= 0) ::close(descriptor);
    ::unlink(temporary.c_str());
    throw;
  }
}

}  // namespace trainyard::data
