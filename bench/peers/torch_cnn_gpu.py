"""PyTorch peer on a GPU: the small CNN on Fashion-MNIST (the model cnn_common.py describes,
as torch_cnn.py builds it) with the plain eager loop, timed per full 60000-image epoch.
Prints one JSON line like the CPU peers.

At its best on a GPU without changing the training: the whole training set resident on the
GPU (no host copy timed), cudnn.benchmark so cuDNN picks its fastest convolution algorithms
(found during the warm-up pass), batch 256 by default, and optionally channels_last (NHWC),
which some cuDNN kernels prefer. The first pass is warm-up; the median of the others is
reported, as workload "epoch_b<batch size>".
"""

import argparse
import os
import statistics
import sys
import time

import cnn_common as common
import mlp_common


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3,
                        help="full epochs; the first is warm-up, the median of the others is "
                        "reported (default 3)")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--channels-last", action="store_true",
                        help="keep images, weights and activations in channels_last format")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--data-dir",
        default=os.environ.get("TRAINYARD_FASHION_MNIST", mlp_common.DEFAULT_DATA_DIR))
    args = parser.parse_args()
    if args.epochs < 2:
        parser.error(f"--epochs must be >= 2 (the first pass is warm-up), got {args.epochs}")
    if args.batch_size < 1:
        parser.error(f"--batch-size must be >= 1, got {args.batch_size}")
    args.workload = f"epoch_b{args.batch_size}"  # the field cnn_common.emit reports
    return args


def main():
    args = parse_args()
    import torch
    from torch import nn

    if not torch.cuda.is_available():
        sys.exit(f"torch_cnn_gpu.py: CUDA is not available to torch {torch.__version__} "
                 f"(built for CUDA {torch.version.cuda}); this peer runs on a GPU only")
    device = torch.device("cuda:0")
    torch.backends.cudnn.benchmark = True
    torch.manual_seed(args.seed)
    x_train, y_train, x_test, y_test = mlp_common.load_fashion_mnist(args.data_dir)
    memory_format = torch.channels_last if args.channels_last else torch.contiguous_format
    # [N, 1, 28, 28] on the GPU, converted once: the loop only indexes.
    x = torch.from_numpy(x_train).unsqueeze(1).to(device).contiguous(memory_format=memory_format)
    y = torch.from_numpy(y_train).to(device)

    model = nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(5 * 5 * 64, 128), nn.ReLU(), nn.Linear(128, 10))
    # Keras's initializers (glorot_uniform kernels, zero biases), so accuracies compare.
    for layer in model:
        if isinstance(layer, (nn.Linear, nn.Conv2d)):
            nn.init.xavier_uniform_(layer.weight)
            nn.init.zeros_(layer.bias)
    model = model.to(device, memory_format=memory_format)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-7)
    loss_fn = nn.CrossEntropyLoss()

    n = x.shape[0]
    pass_seconds = []
    for _ in range(args.epochs):
        torch.cuda.synchronize()
        start = time.perf_counter()
        model.train()
        permutation = torch.randperm(n, device=device)
        for begin in range(0, n, args.batch_size):
            index = permutation[begin:begin + args.batch_size]
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(model(x[index]), y[index])
            loss.backward()
            optimizer.step()
        torch.cuda.synchronize()
        pass_seconds.append(time.perf_counter() - start)
    common.log("pass seconds: " + ", ".join(f"{s:.3f}" for s in pass_seconds))

    # Logged, not reported: the run trains --epochs epochs, not the epoch_b64 workload's one.
    model.eval()
    with torch.no_grad():
        images = torch.from_numpy(x_test).unsqueeze(1).to(device).contiguous(
            memory_format=memory_format)
        predictions = model(images).argmax(dim=1).cpu()
        accuracy = (predictions == torch.from_numpy(y_test)).float().mean().item()
    common.log(f"test accuracy after {args.epochs} epochs: {accuracy:.4f}")

    layout = "channels_last" if args.channels_last else "NCHW"
    config = (f"eager, {layout}, cudnn.benchmark, batch {args.batch_size}, "
              f"{torch.cuda.get_device_name(device)}, data on the GPU")
    versions = common.base_versions()
    versions.update({"torch": torch.__version__, "cudnn": torch.backends.cudnn.version()})
    common.emit("pytorch", config, args, statistics.median(pass_seconds[1:]), None, versions)


if __name__ == "__main__":
    main()
