"""Data-parallel training of any compiled .cnn network with torch.distributed (DDP).

A compiled network is a plain nn.Module, so torch's own engine does the work: one process per GPU
(or per CPU worker), gradients averaged by all-reduce after every backward pass.

    # 8 GPUs on one machine (NCCL):
    torchrun --standalone --nproc-per-node 8 examples/train_ddp.py archs/resnet50.cnn \\
        --set classes=10 --input 3x64x64 --steps 200 --batch-size 32
    # 2 CPU workers over loopback (gloo), on the digits:
    torchrun --nproc-per-node 2 --master-addr 127.0.0.1 --master-port 29500 \\
        examples/train_ddp.py archs/lenet5.cnn --data digits --steps 100

Without torchrun's environment (RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT) it trains in one
process, which is also the reference the distributed run must match: with batch B on each of W
ranks, each step sees exactly the samples one process sees with batch W*B, so the weights agree
up to float rounding (for networks without batch statistics). Data: `synthetic` (a fixed random
dataset of the network's input shape) or `digits` (scikit-learn's digits, resized to the input).
The loss is cross-entropy on the output, or on negated distances with the paper's "rubbish" term
when the network ends in RBF units (LeNet-5).
"""
from __future__ import annotations

import argparse
import datetime
import os
import sys
from pathlib import Path

import torch
import torch.distributed as dist
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parent.parent
for folder in (ROOT, ROOT / "examples"):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

import cnnc  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", help="a .cnn file or a shipped network name")
    parser.add_argument("--set", action="append", default=[], metavar="K=V", help="network parameter")
    parser.add_argument("--input", help="input shape, e.g. 3x64x64")
    parser.add_argument("--data", choices=("synthetic", "digits"), default="synthetic")
    parser.add_argument("--samples", type=int, default=512, help="size of the synthetic dataset")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=16, help="per process")
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--backend", help="nccl with CUDA, else gloo")
    parser.add_argument("--timeout", type=float, default=120, help="seconds for any collective")
    parser.add_argument("--save", help="write this rank's final state_dict to SAVE.rank<N>.pt")
    parser.add_argument("--no-progress", action="store_true")
    return parser.parse_args(argv)


def network_parameters(pairs):
    """--set k=v pairs as keyword arguments (integers where they parse)."""
    params = {}
    for pair in pairs:
        key, _, value = pair.partition("=")
        try:
            params[key] = int(value)
        except ValueError:
            params[key] = value
    return params


def dataset(kind, shape, classes, samples, seed):
    """(x, y) on the CPU, in one fixed order shared by every rank."""
    generator = torch.Generator().manual_seed(seed)
    if kind == "digits":
        from train_lenet5_digits import digits

        x, y, _, _ = digits()
        x = F.interpolate(x, size=tuple(shape[1:]), mode="bilinear", align_corners=False)
        x = x.expand(-1, shape[0], -1, -1).contiguous()
        y = y % classes
    else:
        x = torch.randn(samples, *shape, generator=generator)
        y = torch.randint(0, classes, (samples,), generator=generator)
    order = torch.randperm(len(y), generator=generator)
    return x[order], y[order]


def loss_function(graph):
    """Cross-entropy, or the MAP criterion on distances when the main output is an RBF layer."""
    main = next(iter(graph.graph["outputs"].values()))
    if graph.nodes[main]["op"] == "rbf":
        def rbf_loss(distances, targets, j=1.0):
            rubbish = torch.full_like(distances[:, :1], -j)
            return F.cross_entropy(torch.cat([-distances, rubbish], dim=1), targets)
        return rbf_loss
    return F.cross_entropy


def setup(args):
    """(rank, world, device): joins the process group when launched by torchrun."""
    distributed = "RANK" in os.environ and "WORLD_SIZE" in os.environ
    rank = int(os.environ.get("RANK", 0))
    world = int(os.environ.get("WORLD_SIZE", 1))
    local = int(os.environ.get("LOCAL_RANK", 0))
    if torch.cuda.is_available():
        device = torch.device("cuda", local)
        torch.cuda.set_device(device)
    else:
        device = torch.device("cpu")
    if distributed:
        backend = args.backend or ("nccl" if device.type == "cuda" else "gloo")
        dist.init_process_group(backend, rank=rank, world_size=world,
                                timeout=datetime.timedelta(seconds=args.timeout))
    return rank, world, device


def replicas_identical(model) -> float:
    """The largest difference between this rank's parameters and rank 0's (0.0 when identical)."""
    flat = torch.cat([p.detach().flatten() for p in model.parameters()])
    reference = flat.clone()
    dist.broadcast(reference, src=0)
    worst = (flat - reference).abs().max()
    dist.all_reduce(worst, op=dist.ReduceOp.MAX)
    return worst.item()


def train(args) -> dict:
    rank, world, device = setup(args)
    try:
        graph = cnnc.analyse(args.file, input=args.input, **network_parameters(args.set))
        shape = next(iter(graph.graph["inputs"].values()))
        classes = graph.nodes[next(iter(graph.graph["outputs"].values()))]["shape"][0]
        torch.manual_seed(args.seed)  # same initial weights everywhere (DDP also broadcasts rank 0's)
        model = cnnc.load(args.file, input=args.input, **network_parameters(args.set)).to(device)
        criterion = loss_function(graph)
        if world > 1:
            model = torch.nn.parallel.DistributedDataParallel(
                model, device_ids=[device.index] if device.type == "cuda" else None)
        optimiser = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9)
        x, y = dataset(args.data, shape, classes, args.samples, args.seed)
        return _loop(args, model, optimiser, criterion, x, y, rank, world, device)
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()


def _loop(args, model, optimiser, criterion, x, y, rank, world, device) -> dict:
    from tqdm import tqdm

    model.train()
    global_batch = args.batch_size * world
    steps = tqdm(range(args.steps), desc=f"{world} x {args.batch_size}", unit="step",
                 disable=args.no_progress or rank != 0, dynamic_ncols=True)
    for step in steps:
        start = (step * global_batch) % len(y) + rank * args.batch_size
        idx = torch.arange(start, start + args.batch_size) % len(y)  # this rank's shard of the step
        loss = criterion(model(x[idx].to(device)), y[idx].to(device))
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        optimiser.step()
        steps.set_postfix(loss=f"{loss.item():.4f}", refresh=False)
    module = model.module if world > 1 else model
    result = {"rank": rank, "world": world, "loss": loss.item()}
    if world > 1:
        result["max_replica_difference"] = replicas_identical(module)
    if args.save:
        torch.save({k: v.cpu() for k, v in module.state_dict().items()}, f"{args.save}.rank{rank}.pt")
    return result


def main(argv=None) -> None:
    args = parse_args(argv)
    result = train(args)
    if result["rank"] == 0:
        print(f"trained {args.steps} steps on {result['world']} process(es), last loss {result['loss']:.4f}")
        if "max_replica_difference" in result:
            same = "yes" if result["max_replica_difference"] == 0 else "NO"
            print(f"replicas identical: {same} (max |difference| {result['max_replica_difference']:.3g})")


if __name__ == "__main__":
    main()
