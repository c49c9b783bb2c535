#!/usr/bin/env bash
# Measures what running training as a trainyard job costs: the Fashion-MNIST example job run
# with `trainyard train`, side by side with a bare run of the same trainer (`trainyard
# builtin-train` with the SM_* environment laid out by hand), alternating, and reports the
# time from start to the first training step and from the last step to the job's end.
# Target: under 0.5 s of overhead in all. See docs/benchmarks.md ("Job overhead").
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: bench/job_overhead.sh [--rounds N] [--warmup W] [--epochs K] [--build-dir DIR]
                             [--no-build] [--data-dir DIR] [--keep-data] [--timeout S]

  --rounds N       measured rounds, each one job and one bare run, alternating which goes
                   first; each figure is the median over rounds (default 7)
  --warmup W       rounds run first and left out (default 1)
  --epochs K       epochs of the example job's 60,000 images (default 1)
  --build-dir DIR  build trainyard (Release) here (default: the release preset's build/release)
  --no-build       use the trainyard already built in the build directory
  --data-dir DIR   trainyard's data directory for the jobs (default: a new folder under the
                   build directory, removed at the end unless --keep-data)
  --timeout S      seconds one run may take before it is stopped and counted failed (600)

Results: bench/results/<UTC timestamp>-job-overhead.{jsonl,md,machine.json,log}.
EOF
}

rounds=7
warmup=1
epochs=1
build_dir=""
build=1
data_dir=""
keep_data=0
timeout_s=600
while [[ $# -gt 0 ]]; do
  case "$1" in
    --rounds) rounds="${2:?--rounds needs a number}"; shift ;;
    --warmup) warmup="${2:?--warmup needs a number}"; shift ;;
    --epochs) epochs="${2:?--epochs needs a number}"; shift ;;
    --build-dir) build_dir="${2:?--build-dir needs a folder}"; shift ;;
    --no-build) build=0 ;;
    --data-dir) data_dir="${2:?--data-dir needs a folder}"; shift ;;
    --keep-data) keep_data=1 ;;
    --timeout) timeout_s="${2:?--timeout needs seconds}"; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "job_overhead.sh: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
  shift
done
for pair in "rounds:$rounds" "epochs:$epochs" "timeout:$timeout_s"; do
  if ! [[ "${pair#*:}" =~ ^[1-9][0-9]*$ ]]; then
    echo "job_overhead.sh: --${pair%%:*} must be a positive integer, got '${pair#*:}'" >&2; exit 2
  fi
done
if ! [[ "$warmup" =~ ^[0-9]+$ ]]; then
  echo "job_overhead.sh: --warmup must be a non-negative integer, got '$warmup'" >&2; exit 2
fi

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
note() { echo "job_overhead.sh: $*" >&2; }

if [[ -z "$build_dir" ]]; then
  build_dir="$root/build/release"
  [[ "$build" -eq 1 ]] && cmake --preset release >/dev/null
else
  mkdir -p "$build_dir"
  build_dir="$(cd "$build_dir" && pwd)"
  [[ "$build" -eq 1 ]] && cmake -S "$root" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
if [[ "$build" -eq 1 ]]; then
  note "building trainyard in $build_dir"
  cmake --build "$build_dir" --target trainyard
fi
trainyard="$build_dir/src/cli/trainyard"
if [[ ! -x "$trainyard" ]]; then
  note "$trainyard is not built (run without --no-build)"
  exit 1
fi

stamp="$(date -u +%Y%m%dT%H%M%SZ)"
made_data_dir=0
if [[ -z "$data_dir" ]]; then
  data_dir="$build_dir/job-overhead-$stamp"
  made_data_dir=1
fi
mkdir -p "$data_dir"
data_dir="$(cd "$data_dir" && pwd)"
cleanup() {
  if [[ "$made_data_dir" -eq 1 && "$keep_data" -eq 0 ]]; then rm -rf "$data_dir"; fi
}
trap cleanup EXIT
scripts/stage-example-data "$data_dir" >/dev/null

mkdir -p "$root/bench/results"
results="$root/bench/results/$stamp-job-overhead"
note "$rounds rounds (+$warmup warm-up) with $trainyard; data in $data_dir"
python3 "$root/bench/job_overhead.py" run --trainyard "$trainyard" --data-dir "$data_dir" \
  --results "$results" --stamp "$stamp" --rounds "$rounds" --warmup "$warmup" \
  --epochs "$epochs" --timeout "$timeout_s"
note "results in $results.{jsonl,md,machine.json,log}"
