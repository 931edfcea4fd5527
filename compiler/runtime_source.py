"""The source of the runtime layers (compiler/runtime.py), read as text: generating Python never
imports torch, so `cnnc compile` to a .py file stays as quick as `cnnc check`."""
from __future__ import annotations

import ast
import functools
from pathlib import Path


@functools.lru_cache(maxsize=1)
def runtime_sources() -> dict[str, str]:
    """Class name -> its source, for each class defined at the top of runtime.py."""
    text = Path(__file__).with_name("runtime.py").read_text()
    return {node.name: ast.get_source_segment(text, node) for node in ast.parse(text).body
            if isinstance(node, ast.ClassDef)}
