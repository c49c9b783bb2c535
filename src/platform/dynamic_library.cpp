#include "platform/dynamic_library.h"

#include <dlfcn.h>

namespace trainyard::platform {

std::unique_ptr<DynamicLibrary> DynamicLibrary::open(const std::string& path, std::string& error) {
  dlerror();  // clear a stale message so the one below belongs to this call
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* reason = dlerror();
    error = reason != nullptr ? reason : "dlopen failed";
    // dlerror repeats the path first ("libcuda.so.1: cannot open ..."); callers name it.
    if (error.starts_with(path + ": ")) error.erase(0, path.size() + 2);
    return nullptr;
  }
  return std::unique_ptr<DynamicLibrary>(new DynamicLibrary(handle, path));
}

DynamicLibrary::~DynamicLibrary() {
  if (!keep_loaded_) dlclose(handle_);
}

void* DynamicLibrary::symbol(const char* name) const {
  return dlsym(handle_, name);
}

}  // namespace trainyard::platform
