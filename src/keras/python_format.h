// Python's repr() of a float, for files Keras writes with str(float) (CSVLogger): the
// shortest digits that read back to the same double, in fixed notation for exponents from
// -4 to 15 ("0.0001", "123.0") and scientific notation otherwise ("1e-05", "1e+16").
#pragma once

#include <string>

namespace trainyard::keras {

std::string python_repr(double value);

}  // namespace trainyard::keras
