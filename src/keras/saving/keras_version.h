// The Keras release whose file layouts (config keys, "vars" name attributes, legacy .h5
// attributes) trainyard writes; Keras records its own version in its files the same way.
#pragma once

namespace trainyard::keras::saving {

inline constexpr const char* kKerasFormatVersion = "3.15.1";

}  // namespace trainyard::keras::saving
