"""The compiled LeNet-5 under DistributedDataParallel: 2 CPU processes, gloo over loopback (issue 7).

Oracle: after the run both replicas hold identical weights, the weights moved, and they equal one
process trained on the same samples with the doubled batch (DDP averages the two ranks' gradients).
Every wait is bounded: the processes get a collective timeout and are killed if they overrun.
"""
import os
import socket
import subprocess
import sys

import pytest
import torch

from conftest import ROOT

SCRIPT = str(ROOT / "examples" / "train_ddp.py")
STEPS, BATCH = 8, 16
RUN_TIMEOUT = 150  # seconds for the whole run; collectives time out after 60


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _command(save, batch):
    return [sys.executable, SCRIPT, "archs/lenet5.cnn", "--data", "digits", "--steps", str(STEPS),
            "--batch-size", str(batch), "--timeout", "60", "--save", save, "--no-progress"]


def _env(**extra):
    env = {k: v for k, v in os.environ.items()
           if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT")}
    env.update(OMP_NUM_THREADS="1", GLOO_SOCKET_IFNAME="lo", CUDA_VISIBLE_DEVICES="", **extra)
    return env


def _wait_all(processes):
    try:
        outputs = [p.communicate(timeout=RUN_TIMEOUT) for p in processes]
    except subprocess.TimeoutExpired:
        for p in processes:
            p.kill()
        for p in processes:
            p.communicate()
        pytest.fail(f"distributed run did not finish within {RUN_TIMEOUT} s")
    for p, (out, err) in zip(processes, outputs):
        assert p.returncode == 0, f"rank exited {p.returncode}:\n{out}\n{err[-3000:]}"
    return outputs


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """State dicts of the two DDP ranks and of the single-process reference."""
    folder = tmp_path_factory.mktemp("ddp")
    port = str(_free_port())
    distributed = [
        subprocess.Popen(_command(str(folder / "ddp"), BATCH), cwd=ROOT, text=True,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         env=_env(RANK=str(rank), LOCAL_RANK=str(rank), WORLD_SIZE="2",
                                  MASTER_ADDR="127.0.0.1", MASTER_PORT=port))
        for rank in (0, 1)]
    single = subprocess.Popen(_command(str(folder / "single"), 2 * BATCH), cwd=ROOT, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_env())
    outputs = _wait_all([*distributed, single])
    load = lambda name: torch.load(folder / name, weights_only=True)  # noqa: E731
    return {"rank0": load("ddp.rank0.pt"), "rank1": load("ddp.rank1.pt"),
            "single": load("single.rank0.pt"), "stdout": outputs[0][0]}


def test_replicas_stay_identical(runs):
    assert runs["rank0"].keys() == runs["rank1"].keys()
    for key, value in runs["rank0"].items():
        assert torch.equal(value, runs["rank1"][key]), f"replicas differ at {key}"
    assert "replicas identical: yes" in runs["stdout"]


def test_ddp_equals_one_process_with_the_doubled_batch(runs):
    for key, value in runs["single"].items():
        torch.testing.assert_close(runs["rank0"][key], value, rtol=1e-4, atol=1e-5, msg=key)


def test_training_moved_the_weights(runs):
    import cnnc

    torch.manual_seed(0)  # the script's seed: the same initial weights
    initial = cnnc.load("archs/lenet5.cnn").state_dict()
    moved = [key for key, value in initial.items()
             if value.is_floating_point() and not torch.equal(value, runs["rank0"][key])]
    assert {"c1.weight", "c3.weight", "f6.weight"} <= set(moved)
    assert torch.equal(initial["out.prototypes"], runs["rank0"]["out.prototypes"])  # a fixed buffer
