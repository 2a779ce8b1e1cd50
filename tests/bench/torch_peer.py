#!/usr/bin/env python3
"""Training-step peer for petabox-bench: the same model and step in PyTorch on the CPU.

  torch_peer.py train-step --model mlp|cnn [--batch 128] [--steps 20] [--warmup 3] [--threads T]

The models are engine/nn/models.h's, layer for layer:
  mlp: Flatten, Linear(784, 512), ReLU, Linear(512, 10)
  cnn: Conv2d(1, 32, 5, pad 2), ReLU, MaxPool2d(2), Conv2d(32, 64, 5, pad 2), ReLU,
       MaxPool2d(2), Flatten, Linear(3136, 1024), ReLU, Linear(1024, 10)
One step is what petabox's TrainStep does: zero_grad, forward, mean cross-entropy,
backward, Adam (lr 1e-3) step, and reading the loss to the host (loss.item()). The batch is
random (N, 1, 28, 28) float32 with int64 labels in [0, 10), the same batch every step.
`--warmup` untimed steps come first, then `--steps` timed ones.

Prints one JSON line: peer, torch, threads, op, model, batch, steps, seconds (median per
step), total_seconds, samples_per_second (batch / median), first_loss, last_loss.
Exits 2 with a JSON line holding "error" when torch is missing.
"""
import argparse
import json
import statistics
import sys
import time


def build_model(nn, name):
    if name == "mlp":
        return nn.Sequential(nn.Flatten(), nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 10))
    return nn.Sequential(
        nn.Conv2d(1, 32, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(3136, 1024), nn.ReLU(), nn.Linear(1024, 10))


def bench_train_step(torch, args):
    torch.manual_seed(0)
    model = build_model(torch.nn, args.model)
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = torch.rand(args.batch, 1, 28, 28, dtype=torch.float32)
    y = torch.randint(0, 10, (args.batch,), dtype=torch.int64)

    def step():
        opt.zero_grad(set_to_none=True)
        loss = torch.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss.item()

    first_loss = None
    for _ in range(args.warmup):
        loss = step()
        first_loss = loss if first_loss is None else first_loss
    times = []
    total_start = time.perf_counter()
    for _ in range(args.steps):
        start = time.perf_counter()
        loss = step()
        times.append(time.perf_counter() - start)
        first_loss = loss if first_loss is None else first_loss
    total = time.perf_counter() - total_start
    seconds = statistics.median(times)
    return {"seconds": seconds, "total_seconds": total, "samples_per_second": args.batch / seconds,
            "first_loss": first_loss, "last_loss": loss}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="op", required=True)
    ts = sub.add_parser("train-step")
    ts.add_argument("--model", choices=("mlp", "cnn"), required=True)
    ts.add_argument("--batch", type=int, default=128)
    ts.add_argument("--steps", type=int, default=20)
    ts.add_argument("--warmup", type=int, default=3)
    ts.add_argument("--threads", type=int, default=0, help="torch.set_num_threads; 0 keeps torch's default")
    args = parser.parse_args()

    head = {"peer": "torch", "op": args.op, "model": args.model, "batch": args.batch}
    try:
        import torch
    except ImportError as e:
        print(json.dumps({**head, "error": f"torch not importable: {e}"}))
        return 2
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    result = bench_train_step(torch, args)
    print(json.dumps({**head, "torch": torch.__version__, "threads": torch.get_num_threads(),
                      "steps": args.steps, **result}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
