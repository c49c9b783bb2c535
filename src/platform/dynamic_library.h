// A shared library opened with dlopen at run time, closed when the owner goes away. The
// GPU inventory uses it so that trainyard never links against the NVIDIA driver.
#pragma once

#include <memory>
#include <string>

namespace trainyard::platform {

class DynamicLibrary {
 public:
  // Opens `path` (a soname searched the usual way, or a file path). Returns nullptr and
  // sets `error` to the loader's reason when it cannot be opened. Never throws.
  static std::unique_ptr<DynamicLibrary> open(const std::string& path, std::string& error);
  ~DynamicLibrary();
  DynamicLibrary(const DynamicLibrary&) = delete;
  DynamicLibrary& operator=(const DynamicLibrary&) = delete;

  // The address of `name`, or nullptr when the library does not export it.
  void* symbol(const char* name) const;
  // symbol() cast to a function pointer type.
  template <typename Function>
  Function function(const char* name) const {
    return reinterpret_cast<Function>(symbol(name));
  }

  // Leaves the library mapped after destruction: once libcuda is initialised its worker
  // threads run code inside it, so unmapping it would pull the code from under them.
  void keep_loaded() { keep_loaded_ = true; }
  const std::string& path() const { return path_; }

 private:
  DynamicLibrary(void* handle, std::string path) : handle_(handle), path_(std::move(path)) {}

  void* handle_;
  std::string path_;
  bool keep_loaded_ = false;
};

}  // namespace trainyard::platform
