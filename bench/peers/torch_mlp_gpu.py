"""PyTorch peer on a GPU: the tutorial MLP on Fashion-MNIST with the plain eager loop, the
whole training set resident on the GPU (so no host copy is timed), timed per pass with the
device synchronized. Prints one JSON line like the CPU peers.
"""

import time

import mlp_common as common


def main():
    args = common.parse_args(__doc__.splitlines()[0])
    import torch
    from torch import nn

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
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-7)
    loss_fn = nn.CrossEntropyLoss()

    n = x.shape[0]
    pass_seconds = []
    for _ in range(args.epochs):
        torch.cuda.synchronize()
        start = time.perf_counter()
        model.train()
        permutation = torch.randperm(n, device=device)
        for begin in range(0, n, batch_size):
            index = permutation[begin:begin + batch_size]
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(model(x[index]), y[index])
            loss.backward()
            optimizer.step()
        torch.cuda.synchronize()
        pass_seconds.append(time.perf_counter() - start)
    common.log("pass seconds: " + ", ".join(f"{s:.3f}" for s in pass_seconds))

    versions = common.base_versions()
    versions["torch"] = torch.__version__
    config = f"eager, {torch.cuda.get_device_name(device)}, data on the GPU"
    common.emit("pytorch", config, args, common.measurement(args, pass_seconds), None, versions)


if __name__ == "__main__":
    main()
