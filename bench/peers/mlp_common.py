"""What every peer benchmark of the tutorial MLP shares: the command line, the
Fashion-MNIST reader, the workload definitions and the JSON line it prints.

Runs under Debian's /usr/bin/python3 (PyTorch) and under bench/.venv (Keras), so it
uses only the standard library and numpy calls that both numpy versions have.
"""

import argparse
import ctypes
import gzip
import json
import os
import platform
import statistics
import struct
import sys

import numpy as np

DEFAULT_DATA_DIR = "/usr/share/datasets/fashion-mnist"
WORKLOADS = {
    # name: (batch size, unit)
    "epoch_b32": (32, "s/epoch"),
    "epoch_b256": (256, "s/epoch"),
    "step_b1": (1, "us/step"),
}
FULL_EPOCHS = 10  # the tutorial's run, after which test accuracy is reported


def parse_args(description, extra=None):
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--workload", required=True, choices=sorted(WORKLOADS))
    parser.add_argument(
        "--epochs", type=int, default=None,
        help="passes over the data; the first is warm-up and the median of the others is "
        f"reported (default 3, or {FULL_EPOCHS} with --full)")
    parser.add_argument(
        "--full", action="store_true",
        help=f"epoch workloads: train {FULL_EPOCHS} epochs and report test accuracy")
    parser.add_argument(
        "--steps", type=int, default=2000,
        help="step_b1: training samples per pass, i.e. steps per timed block (default 2000)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--data-dir", default=os.environ.get("TRAINYARD_FASHION_MNIST", DEFAULT_DATA_DIR))
    if extra:
        extra(parser)
    args = parser.parse_args()
    if args.full and args.workload == "step_b1":
        args.full = False  # no accuracy for a 2000-sample, batch-1 run
    if args.epochs is None:
        args.epochs = FULL_EPOCHS if args.full else 3
    if args.epochs < 2:
        parser.error(f"--epochs must be >= 2 (the first pass is warm-up), got {args.epochs}")
    if args.steps < 1:
        parser.error(f"--steps must be >= 1, got {args.steps}")
    return args


def _read_idx(path, expected_dims):
    """Reads one gzip'd IDX file of unsigned bytes into a numpy array."""
    try:
        with gzip.open(path, "rb") as f:
            data = f.read()
    except OSError as error:
        sys.exit(f"cannot read {path}: {error} (Debian package: fashion-mnist)")
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 0x08:
        sys.exit(f"{path}: not an IDX file of unsigned bytes (magic {data[:4].hex()})")
    dims = data[3]
    if dims != expected_dims:
        sys.exit(f"{path}: expected {expected_dims} dimensions, found {dims}")
    shape = struct.unpack(f">{dims}I", data[4:4 + 4 * dims])
    body = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims)
    if body.size != int(np.prod(shape)):
        sys.exit(f"{path}: header says {shape} = {int(np.prod(shape))} bytes, "
                 f"file holds {body.size}")
    return body.reshape(shape)


def load_fashion_mnist(data_dir):
    """(x_train, y_train, x_test, y_test): images as float32 [N, 28, 28] scaled by 1/255,
    labels as int64 [N], exactly as the TensorFlow beginner tutorial prepares them."""
    def part(prefix):
        images = _read_idx(os.path.join(data_dir, f"{prefix}-images-idx3-ubyte.gz"), 3)
        labels = _read_idx(os.path.join(data_dir, f"{prefix}-labels-idx1-ubyte.gz"), 1)
        if images.shape[0] != labels.shape[0]:
            sys.exit(f"{data_dir}: {prefix} has {images.shape[0]} images "
                     f"but {labels.shape[0]} labels")
        return (images.astype(np.float32) / np.float32(255.0), labels.astype(np.int64))
    x_train, y_train = part("train")
    x_test, y_test = part("t10k")
    return x_train, y_train, x_test, y_test


def workload_data(args, x_train, y_train):
    """The training arrays and batch size one workload uses: the whole training set for
    the epoch workloads, the first --steps samples for step_b1 (one step per sample)."""
    batch_size, _ = WORKLOADS[args.workload]
    if args.workload == "step_b1":
        return x_train[:args.steps], y_train[:args.steps], batch_size
    return x_train, y_train, batch_size


def measurement(args, pass_seconds):
    """The reported value from each pass's wall time: the median over passes 2..k, in
    seconds per epoch, or in microseconds per step for step_b1."""
    steady = statistics.median(pass_seconds[1:])
    if args.workload == "step_b1":
        return steady / args.steps * 1e6
    return steady


def emit(framework, config, args, value, test_accuracy, versions):
    """Prints the one JSON line per measurement that bench/peers/report.py reads."""
    line = {
        "framework": framework,
        "config": config,
        "workload": args.workload,
        "value": round(value, 6),
        "unit": WORKLOADS[args.workload][1],
        "test_accuracy": None if test_accuracy is None else round(float(test_accuracy), 4),
        "versions": versions,
    }
    print(json.dumps(line), flush=True)


def base_versions():
    return {"python": platform.python_version(), "numpy": np.__version__}


def loaded_libraries(*needles):
    """Paths of the shared libraries mapped into this process whose names contain any of
    the needles: what the dynamic linker really picked, whatever the alternatives say."""
    found = set()
    with open("/proc/self/maps") as maps:
        for line in maps:
            fields = line.split()
            if len(fields) >= 6 and any(n in os.path.basename(fields[5]) for n in needles):
                found.add(fields[5])
    return sorted(found)


def openblas_description():
    """'OpenBLAS 0.3.21 ... (openmp, 2 threads) from <dir>' for the OpenBLAS this process
    has loaded, or None when none is loaded (e.g. the reference BLAS)."""
    for path in loaded_libraries("openblas"):
        try:
            lib = ctypes.CDLL(path)
            lib.openblas_get_config.restype = ctypes.c_char_p
            config = lib.openblas_get_config().decode()
            parallel = {0: "sequential", 1: "pthread", 2: "openmp"}.get(
                lib.openblas_get_parallel(), "unknown")
            threads = lib.openblas_get_num_threads()
        except (OSError, AttributeError):
            continue
        return {"config": config, "parallel": parallel, "threads": threads,
                "dir": os.path.dirname(path)}
    return None


def log(message):
    print(message, file=sys.stderr, flush=True)
