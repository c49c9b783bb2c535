#include "keras/saving/private_directory.h"

#include <stdlib.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <vector>

#include "core/error.h"

namespace trainyard::keras::saving {

PrivateDirectory::PrivateDirectory() {
  std::error_code error;
  std::filesystem::path base = std::filesystem::temp_directory_path(error);
  if (error) base = "/tmp";
  std::string pattern = (base / "trainyard-model-XXXXXX").string();
  std::vector<char> buffer(pattern.begin(), pattern.end());
  buffer.push_back('\0');
  if (!::mkdtemp(buffer.data())) {  // mkdtemp creates it with mode 0700
    throw IOError("cannot create a private directory under '" + base.string() +
                  "': " + std::strerror(errno));
  }
  path_ = buffer.data();
}

PrivateDirectory::~PrivateDirectory() {
  std::error_code ignored;  // nothing useful to do about a leftover temporary in a destructor
  std::filesystem::remove_all(path_, ignored);
}

}  // namespace trainyard::keras::saving
