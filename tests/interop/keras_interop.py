"""Keras's half of scripts/interop-test: real Keras 3 judges trainyard's model files.

  keras_interop.py write DIR   builds the models tests/interop/interop_models.cpp builds,
                               trains each a few steps with model.fit and saves NAME.keras,
                               NAME.weights.h5, legacy NAME.h5, NAME.json (to_json), the inputs
                               (NAME.inputs.K.npy, one per model input) and NAME.predictions.npy
                               for `interop_models check`.
  keras_interop.py check DIR   loads every model trainyard wrote into DIR each way Keras can
                               (load_model on NAME.keras and on legacy NAME.h5; model_from_json
                               on NAME.json plus load_weights on NAME.weights.h5) and compares
                               the predictions.

Run with KERAS_BACKEND=jax (scripts/interop-test sets it): the lightest CPU backend.
"""

import json
import logging
import os
import sys
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "jax")

import keras  # noqa: E402
import numpy as np  # noqa: E402

# float32 forward passes in two engines differ by summation order only; 1e-5 relative is a few
# ulps over these small models, and far below what a wrong weight or layout gives.
TOLERANCE = 1e-5


def uniform(rng, shape):
    return rng.uniform(-1, 1, size=shape).astype("float32")


def build_bn_cnn():
    """interop_models.cpp's build_bn_cnn: each side also loads the other's .weights.h5 into the
    model built in code, besides the .keras, .json and legacy .h5 forms."""
    image = keras.Input((8, 8, 2), name="image")
    h = keras.layers.Conv2D(4, 3)(image)
    h = keras.layers.BatchNormalization(momentum=0.5)(h)
    h = keras.layers.Activation("relu")(h)
    h = keras.layers.MaxPooling2D(2)(h)
    h = keras.layers.Flatten()(h)
    return keras.Model(image, keras.layers.Dense(3)(h), name="bn_cnn")


def models(rng):
    """(name, model, inputs, targets): the kinds interop_models.cpp writes, built by Keras."""
    mlp = keras.Sequential(
        [
            keras.Input((8,)),
            keras.layers.Dense(16, activation="relu"),
            keras.layers.Dropout(0.25),
            keras.layers.Dense(3, activation="softmax"),
        ],
        name="mlp",
    )
    mlp.compile(optimizer=keras.optimizers.Adam(1e-2), loss="categorical_crossentropy")
    yield "mlp", mlp, [uniform(rng, (64, 8))], np.eye(3, dtype="float32")[np.arange(64) % 3]

    image = keras.Input((8, 8, 2), name="image")
    h = keras.layers.Conv2D(4, 3, activation="relu")(image)
    h = keras.layers.MaxPooling2D(2)(h)
    h = keras.layers.Flatten()(h)
    cnn = keras.Model(image, keras.layers.Dense(3)(h), name="cnn")
    cnn.compile(optimizer=keras.optimizers.SGD(0.05, momentum=0.9), loss="mse")
    yield "cnn", cnn, [uniform(rng, (64, 8, 8, 2))], uniform(rng, (64, 3))

    a, b = keras.Input((6,), name="a"), keras.Input((4,), name="b")
    joined = keras.layers.Concatenate()([keras.layers.Dense(8, activation="tanh")(a), b])
    two = keras.Model([a, b], keras.layers.Dense(2)(joined), name="two_inputs")
    two.compile(optimizer="rmsprop", loss="mse")
    yield "two_inputs", two, [uniform(rng, (64, 6)), uniform(rng, (64, 4))], uniform(rng, (64, 2))

    bn = build_bn_cnn()
    bn.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mse")
    yield "bn_cnn", bn, [uniform(rng, (64, 8, 8, 2))], uniform(rng, (64, 3))

    tokens = keras.Sequential(
        [
            keras.Input((6,)),
            keras.layers.Embedding(12, 4),
            keras.layers.LayerNormalization(),
            keras.layers.Conv1D(3, 2, padding="causal", activation="relu"),
            keras.layers.Flatten(),
            keras.layers.Dense(2),
        ],
        name="tokens",
    )
    tokens.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mse")
    # Token ids as float32, as trainyard's npy inputs are; Embedding casts them to int32.
    ids = rng.integers(0, 12, size=(64, 6)).astype("float32")
    yield "tokens", tokens, [ids], uniform(rng, (64, 2))


def write(directory):
    keras.utils.set_random_seed(2026)
    rng = np.random.default_rng(2026)
    for name, model, x, y in models(rng):
        x = x[0] if len(x) == 1 else x  # a one-input model takes its array, not a list
        model.fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=0)
        path = lambda suffix: str(directory / (name + suffix))  # noqa: E731
        model.save_weights(path(".weights.h5"))
        model.save(path(".keras"))
        # The legacy HDF5 format, which Keras 3 still writes with a warning that it is legacy;
        # the warning says nothing here, so it is kept out of the test's output.
        logging.getLogger("absl").setLevel(logging.ERROR)
        model.save(path(".h5"))
        Path(path(".json")).write_text(model.to_json())
        for i, array in enumerate(x if isinstance(x, list) else [x]):
            np.save(path(f".inputs.{i}.npy"), array)
        np.save(path(".predictions.npy"), model.predict(x, batch_size=64, verbose=0))
        print(f"wrote {name} (.keras, .weights.h5, legacy .h5, .json)")


def relative_error(actual, expected):
    if actual.shape != expected.shape:
        return float("inf")
    difference = np.linalg.norm(actual.astype("float64") - expected.astype("float64"))
    return difference / max(np.linalg.norm(expected.astype("float64")), 1e-30)


def config_difference(text):
    """None when Keras, reading trainyard's to_json text, writes every layer's config and
    build_config back unchanged (the same keys, order and values); otherwise the first
    difference."""
    written = json.loads(text)
    rewritten = json.loads(keras.models.model_from_json(text).to_json())
    if len(written["config"]["layers"]) != len(rewritten["config"]["layers"]):
        return "the number of layers differs"
    pairs = zip(written["config"]["layers"], rewritten["config"]["layers"])
    for index, (ours, theirs) in enumerate(pairs):
        where = f"layers[{index}] ({theirs['class_name']})"
        for part in ("config", "build_config"):
            mine, keras_part = ours.get(part) or {}, theirs.get(part) or {}
            if list(mine) != list(keras_part):
                return f"{where} {part} keys: {list(mine)} != {list(keras_part)}"
            for key in mine:
                if mine[key] != keras_part[key]:
                    return f"{where} {part}[{key!r}]: {mine[key]!r} != {keras_part[key]!r}"
    return None


def check(directory):
    names = sorted(p.name[: -len(".predictions.npy")] for p in directory.glob("*.predictions.npy"))
    if not names:
        print(f"keras_interop.py check: no NAME.predictions.npy in {directory}", file=sys.stderr)
        return 1
    checks = failures = 0
    for name in names:
        path = lambda suffix: directory / (name + suffix)  # noqa: E731
        x, i = [], 0
        while path(f".inputs.{i}.npy").exists():
            x.append(np.load(path(f".inputs.{i}.npy")))
            i += 1
        x = x[0] if len(x) == 1 else x  # a one-input model takes its array, not a list
        expected = np.load(path(".predictions.npy"))

        def from_json():
            model = keras.models.model_from_json(path(".json").read_text())
            model.load_weights(str(path(".weights.h5")))
            return model

        def from_code():
            model = build_bn_cnn()
            model.load_weights(str(path(".weights.h5")))
            return model

        if path(".json").exists():
            checks += 1
            difference = config_difference(path(".json").read_text())
            failures += difference is not None
            print(f"{'FAIL ' if difference else 'ok   '}{name} layer configs: "
                  + (difference or "Keras writes them back unchanged"))

        # Each way of loading runs on its own, so one failure does not hide the others.
        for form, needed, load in [
            (".keras", ".keras", lambda: keras.saving.load_model(str(path(".keras")))),
            ("legacy .h5", ".h5", lambda: keras.saving.load_model(str(path(".h5")))),
            (".json + .weights.h5", ".json", from_json),
        ] + ([("built in code + .weights.h5", ".weights.h5", from_code)] if name == "bn_cnn" else []):
            if not path(needed).exists():
                continue
            checks += 1
            try:
                model = load()
                error = relative_error(model.predict(x, batch_size=64, verbose=0), expected)
            except Exception as exception:  # report every failure, keep checking the rest
                print(f"FAIL {name} {form}: cannot load: {type(exception).__name__}: {exception}")
                failures += 1
                continue
            ok = error <= TOLERANCE
            failures += not ok
            print(f"{'ok   ' if ok else 'FAIL '}{name} {form}: relative error {error:.3g}"
                  + ("" if ok else " (over 1e-5)"))
    print(f"{checks - failures} of {checks} checks passed")
    return 0 if failures == 0 and checks > 0 else 1


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("write", "check"):
        print("usage: keras_interop.py write|check DIR", file=sys.stderr)
        return 2
    directory = Path(sys.argv[2])
    if sys.argv[1] == "write":
        write(directory)
        return 0
    return check(directory)


if __name__ == "__main__":
    sys.exit(main())
