// The few UTF-8 facts the job-spec validator needs: decoding to code points and measuring
// strings the way AWS's Java service does (in UTF-16 code units).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace trainyard::jobs::detail {

// The code points of `text`, or nullopt when it is not well-formed UTF-8 (overlong forms,
// surrogates and values above U+10FFFF are rejected).
std::optional<std::vector<char32_t>> decode_utf8(std::string_view text);

// Length as java.lang.String.length() counts it: UTF-16 code units, so a code point above
// U+FFFF counts 2. Malformed input is measured in bytes (it never reaches this after parsing).
size_t java_string_length(std::string_view text);

// Number of code points in `text` (bytes that are not UTF-8 continuation bytes).
size_t count_code_points(std::string_view text);

// `text` with every byte outside printable ASCII written as \xNN, so that text quoting
// arbitrary input (a syntax error's "last read") is safe to put into JSON and logs.
std::string printable_ascii(std::string_view text);

}  // namespace trainyard::jobs::detail
