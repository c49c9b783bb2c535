#!/usr/bin/env bash
# trainyard's checks on a machine with an NVIDIA GPU (driver, CUDA 13, cuDNN 9): trainyard
# doctor, the CUDA backend's tests, the Fashion-MNIST MLP and CNN trained on the GPU (test
# accuracies), the MLP, CNN and bfloat16 GEMM benchmarks beside PyTorch and Keras on the same
# GPU, and compute-sanitizer memcheck on short training runs; then a short table. With .gpu-bundle/bundle.tar.xz (made by
# scripts/gpu-bundle) it runs those prebuilt programs; without one it builds with CMake here,
# which needs the libraries scripts/setup installs. Full logs go to $OUT (or gpu-check-logs/).
# Usage: [GPU_CHECK_ONLY=REGEX] scripts/gpu-check.sh [MLP_EPOCHS]
set -uo pipefail
cd "$(dirname "$0")/.."
mlp_epochs="${1:-5}"
logs="${OUT:-gpu-check-logs}"
mkdir -p "$logs"
work=$(mktemp -d)
if [ -f .gpu-bundle/bundle.tar.xz ]; then
  tar -C "$work" -xJf .gpu-bundle/bundle.tar.xz
  bin="$work/bin" data="$work/data" peers="$work/peers"
  export LD_LIBRARY_PATH="$work/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
else
  cmake -S . -B build/gpu -G Ninja -DCMAKE_BUILD_TYPE=Release >"$logs/build.log" 2>&1 &&
    cmake --build build/gpu --target cuda_backend_test keras_cuda_model_test fashion_mnist \
      fashion_mnist_cnn mlp_bench cnn_bench gemm_bench trainyard advisor_cuda_memory_estimate_test >>"$logs/build.log" 2>&1 || { tail -30 "$logs/build.log"; exit 1; }
  mkdir -p "$work/bin"
  for program in tests/backend/cuda/cuda_backend_test tests/keras/keras_cuda_model_test \
    tests/advisor/advisor_cuda_memory_estimate_test \
    examples/fashion_mnist \
    examples/fashion_mnist_cnn bench/mlp_bench bench/cnn_bench bench/gemm_bench src/cli/trainyard; do
    ln -s "$PWD/build/gpu/$program" "$work/bin/"
  done
  bin="$work/bin" data=/usr/share/datasets/fashion-mnist peers=bench/peers
fi
# cuBLAS, cuDNN and NCCL may live in the toolkit or inside the Python environment's
# nvidia/* packages.
extra=$(python3 -c "import glob, os, site
for s in site.getsitepackages():
    for d in sorted(glob.glob(os.path.join(s, 'nvidia', '*', 'lib'))): print(d)" 2>/dev/null |
  paste -sd:)
export LD_LIBRARY_PATH="$LD_LIBRARY_PATH:/usr/local/cuda/lib64${extra:+:$extra}"
export TRAINYARD_FASHION_MNIST="$data"
export TRAINYARD_SOURCE_DIR="$PWD"  # tests that read examples/ find them here

table=()
# check NAME TIMEOUT COMMAND...: runs it, keeps its log, adds a row: status, seconds, figure.
# GPU_CHECK_ONLY=REGEX runs only the checks whose names match (a targeted rerun).
check() {
  local name=$1 limit=$2
  shift 2
  if [ -n "${GPU_CHECK_ONLY:-}" ] && ! [[ $name =~ $GPU_CHECK_ONLY ]]; then return; fi
  local start=$SECONDS
  timeout "$limit" "$@" >"$logs/$name.log" 2>&1
  local status=$?
  local figure
  figure=$(figure_of "$name")
  table+=("$(printf '%-22s %-6s %5ss  %s' "$name" "$([ $status -eq 0 ] && echo ok || echo "rc=$status")" \
    $((SECONDS - start)) "$figure")")
  printf '%s\n' "${table[-1]}"
}
figure_of() {
  local log="$logs/$1.log"
  case "$1" in
    cuda-tests|cuda-model-tests|cuda-memory-estimate) grep -E "^\[  (PASSED|FAILED|SKIPPED) *\]" "$log" | grep -v "\]  *[A-Z]" | paste -sd' ' ;;
    memcheck-*) grep -E "ERROR SUMMARY" "$log" | tail -1 ;;
    mlp-accuracy|cnn-accuracy) grep -E "Test accuracy" "$log" | tail -1 ;;
    bench-gemm*) grep -E "^gemm_bench " "$log" | tail -1 | grep -oE "(cublas_tflops|model_tflops|fraction|step_ms|products_only_ms|beyond_products_ms|layer_products_ms)=[^ ]*" | paste -sd' ' ;;
    doctor) tail -1 "$log" ;;
    bench-*) tail -1 "$log" | python3 -c "import json, sys
try:
    line = json.loads(sys.stdin.read())
    print(line['framework'], line['workload'], line['value'], line['unit'], '|', line['config'][:70])
except Exception as error:
    print('no JSON line:', error)" ;;
  esac
}

nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$logs/gpu.txt"
check doctor 60 "$bin/trainyard" doctor
check cuda-tests 240 "$bin/cuda_backend_test" --gtest_color=no
check cuda-model-tests 120 "$bin/keras_cuda_model_test" --gtest_color=no
check cuda-memory-estimate 120 "$bin/advisor_cuda_memory_estimate_test" --gtest_color=no
check mlp-accuracy 240 "$bin/fashion_mnist" --device cuda:0 --epochs "$mlp_epochs" --verbose 2 \
  --data-dir "$data"
check cnn-accuracy 240 "$bin/fashion_mnist_cnn" --device cuda:0 --verbose 2 --data-dir "$data" \
  --checkpoint-dir "$work/checkpoints"
# Keras 3 reaches a machine without internet as wheels in .whl/ (bench/peers/fetch_gpu_wheels.sh).
keras_site=""
if ls .whl/keras-*.whl >/dev/null 2>&1 &&
  python3 -m pip install -q --no-index --no-deps --no-compile --target "$work/site" .whl/*.whl \
    >"$logs/keras-install.log" 2>&1; then
  keras_site="$work/site"
fi
check bench-mlp-trainyard 120 "$bin/mlp_bench" --workload epoch_b32 --epochs 3 --device cuda:0
check bench-mlp-torch 120 python3 "$peers/torch_mlp_gpu.py" --workload epoch_b32 \
  --data-dir "$data" --epochs 3
check bench-mlp-torch-graphs 120 python3 "$peers/torch_mlp_gpu.py" --workload epoch_b32 \
  --data-dir "$data" --epochs 3 --cuda-graphs
check bench-cnn-trainyard 120 "$bin/cnn_bench" --workload epoch_b256 --epochs 3 --device cuda:0
check bench-gemm 180 "$bin/gemm_bench" --device cuda:0
check bench-gemm-again 180 "$bin/gemm_bench" --device cuda:0
check bench-cnn-torch 120 python3 "$peers/torch_cnn_gpu.py" --data-dir "$data" --epochs 3
if [ -n "$keras_site" ]; then
  check bench-mlp-keras 150 env PYTHONPATH="$keras_site" python3 "$peers/keras_gpu.py" --model mlp \
    --data-dir "$data" --epochs 3
  check bench-cnn-keras 150 env PYTHONPATH="$keras_site" python3 "$peers/keras_gpu.py" --model cnn \
    --data-dir "$data" --epochs 3
fi
check memcheck-mlp 150 compute-sanitizer --tool memcheck --error-exitcode 9 "$bin/mlp_bench" \
  --workload step_b1 --steps 50 --epochs 2 --device cuda:0
check memcheck-gemm 120 compute-sanitizer --tool memcheck --error-exitcode 9 "$bin/gemm_bench" \
  --device cuda:0 --width 264 --batch 72 --steps 2 --warmup 1
check memcheck-cnn 150 compute-sanitizer --tool memcheck --error-exitcode 9 "$bin/cnn_bench" \
  --workload steps_b64 --steps 5 --epochs 2 --device cuda:0
echo
echo "== gpu-check: $(cat "$logs/gpu.txt")"
printf '%s\n' "${table[@]}"
grep -hE "^\[  FAILED  \]" "$logs"/cuda-*tests.log | head -20 || true
