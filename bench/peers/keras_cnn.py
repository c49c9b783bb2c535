"""Keras 3 peer: the small CNN on Fashion-MNIST at batch 64, trained with model.fit as Keras's
own examples do, timed per epoch. Prints one JSON line.

Run with bench/.venv/bin/python (keras and tensorflow-cpu from requirements-keras.txt).
"""

import os
import time

import cnn_common as common

os.environ["KERAS_BACKEND"] = "tensorflow"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TF's start-up chatter off stderr


def add_arguments(parser):
    parser.add_argument("--intra-op-threads", type=int, default=0,
                        help="tf.config.threading.set_intra_op_parallelism_threads (0: TF's choice)")
    parser.add_argument("--inter-op-threads", type=int, default=0,
                        help="tf.config.threading.set_inter_op_parallelism_threads (0: TF's choice)")


def main():
    args = common.parse_args(__doc__.splitlines()[0], add_arguments)
    import keras
    import tensorflow as tf

    # Must happen before TensorFlow runs anything.
    if args.intra_op_threads:
        tf.config.threading.set_intra_op_parallelism_threads(args.intra_op_threads)
    if args.inter_op_threads:
        tf.config.threading.set_inter_op_parallelism_threads(args.inter_op_threads)

    keras.utils.set_random_seed(args.seed)
    x, y, x_test, y_test = common.load_data(args)

    model = keras.Sequential([
        keras.Input(shape=(28, 28, 1)),
        keras.layers.Conv2D(32, 3, activation="relu"),
        keras.layers.MaxPooling2D(2),
        keras.layers.Conv2D(64, 3, activation="relu"),
        keras.layers.MaxPooling2D(2),
        keras.layers.Flatten(),
        keras.layers.Dense(128, activation="relu"),
        keras.layers.Dense(10),
    ])
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=1e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
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
    model.fit(x, y, batch_size=common.BATCH_SIZE, epochs=args.epochs, shuffle=True, verbose=0,
              callbacks=[timer])
    common.log("pass seconds: " + ", ".join(f"{s:.3f}" for s in timer.seconds))

    test_accuracy = None
    if args.workload == "epoch_b64":
        test_accuracy = model.evaluate(x_test, y_test, verbose=0, return_dict=True)["accuracy"]

    intra = tf.config.threading.get_intra_op_parallelism_threads() or "auto"
    inter = tf.config.threading.get_inter_op_parallelism_threads() or "auto"
    onednn = os.environ.get("TF_ENABLE_ONEDNN_OPTS", "default (on)")
    config = (f"model.fit(verbose=0), jit_compile={model.jit_compile} (auto), "
              f"TF threads intra={intra} inter={inter} on {os.cpu_count()} CPUs, "
              f"TF_ENABLE_ONEDNN_OPTS={onednn}")
    versions = common.base_versions()
    versions.update({"keras": keras.__version__, "tensorflow": tf.__version__})
    common.emit("keras-tensorflow", config, args, common.measurement(args, timer.seconds),
                test_accuracy, versions)


if __name__ == "__main__":
    main()
