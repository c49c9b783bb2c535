// Quoting file content in error messages. A hostile file must not be able to break the
// message that reports it: NUL bytes would cut it short, control characters would garble a
// terminal, and a 70,000-byte field would bury the reason. Internal to the data layer.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace trainyard::data::detail {

// `text` with every byte outside printable ASCII written as \xNN and a backslash as \\,
// cut after `max_bytes` input bytes with "..." appended.
std::string printable(std::string_view text, size_t max_bytes = 64);

}  // namespace trainyard::data::detail
