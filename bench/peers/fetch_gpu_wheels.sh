#!/usr/bin/env bash
# Downloads, into .whl/ at the repository root, the Keras 3 wheels that bench/peers/keras_gpu.py
# needs on the lent GPU machine: that machine has Python 3.12, torch and Keras's other
# dependencies (numpy, h5py, absl-py, rich, ml-dtypes, packaging) but no internet, so Keras
# and the two packages it adds travel with the working tree. Pinned, so every run measures
# the same Keras; keras matches requirements-keras.txt. --no-deps: the rest is already there.
# Usage (from anywhere, needs internet): bench/peers/fetch_gpu_wheels.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
rm -rf .whl
python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
  --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 \
  --platform manylinux2014_x86_64 --platform any \
  -d .whl keras==3.15.1 namex==0.1.0 optree==0.20.0
ls .whl
