"""IR -> Python source: one readable, self-contained module that imports torch (and the standard
library) only. A class per block structure, one class for the network; `__init__` builds submodules
whose attribute paths are the layer paths; `forward` is straight-line code with source comments.
The same graph always gives the same bytes.
"""
from __future__ import annotations


from . import names
from .pyclasses import Klass, Program, build_program
from .pyinit import init_lines
from .pyops import NO_DEFAULT
from .runtime_source import runtime_sources

INDENT = "    "


def generate(graph) -> str:
    """The generated source of an analysed IR graph."""
    return _Writer(build_program(graph)).source()


def _clean(text: str) -> str:
    """Text safe inside a `#` comment or a docstring: printable, no quotes that end a docstring."""
    return "".join(c if c.isprintable() else "?" for c in str(text)).replace('"""', "'''").replace("\\", "/")


def _where(span) -> str:
    return f"# {_clean(span.path)}:{span.line}"


def _plain_chain(forward: list[str], children: int) -> bool:
    """True when `forward` calls self[0] ... self[children - 1] once each, in order, on one value."""
    code = [line.split("  #")[0].strip() for line in forward if line.strip()]
    expected = ["def forward(self, x):", *(f"x = self[{i}](x)" for i in range(children)), "return x"]
    return code == expected


def _int_digits(raws) -> bool:
    return bool(raws) and list(raws) == [str(i) for i in range(len(raws))]


class _Writer:
    def __init__(self, prog: Program):
        self.p, self.g = prog, prog.graph
        self.runtime_used: set = set()
        self.constants: dict[str, str] = {}      # name -> code
        self.uses_ordered_dict = False
        self.class_names = {k.name for k in prog.classes} | {prog.net_name, prog.outputs_name}

    # -- the whole file ------------------------------------------------------------------
    def source(self) -> str:
        bodies = [self.klass(k) for k in self.p.classes] + [self.klass(self.p.root_class, network=True)]
        parts = [self.header() + "\n\n" + self.imports()]
        parts += [runtime_sources()[name].rstrip("\n") for name in sorted(self.runtime_used)]
        if self.constants:
            parts.append("\n".join(f"{name} = {code}" for name, code in self.constants.items()))
        if len(self.g.graph["outputs"]) > 1:
            parts.append(self.outputs_tuple())
        parts += bodies
        parts.append(self.footer())
        return "\n\n\n".join(parts) + "\n"

    def header(self) -> str:
        g = self.g.graph
        params = ", ".join(f"{k}={v!r}" for k, v in g["params"].items())
        inputs = ", ".join(f"{n} {'x'.join(map(str, s))}" for n, s in g["inputs"].items())
        t = g["totals"]
        return "\n".join([
            f"# {_clean(g['name'])}({_clean(params)}), compiled by cnnc from {_clean(g['source'])}.",
            "# Generated code: edit the .cnn file and recompile rather than editing this file.",
            f"# Inputs: {_clean(inputs)}. {t['params']:,} parameters ({t['trainable_params']:,} trainable), "
            f"{t['macs']:,} MACs per sample."])

    def imports(self) -> str:
        lines = []
        if self.uses_ordered_dict:
            lines.append("from collections import OrderedDict")
        if len(self.g.graph["outputs"]) > 1:
            lines.append("from typing import NamedTuple")
        if lines:
            lines.append("")
        lines += ["import torch", "import torch.nn.functional as F", "from torch import nn"]
        return "\n".join(lines)

    def outputs_tuple(self) -> str:
        fields = self.output_fields()
        lines = [f"class {self.p.outputs_name}(NamedTuple):",
                 f'{INDENT}"""What {self.p.net_name} returns in training mode: the main output, then the side outputs."""',
                 ""]
        lines += [f"{INDENT}{name}: torch.Tensor" for name in fields]
        return "\n".join(lines)

    def output_fields(self) -> list[str]:
        taken: list = []
        for name in self.g.graph["outputs"]:
            taken.append(names.field_name(name, taken))
        return taken

    def footer(self) -> str:
        shapes = ", ".join(f"{n!r}: {tuple(s)!r}" for n, s in self.g.graph["inputs"].items())
        return "\n".join([
            f"INPUTS = {{{shapes}}}  # per-sample input shapes (no batch dimension), in forward's order",
            "", "",
            "def build():",
            f'{INDENT}"""A freshly initialised {self.p.net_name}."""',
            f"{INDENT}return {self.p.net_name}()"])

    # -- one class ------------------------------------------------------------------------
    def klass(self, k: Klass, network: bool = False) -> str:
        plan = k.plans[0]
        sequential = (_int_digits(list(plan.root.children)) and not network
                      and not any(c.kind == "layer" and c.layer.apply for c in plan.root.children.values()))
        name = self.p.net_name if network else k.name
        lines = [f"class {name}({'nn.Sequential' if sequential else 'nn.Module'}):", INDENT + self.doc(k, network), ""]
        lines.append(f"{INDENT}def __init__(self{''.join(', ' + p for p in k.params)}):")
        body = self.init_body(k, plan, sequential) + (self.freeze() + init_lines(self.g) if network else [])
        lines += [INDENT * 2 + line if line else "" for line in body]
        forward = self.forward(k, plan, sequential, network)
        if sequential and _plain_chain(forward, len(plan.root.children)):
            return "\n".join(lines)  # nn.Sequential's own forward does exactly this
        lines.append("")
        lines += [INDENT + line if line else "" for line in forward]
        return "\n".join(lines)

    def freeze(self) -> list[str]:
        """`trainable=false` layers: parameters that do not require grad (Keras's non-trainable)."""
        frozen = [node for node, data in self.g.nodes(data=True) if data.get("frozen") and data["params"]]
        if not frozen:
            return []
        paths = ", ".join(repr(path) for path in names.attribute_paths(self.g, frozen))
        return [f"for path in ({paths},):  # trainable=false",
                f"{INDENT}self.get_submodule(path).requires_grad_(False)"]

    def doc(self, k: Klass, network: bool) -> str:
        if network:
            return f'"""The network {_clean(self.g.graph["name"])}; submodule paths are the layer paths of the .cnn file."""'
        first = k.plans[0].scope
        paths = [p.path for p in k.plans]
        shown = ", ".join(paths[:4]) + (f", ... ({len(paths)} in all)" if len(paths) > 4 else "")
        return f'"""Block {_clean(first.block)}, used at {_clean(shown)}."""'

    def init_body(self, k: Klass, plan, sequential: bool) -> list[str]:
        exprs = iter(k.exprs)
        children = list(plan.root.children.values())
        if sequential:
            lines = ["super().__init__("]
            for child in children:
                lines += self.indent(self.entry(child, exprs, suffix=","))
            return lines + [")"]
        lines = ["super().__init__()"]
        for child in children:
            if child.kind == "layer" and child.layer.apply and not names.plain(child.name):  # a bare nn.Parameter
                lines += self.entry(child, exprs, prefix=f'self.register_parameter("{child.name}", ', suffix=")")
            elif names.plain(child.name):
                lines += self.entry(child, exprs, prefix=f"self.{child.name} = ")
            else:
                lines += self.entry(child, exprs, prefix=f'self.add_module("{child.name}", ', suffix=")")
        return lines

    @staticmethod
    def indent(lines: list[str]) -> list[str]:
        return [INDENT + line for line in lines]

    def entry(self, entry, exprs, prefix: str = "", suffix: str = "") -> list[str]:
        """Lines building one submodule (with `prefix`/`suffix` around the expression)."""
        if entry.kind == "layer":
            return [f"{prefix}{self.layer(entry, exprs)}{suffix}  {_where(self.g.nodes[entry.ref]['span'])}"]
        if entry.kind == "instance":
            child = self.p.planner.plans_by_path[entry.ref].cls
            args = ", ".join(self.value(next(exprs)) for _ in child.params)
            span = self.p.planner.scopes[entry.ref][0].span
            return [f"{prefix}{child.name}({args}){suffix}  {_where(span)}"]
        kids = list(entry.children.values())
        if entry.callable and _int_digits([c.raw for c in kids]):
            inner = [line for c in kids for line in self.entry(c, exprs, suffix=",")]
            return [f"{prefix}nn.Sequential("] + self.indent(inner) + [f"){suffix}"]
        if entry.callable:
            self.uses_ordered_dict = True
            inner = [line for c in kids for line in self.entry(c, exprs, prefix=f'("{c.name}", ', suffix="),")]
            return [f"{prefix}nn.Sequential(OrderedDict(["] + self.indent(inner) + [f"])){suffix}"]
        inner = [line for c in kids for line in self.entry(c, exprs, prefix=f'"{c.name}": ', suffix=",")]
        return [f"{prefix}nn.ModuleDict({{"] + self.indent(inner) + [f"}}){suffix}"]

    def layer(self, entry, exprs) -> str:
        layer = entry.layer
        if layer.ctor in runtime_sources():
            self.runtime_used.add(layer.ctor)
        codes = []
        for arg in layer.args:
            if arg.role is None:
                code, literal, value = repr(arg.value), True, arg.value
            else:
                kind, value = next(exprs)
                literal = kind == "literal"
                code = self.value((kind, value), hint=entry.ref)
            skip = literal and arg.default is not NO_DEFAULT and repr(value) == repr(arg.default)
            codes.append((arg.key, code, skip))
        while codes and codes[-1][0] is None and codes[-1][2]:
            codes.pop()
        text = ", ".join(code if key is None else f"{key}={code}" for key, code, skip in codes
                         if key is None or not skip)
        return f"{layer.ctor}({text})"

    def value(self, expr, hint: str = "") -> str:
        kind, value = expr
        if kind == "code":
            return value
        if isinstance(value, tuple) and value and all(isinstance(v, tuple) for v in value) and len(repr(value)) > 60:
            return self.constant(value, hint)
        return repr(value)

    def constant(self, value, hint: str) -> str:
        code = "(\n" + "".join(f"{INDENT}{row!r},\n" for row in value) + ")"
        for name, existing in self.constants.items():
            if existing == code:
                return name
        base = names.global_name((hint.replace(".", "_") + "_table").upper(), self.class_names)
        name, n = base, 2
        while name in self.constants or name in self.class_names:
            name, n = f"{base}{n}", n + 1
        self.constants[name] = code
        return name

    def forward(self, k: Klass, plan, sequential: bool, network: bool) -> list[str]:
        from .pyforward import forward_lines

        return forward_lines(self, plan, sequential, network)
