"""Every resource limit of one compilation, in one value.

A `Limits` is passed down the pipeline — load (files, imports) -> parse (tokens, nesting, digits)
-> elaborate (layers, loops, steps, expression work, integer and list sizes) -> analysis
(parameters) — so two calls in one process (a notebook, a language server) with different limits
never see each other's. Nothing assigns a limit at run time; `--limit NAME=N` builds a `Limits`.
Each limit, when exceeded, is a located `LimitError` that names it.

The README's limits table is `markdown_table()` (a test keeps them equal). `Meter` holds the
running counts of one elaboration and checks them against the limits as they grow.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from .diagnostics import LimitError, closest


def _limit(default: int, doc: str, shown: str | None = None):
    return field(default=default, metadata={"doc": doc, "shown": shown})


@dataclass(frozen=True)
class Limits:
    """Resource limits; every one is reported as a located error when exceeded."""

    # files and source text
    max_file_bytes: int = _limit(8 * 2 ** 20, "bytes of one .cnn file", "8 MiB")
    max_import_depth: int = _limit(32, "imports nested in imports")
    max_tokens: int = _limit(50_000, "tokens in one file")
    max_source_nesting: int = _limit(200, "nesting in the source: brackets, braces, operator chains")
    max_digits: int = _limit(100, "digits of an integer literal")
    # expressions
    max_int: int = _limit(2 ** 62, "magnitude of an integer value", "2^62")
    max_list: int = _limit(100_000, "items of one list (nested lists included) or characters of a string")
    max_list_depth: int = _limit(100, "lists nested in lists")
    max_work: int = _limit(5_000_000, "list items and string characters built by expressions: in all for "
                                      "one build (warnings' checks included), and for each `--set` or "
                                      "`--input` value")
    # elaboration
    max_nodes: int = _limit(100_000, "layers in the network")
    max_repeat: int = _limit(100_000, "the count of one `repeat`")
    max_depth: int = _limit(64, "block instances nested in each other (and so recursion)")
    max_nesting: int = _limit(256, "braces, loops and block bodies open at once")
    max_steps: int = _limit(250_000, "evaluation steps: statements and loop iterations (a block instance "
                                     "counts 6)")
    max_channels: int = _limit(2 ** 24, "channels of a tensor", "2^24")
    max_activation_bytes: int = _limit(2 ** 34, "float32 bytes of one layer's output, per sample",
                                       "2^34 (16 GiB)")
    # analysis
    max_params: int = _limit(2 ** 32, "parameters and buffers in all (checked before any memory is "
                                      "allocated)", "2^32 (16 GiB as float32)")

    def replace(self, **changes) -> "Limits":
        return dataclasses.replace(self, **changes)


def names() -> list[str]:
    return [f.name for f in dataclasses.fields(Limits)]


def parse_limit(text: str) -> tuple[str, int]:
    """`NAME=N` (as `--limit` takes it) -> (name, value); raises ValueError with a message for users.
    N is a positive whole number in ASCII digits, `_` allowed between digits (`1_000_000`)."""
    import re

    name, sep, value = text.partition("=")
    name, value = name.strip(), value.strip()
    if not sep or not re.fullmatch(r"[0-9]+(?:_[0-9]+)*", value, re.ASCII) or int(value) < 1:
        raise ValueError(f"--limit expects NAME=N with N a positive whole number (digits, `_` between "
                         f"them), got {text!r}")
    if name not in names():
        suggestion = closest(name, names())
        raise ValueError(f"unknown limit {name!r}" + (f" (did you mean {suggestion!r}?)" if suggestion else "")
                         + "; the limits are: " + ", ".join(names()))
    return name, int(value)


def from_pairs(pairs, base: Limits | None = None) -> Limits:
    """A Limits from `NAME=N` strings over `base` (the defaults)."""
    return (base or Limits()).replace(**dict(parse_limit(pair) for pair in pairs))


def markdown_table() -> str:
    """The README's table: one row per limit, with its default and the name `--limit` takes."""
    rows = ["| Limit | Default | `--limit` / `Limits` field |", "|---|---|---|"]
    for f in dataclasses.fields(Limits):
        shown = f.metadata["shown"] or f"{f.default:,}"
        rows.append(f"| {f.metadata['doc']} | {shown} | `{f.name}` |")
    return "\n".join(rows) + "\n"


class Meter:
    """The running counts of one elaboration against its `Limits`: evaluation steps, nesting,
    layers, and each layer's size, checked where they grow; each overrun is a located `LimitError`
    naming its limit."""

    def __init__(self, limits: Limits):
        self.limits, self.steps, self.nesting = limits, 0, 0

    def enter(self, span) -> None:
        """Into a body (braces, a loop's or a block's); `leave` when it ends, however it ends."""
        self.nesting += 1
        if self.nesting > self.limits.max_nesting:
            raise _limit_error(f"braces, loops and blocks nest more than {self.limits.max_nesting} deep", span,
                               "max_nesting")

    def leave(self) -> None:
        self.nesting -= 1

    def step(self, span, cost: int = 1) -> None:
        self.steps += cost
        if self.steps > self.limits.max_steps:
            raise _limit_error(f"evaluating the network takes more than {self.limits.max_steps:,} steps "
                               "(statements, loop iterations and block instances)", span, "max_steps")

    def new_layer(self, layers: int, span) -> None:
        """Before adding a layer to a network of `layers` layers."""
        if layers >= self.limits.max_nodes:
            raise _limit_error(f"the network has more than {self.limits.max_nodes:,} layers", span, "max_nodes")

    def layer_size(self, shape, span) -> None:
        if shape[0] > self.limits.max_channels:
            raise _limit_error(f"{shape[0]:,} channels exceed the limit of {self.limits.max_channels:,}", span)
        numel = 1
        for n in shape:
            numel *= n
        if numel * 4 > self.limits.max_activation_bytes:
            raise _limit_error(f"this layer's output is {numel * 4:,} bytes per sample; the limit is "
                               f"{self.limits.max_activation_bytes:,}", span)

    def forecast(self, sizes: list, before: tuple, layers: int, remaining: int, span) -> None:
        """After two iterations of a loop, refuse at once a loop whose rest must exceed the limits.
        `sizes`: the loop's (layers, steps) per iteration so far; `before`: the counts before this
        iteration; `layers`: the network's layers now; `remaining`: iterations still to come."""
        if len(sizes) >= 2 or remaining <= 0:
            return
        sizes.append((layers - before[0], self.steps - before[1]))
        if len(sizes) < 2:
            return
        nodes, steps = (min(s[i] for s in sizes) for i in range(2))
        if layers + nodes * remaining > self.limits.max_nodes:
            raise _limit_error(f"this loop makes {nodes:,} layer(s) per iteration, {remaining + 2:,} times: more "
                               f"than the limit of {self.limits.max_nodes:,} layers", span, "max_nodes")
        if self.steps + steps * remaining > self.limits.max_steps:
            raise _limit_error(f"this loop takes {steps:,} steps per iteration, {remaining + 2:,} times: more "
                               f"than the limit of {self.limits.max_steps:,} steps", span, "max_steps")


def _limit_error(message: str, span, name: str | None = None) -> LimitError:
    hint = f"raise the limit with --limit {name}=N (Limits.{name} in Python)" if name else None
    return LimitError(message, span, hint=hint)
