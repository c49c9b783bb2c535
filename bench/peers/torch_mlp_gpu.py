"""PyTorch peer on a GPU: the tutorial MLP on Fashion-MNIST with the plain eager loop, the
whole training set resident on the GPU (so no host copy is timed), timed per pass with the
device synchronized. Prints one JSON line like the CPU peers.

--cuda-graphs shows PyTorch at its best for a model this small, where launch overhead
dominates: one whole training step (forward, loss, backward, Adam with capturable=True) is
captured once in a torch.cuda.CUDAGraph, as the torch.cuda.graphs docs do for "whole network
capture", and every step replays it after gathering its batch into the graph's static input
and label buffers. A last partial batch (none at batch 32: 60000 % 32 == 0) has another
shape than the graph, so it runs eagerly.
"""

import sys
import time

import mlp_common as common


def add_arguments(parser):
    parser.add_argument("--cuda-graphs", action="store_true",
                        help="replay one captured training step per batch instead of eager")


def main():
    args = common.parse_args(__doc__.splitlines()[0], add_arguments)
    import torch
    from torch import nn

    if not torch.cuda.is_available():
        sys.exit(f"torch_mlp_gpu.py: CUDA is not available to torch {torch.__version__} "
                 f"(built for CUDA {torch.version.cuda}); this peer runs on a GPU only")
    device = torch.device("cuda:0")
    torch.manual_seed(args.seed)
    x_train, y_train, x_test, y_test = common.load_fashion_mnist(args.data_dir)
    x_np, y_np, batch_size = common.workload_data(args, x_train, y_train)
    x = torch.from_numpy(x_np).to(device)
    y = torch.from_numpy(y_np).long().to(device)

    model = nn.Sequential(nn.Flatten(), nn.Linear(28 * 28, 128), nn.ReLU(),
                          nn.Linear(128, 10)).to(device)
    for layer in model:
        if isinstance(layer, nn.Linear):
            nn.init.xavier_uniform_(layer.weight)
            nn.init.zeros_(layer.bias)
    # capturable=True keeps Adam's step count on the GPU, which a captured step needs; the
    # eager run keeps PyTorch's default.
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-7,
                                 capturable=args.cuda_graphs)
    loss_fn = nn.CrossEntropyLoss()

    def eager_step(index):
        # With a graph captured, the graph owns the gradient tensors it writes: zero them in
        # place rather than dropping them, so replays after this step still find them.
        optimizer.zero_grad(set_to_none=not args.cuda_graphs)
        loss = loss_fn(model(x[index]), y[index])
        loss.backward()
        optimizer.step()

    step = eager_step
    if args.cuda_graphs:
        step = captured_step(torch, model, optimizer, loss_fn, x, y, batch_size)

    n = x.shape[0]
    pass_seconds = []
    for _ in range(args.epochs):
        torch.cuda.synchronize()
        start = time.perf_counter()
        model.train()
        permutation = torch.randperm(n, device=device)
        for begin in range(0, n, batch_size):
            index = permutation[begin:begin + batch_size]
            # The graph has the full batch's shape; a last partial batch runs eagerly.
            (step if index.shape[0] == batch_size else eager_step)(index)
        torch.cuda.synchronize()
        pass_seconds.append(time.perf_counter() - start)
    common.log("pass seconds: " + ", ".join(f"{s:.3f}" for s in pass_seconds))

    # Always logged, cheap on the GPU: shows the graphed run trains like the eager one.
    model.eval()
    with torch.no_grad():
        predictions = model(torch.from_numpy(x_test).to(device)).argmax(dim=1)
        test_accuracy = (predictions.cpu() == torch.from_numpy(y_test)).float().mean().item()
    common.log(f"test accuracy after {args.epochs} passes: {test_accuracy:.4f}")

    versions = common.base_versions()
    versions["torch"] = torch.__version__
    mode = "CUDA graphs" if args.cuda_graphs else "eager"
    config = f"{mode}, {torch.cuda.get_device_name(device)}, data on the GPU"
    common.emit("pytorch", config, args, common.measurement(args, pass_seconds),
                test_accuracy if args.full else None, versions)


def captured_step(torch, model, optimizer, loss_fn, x, y, batch_size):
    """Captures one training step on static buffers and returns step(index), which gathers
    rows `index` of x and y into those buffers and replays the graph. The model and Adam's
    state are put back as they were before, so training starts from the same point as eager."""
    params = list(model.parameters())
    initial = [p.detach().clone() for p in params]
    static_x = x[:batch_size].clone()  # real images, so warm-up and capture see real values
    static_y = y[:batch_size].clone()

    def body():
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn(model(static_x), static_y)
        loss.backward()
        optimizer.step()

    # Warm-up on a side stream, as the docs require: it lets autograd and cuBLAS set up their
    # workspaces and Adam create its state before capture.
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        for _ in range(3):
            body()
    torch.cuda.current_stream().wait_stream(side)

    graph = torch.cuda.CUDAGraph()
    optimizer.zero_grad(set_to_none=True)  # backward in the graph allocates its own grads
    with torch.cuda.graph(graph):
        loss = loss_fn(model(static_x), static_y)
        loss.backward()
        optimizer.step()

    # Undo warm-up and capture in place (the graph keeps these addresses): initial weights,
    # Adam's moments and step count back to zero.
    with torch.no_grad():
        for p, value in zip(params, initial):
            p.copy_(value)
        for state in optimizer.state.values():
            for value in state.values():
                if torch.is_tensor(value):
                    value.zero_()
    torch.cuda.synchronize()

    def step(index):
        torch.index_select(x, 0, index, out=static_x)
        torch.index_select(y, 0, index, out=static_y)
        graph.replay()
    return step


if __name__ == "__main__":
    main()
