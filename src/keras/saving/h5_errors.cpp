#include "keras/saving/h5_errors.h"

namespace trainyard::keras::saving {

std::string hdf5_reason() {
  std::string reason;
  auto innermost = [](unsigned index, const H5E_error2_t* error, void* data) -> herr_t {
    if (index == 0 && error->desc) *static_cast<std::string*>(data) = error->desc;
    return 0;
  };
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, innermost, &reason);
  H5Eclear2(H5E_DEFAULT);
  return reason.empty() ? "HDF5 gave no reason" : "HDF5: " + reason;
}

}  // namespace trainyard::keras::saving
