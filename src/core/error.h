// Exceptions the engine throws, each carrying a message that names the function, the
// field or the file, and the expected versus actual value. Library code never exits.
#pragma once

#include <stdexcept>
#include <string>

namespace trainyard {

// Base of every trainyard exception.
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

// A value is out of its allowed range or spelled wrongly (Keras's ValueError).
class ValueError : public Error {
 public:
  using Error::Error;
};

// Tensor shapes or dtypes do not agree with what an op or layer needs.
class ShapeError : public Error {
 public:
  using Error::Error;
};

// A file could not be opened, read or written.
class IOError : public Error {
 public:
  using Error::Error;
};

// A file was read but its contents are corrupt or truncated.
class DataError : public Error {
 public:
  using Error::Error;
};

// A device ran out of memory or another resource it needs; the message names the call.
class ResourceError : public Error {
 public:
  using Error::Error;
};

// A broken internal invariant: a bug in trainyard, reported with file and line.
class InternalError : public Error {
 public:
  using Error::Error;
};

namespace detail {
[[noreturn]] void throw_internal_error(const char* condition, const char* file, int line,
                                       const std::string& message);
}  // namespace detail

}  // namespace trainyard

// TY_CHECK(condition, message): throws InternalError with the call site when the
// condition is false. For invariants, not for user input (which gets ValueError etc.).
#define TY_CHECK(condition, message)                                                        \
  do {                                                                                      \
    if (!(condition)) {                                                                     \
      ::trainyard::detail::throw_internal_error(#condition, __FILE__, __LINE__, (message)); \
    }                                                                                       \
  } while (false)
