"""Keras 3 peer: the TensorFlow beginner tutorial's MLP on Fashion-MNIST, trained with
model.fit exactly as the tutorial and its users run it, timed per epoch. Prints one JSON line.

Run with bench/.venv/bin/python (keras and tensorflow-cpu from requirements-keras.txt).
"""

import os
import time

import mlp_common as common

os.environ["KERAS_BACKEND"] = "tensorflow"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TF's start-up chatter off stderr


def add_arguments(parser):
    parser.add_argument(
        "--steps-per-execution", type=int, default=1,
        help="compile(steps_per_execution=N): N batches per call into TensorFlow. Not the "
        "default users get; compare_mlp.sh reports plain fit (1)")


def main():
    args = common.parse_args(__doc__.splitlines()[0], add_arguments)
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(args.seed)
    x_train, y_train, x_test, y_test = common.load_fashion_mnist(args.data_dir)
    x, y, batch_size = common.workload_data(args, x_train, y_train)

    model = keras.Sequential([
        keras.Input(shape=(28, 28)),
        keras.layers.Flatten(),
        keras.layers.Dense(128, activation="relu"),
        keras.layers.Dense(10),
    ])
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=1e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
        steps_per_execution=args.steps_per_execution,
    )

    class EpochTimer(keras.callbacks.Callback):
        # Epoch hooks only: a batch hook would make Keras fetch logs after every step.
        def __init__(self):
            super().__init__()
            self.seconds = []

        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.seconds.append(time.perf_counter() - self.start)

    timer = EpochTimer()
    model.fit(x, y, batch_size=batch_size, epochs=args.epochs, shuffle=True, verbose=0,
              callbacks=[timer])
    common.log("epoch seconds: " + ", ".join(f"{s:.3f}" for s in timer.seconds))

    test_accuracy = None
    if args.full and args.workload != "step_b1":
        test_accuracy = model.evaluate(x_test, y_test, verbose=0, return_dict=True)["accuracy"]

    intra = tf.config.threading.get_intra_op_parallelism_threads() or "auto"
    inter = tf.config.threading.get_inter_op_parallelism_threads() or "auto"
    config = (f"model.fit(verbose=0), jit_compile={model.jit_compile} (auto), "
              f"steps_per_execution={args.steps_per_execution}, "
              f"TF threads intra={intra} inter={inter} on {os.cpu_count()} CPUs")
    versions = common.base_versions()
    versions.update({"keras": keras.__version__, "tensorflow": tf.__version__})
    common.emit("keras-tensorflow", config, args, common.measurement(args, timer.seconds),
                test_accuracy, versions)


if __name__ == "__main__":
    main()
