"""The compiled LeNet-5 learns: a shortened run of examples/train_lenet5_digits.py (issue 7)."""
import importlib.util
import math

import pytest
import torch

from conftest import ROOT


def _example(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "examples" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def example():
    return _example("train_lenet5_digits")


def test_map_loss_is_the_papers_criterion(example):
    """E = y_target + log(exp(-j) + sum_i exp(-y_i)) (LeCun et al. 1998, eq. 9), batch-averaged."""
    distances = torch.tensor([[3.0, 0.5, 7.0], [1.0, 2.0, 0.25]])
    targets = torch.tensor([1, 0])
    j = 1.5
    expected = sum(
        float(row[t]) + math.log(math.exp(-j) + sum(math.exp(-float(d)) for d in row))
        for row, t in zip(distances, targets)) / 2
    assert example.map_loss(distances, targets, j).item() == pytest.approx(expected, rel=1e-6)


def test_data_is_padded_and_split_as_documented(example):
    x_train, y_train, x_test, y_test = example.digits()
    assert x_train.shape[1:] == (1, 32, 32) and x_test.shape[1:] == (1, 32, 32)
    assert len(y_train) + len(y_test) == 1797 and len(y_test) == 360
    border = torch.cat([x_train[..., :2, :].flatten(), x_train[..., -2:, :].flatten(),
                        x_train[..., :2].flatten(), x_train[..., -2:].flatten()])
    assert torch.all(border == example.BACKGROUND)  # the 2-pixel pad is background
    assert x_train.max().item() == pytest.approx(example.INK)
    assert torch.equal(example.digits()[3], y_test)  # the split is fixed


def test_shortened_training_reaches_90_percent(example):
    accuracy = example.train(epochs=10, progress=False)
    assert accuracy >= 0.90, f"held-out accuracy {accuracy:.2%} after 10 epochs"
