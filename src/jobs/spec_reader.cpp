#include "jobs/spec_reader.h"

#include <algorithm>
#include <cctype>
#include <limits>

#include "jobs/utf8.h"

namespace trainyard::jobs::detail {
namespace {

constexpr int kRenderDepth = 4;

void render_into(const Json& value, int depth, std::string& out) {
  switch (value.type()) {
    case Json::value_t::string:
      out += value.get_ref<const std::string&>();
      return;
    case Json::value_t::null:
      out += "null";
      return;
    case Json::value_t::array: {
      if (depth >= kRenderDepth) {
        out += "[...]";
        return;
      }
      out += '[';
      bool first = true;
      for (const Json& element : value) {
        if (!first) out += ", ";
        first = false;
        render_into(element, depth + 1, out);
      }
      out += ']';
      return;
    }
    case Json::value_t::object: {
      if (depth >= kRenderDepth) {
        out += "{...}";
        return;
      }
      out += '{';
      bool first = true;
      for (const auto& [key, element] : value.items()) {
        if (!first) out += ", ";
        first = false;
        out += key;
        out += '=';
        render_into(element, depth + 1, out);
      }
      out += '}';
      return;
    }
    default:
      out += value.dump();
      return;
  }
}

// Edit distance, for "did you mean" hints on unknown members.
size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t above = row[j];
      const bool same = std::tolower(static_cast<unsigned char>(a[i - 1])) ==
                        std::tolower(static_cast<unsigned char>(b[j - 1]));
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (same ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::string join(const std::vector<std::string_view>& items) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += ", ";
    out += items[i];
  }
  return out;
}

// Every constraint of `shape`, bracketed, as AWS lists them for map keys and values.
std::string all_constraints(const StringShape& shape) {
  std::vector<std::string> phrases;
  if (shape.max_length) phrases.push_back(max_length_phrase(*shape.max_length));
  if (shape.min_length) phrases.push_back(min_length_phrase(*shape.min_length));
  if (shape.pattern) phrases.push_back(pattern_phrase(shape.quoted_pattern));
  std::string out = "[";
  for (size_t i = 0; i < phrases.size(); ++i) {
    if (i > 0) out += ", ";
    out += phrases[i];
  }
  return out + "]";
}

bool satisfies(const StringShape& shape, const std::string& value) {
  const auto length = static_cast<int64_t>(java_string_length(value));
  if (shape.max_length && length > *shape.max_length) return false;
  if (shape.min_length && length < *shape.min_length) return false;
  return !shape.pattern || shape.pattern->full_match(value);
}

// Reads an integral JSON number into int64; reports a type error otherwise.
std::optional<int64_t> read_integral(Context& context, const std::string& path, const Json& value,
                                     int64_t lowest, int64_t highest, std::string_view expected) {
  std::optional<int64_t> number;
  if (value.is_number_unsigned()) {
    const auto unsigned_value = value.get<uint64_t>();
    if (unsigned_value <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      number = static_cast<int64_t>(unsigned_value);
    }
  } else if (value.is_number_integer()) {
    number = value.get<int64_t>();
  } else {
    context.type_error(path, value, expected);
    return std::nullopt;
  }
  if (!number || *number < lowest || *number > highest) {
    context.add({.kind = Violation::Kind::kType,
                 .path = path,
                 .message = "Value '" + render_value(value) + "' at '" + path +
                            "' failed to satisfy constraint: Member must be " +
                            std::string(expected) + " from " + std::to_string(lowest) + " to " +
                            std::to_string(highest)});
    return std::nullopt;
  }
  return number;
}

void check_range(Context& context, const std::string& path, const Json& value, int64_t number,
                 ValueRange range) {
  if (range.max && number > *range.max) {
    context.constraint(path, value, max_value_phrase(*range.max));
  }
  if (range.min && number < *range.min) {
    context.constraint(path, value, min_value_phrase(*range.min));
  }
}

}  // namespace

std::string member_path(const std::string& parent, std::string_view member) {
  std::string name(member);
  if (!name.empty()) name[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(name[0])));
  return parent.empty() ? name : parent + "." + name;
}

std::string element_path(const std::string& parent, size_t index) {
  return parent + "." + std::to_string(index + 1) + ".member";
}

std::string render_value(const Json& value) {
  std::string out;
  render_into(value, 0, out);
  return out;
}

std::string describe_json_type(const Json& value) {
  switch (value.type()) {
    case Json::value_t::null:
      return "null";
    case Json::value_t::object:
      return "an object";
    case Json::value_t::array:
      return "an array";
    case Json::value_t::string:
      return "a string";
    case Json::value_t::boolean:
      return "a boolean";
    case Json::value_t::number_float:
      return "a floating-point number";
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
      return "an integer";
    default:
      return "an unsupported value";
  }
}

std::string max_length_phrase(int64_t max) {
  return "Member must have length less than or equal to " + std::to_string(max);
}
std::string min_length_phrase(int64_t min) {
  return "Member must have length greater than or equal to " + std::to_string(min);
}
std::string pattern_phrase(const std::string& quoted_pattern) {
  return "Member must satisfy regular expression pattern: " + quoted_pattern;
}
std::string enum_phrase(const std::vector<std::string_view>& values) {
  return "Member must satisfy enum value set: [" + join(values) + "]";
}
std::string max_value_phrase(int64_t max) {
  return "Member must have value less than or equal to " + std::to_string(max);
}
std::string min_value_phrase(int64_t min) {
  return "Member must have value greater than or equal to " + std::to_string(min);
}

void Context::constraint(const std::string& path, const Json& value, const std::string& phrase) {
  constraint_text(path, render_value(value), phrase);
}

void Context::constraint_text(const std::string& path, const std::string& rendered,
                              const std::string& phrase) {
  errors_.add({.kind = Violation::Kind::kConstraint,
               .path = path,
               .message = "Value '" + rendered + "' at '" + path +
                          "' failed to satisfy constraint: " + phrase});
}

void Context::null_member(const std::string& path) {
  errors_.add({.kind = Violation::Kind::kConstraint,
               .path = path,
               .message = "Value null at '" + path +
                          "' failed to satisfy constraint: Member must not be null"});
}

void Context::type_error(const std::string& path, const Json& value, std::string_view expected) {
  errors_.add({.kind = Violation::Kind::kType,
               .path = path,
               .message = "Value '" + render_value(value) + "' at '" + path +
                          "' failed to satisfy constraint: Member must be " +
                          std::string(expected) + ", not " + describe_json_type(value)});
}

void Context::rule(const std::string& path, const std::string& message) {
  errors_.add({.kind = Violation::Kind::kConstraint, .path = path, .message = message});
}

void Context::unknown_member(const std::string& path, std::string_view member,
                             std::string_view shape, const std::vector<std::string_view>& known) {
  std::string where = path.empty() ? "the request" : "'" + path + "'";
  std::string message = "Unknown member '" + std::string(member) + "' in " + where + ": " +
                        std::string(shape) + " has no such member";
  std::string_view best;
  size_t best_distance = 3;  // suggest only close spellings
  for (std::string_view candidate : known) {
    const size_t distance = edit_distance(member, candidate);
    if (distance < best_distance) best = candidate, best_distance = distance;
  }
  if (!best.empty()) {
    message += " (did you mean '" + std::string(best) + "'?)";
  } else {
    message += "; its members are " + join(known);
  }
  errors_.add({.kind = Violation::Kind::kUnknownMember,
               .path = member_path(path, member),
               .message = std::move(message)});
}

ObjectReader::ObjectReader(Context& context, const Json& object, std::string path,
                           std::string_view shape)
    : context_(context), object_(object), path_(std::move(path)), shape_(shape) {}

const Json* ObjectReader::find(std::string_view member) {
  if (std::find(known_.begin(), known_.end(), member) == known_.end()) known_.push_back(member);
  const auto it = object_.find(std::string(member));
  if (it == object_.end() || it->is_null()) return nullptr;
  return &*it;
}

const Json* ObjectReader::peek(std::string_view member) const {
  const auto it = object_.find(std::string(member));
  if (it == object_.end() || it->is_null()) return nullptr;
  return &*it;
}

const Json* ObjectReader::find_required(std::string_view member, Required required) {
  const Json* value = find(member);
  if (value == nullptr && required == Required::kYes) context_.null_member(path_of(member));
  return value;
}

void ObjectReader::finish() {
  if (!context_.options().reject_unknown_fields) return;
  for (const auto& [key, value] : object_.items()) {
    if (std::find(known_.begin(), known_.end(), key) == known_.end()) {
      context_.unknown_member(path_, key, shape_, known_);
    }
  }
}

void check_string(Context& context, const std::string& path, const std::string& value,
                  const StringShape& shape) {
  const auto length = static_cast<int64_t>(java_string_length(value));
  if (shape.max_length && length > *shape.max_length) {
    context.constraint_text(path, value, max_length_phrase(*shape.max_length));
  }
  if (shape.min_length && length < *shape.min_length) {
    context.constraint_text(path, value, min_length_phrase(*shape.min_length));
  }
  if (shape.pattern && !shape.pattern->full_match(value)) {
    context.constraint_text(path, value, pattern_phrase(shape.quoted_pattern));
  }
}

void check_uri(Context& context, const std::string& path, const std::string& value) {
  constexpr std::string_view kFileScheme = "file://";
  if (!context.options().allow_file_uris || value.rfind(kFileScheme, 0) != 0) {
    check_string(context, path, value, string_shape(StringShapeId::kS3Uri));
    return;
  }
  const StringShape& shape = string_shape(StringShapeId::kS3Uri);
  if (shape.max_length && static_cast<int64_t>(java_string_length(value)) > *shape.max_length) {
    context.constraint_text(path, value, max_length_phrase(*shape.max_length));
  }
  const std::string_view file_path = std::string_view(value).substr(kFileScheme.size());
  const bool has_control = std::any_of(file_path.begin(), file_path.end(), [](char c) {
    return static_cast<unsigned char>(c) < 0x20 || c == 0x7F;
  });
  if (file_path.empty() || file_path[0] != '/' || has_control) {
    context.constraint_text(path, value,
                            "Member must be a file:// URI holding an absolute path without "
                            "control characters (file:///path/to/data)");
  }
}

std::optional<std::string> read_string(ObjectReader& reader, std::string_view member,
                                       StringShapeId shape, Required required) {
  const Json* value = reader.find_required(member, required);
  if (value == nullptr) return std::nullopt;
  const std::string path = reader.path_of(member);
  if (!value->is_string()) {
    reader.context().type_error(path, *value, "a string");
    return std::nullopt;
  }
  const auto& text = value->get_ref<const std::string&>();
  check_string(reader.context(), path, text, string_shape(shape));
  return text;
}

std::optional<std::string> read_uri(ObjectReader& reader, std::string_view member,
                                    Required required) {
  const Json* value = reader.find_required(member, required);
  if (value == nullptr) return std::nullopt;
  const std::string path = reader.path_of(member);
  if (!value->is_string()) {
    reader.context().type_error(path, *value, "a string");
    return std::nullopt;
  }
  const auto& text = value->get_ref<const std::string&>();
  check_uri(reader.context(), path, text);
  return text;
}

std::optional<std::string> read_string_enum(ObjectReader& reader, std::string_view member,
                                            const std::vector<std::string_view>& values,
                                            Required required) {
  const Json* value = reader.find_required(member, required);
  if (value == nullptr) return std::nullopt;
  const std::string path = reader.path_of(member);
  if (!value->is_string()) {
    reader.context().type_error(path, *value, "a string");
    return std::nullopt;
  }
  const auto& text = value->get_ref<const std::string&>();
  if (std::find(values.begin(), values.end(), text) == values.end()) {
    reader.context().constraint(path, *value, enum_phrase(values));
    return std::nullopt;
  }
  return text;
}

std::optional<int32_t> read_integer(ObjectReader& reader, std::string_view member, ValueRange range,
                                    Required required) {
  const Json* value = reader.find_required(member, required);
  if (value == nullptr) return std::nullopt;
  const std::string path = reader.path_of(member);
  const auto number =
      read_integral(reader.context(), path, *value, std::numeric_limits<int32_t>::min(),
                    std::numeric_limits<int32_t>::max(), "an integer");
  if (!number) return std::nullopt;
  check_range(reader.context(), path, *value, *number, range);
  return static_cast<int32_t>(*number);
}

std::optional<int64_t> read_long(ObjectReader& reader, std::string_view member, ValueRange range,
                                 Required required) {
  const Json* value = reader.find_required(member, required);
  if (value == nullptr) return std::nullopt;
  const std::string path = reader.path_of(member);
  const auto number =
      read_integral(reader.context(), path, *value, std::numeric_limits<int64_t>::min(),
                    std::numeric_limits<int64_t>::max(), "a long integer");
  if (!number) return std::nullopt;
  check_range(reader.context(), path, *value, *number, range);
  return number;
}

std::optional<bool> read_boolean(ObjectReader& reader, std::string_view member, Required required) {
  const Json* value = reader.find_required(member, required);
  if (value == nullptr) return std::nullopt;
  if (!value->is_boolean()) {
    reader.context().type_error(reader.path_of(member), *value, "a boolean");
    return std::nullopt;
  }
  return value->get<bool>();
}

StringMap read_string_map(ObjectReader& reader, std::string_view member, SizeRange size,
                          StringShapeId key_shape_id, StringShapeId value_shape_id) {
  StringMap result;
  const Json* value = reader.find(member);
  if (value == nullptr) return result;
  Context& context = reader.context();
  const std::string path = reader.path_of(member);
  if (!value->is_object()) {
    context.type_error(path, *value, "an object of string values");
    return result;
  }
  if (size.max && static_cast<int64_t>(value->size()) > *size.max) {
    context.constraint(path, *value, max_length_phrase(*size.max));
  }
  if (size.min && static_cast<int64_t>(value->size()) < *size.min) {
    context.constraint(path, *value, min_length_phrase(*size.min));
  }
  const StringShape& key_shape = string_shape(key_shape_id);
  const StringShape& value_shape = string_shape(value_shape_id);
  bool keys_ok = true, values_ok = true;
  for (const auto& [key, entry] : value->items()) {
    if (!entry.is_string()) {
      context.type_error(path + "." + key, entry, "a string");
      continue;
    }
    const auto& text = entry.get_ref<const std::string&>();
    keys_ok = keys_ok && satisfies(key_shape, key);
    values_ok = values_ok && satisfies(value_shape, text);
    result.emplace(key, text);
  }
  if (!keys_ok) {
    context.constraint(path, *value,
                       "Map keys must satisfy constraint: " + all_constraints(key_shape));
  }
  if (!values_ok) {
    context.constraint(path, *value,
                       "Map value must satisfy constraint: " + all_constraints(value_shape));
  }
  return result;
}

const Json* read_list_value(ObjectReader& reader, std::string_view member, SizeRange size,
                            Required required) {
  const Json* value = reader.find_required(member, required);
  if (value == nullptr) return nullptr;
  const std::string path = reader.path_of(member);
  if (!value->is_array()) {
    reader.context().type_error(path, *value, "an array");
    return nullptr;
  }
  if (size.max && static_cast<int64_t>(value->size()) > *size.max) {
    reader.context().constraint(path, *value, max_length_phrase(*size.max));
  }
  if (size.min && static_cast<int64_t>(value->size()) < *size.min) {
    reader.context().constraint(path, *value, min_length_phrase(*size.min));
  }
  return value;
}

std::vector<std::string> read_string_list(ObjectReader& reader, std::string_view member,
                                          SizeRange size, StringShapeId element_shape,
                                          Required required) {
  std::vector<std::string> result;
  const Json* list = read_list_value(reader, member, size, required);
  if (list == nullptr) return result;
  const std::string path = reader.path_of(member);
  for (size_t i = 0; i < list->size(); ++i) {
    const Json& element = (*list)[i];
    const std::string item_path = element_path(path, i);
    if (element.is_null()) {
      reader.context().null_member(item_path);
    } else if (!element.is_string()) {
      reader.context().type_error(item_path, element, "a string");
    } else {
      const auto& text = element.get_ref<const std::string&>();
      check_string(reader.context(), item_path, text, string_shape(element_shape));
      result.push_back(text);
    }
  }
  return result;
}

}  // namespace trainyard::jobs::detail
