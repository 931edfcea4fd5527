"""Export a compiled network: ONNX (torch.onnx, dynamo exporter) or a torch.export program (.pt2).

Both trace the module built from the generated source (eval mode: side outputs dropped, batch norm
uses running statistics), with a dynamic batch dimension.
"""
from __future__ import annotations

import inspect

from cnnc.dsl.diagnostics import CnnError


class ExportError(CnnError):
    """The exporter is missing or refused the network."""


def example_inputs(graph, batch: int = 2, device=None, dtype=None):
    import torch

    generator = torch.Generator().manual_seed(0)
    return tuple(torch.randn(batch, *shape, generator=generator).to(device=device, dtype=dtype)
                 for shape in graph.graph["inputs"].values())


def _dynamic(model, inputs):
    import torch

    batch = torch.export.Dim("batch", min=1, max=4096)
    names = list(inspect.signature(model.forward).parameters)
    return {name: {0: batch} for name in names[:len(inputs)]}


def exported_program(graph, model=None):
    """torch.export.ExportedProgram of the network in eval mode, batch dimension dynamic."""
    import torch

    from .torch_backend import module_from_graph

    model = (model or module_from_graph(graph)).eval()
    inputs = example_inputs(graph)
    return torch.export.export(model, inputs, dynamic_shapes=_dynamic(model, inputs))


def write_pt2(graph, path: str) -> None:
    import torch

    with _refused("a .pt2 program"):
        program = exported_program(graph)
    torch.export.save(program, path)


class _refused:
    """Turns torch's refusal to export a network that cnnc accepts (an op or a size its exporter
    does not support) into an ExportError naming the format and torch's reason."""

    def __init__(self, what: str):
        self.what = what

    def __enter__(self):
        return self

    def __exit__(self, kind, error, _traceback):
        if error is None or isinstance(error, (CnnError, KeyboardInterrupt, MemoryError)) \
                or not isinstance(error, Exception):
            return False
        import re

        while error.__cause__ is not None:  # torch wraps the reason in exceptions about its steps
            error = error.__cause__
        text = re.sub(r"\x1b\[[0-9;]*m", "", str(error))
        text = re.sub(r"<OpOverload\(op='([\w.]+)', overload='\w+'\)>", r"\1", text)
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        reason = lines[0][:300] if lines else type(error).__name__
        raise ExportError(f"torch cannot export this network to {self.what}: {reason}",
                          hint="`cnnc compile -o NAME.py` writes the module, which runs in eager mode") from None


def onnx_program(graph, model=None, program=None):
    """A torch.onnx.ONNXProgram of the network (from `program`, a torch.export result, if given)."""
    import torch

    try:
        import onnxscript  # noqa: F401  (torch's dynamo exporter needs it)
    except ImportError:
        raise ExportError("ONNX export needs the packages onnx and onnxscript",
                          hint="pip install onnx onnxscript (onnxruntime to run the result)") from None
    if program is None:
        program = exported_program(graph, model)
    names = [spec.arg.name for spec in program.graph_signature.input_specs
             if spec.kind == torch.export.graph_signature.InputKind.USER_INPUT]
    return torch.onnx.export(program, input_names=names, output_names=["output"], verbose=False)


def write_onnx(graph, path: str, model=None) -> None:
    """Write an ONNX model (opset chosen by torch); input names are forward's arguments."""
    with _refused("ONNX"):
        program = onnx_program(graph, model)
    program.save(path)
