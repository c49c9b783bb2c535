// Filled in with the kernels it tests.
