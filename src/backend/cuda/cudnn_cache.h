// CudnnCache: what the cuDNN entries keep between calls (descriptors and the algorithm
// chosen for each convolution shape), so a steady-state step repeats no search.
#pragma once

namespace trainyard::backend::cuda {

struct CudnnCache {};

}  // namespace trainyard::backend::cuda
