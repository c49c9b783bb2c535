"""What every peer benchmark of the small CNN shares: the command line, the workloads and the
JSON line it prints. The Fashion-MNIST reader and the library probes come from mlp_common.

The model: Conv2D(32, 3x3, relu) -> MaxPool(2) -> Conv2D(64, 3x3, relu) -> MaxPool(2) ->
Flatten -> Dense(128, relu) -> Dense(10) logits, Adam, sparse categorical cross-entropy from
logits, pixels scaled by 1/255, batch 64.
"""

import argparse
import os
import statistics

import mlp_common
from mlp_common import base_versions, loaded_libraries, log, openblas_description  # noqa: F401

BATCH_SIZE = 64
STEPS_PER_EPOCH = 938  # ceil(60000 / 64)
WORKLOADS = ("steps_b64", "epoch_b64")


def parse_args(description, extra=None):
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--workload", required=True, choices=WORKLOADS)
    parser.add_argument(
        "--epochs", type=int, default=None,
        help="steps_b64: passes of --steps batches, the first warm-up, the median of the others "
        "reported (default 3); epoch_b64: epochs trained before the test accuracy (default 1)")
    parser.add_argument("--steps", type=int, default=200,
                        help="steps_b64: batches per pass (default 200)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--data-dir",
        default=os.environ.get("TRAINYARD_FASHION_MNIST", mlp_common.DEFAULT_DATA_DIR))
    if extra:
        extra(parser)
    args = parser.parse_args()
    steps = args.workload == "steps_b64"
    if args.epochs is None:
        args.epochs = 3 if steps else 1
    if steps and args.epochs < 2:
        parser.error(f"--epochs must be >= 2 (the first pass is warm-up), got {args.epochs}")
    if args.epochs < 1:
        parser.error(f"--epochs must be >= 1, got {args.epochs}")
    if not 1 <= args.steps <= STEPS_PER_EPOCH:
        parser.error(f"--steps must be in [1, {STEPS_PER_EPOCH}], got {args.steps}")
    return args


def load_data(args):
    """(x_train, y_train, x_test, y_test) with images as float32 [N, 28, 28, 1]; for steps_b64
    the training arrays are the first --steps * 64 images, reshuffled every pass."""
    x_train, y_train, x_test, y_test = mlp_common.load_fashion_mnist(args.data_dir)
    x_train = x_train.reshape(-1, 28, 28, 1)
    x_test = x_test.reshape(-1, 28, 28, 1)
    if args.workload == "steps_b64":
        count = args.steps * BATCH_SIZE
        x_train, y_train = x_train[:count], y_train[:count]
    return x_train, y_train, x_test, y_test


def measurement(args, pass_seconds):
    """steps_b64: seconds per 938-step epoch extrapolated from the median of passes 2..k;
    epoch_b64: the last epoch's wall time (warm-up included when it is the only one)."""
    if args.workload == "steps_b64":
        return statistics.median(pass_seconds[1:]) / args.steps * STEPS_PER_EPOCH
    return pass_seconds[-1]


def emit(framework, config, args, value, test_accuracy, versions):
    """Prints the one JSON line per measurement that bench/peers/cnn_report.py reads."""
    line = {
        "framework": framework,
        "config": config,
        "workload": args.workload,
        "value": round(value, 6),
        "unit": "s/epoch",
        "test_accuracy": None if test_accuracy is None else round(float(test_accuracy), 4),
        "versions": versions,
    }
    if args.workload == "steps_b64":
        line["steps_timed"] = args.steps
    print(mlp_common.json.dumps(line), flush=True)
