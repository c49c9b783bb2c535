// Keras 3's progress bar (keras.utils.Progbar as ProgbarLogger drives it in fit, evaluate
// and predict) and its "Epoch i/N" line, reproduced byte for byte so that a Keras user sees
// the output they know. Clock and stream are injected, so tests are deterministic.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

namespace trainyard::keras {

// One event's logs: metric names and values, e.g. {{"accuracy", 0.8213}, {"loss", 0.5052}}.
using Logs = std::vector<std::pair<std::string, double>>;

// Returns `logs` in the order Keras 3 hands logs to every callback: sorted by name (byte
// order of UTF-8, which is Python's code-point order), so `accuracy` comes before `loss`.
// A name given twice keeps its last value, as assigning into a Python dict does.
// Keras sorts in CallbackList (pythonify_logs) before any callback runs; the trainer should
// do the same so History and CSV logs agree, and ProgressBar::update sorts again so the
// bar's order never depends on the caller.
Logs sort_logs(Logs logs);

// Seconds since an arbitrary origin; only differences are used.
using Clock = std::function<double()>;
// A Clock over std::chrono::steady_clock (Keras reads time.time(); a monotonic clock keeps
// the bar sane when the wall clock jumps).
Clock steady_clock_seconds();

// Every field has an explicit default so `{.verbose = 2}` compiles warning-free (GCC 12's
// -Wmissing-field-initializers flags omitted fields that have none).
struct ProgressBarOptions {
  // Steps in one pass, or nullopt when unknown (default). 0 draws like an unknown target.
  std::optional<int64_t> target = std::nullopt;
  // 0: silent. 1: the bar, redrawn as steps finish. 2: one line when finalized. Default 1.
  int verbose = 1;
  // Whether the stream is a terminal (the caller asks isatty). true (default): each redraw
  // returns to the line start with backspaces and '\r'. false: Keras's non-dynamic display,
  // where every redraw starts a new line, still throttled. Keras 3 itself decides this from
  // sys.stdout.isatty() or'ed with `"posix" in sys.modules`, which is true on Linux and
  // macOS, so Keras on POSIX redraws in place even into a file; trainyard follows isatty.
  bool interactive = true;
  // Bar length in characters (default 20). REQUIRES: >= 1.
  int width = 20;
  // Minimum seconds between two redraws at verbose 1; the final update always draws.
  // Default 0.05. REQUIRES: finite and >= 0.
  double interval = 0.05;
  // Word after the per-unit time, as in "1ms/step". Default "step".
  std::string unit_name = "step";
  // Time source; empty (default) means steady_clock_seconds().
  Clock clock = nullptr;
};

// Draws Keras 3's progress bar on `out`. Metric values are shown as given, not averaged
// over steps: ProgbarLogger builds its Progbar that way since Keras 3.15 (earlier 3.x
// versions averaged the running means again). Not thread-safe; one bar per pass over the data.
//
// How ProgbarLogger drives it, and how the trainer should:
//   epoch begin:  write_epoch_header(...), then a new ProgressBar (its clock starts here)
//   batch end:    update(batch + 1, logs, /*finalize=*/false)   (verbose 1 only)
//   epoch end:    if the target was unknown, set_target(steps seen);
//                 update(*target(), epoch_logs, /*finalize=*/true)
class ProgressBar {
 public:
  // Writes nothing yet; reads the clock as the start of the elapsed time. `out` must outlive
  // the bar. Throws ValueError naming the option when verbose is not 0, 1 or 2, the target
  // is negative, width < 1 or interval is negative or not finite.
  ProgressBar(std::ostream& out, ProgressBarOptions options);

  // Records that `current` steps are done and that `logs` hold the latest metric values
  // (names are kept in first-seen order across calls, each call's names sorted as
  // sort_logs does), then draws if the verbosity and the throttle allow. `finalize` defaults
  // to current >= target (false when the target is unknown); a finalizing call always draws
  // at verbose 1 and ends the line, and is the only call that prints at verbose 2.
  // Throws ValueError when current < 0.
  void update(int64_t current, const Logs& logs = {}, std::optional<bool> finalize = {});
  // update(steps seen so far + steps, logs). REQUIRES: the sum is >= 0.
  void add(int64_t steps, const Logs& logs = {});

  // Sets the target, e.g. to the steps seen once a pass of unknown length has ended.
  // Throws ValueError when negative.
  void set_target(std::optional<int64_t> target);
  std::optional<int64_t> target() const { return target_; }

 private:
  double estimate_step_duration(int64_t current, double now);
  void draw_verbose1(int64_t current, bool finalize, double now, double time_per_unit);
  void draw_verbose2(int64_t current, double now, double time_per_unit);

  std::ostream& out_;
  std::optional<int64_t> target_;
  const int verbose_;
  const bool interactive_;
  const int width_;
  const double interval_;
  const std::string unit_name_;
  const Clock clock_;
  const double start_;

  int64_t seen_so_far_ = 0;
  // Keras starts this at 0 against time.time(), so the first update always draws; "never"
  // says the same with a clock whose origin may be near zero.
  std::optional<double> last_update_;
  std::optional<double> time_after_first_step_;
  // Visible width of the last line drawn at verbose 1, to erase and pad over it.
  int64_t prev_total_width_ = 0;
  Logs values_;  // first-seen order
};

// Writes "Epoch {epoch + 1}/{epochs}\n" when verbose is not 0 and epochs > 1, as Keras's
// ProgbarLogger does at the start of each epoch; writes nothing otherwise. `epoch` is
// 0-based. Throws ValueError when epoch < 0.
void write_epoch_header(std::ostream& out, int epoch, int epochs, int verbose);

namespace detail {
// Python's format(value, f".{precision}f"): correctly rounded (ties to even on the exact
// binary value), "inf"/"-inf", and "nan" without a sign.
std::string python_fixed(double value, int precision);
// Python's format(value, f".{precision}e"): exponent signed with at least two digits.
std::string python_exponent(double value, int precision);
// Python's "%0{min_width}d" % value for a float: the value truncated toward zero.
std::string python_percent_d(double value, int zero_padded_width = 0);
// The " 12ms/step" piece: seconds, milliseconds or microseconds per unit, as Keras picks.
std::string format_time_per_unit(double seconds, const std::string& unit_name);
// The ETA text: "%ds" up to 60 s, then "m:ss", then "h:mm:ss" past an hour.
std::string format_eta(double seconds);
}  // namespace detail

}  // namespace trainyard::keras
