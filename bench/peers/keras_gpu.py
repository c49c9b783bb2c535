"""Keras 3 peer on a GPU, on its torch backend: the tutorial MLP or the small CNN on
Fashion-MNIST, trained with model.fit(verbose=0) as users run it, timed per full epoch.
Prints one JSON line like the CPU peers.

The lent GPU machine has torch but no Keras and no internet, so the wheels travel with the
working tree: bench/peers/fetch_gpu_wheels.sh fills .whl/ (run it here first), and there
    python3 -m pip install -q --no-index --no-deps --no-compile --target /tmp/site .whl/*.whl
    PYTHONPATH=/tmp/site python3 bench/peers/keras_gpu.py --model mlp
(Keras's other dependencies, numpy, h5py, absl-py, rich, ml-dtypes and packaging, are there.)

The data go to fit as numpy arrays, as in the tutorial: Keras's torch backend moves each batch
to the GPU itself, and that copy is part of what a user waits for, so it is timed.
"""

import argparse
import os
import statistics
import sys
import time

import cnn_common
import mlp_common

# Must be set before keras is first imported: it picks its backend once, at import.
os.environ["KERAS_BACKEND"] = "torch"

DEFAULT_BATCH_SIZE = {"mlp": 32, "cnn": 256}


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=sorted(DEFAULT_BATCH_SIZE), default="mlp")
    parser.add_argument("--epochs", type=int, default=3,
                        help="full epochs; the first is warm-up, the median of the others is "
                        "reported (default 3)")
    parser.add_argument("--batch-size", type=int, default=None,
                        help="default 32 for mlp (epoch_b32), 256 for cnn")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--data-dir",
        default=os.environ.get("TRAINYARD_FASHION_MNIST", mlp_common.DEFAULT_DATA_DIR))
    args = parser.parse_args()
    if args.batch_size is None:
        args.batch_size = DEFAULT_BATCH_SIZE[args.model]
    if args.epochs < 2:
        parser.error(f"--epochs must be >= 2 (the first pass is warm-up), got {args.epochs}")
    if args.batch_size < 1:
        parser.error(f"--batch-size must be >= 1, got {args.batch_size}")
    args.workload = f"epoch_b{args.batch_size}"  # the field the JSON line reports
    return args


def build(keras, name):
    """The same layers as keras_mlp.py / keras_cnn.py (Keras's default initializers)."""
    if name == "mlp":
        layers = [keras.Input(shape=(28, 28)), keras.layers.Flatten(),
                  keras.layers.Dense(128, activation="relu"), keras.layers.Dense(10)]
    else:
        layers = [keras.Input(shape=(28, 28, 1)),
                  keras.layers.Conv2D(32, 3, activation="relu"), keras.layers.MaxPooling2D(2),
                  keras.layers.Conv2D(64, 3, activation="relu"), keras.layers.MaxPooling2D(2),
                  keras.layers.Flatten(), keras.layers.Dense(128, activation="relu"),
                  keras.layers.Dense(10)]
    return keras.Sequential(layers)


def main():
    args = parse_args()
    # torch first: a clear message without CUDA, rather than Keras quietly training on the CPU.
    import torch
    if not torch.cuda.is_available():
        sys.exit(f"keras_gpu.py: CUDA is not available to torch {torch.__version__} "
                 f"(built for CUDA {torch.version.cuda}); this peer runs on a GPU only")
    try:
        import keras
    except ImportError as error:
        sys.exit(f"keras_gpu.py: {error}; install the wheels from bench/peers/fetch_gpu_wheels.sh"
                 " into /tmp/site and set PYTHONPATH=/tmp/site (see this file's docstring)")
    if keras.backend.backend() != "torch":
        sys.exit(f"keras_gpu.py: Keras picked the {keras.backend.backend()} backend, not torch")

    keras.utils.set_random_seed(args.seed)
    x, y, x_test, y_test = mlp_common.load_fashion_mnist(args.data_dir)
    if args.model == "cnn":
        x, x_test = x.reshape(-1, 28, 28, 1), x_test.reshape(-1, 28, 28, 1)

    model = build(keras, args.model)
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=1e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )

    class EpochTimer(keras.callbacks.Callback):
        # Epoch hooks only: a batch hook would make Keras fetch logs after every step. The
        # GPU runs behind Python, so each hook waits for it before reading the clock.
        def __init__(self):
            super().__init__()
            self.seconds = []

        def on_epoch_begin(self, epoch, logs=None):
            torch.cuda.synchronize()
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            torch.cuda.synchronize()
            self.seconds.append(time.perf_counter() - self.start)

    timer = EpochTimer()
    model.fit(x, y, batch_size=args.batch_size, epochs=args.epochs, shuffle=True, verbose=0,
              callbacks=[timer])
    mlp_common.log("epoch seconds: " + ", ".join(f"{s:.3f}" for s in timer.seconds))
    # Logged, not reported: it is after --epochs epochs, not a workload's fixed count.
    accuracy = model.evaluate(x_test, y_test, verbose=0, return_dict=True)["accuracy"]
    mlp_common.log(f"test accuracy after {args.epochs} epochs: {accuracy:.4f}")

    weights_device = model.trainable_weights[0].value.device
    config = (f"{args.model}, model.fit(verbose=0), jit_compile={model.jit_compile} (auto), "
              f"batch {args.batch_size}, weights on {weights_device} "
              f"({torch.cuda.get_device_name(0)}), numpy data")
    versions = mlp_common.base_versions()
    versions.update({"keras": keras.__version__, "torch": torch.__version__})
    # cnn_common.emit prints the same fields as mlp_common.emit does for an epoch workload,
    # and takes any batch size.
    cnn_common.emit("keras-torch", config, args, statistics.median(timer.seconds[1:]), None,
                    versions)


if __name__ == "__main__":
    main()
