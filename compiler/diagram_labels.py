"""How each op reads on a diagram node: the op table's short label (dsl.ops), shared with the summary."""
from __future__ import annotations

from cnnc.dsl.ops import label  # noqa: F401
