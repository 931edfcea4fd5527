"""Argument kinds of the op table (`coerce`), the error a rule raises (`OpProblem`), and per-sample
shapes whose axes are not in the usual order (`Dims`, made by `permute`).

Shapes are per sample (no batch dimension): a plain tuple `(C, H, W)` is a feature map, `(F,)` a
flat vector. After `permute` a shape is a `Dims`: the same tuple of sizes, in torch's order, plus
the name of each axis (`"HWC"`), so that ops which read channels find them wherever they are.
"""
from __future__ import annotations

import math

from dataclasses import dataclass

from .values import show

REQUIRED = object()


class OpProblem(Exception):
    """Raised by a rule; the elaborator attaches the source span. `arg` names the culprit."""

    def __init__(self, message: str, hint: str | None = None, arg: str | None = None):
        super().__init__(message)
        self.message, self.hint, self.arg = message, hint, arg


@dataclass(frozen=True)
class ArgSpec:
    name: str
    kind: str  # see `coerce`
    default: object = REQUIRED


class Dims(tuple):
    """A per-sample shape whose axes are permuted: sizes in torch's order, `axes` names them."""

    axes: str

    def __new__(cls, sizes, axes: str):
        self = super().__new__(cls, sizes)
        self.axes = axes
        return self

    def __reduce__(self):
        return (Dims, (tuple(self), self.axes))


def axes_of(shape) -> str:
    """The axis names of a per-sample shape: "CHW" for a feature map, "F" for a flat vector."""
    axes = getattr(shape, "axes", None)
    if axes is not None:
        return axes
    return "CHW" if len(shape) == 3 else "F" * len(shape)


def with_axes(sizes, axes: str):
    """A shape with these axes: a plain tuple in the usual order, a `Dims` otherwise."""
    sizes = tuple(sizes)
    return sizes if axes in ("CHW", "F") else Dims(sizes, axes)


def channels_of(shape) -> int:
    """The channel count of a feature map in any axis order (the features of a flat vector)."""
    axes = axes_of(shape)
    return shape[axes.index("C")] if "C" in axes else shape[-1]


# ---- argument kinds ---------------------------------------------------------------------

def is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


INT32_MAX = 2 ** 31 - 1


def pair(value, minimum: int, what: str) -> tuple[int, int]:
    if is_int(value):
        value = (value, value)
    if isinstance(value, (tuple, list)) and len(value) == 2 and all(is_int(v) for v in value):
        if min(value) < minimum:
            raise OpProblem(f"{what} must be at least {minimum}, got {fmt(value)}")
        if max(value) > INT32_MAX:  # torch's pools take 32-bit window sizes and fail at run time
            raise OpProblem(f"{what} {fmt(value)} is past the largest window size torch accepts, {INT32_MAX:,}")
        return (int(value[0]), int(value[1]))
    raise OpProblem(f"{what} must be an integer or a size like 3x3, got {fmt(value)}")


def fmt(value) -> str:
    if isinstance(value, tuple) and 0 < len(value) <= 8 and all(is_int(v) for v in value):
        return "x".join(str(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, tuple, list)):  # bounded: values may be huge or deeply nested
        return show(tuple(value) if isinstance(value, list) else value)
    return repr(value)


PADDING_WORDS = ("same", "valid", "tf_same")


FLOAT32_MAX = 3.4028234663852886e38  # non-finite values are float32 values; finite ones past this are not


def coerce(kind: str, value, what: str):
    """Check and normalise an evaluated argument; raises OpProblem with a plain message."""
    if kind == "int+" or kind == "int0":
        low = 1 if kind == "int+" else 0
        if not is_int(value):
            hint = "use `//` for integer division" if isinstance(value, float) and value.is_integer() else None
            raise OpProblem(f"{what} must be an integer, got {fmt(value)}", hint=hint)
        if value < low:
            raise OpProblem(f"{what} must be at least {low}, got {value}")
        return value
    if kind == "int":
        if not is_int(value):
            raise OpProblem(f"{what} must be an integer, got {fmt(value)}")
        return value
    if kind in ("pair+", "pair0"):
        return pair(value, 1 if kind == "pair+" else 0, what)
    if kind == "pair+?":
        return None if value is None else pair(value, 1, what)
    if kind == "padding":
        if value in PADDING_WORDS:
            return value
        return pair(value, 0, what)
    if kind == "kernel|global":
        return "global" if value == "global" else pair(value, 1, what)
    if kind == "bool?" and value is None:
        return None
    if kind in ("bool", "bool?"):
        if not isinstance(value, bool):
            raise OpProblem(f"{what} must be true or false, got {fmt(value)}")
        return value
    if kind in ("float", "float+", "prob", "prob1"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise OpProblem(f"{what} must be a number, got {fmt(value)}")
        if abs(value) > FLOAT32_MAX and (isinstance(value, int) or math.isfinite(value)):
            shown = f"{value:g}" if isinstance(value, float) else f"{value:.3e}"
            raise OpProblem(f"{what} {shown} is beyond the range of float32 (+-3.4e38), the type of the "
                            "network's tensors")
        value = float(value)
        if kind == "float+" and not value > 0:
            raise OpProblem(f"{what} must be positive, got {value:g}")
        if kind == "prob" and not 0 <= value < 1:
            raise OpProblem(f"{what} must be in [0, 1), got {value:g}")
        if kind == "prob1" and not 0 <= value <= 1:
            raise OpProblem(f"{what} must be in [0, 1], got {value:g}")
        return value
    if kind.startswith("enum:"):
        choices = kind[5:].split("|")
        if value not in choices:
            raise OpProblem(f"{what} must be one of {', '.join(choices)}; got {fmt(value)}")
        return value
    if kind == "table?":
        return None if value is None else _table(value, what)
    if kind == "perm":
        return _permutation(value, what)
    raise AssertionError(f"unknown argument kind {kind}")


def _table(value, what: str) -> tuple[tuple[int, ...], ...]:
    if not isinstance(value, (list, tuple)) or not value:
        raise OpProblem(f"{what} must be a list of lists of input channels, got {fmt(value)}")
    rows = []
    for row in value:
        if not isinstance(row, (list, tuple)) or not row or not all(is_int(v) and v >= 0 for v in row):
            raise OpProblem(f"{what}: each entry must be a non-empty list of input channel numbers, "
                            f"got {fmt(row)}")
        if len(set(row)) != len(row):
            raise OpProblem(f"{what}: entry {fmt(list(row))} names a channel twice")
        rows.append(tuple(int(v) for v in row))
    return tuple(rows)


def _permutation(value, what: str) -> tuple[int, ...]:
    """torch's dims, batch included: `[0, 2, 3, 1]` (NCHW -> NHWC). The batch stays first."""
    if (not isinstance(value, (list, tuple)) or not 2 <= len(value) <= 8
            or not all(is_int(v) for v in value) or sorted(value) != list(range(len(value)))):
        raise OpProblem(f"{what} must list each dimension once, batch included, e.g. [0, 2, 3, 1]; "
                        f"got {fmt(value)}")
    if value[0] != 0:
        raise OpProblem(f"{what} must keep the batch dimension first, got {fmt(tuple(value))}",
                        hint="dimension 0 is the batch; cnnc shapes are per sample")
    return tuple(int(v) for v in value)
