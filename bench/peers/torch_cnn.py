"""PyTorch peer: the small CNN on Fashion-MNIST at batch 64, trained with the plain loop
PyTorch's tutorials teach, timed per pass. Prints one JSON line.

Run with Debian's /usr/bin/python3 (python3-torch). Which OpenBLAS torch uses is decided by
LD_LIBRARY_PATH before the process starts (compare_cnn.sh sets it); --expect-blas makes the
run fail loudly if the library actually loaded is not the one asked for. Convolutions go
through torch's bundled oneDNN (mkldnn) whatever the BLAS.
"""

import time

import cnn_common as common


def add_arguments(parser):
    parser.add_argument("--threads", type=int, required=True, help="torch.set_num_threads")
    parser.add_argument("--expect-blas", choices=["pthread", "openmp", "any"], default="any",
                        help="fail unless the loaded OpenBLAS has this threading model")
    parser.add_argument("--channels-last", action="store_true",
                        help="keep activations in torch.channels_last memory format")


def main():
    args = common.parse_args(__doc__.splitlines()[0], add_arguments)
    import torch
    from torch import nn

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    x_train, y_train, x_test, y_test = common.load_data(args)
    # torch's layers take [N, C, H, W]; converted once, up front: the loop only indexes.
    memory_format = torch.channels_last if args.channels_last else torch.contiguous_format
    x = torch.from_numpy(x_train).permute(0, 3, 1, 2).contiguous(memory_format=memory_format)
    y = torch.from_numpy(y_train)

    model = nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(5 * 5 * 64, 128), nn.ReLU(), nn.Linear(128, 10))
    # Keras's initializers (glorot_uniform kernels, zero biases), so accuracies compare.
    for layer in model:
        if isinstance(layer, (nn.Linear, nn.Conv2d)):
            nn.init.xavier_uniform_(layer.weight)
            nn.init.zeros_(layer.bias)
    model = model.to(memory_format=memory_format)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-7)
    loss_fn = nn.CrossEntropyLoss()

    # Checked after the first matmul has run, so the BLAS is certainly mapped.
    with torch.no_grad():
        model(x[:2])
    blas = common.openblas_description()
    blas_text = "no OpenBLAS loaded" if blas is None else (
        f"{blas['config'].split()[0]} {blas['config'].split()[1]} {blas['parallel']}, "
        f"{blas['threads']} BLAS threads, from {blas['dir']}")
    common.log(f"torch {torch.__version__}: set_num_threads({args.threads}), "
               f"get_num_threads()={torch.get_num_threads()}, "
               f"mkldnn enabled={torch.backends.mkldnn.is_available()}; {blas_text}")
    common.log("libraries mapped: " + ", ".join(
        common.loaded_libraries("blas", "lapack", "gomp", "dnnl")))
    if args.expect_blas != "any" and (blas is None or blas["parallel"] != args.expect_blas):
        raise SystemExit(f"expected the {args.expect_blas} OpenBLAS, loaded: {blas_text}")

    n = x.shape[0]
    pass_seconds = []
    for _ in range(args.epochs):
        start = time.perf_counter()
        model.train()
        permutation = torch.randperm(n)
        for begin in range(0, n, common.BATCH_SIZE):
            index = permutation[begin:begin + common.BATCH_SIZE]
            inputs, labels = x[index], y[index]
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(model(inputs), labels)
            loss.backward()
            optimizer.step()
        pass_seconds.append(time.perf_counter() - start)
    common.log("pass seconds: " + ", ".join(f"{s:.3f}" for s in pass_seconds))

    test_accuracy = None
    if args.workload == "epoch_b64":
        model.eval()
        with torch.no_grad():
            images = torch.from_numpy(x_test).permute(0, 3, 1, 2).contiguous(
                memory_format=memory_format)
            predictions = model(images).argmax(dim=1)
            test_accuracy = (predictions == torch.from_numpy(y_test)).float().mean().item()

    layout = "channels_last" if args.channels_last else "NCHW"
    config = f"torch.set_num_threads({args.threads}), {layout}, {blas_text}"
    versions = common.base_versions()
    versions["torch"] = torch.__version__
    if blas is not None:
        versions["openblas"] = blas["config"].split()[1]
    common.emit("pytorch", config, args, common.measurement(args, pass_seconds), test_accuracy,
                versions)


if __name__ == "__main__":
    main()
