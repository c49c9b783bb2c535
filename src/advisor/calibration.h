// `trainyard advise --calibrate`: times a few real training steps of a model on this host
// and turns them into the share of peak a step reaches, which the time estimates then use
// in place of the per-architecture defaults.
#pragma once

#include <cstdint>
#include <string>

namespace trainyard::keras {
class Model;
}

namespace trainyard::advisor {

// The CPU's peak float32 rate: cores x clock x 32 FLOPs per cycle (two 8-lane AVX2 FMA
// units, each multiply-add 2 FLOPs). `clock_hz` from /proc/cpuinfo where it says.
struct CpuPeak {
  int cores = 0;
  double clock_hz = 0;
  bool clock_measured = false;  // false: /proc/cpuinfo gave no clock, 3 GHz assumed
  double flops_per_second() const { return cores * clock_hz * 32; }
};

// This host's CPU figures. Never throws.
CpuPeak this_cpu_peak();

struct Calibration {
  double seconds_per_step = 0;
  int64_t batch = 0;
  double achieved_flops_per_second = 0;
  CpuPeak peak;
  double efficiency = 0;  // achieved / peak, at most 1

  // One line for the command's output: what was measured and what it means.
  std::string describe() const;
};

// Compiles `model` (SGD, mean squared error: the step's FLOPs do not depend on either's
// choice beyond the optimizer's elementwise update), runs one warm-up step and then times
// three on zero-filled batches of `batch` samples on the CPU. Throws ValueError when the
// model is not built or `batch` < 1.
Calibration calibrate_on_this_host(keras::Model& model, int64_t batch);

}  // namespace trainyard::advisor
