// How trainyard enters HDF5: one call at a time with its automatic error printing switched
// off, and the reason for a failure taken from its error stack for messages.
#pragma once

#include <hdf5.h>

#include <mutex>
#include <string>

namespace trainyard::keras::saving {

// Held around every HDF5 call trainyard makes. HDF5 prints its whole error stack to stderr
// on every failed call unless told not to; trainyard reports errors through exceptions
// instead, so this switches that off. It also takes a process-wide lock, because an HDF5
// built without its thread-safe option must never be entered by two threads at once.
class QuietErrors {
 public:
  QuietErrors() : lock_(mutex()) {
    H5Eget_auto2(H5E_DEFAULT, &function_, &data_);
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  }
  ~QuietErrors() { H5Eset_auto2(H5E_DEFAULT, function_, data_); }
  QuietErrors(const QuietErrors&) = delete;
  QuietErrors& operator=(const QuietErrors&) = delete;

 private:
  // Recursive: a guarded call may close handles, which guard themselves too.
  static std::recursive_mutex& mutex() {
    static std::recursive_mutex instance;
    return instance;
  }

  std::unique_lock<std::recursive_mutex> lock_;
  H5E_auto2_t function_ = nullptr;
  void* data_ = nullptr;
};

// The most specific message on HDF5's error stack, as "HDF5: truncated file: eof = ...",
// then clears the stack.
std::string hdf5_reason();

}  // namespace trainyard::keras::saving
