// Building blocks for reading model structures out of JSON while collecting every violation:
// a Context (options + the violation list) and an ObjectReader per JSON object, with typed
// reads that check the model's constraints and report them in AWS's wording.
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "jobs/job_spec.h"
#include "jobs/job_spec_parse.h"
#include "jobs/model_shapes.h"
#include "jobs/validation_errors.h"

namespace trainyard::jobs::detail {

using Json = nlohmann::json;

enum class Required { kNo, kYes };

// Inclusive numeric limits; nullopt means unbounded on that side.
struct ValueRange {
  std::optional<int64_t> min;
  std::optional<int64_t> max;
};

// Limits on the number of entries of a list or map.
struct SizeRange {
  std::optional<int64_t> min;
  std::optional<int64_t> max;
};

// `member` with its first letter lowered, appended to `parent` with a dot.
std::string member_path(const std::string& parent, std::string_view member);
// `parent`.<index + 1>.member, AWS's spelling of a list element.
std::string element_path(const std::string& parent, size_t index);

// A JSON value rendered the way AWS echoes values (Java toString): strings raw, lists as
// [a, b], maps and objects as {k=v, k2=v2}; nesting deeper than a few levels is elided.
std::string render_value(const Json& value);
// "a string", "a number", "an array", ... for messages about JSON types.
std::string describe_json_type(const Json& value);

// Constraint phrases, exactly as AWS words them.
std::string max_length_phrase(int64_t max);
std::string min_length_phrase(int64_t min);
std::string pattern_phrase(const std::string& quoted_pattern);
std::string enum_phrase(const std::vector<std::string_view>& values);
std::string max_value_phrase(int64_t max);
std::string min_value_phrase(int64_t min);

// The options of one parse and the violations found so far.
class Context {
 public:
  Context(const ParseOptions& options, ValidationErrors& errors)
      : options_(options), errors_(errors) {}

  const ParseOptions& options() const { return options_; }
  size_t violation_count() const { return errors_.size(); }

  // "Value '<rendered>' at '<path>' failed to satisfy constraint: <phrase>".
  void constraint(const std::string& path, const Json& value, const std::string& phrase);
  // Same, for a value already rendered (e.g. one string of several).
  void constraint_text(const std::string& path, const std::string& rendered,
                       const std::string& phrase);
  // "Value null at '<path>' failed to satisfy constraint: Member must not be null".
  void null_member(const std::string& path);
  // The member has the wrong JSON type; `expected` is "a string", "an integer", ...
  void type_error(const std::string& path, const Json& value, std::string_view expected);
  // A rule across members, in free text.
  void rule(const std::string& path, const std::string& message);
  void unknown_member(const std::string& path, std::string_view member, std::string_view shape,
                      const std::vector<std::string_view>& known);
  void add(Violation violation) { errors_.add(std::move(violation)); }

 private:
  const ParseOptions& options_;
  ValidationErrors& errors_;
};

// Reads the members of one JSON object that stands for model structure `shape`. Every member
// read through it is marked known; finish() then reports the rest as unknown (strict mode).
// A JSON null member counts as absent.
class ObjectReader {
 public:
  // REQUIRES: object.is_object().
  ObjectReader(Context& context, const Json& object, std::string path, std::string_view shape);

  Context& context() { return context_; }
  const std::string& path() const { return path_; }
  // Path of one of this structure's members.
  std::string path_of(std::string_view member) const { return member_path(path_, member); }

  // The member's value; nullptr when absent or null. Marks the member known.
  const Json* find(std::string_view member);
  // True when the member is present and not null (marks it known).
  bool has(std::string_view member) { return find(member) != nullptr; }
  // The member's value without marking it known, for rules that look ahead; nullptr when
  // absent or null.
  const Json* peek(std::string_view member) const;
  // Reports "must not be null" when the member is absent; returns its value or nullptr.
  const Json* find_required(std::string_view member, Required required);

  // Reports members never looked up (when the options reject unknown fields).
  void finish();

 private:
  Context& context_;
  const Json& object_;
  std::string path_;
  std::string_view shape_;
  std::vector<std::string_view> known_;
};

// Checks one string against `shape` (length limits, then pattern), reporting at `path`.
void check_string(Context& context, const std::string& path, const std::string& value,
                  const StringShape& shape);
// Checks an S3Uri-typed value: the model's shape, or trainyard's file:///absolute/path.
void check_uri(Context& context, const std::string& path, const std::string& value);

// Typed member reads. Each returns the value when the member is present with the right JSON
// type (even if a constraint failed: the violation is recorded), nullopt otherwise.
std::optional<std::string> read_string(ObjectReader& reader, std::string_view member,
                                       StringShapeId shape, Required required = Required::kNo);
std::optional<std::string> read_uri(ObjectReader& reader, std::string_view member,
                                    Required required = Required::kNo);
std::optional<std::string> read_string_enum(ObjectReader& reader, std::string_view member,
                                            const std::vector<std::string_view>& values,
                                            Required required = Required::kNo);
std::optional<int32_t> read_integer(ObjectReader& reader, std::string_view member, ValueRange range,
                                    Required required = Required::kNo);
std::optional<int64_t> read_long(ObjectReader& reader, std::string_view member, ValueRange range,
                                 Required required = Required::kNo);
std::optional<bool> read_boolean(ObjectReader& reader, std::string_view member,
                                 Required required = Required::kNo);
// A string map; at most one "Map keys must satisfy" and one "Map value must satisfy" violation.
StringMap read_string_map(ObjectReader& reader, std::string_view member, SizeRange size,
                          StringShapeId key_shape, StringShapeId value_shape);
std::vector<std::string> read_string_list(ObjectReader& reader, std::string_view member,
                                          SizeRange size, StringShapeId element_shape,
                                          Required required = Required::kNo);

// The raw array of a list member after its type and size checks; nullptr when absent or of
// the wrong type.
const Json* read_list_value(ObjectReader& reader, std::string_view member, SizeRange size,
                            Required required);

template <typename E>
std::optional<E> read_enum(ObjectReader& reader, std::string_view member,
                           Required required = Required::kNo) {
  static const std::vector<std::string_view> values(EnumTraits<E>::names.begin(),
                                                    EnumTraits<E>::names.end());
  const auto text = read_string_enum(reader, member, values, required);
  return text ? enum_from_string<E>(*text) : std::nullopt;
}

// Reads a structure member with `read(ObjectReader&) -> T`; reports null (when required) or a
// type error, and the nested structure's unknown members.
template <typename T, typename ReadFn>
std::optional<T> read_struct(ObjectReader& reader, std::string_view member, std::string_view shape,
                             Required required, ReadFn read) {
  const Json* value = reader.find_required(member, required);
  if (value == nullptr) return std::nullopt;
  const std::string path = reader.path_of(member);
  if (!value->is_object()) {
    reader.context().type_error(path, *value, "an object");
    return std::nullopt;
  }
  ObjectReader nested(reader.context(), *value, path, shape);
  T result = read(nested);
  nested.finish();
  return result;
}

// Reads a list of structures, each with `read(ObjectReader&) -> T`.
template <typename T, typename ReadFn>
std::vector<T> read_struct_list(ObjectReader& reader, std::string_view member,
                                std::string_view element_shape, SizeRange size, Required required,
                                ReadFn read) {
  std::vector<T> result;
  const Json* list = read_list_value(reader, member, size, required);
  if (list == nullptr) return result;
  const std::string path = reader.path_of(member);
  for (size_t i = 0; i < list->size(); ++i) {
    const Json& element = (*list)[i];
    const std::string item_path = element_path(path, i);
    if (element.is_null()) {
      reader.context().null_member(item_path);
      continue;
    }
    if (!element.is_object()) {
      reader.context().type_error(item_path, element, "an object");
      continue;
    }
    ObjectReader nested(reader.context(), element, item_path, element_shape);
    result.push_back(read(nested));
    nested.finish();
  }
  return result;
}

}  // namespace trainyard::jobs::detail
