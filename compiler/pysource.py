"""IR -> Python source: one readable, self-contained module that imports torch only.

`pygen` translates each block definition into one class (per set of fixed arguments) and the
network into its own class; this module drives it and prints the file: one namespace for every
module-level name, `ruff format` layout (`pycode.format_line`), and a line map from generated lines
to .cnn spans (`generate_with_map`; `line_comments=True` writes it as comments). The same graph
always gives the same bytes.
"""
from __future__ import annotations


import io
import os
import tokenize
from pathlib import Path

from . import names
from .pycode import INDENT, format_line, literal
from .pybranch import name_flags
from .pyforward import ForwardPrinter
from .pyinit import init_lines
from .pyflow import Ctx, Flow, Frame
from .pygen import ALL, BUILTINS, Registered, Walk
from .pystructure import is_chain
from .pyvalues import BLIND, CannotExpress, V, translate
from .runtime_source import runtime_sources

_IMPORTS = {"torch", "nn", "F", "OrderedDict", "NamedTuple", "INPUTS", "build", "float", "math"}
_ATTEMPTS = 64


def generate(graph, line_comments: bool = False) -> str:
    """The generated source of an analysed IR graph."""
    return generate_with_map(graph, line_comments)[0]


def generate_with_map(graph, line_comments: bool = False) -> tuple[str, dict]:
    """(source, {generated line number: .cnn Span})."""
    return _File(graph, line_comments).source()


class ClassResult:
    def __init__(self, name, signature, out_shape, sides):
        self.name, self.signature, self.out_shape, self.sides = name, signature, out_shape, sides


def source_name(path) -> str:
    """A source path as generated files show it: relative to the working directory or the zoo."""
    if path is None:
        return "<text>"
    text = str(path)
    if not os.path.isabs(text):
        return text
    from cnnc.dsl.loader import zoo_dir

    for base, prefix in ((Path.cwd(), ""), (zoo_dir(), "archs/")):
        try:
            return prefix + str(Path(text).resolve().relative_to(base.resolve()))
        except ValueError:
            continue
    return Path(text).name


def _clean(text) -> str:
    return "".join(c if c.isprintable() else "?" for c in str(text)).replace('"""', "'''").replace("\\", "/")


class _File(ForwardPrinter):
    def __init__(self, graph, line_comments):
        self.g = graph
        self.line_comments = line_comments
        self.blocks = graph.graph["program"].blocks
        self.runtime_names = set(runtime_sources())
        self.runtime_used: set = set()
        self.constants: dict = {}        # literal -> name
        self.classes: list = []          # (name, lines)
        self.by_text: dict = {}
        self.translated: dict = {}       # block_class's results by how the instance is called
        self.global_names = set(self.runtime_names) | _IMPORTS | set(names.GLOBALS) | set(BUILTINS)
        self.class_base = {}
        for block in sorted(self.blocks):
            self.class_base[block] = names.global_name(block, self.global_names)
            self.global_names.add(self.class_base[block])
        self.net_name = names.global_name(graph.graph["name"], self.global_names)
        self.global_names.add(self.net_name)
        self.outputs_name = names.global_name(self.net_name + "Outputs", self.global_names)
        self.global_names.add(self.outputs_name)
        self.taken_classes = set()
        self.uses = set()

    # -- services for the walker -----------------------------------------------------------------
    def node(self, path):
        return self.g.nodes[path] if path is not None and path in self.g else None

    def constant(self, value, hint: str = "TABLE") -> str:
        code = literal(value)
        if not (isinstance(value, tuple) and len(code) > 60):
            return code
        if code not in self.constants:
            base = names.global_name(hint.upper(), self.global_names)
            self.constants[code] = (base, value)
            self.global_names.add(base)
        return self.constants[code][0]

    def block_class(self, block, args, shape, path, blind) -> ClassResult:
        # instances called alike (same arguments, codes and input shape) get the same class: translate
        # it once (a 2,000-block stage would otherwise be translated 2,000 times)
        key = None if blind else (block.name, repr(sorted((k, _signature(v)) for k, v in args.items())),
                                  repr([_signature(s) for s in shape]))
        if key is not None and key in self.translated:
            return self.translated[key]
        frozen: set = set()
        for _ in range(_ATTEMPTS):
            try:
                result = self._block_class(block, args, shape, path, blind, frozen)
                if key is not None:
                    self.translated[key] = result
                return result
            except CannotExpress as problem:
                if blind:
                    raise CannotExpress(blind) from None
                _fix_more(frozen, problem)
        raise AssertionError("translation did not settle")

    def _block_class(self, block, args, shape, path, blind, frozen) -> ClassResult:
        w = Walk(self, frozen, blind)
        flat = len(shape) == 1
        cname = "in_features" if flat else "in_channels"
        c0 = shape[0]
        if c0.value is BLIND and (w.fixed("in_channels") or not c0.deps and c0.code is None):
            raise CannotExpress(blind or c0.deps or {"?"})
        first = V(c0.value) if w.fixed("in_channels") else V(c0.value, ("n", cname), {"in_channels"})
        spatial = []
        for i, s in enumerate(shape[1:]):
            spatial.append(V(s.value) if w.fixed("in_size") else V(s.value, ("i", ("n", "in_size"), ("l", i)),
                                                                       {"in_size"}))
        taken = set(self.global_names) | {"self", cname, "in_size"}
        env, params = {}, []
        for p in block.params:
            py = names.local(p.name, taken)
            taken.add(py)
            caller = args[p.name]
            if w.fixed(("p", p.name)):
                if caller.value is BLIND:
                    raise CannotExpress(blind or caller.deps or {"?"})
                env[p.name] = V(caller.value)
            else:
                env[p.name] = V(caller.value, ("n", py), {("p", p.name)})
                params.append((p, py))
        w.locals |= taken - self.global_names
        shape0 = (first, *spatial)
        defaults = []
        for p, py in params:
            if p.default is None:
                defaults.append((py, None))
                continue
            earlier = {q.name: env[q.name] for q, _ in params[:params.index((p, py))]}
            d = translate(p.default, {**{k: v for k, v in env.items() if v.const}, **earlier}, shape0, frozenset(),
                          BUILTINS)
            if d.const:
                defaults.append((py, literal(d.value)))
            else:
                defaults.append((py, "None"))
                w.used_names.add(py)
                w.emit(("if", f"{py} is None"), p.span)
                w.depth += 1
                w.emit(("assign", py, w.code(d)), p.span)
                w.depth -= 1
        vid = w.value()
        w.inputs.append(("x", vid))
        ctx = Ctx("seq" if is_chain(block.body, self.blocks) else "mod", "self")
        if ctx.kind == "seq":
            w.reusable = cname
        from cnnc.dsl.elaborate import Naming

        out = w.seq(block.body, Flow(vid, shape0), Naming(path), Frame(env), ctx)
        sides = []
        for side_path, side_vid, _ in w.exports:
            rel = side_path[len(path) + 1:] if path and side_path.startswith(path + ".") else side_path
            sides.append((rel, side_vid))
        w.exports = [(rel, v, None) for rel, v in sides]
        signature = []

        def sig():
            used = w.used_names
            inputs = [name for name in (cname, "in_size") if name in used]  # before any default
            signature.extend("in_channels" if name == cname else name for name in inputs)
            signature.extend((p.name, py) for p, py in params if py in used)  # unread ones are dropped
            written, defaulted = [], False
            for py, d in defaults:
                if py in used:
                    # Python wants no parameter without a default after one with a default; the .cnn
                    # language allows it (the later one is passed by keyword or after the earlier)
                    defaulted = defaulted or d is not None
                    written.append(f"{py}={d if d is not None else 'None'}" if defaulted else py)
            return inputs + written

        lines = self.render(w, "__CLASS__", sig, ctx.kind == "seq", out, block, network=False)
        key = (block.name, "\n".join(t for t, _ in lines))
        name = self.by_text.get(key)
        if name is None:
            base = self.class_base[block.name]
            name, n = base, 2
            while name in self.taken_classes:
                name, n = f"{base}{n}", n + 1
            self.taken_classes.add(name)
            self.by_text[key] = name
            self.classes.append((name, [(t.replace("__CLASS__", name), span) for t, span in lines]))
        return ClassResult(name, signature, out.shape, [(rel, None) for rel, _ in sides])

    # -- the network ---------------------------------------------------------------------------
    def network_class(self):
        net = self.g.graph["network_def"]
        values = self.g.graph["params"]
        frozen: set = set()
        for _ in range(_ATTEMPTS):
            mark = (len(self.classes), dict(self.by_text), set(self.taken_classes), dict(self.constants),
                    set(self.runtime_used), set(self.global_names), dict(self.translated))
            try:
                return self._network_class(net, values, frozen)
            except CannotExpress as problem:
                self.classes = self.classes[:mark[0]]
                self.by_text, self.taken_classes, self.constants = mark[1], mark[2], mark[3]
                self.runtime_used, self.global_names, self.translated = mark[4], mark[5], mark[6]
                _fix_more(frozen, problem)
        raise AssertionError("translation did not settle")

    def _network_class(self, net, values, frozen):
        w = Walk(self, frozen)
        taken = set(self.global_names) | {"self"}
        env, sig = {}, []
        fixed = []
        for p in net.params:
            py = names.local(p.name, taken)
            taken.add(py)
            value = values[p.name]
            if w.fixed(("p", p.name)):
                env[p.name] = V(value)
                fixed.append(p.name)
            else:
                env[p.name] = V(value, ("n", py), {("p", p.name)})
                sig.append(f"{py}={self.constant(value, py)}")
        w.locals |= taken - self.global_names
        from cnnc.dsl.elaborate import Naming

        out = w.seq(net.body, None, Naming(""), Frame(env), Ctx("mod", "self"))
        w.exports = [(p, v, s) for p, v, s in w.exports]
        self.fixed_params = fixed
        return self.render(w, self.net_name, lambda: sig, False, out, net, network=True)

    # -- printing --------------------------------------------------------------------------------
    def render(self, w, name, sig, sequential, out, definition, network) -> list:
        """The lines of one class: (text, span) pairs."""
        name_flags(w)
        lines = []
        base = "nn.Sequential" if sequential else "nn.Module"
        lines.append((f"class {name}({base}):", definition.span))
        lines.append((INDENT + f'"""{self.doc(definition, network)}"""', None))
        lines.append(("", None))
        forward = None if sequential else self.forward(w, out, network)
        head_at = len(lines)
        if sequential and w.init and all(item[0] == "item" and item[1] == "self" for _, item, _ in w.init):
            items = [self.ctor(w, item[2]) for _, item, _ in w.init]
            lines.append((INDENT * 2 + "super().__init__(", None))
            for (_, _, span), code in zip(w.init, items):
                lines += [(t, span) for t in format_line(code + ",", 3)]
            lines.append((INDENT * 2 + ")", None))
        else:
            lines.append((INDENT * 2 + "super().__init__()", None))
            for index, (depth, item, span) in enumerate(w.init):
                for text in self.init_line(w, item, depth + 2):
                    lines.append((text, span))
                if item[0] in ("if", "elif", "else", "for") and (index + 1 == len(w.init)
                                                                 or w.init[index + 1][0] <= depth):
                    lines.append((INDENT * (depth + 3) + "pass", span))  # a branch that builds nothing
        if network:
            lines += [(t, None) for t in self.freeze()]
            for line in init_lines(self.g):
                stripped = line.lstrip(" ")
                lines += [(t, None) for t in format_line(stripped, 2 + (len(line) - len(stripped)) // 4)]
        if forward:
            lines.append(("", None))
            lines += forward
        head = f"def __init__(self{''.join(', ' + s for s in sig())}):"
        lines[head_at:head_at] = [(t, definition.span) for t in format_line(head, 1)]
        return lines

    def freeze(self) -> list:
        """`trainable=false` layers: parameters that do not require grad (Keras's non-trainable)."""
        frozen = [node for node, data in self.g.nodes(data=True) if data.get("frozen") and data["params"]]
        if not frozen:
            return []
        paths = ", ".join(literal(path) for path in names.attribute_paths(frozen))
        lines = format_line(f"for path in ({paths},):  # trainable=false", 2)
        return lines + [INDENT * 3 + "self.get_submodule(path).requires_grad_(False)"]

    def doc(self, definition, network) -> str:
        if network:
            fixed = getattr(self, "fixed_params", [])
            extra = f" Fixed at compile time: {', '.join(fixed)}." if fixed else ""
            return _clean(f"The network {definition.name}; submodule paths are the layer paths of the .cnn "
                          f"file.{extra}")
        return _clean(f"Block {definition.name}.")

    def init_line(self, w, item, depth) -> list:
        kind = item[0]
        if kind in ("if", "elif"):
            return format_line(f"{kind} {item[1]}:", depth)
        if kind == "else":
            return [INDENT * depth + "else:"]
        if kind == "for":
            return format_line(f"for {item[1]} in {item[2]}:", depth)
        if kind == "assign":
            return format_line(f"{item[1]} = {item[2]}", depth)
        if kind == "shared":
            found = w.shared_at.get(id(item[1]))
            if found is None or found in w.shared_done:
                return []
            w.shared_done.add(found)
            return format_line(f"self.{found[0]} = {found[1]}", depth)
        if kind == "item":
            target = "super()" if False else item[1]
            return format_line(f"{target}.append({self.ctor(w, item[2])})", depth)
        if kind == "set":
            _, target, attr, ctor = item
            code = self.ctor(w, ctor)
            if isinstance(attr, Registered):
                return format_line(f"{target}.add_module({attr.code}, {code})", depth)
            if names.plain(attr):
                return format_line(f"{target}.{attr} = {code}", depth)
            if code.startswith("nn.Parameter(") and not w.is_dict(target):
                return format_line(f'{target}.register_parameter("{attr}", {code})', depth)
            if target == "self" or target.endswith(")") or "[" not in target and "." in target and False:
                return format_line(f'{target}.add_module("{attr}", {code})', depth)
            return format_line(f'{target}["{attr}"] = {code}' if w.is_dict(target) else
                               f'{target}.add_module("{attr}", {code})', depth)
        raise AssertionError(kind)

    def ctor(self, w, ctor) -> str:
        if ctor[0] == "raw":
            return ctor[1]
        if ctor[0] == "layer":
            return w.build(ctor, w.inplace.get(id(ctor), False))
        if ctor[0] == "seqinline":
            return f"nn.Sequential({', '.join(self.ctor(w, c) for c in ctor[1])})"
        raise AssertionError(ctor[0])

    # -- the file ----------------------------------------------------------------------------------
    def source(self) -> tuple[str, dict]:
        net_lines = self.network_class()
        g = self.g.graph
        parts: list = []
        header = self.header()
        parts.append([(t, None) for t in header])
        outputs = list(g["outputs"])
        if len(outputs) > 1:
            parts.append([(t, None) for t in self.outputs_tuple(outputs)])
        for name in sorted(self.runtime_used):
            parts.append([(t, None) for t in runtime_sources()[name].rstrip("\n").split("\n")])
        if self.constants:
            block = []
            for code, (name, value) in self.constants.items():
                block += [(t, None) for t in self.constant_lines(name, value)]
            parts.append(block)
        for _, lines in self.classes:
            parts.append(lines)
        parts.append(net_lines)
        parts.append([(t, None) for t in self.footer()])
        imports = self.imports(parts)
        out, spans = [], {}
        ordered = [parts[0], [(t, None) for t in imports]] + parts[1:]
        for index, part in enumerate(ordered):
            if index:
                after_imports = index == 2 and not part[0][0].startswith(("class ", "def "))
                out += [""] * (1 if index == 1 or after_imports else 2)
            for text, span in part:
                if span is not None:
                    spans[len(out) + 1] = span
                    if self.line_comments and text.strip() and not text.rstrip().endswith(":"):
                        text = f"{text}  # {_clean(source_name(span.path))}:{span.line}"
                out.append(text)
        return "\n".join(out) + "\n", spans

    def header(self) -> list:
        g = self.g.graph
        params = ", ".join(f"{k}={_clean(literal(v) if not isinstance(v, tuple) else '[...]')}"
                           for k, v in g["params"].items())
        inputs = ", ".join(f"{n} {'x'.join(map(str, s))}" for n, s in g["inputs"].items())
        t = g["totals"]
        lines = [f"# {_clean(g['name'])}({params}), compiled by cnnc from {_clean(source_name(g['source']))}.",
                 "# Generated code: edit the .cnn file and recompile rather than editing this file.",
                 f"# Inputs: {_clean(inputs)}. {t['params']:,} parameters ({t['trainable_params']:,} trainable),",
                 f"# {t['macs']:,} MACs per sample."]
        return lines

    def imports(self, parts) -> list:
        used = _global_names("\n".join(t for part in parts[1:] for t, _ in part))
        lines = []
        standard = []
        if "math" in used:
            standard.append("import math")
        if "NamedTuple" in used:
            standard.append("from typing import NamedTuple")
        if standard:
            lines += [*standard, ""]
        if "torch" in used:
            lines.append("import torch")
        if "F" in used:
            lines.append("import torch.nn.functional as F")
        lines.append("from torch import nn")
        return lines

    def outputs_tuple(self, outputs) -> list:
        fields: list = []
        for name in outputs:
            fields.append(names.field_name(name, fields))
        lines = [f"class {self.outputs_name}(NamedTuple):",
                 f'{INDENT}"""What {self.net_name} returns in training mode: the main output, then the side outputs."""',
                 ""]
        return lines + [f"{INDENT}{f}: torch.Tensor" for f in fields]

    def constant_lines(self, name, value) -> list:
        lines = [f"{name} = ("]
        for item in value:
            lines += format_line(literal(item) + ",", 1)
        return lines + [")"]

    def footer(self) -> list:
        shapes = ", ".join(f"{literal(n)}: {literal(tuple(s))}" for n, s in self.g.graph["inputs"].items())
        return [f"INPUTS = {{{shapes}}}  # per-sample input shapes, in forward's order", "", "",
                "def build():", f'{INDENT}"""A freshly initialised {self.net_name}."""',
                f"{INDENT}return {self.net_name}()"]


def _fix_more(frozen: set, problem: CannotExpress) -> None:
    """After a translation failed: fix the arguments the failing value read, or, when none is left
    to fix, every argument; re-raise when even that was tried."""
    new = {d for d in problem.deps if _local_key(d)} - frozen
    if new:
        frozen |= new
    elif ALL in frozen:
        raise problem
    else:
        frozen.add(ALL)


def _local_key(dep) -> bool:
    return dep in ("in_channels", "in_size") or isinstance(dep, tuple) and dep[0] in ("p", "loop", "var")


def _signature(v) -> tuple:
    return (v.value, v.code, sorted(map(str, v.deps))) if isinstance(v, V) else (v,)


def _global_names(code: str) -> set:
    """The names the code reads as globals: `F` in `F.relu(x)` but not in `x.F`, and not in strings,
    docstrings or comments (read from the tokens). A name counts as a module when an attribute of
    it is read (`torch.`), else as itself (`NamedTuple`)."""
    names = set()
    tokens = [t for t in tokenize.generate_tokens(io.StringIO(code).readline)
              if t.type in (tokenize.NAME, tokenize.OP)]
    for before, token in zip([None, *tokens], tokens):
        if token.type == tokenize.NAME and not (before and before.string == "."):
            names.add(token.string)
    return names
