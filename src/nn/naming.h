// Keras's automatic object names: the class name in snake case, made unique per prefix
// by a process-wide counter ("dense", "dense_1", "dense_2", ...).
#pragma once

#include <string>
#include <string_view>

namespace trainyard::nn {

// "MaxPooling2D" -> "max_pooling2d", "Dense" -> "dense".
std::string to_snake_case(std::string_view class_name);
// The next unused name for `prefix`. Thread-safe.
std::string unique_name(std::string_view prefix);
// Forgets every name handed out (Keras's keras.backend.clear_session()).
void clear_session();

}  // namespace trainyard::nn
