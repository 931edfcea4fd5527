"""Generated source -> nn.Module. One code path: `load` executes exactly the text `compile` writes.

The source is registered with linecache under a stable pseudo-filename, so tracebacks, `inspect`
and torch.compile show the generated lines; the executed module is registered in sys.modules so
its classes pickle within the process.
"""
from __future__ import annotations

import hashlib
import linecache
import sys
import types

from .pysource import generate


def module_from_source(source: str, name: str = "network"):
    """Execute generated source; return the module namespace (a types.ModuleType)."""
    digest = hashlib.sha1(source.encode()).hexdigest()[:12]
    safe = "".join(c if c.isalnum() or c == "_" else "_" for c in name)
    modname = f"cnnc_generated_{safe}_{digest}"
    module = sys.modules.get(modname)
    if module is not None:
        return module
    filename = f"<cnnc-generated {safe} {digest}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    module = types.ModuleType(modname)
    module.__file__ = filename
    exec(compile(source, filename, "exec"), module.__dict__)
    sys.modules[modname] = module
    return module


def module_from_graph(graph):
    """The network of an analysed IR graph as a freshly initialised nn.Module."""
    source = generate(graph)
    return module_from_source(source, graph.graph["name"]).build()
