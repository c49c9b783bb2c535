// The few Python behaviours SageMaker's training toolkit applies to hyperparameters, so
// trainyard renders them byte for byte as a container would: json.loads of each value
// (keeping the raw string when it is not JSON), str() and repr() of the result, and
// json.dumps(value, sort_keys=True, separators=(",", ":")) with ensure_ascii for SM_* values.
//
// Known differences from CPython, all on inputs no SDK produces: NaN/Infinity are accepted
// only as the whole value (not nested), numbers that overflow a double ("1e400") and lone
// UTF-16 surrogate escapes are not JSON here (the raw string is kept), nesting deeper than
// 512 levels is kept raw, and repr() escapes only control, separator, format and
// private-use characters (CPython also escapes unassigned code points).
//
// Pure functions; thread-safe.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace trainyard::jobs {

// A decoded JSON value as Python holds it. Integers keep their decimal digits (Python ints
// are unbounded); dicts keep insertion order, as Python's do.
struct PythonValue {
  enum class Kind { kNone, kBool, kInt, kFloat, kString, kList, kDict };
  Kind kind = Kind::kNone;
  bool boolean = false;
  double number = 0;               // kFloat
  std::string text;                // kInt: the digits, with '-' when negative; kString: UTF-8
  std::vector<PythonValue> items;  // kList
  std::vector<std::pair<std::string, PythonValue>> entries;  // kDict

  static PythonValue none() { return {}; }
  static PythonValue from_bool(bool value);
  static PythonValue from_int(long long value);
  static PythonValue from_string(std::string value);
  static PythonValue list(std::vector<PythonValue> items);
  static PythonValue dict(std::vector<std::pair<std::string, PythonValue>> entries);

  bool operator==(const PythonValue&) const = default;
};

// json.loads(text), or the string `text` itself when that fails (the toolkit's rule).
PythonValue decode_hyperparameter(std::string_view text);

// A JSON document (strings, numbers, booleans, null, arrays, objects) as a PythonValue.
PythonValue python_value_from_json(const nlohmann::json& json);
PythonValue python_value_from_json(const nlohmann::ordered_json& json);

// Python's str(value): strings as they are, None as "None", True/False, floats as repr.
std::string python_str(const PythonValue& value);
// Python's repr(value): strings quoted and escaped as CPython does.
std::string python_repr(const PythonValue& value);
// json.dumps(value, sort_keys=True, separators=(",", ":")), ensure_ascii on.
std::string python_json_dumps(const PythonValue& value);
// Python's truth value (bool(value)).
bool python_truthy(const PythonValue& value);

}  // namespace trainyard::jobs
