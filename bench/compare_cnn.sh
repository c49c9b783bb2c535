#!/usr/bin/env bash
# Times a small CNN on Fashion-MNIST at batch 64 (Conv2D 32 -> MaxPool -> Conv2D 64 -> MaxPool
# -> Dense 128 -> Dense 10, Adam) in trainyard and in the two peers its users would pick instead
# (Keras 3 on TensorFlow, PyTorch), on this machine, in one run, alternating between them, and
# prints a markdown table. Each peer runs in each of its sensible thread configurations and the
# report keeps the fastest. See docs/benchmarks.md and bench/peers/README.md.
set -euo pipefail

usage() {
  cat <<'EOF_USAGE'
Usage: bench/compare_cnn.sh [--rounds N] [--steps S] [--epochs K] [--no-accuracy] [--timeout S]

  --rounds N     alternating rounds of the timed workload; each cell is the median (default 3)
  --steps S      batches per timed pass; the value is extrapolated to the 938-step epoch
                 (default 200)
  --epochs K     passes per timed run, the first being warm-up (default 3)
  --no-accuracy  skip the full-epoch run per configuration that reports test accuracy
  --timeout S    seconds one run may take before it is stopped and counted failed (default 900)

Workloads: steps_b64 (timed, every round) and epoch_b64 (one epoch of 938 steps and the test
accuracy, once per configuration after the rounds). Keras runs from bench/.venv, created on first
use from bench/peers/requirements-keras.txt. PyTorch is Debian's python3-torch under
/usr/bin/python3. trainyard is build/release/bench/cnn_bench (override with
TRAINYARD_CNN_BENCH), skipped if not built.
Results: bench/results/<timestamp>-cnn.jsonl (+ .log with each run's stderr, + .md report).
EOF_USAGE
}

rounds=3
steps=200
epochs=3
accuracy=1
timeout_s=900
while [[ $# -gt 0 ]]; do
  case "$1" in
    --rounds) rounds="${2:?--rounds needs a number}"; shift ;;
    --steps) steps="${2:?--steps needs a number}"; shift ;;
    --epochs) epochs="${2:?--epochs needs a number}"; shift ;;
    --no-accuracy) accuracy=0 ;;
    --timeout) timeout_s="${2:?--timeout needs seconds}"; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "compare_cnn.sh: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
  shift
done
for pair in "rounds:$rounds" "steps:$steps" "timeout:$timeout_s"; do
  if ! [[ "${pair#*:}" =~ ^[1-9][0-9]*$ ]]; then
    echo "compare_cnn.sh: --${pair%%:*} must be a positive integer, got '${pair#*:}'" >&2; exit 2
  fi
done
if [[ "$steps" -gt 938 ]]; then
  echo "compare_cnn.sh: --steps must be at most 938 (one epoch), got '$steps'" >&2; exit 2
fi
if ! [[ "$epochs" =~ ^[0-9]+$ && "$epochs" -ge 2 ]]; then
  echo "compare_cnn.sh: --epochs must be an integer >= 2, got '$epochs'" >&2; exit 2
fi

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
peers="$root/bench/peers"
venv="$root/bench/.venv"
torch_python=/usr/bin/python3
trainyard_bin="${TRAINYARD_CNN_BENCH:-$root/build/release/bench/cnn_bench}"
# Debian's multiarch library folder holding openblas-pthread/ and openblas-openmp/.
blas_dir=/usr/lib/x86_64-linux-gnu
for candidate in /usr/lib/*/openblas-pthread; do
  [[ -d "$candidate" ]] && blas_dir="$(dirname "$candidate")" && break
done
cpus="$(nproc)"

stamp="$(date -u +%Y%m%dT%H%M%SZ)-cnn"
mkdir -p "$root/bench/results"
results="$root/bench/results/$stamp.jsonl"
log="$root/bench/results/$stamp.log"
machine="$root/bench/results/$stamp.machine.json"
: >"$results"
: >"$log"
python3 "$peers/report.py" --machine-info "$machine"

note() { echo "compare_cnn.sh: $*" >&2; }

# Other work on the machine skews every number, the OpenMP configuration's most.
busy="$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["cpu_busy_percent"])' "$machine")"
if python3 -c "import sys; sys.exit(0 if float('$busy') > 25 else 1)"; then
  note "warning: the CPUs were ${busy}% busy before starting; timings will be noisy"
fi

# Keras's virtual environment: created once; rebuilt when the pinned requirements change.
keras_ready=0
setup_keras() {
  local wanted="$peers/requirements-keras.txt" installed="$venv/.trainyard-requirements"
  if [[ -x "$venv/bin/python" ]] && cmp -s "$wanted" "$installed" &&
    "$venv/bin/python" -c 'import keras, tensorflow' >/dev/null 2>&1; then
    return 0
  fi
  note "setting up $venv from $(basename "$wanted") (the first time downloads TensorFlow)"
  python3 -m venv "$venv" &&
    "$venv/bin/python" -m pip install --quiet --upgrade pip &&
    "$venv/bin/python" -m pip install --quiet -r "$wanted" &&
    cp "$wanted" "$installed"
}
if setup_keras >>"$log" 2>&1; then
  keras_ready=1
else
  note "Keras peer skipped: setting up $venv failed (see $log)"
fi

# Each configuration: a label and a command; the workload arguments are appended per run.
labels=()
commands=()
add_config() {
  labels+=("$1")
  commands+=("$2")
}
if [[ -x "$trainyard_bin" ]]; then
  add_config "trainyard, 1 thread" "$trainyard_bin --threads 1"
  if [[ "$cpus" -gt 1 ]]; then
    add_config "trainyard, $cpus threads" "$trainyard_bin --threads $cpus"
  fi
else
  note "trainyard skipped: $trainyard_bin not built yet (cmake --preset release && cmake --build --preset release --target cnn_bench)"
fi
if [[ "$keras_ready" -eq 1 ]]; then
  add_config "keras-tensorflow, model.fit" "$venv/bin/python $peers/keras_cnn.py"
fi
if "$torch_python" -c 'import torch' >/dev/null 2>&1; then
  if [[ -d "$blas_dir/openblas-pthread" ]]; then
    add_config "pytorch, OpenBLAS pthread, 1 thread" \
      "env LD_LIBRARY_PATH=$blas_dir/openblas-pthread OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 $torch_python $peers/torch_cnn.py --threads 1 --expect-blas pthread"
    # On one thread channels_last (NHWC, as trainyard and Keras lay images out) is torch's
    # faster layout here; on two, its default NCHW is.
    add_config "pytorch, OpenBLAS pthread, 1 thread, channels_last" \
      "env LD_LIBRARY_PATH=$blas_dir/openblas-pthread OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 $torch_python $peers/torch_cnn.py --threads 1 --expect-blas pthread --channels-last"
  else
    note "PyTorch with OpenBLAS pthread skipped: no $blas_dir/openblas-pthread (Debian package libopenblas0-pthread)"
  fi
  if [[ -d "$blas_dir/openblas-openmp" && "$cpus" -gt 1 ]]; then
    add_config "pytorch, OpenBLAS OpenMP, $cpus threads" \
      "env LD_LIBRARY_PATH=$blas_dir/openblas-openmp OMP_NUM_THREADS=$cpus $torch_python $peers/torch_cnn.py --threads $cpus --expect-blas openmp"
  else
    note "PyTorch with OpenBLAS OpenMP skipped: no $blas_dir/openblas-openmp (Debian package libopenblas0-openmp) or one CPU"
  fi
else
  note "PyTorch peer skipped: $torch_python cannot import torch (Debian package python3-torch)"
fi
if [[ ${#labels[@]} -eq 0 ]]; then
  note "nothing to run"
  exit 1
fi

# Runs one configuration on one workload; keeps its JSON line, logs its stderr.
run_one() {
  local label="$1" command="$2" workload="$3" round="$4"
  local args=(--workload "$workload")
  [[ "$workload" == steps_b64 ]] && args+=(--steps "$steps" --epochs "$epochs")
  echo "=== round $round, $workload, $label: $command ${args[*]}" >>"$log"
  local output status=0
  # shellcheck disable=SC2086  # the command string is split into words on purpose
  output="$(timeout "$timeout_s" $command "${args[@]}" 2>>"$log")" || status=$?
  local lines
  lines="$(grep '^{' <<<"$output" || true)"
  if [[ "$status" -ne 0 || -z "$lines" ]]; then
    local why="exit $status"
    [[ "$status" -eq 124 ]] && why="stopped after $timeout_s s"
    note "round $round, $workload, $label: FAILED ($why, see $log)"
    return 0
  fi
  echo "$lines" >>"$results"
  local value
  value="$(python3 -c 'import json,sys; r=json.loads(sys.stdin.readline()); print("%.2f %s, accuracy %s" % (r["value"], r["unit"], r["test_accuracy"]))' <<<"$lines")"
  note "round $round/$rounds, $workload, $label: $value"
}

started=$SECONDS
count=${#labels[@]}
for ((round = 1; round <= rounds; round++)); do
  # Rotate the order every round so no framework always runs first or last.
  for ((i = 0; i < count; i++)); do
    index=$(((i + round - 1) % count))
    run_one "${labels[$index]}" "${commands[$index]}" steps_b64 "$round"
  done
done
if [[ "$accuracy" -eq 1 ]]; then
  for ((i = 0; i < count; i++)); do
    run_one "${labels[$i]}" "${commands[$i]}" epoch_b64 accuracy
  done
fi
note "done in $((SECONDS - started)) s; results in $results"

python3 "$peers/cnn_report.py" "$results" --machine "$machine" | tee "${results%.jsonl}.md"
