// Keras's checkpoint file names: Python's str.format(epoch=..., **logs) over a filepath
// such as "ckpt-{epoch:02d}-{val_loss:.2f}.weights.h5" -> "ckpt-03-0.42.weights.h5".
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace trainyard::keras::saving {

// A value a template field can name: an integer (epoch, batch) or a logged float.
using TemplateValue = std::variant<int64_t, double>;
// The value called `name`, or nullopt when there is none.
using TemplateLookup = std::function<std::optional<TemplateValue>(std::string_view name)>;

// Python's str.format with named fields only: "{name}" or "{name:spec}", where spec is
// [[fill]align][sign][0][width][.precision][type] with align one of <>=^, sign one of +-
// and space, and type one of d (integers only), f F e E g G % or none; "{{" and "}}" stand
// for braces. As in Python, a float without spec prints as repr() ("0.1") and an integer
// given a float type is converted. Throws ValueError naming `pattern` for a name `lookup`
// does not know (Python's KeyError), a malformed field, or anything outside that subset.
std::string format_filepath(std::string_view pattern, const TemplateLookup& lookup);

}  // namespace trainyard::keras::saving
