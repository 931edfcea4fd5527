"""Forward printing: the statements of a class's `forward`, as straight-line code over variables
named once (a value's name is reused when its tensor dies), with `if self.training:` around side
heads and `if self.FLAG:` around the branches of a stored condition (pybranch).
"""
from __future__ import annotations

from . import names
from .pybranch import heads
from .pycode import INDENT, format_line
from .pyops import FRESH_PRODUCERS, INPLACE_OPS, MERGES
from .pyvalues import CannotExpress


class ForwardPrinter:
    """The forward half of the printer (mixed into pysource's file printer)."""

    def forward(self, w, out, network) -> list:
        stmts = w.stmts
        producer = {}
        for s in stmts:
            for o in s.outs:
                producer[o] = s
        main = out.vid if out is not None else None
        returns = [main] + [v for _, v, _ in w.exports]
        # dead code: statements whose values nothing reads are not run (their modules still exist)
        needed_main = self.closure([main], stmts, producer)
        needed = self.closure(returns, stmts, producer)
        live = [s for s in stmts if id(s) in needed]
        for s in live:
            s.training = id(s) not in needed_main
        uses: dict = {}
        for s in live:
            for v in dict.fromkeys(s.ins):
                uses[v] = uses.get(v, 0) + 1
        returned = set(returns)
        w.inplace = {}
        for s in live:
            op = s.info.get("op")
            if s.kind == "call" and op in INPLACE_OPS and len(s.ins) == 1:
                source = producer.get(s.ins[0])
                fresh = source is not None and source.info.get("op") in FRESH_PRODUCERS and source.kind != "optional"
                if fresh and uses[s.ins[0]] == 1 and s.ins[0] not in returned:
                    if s.info.get("ctor") is not None:
                        w.inplace[id(s.info["ctor"])] = True
                    s.info["inplace"] = True
        # shared stateless modules: one attribute per distinct constructor
        w.shared_at, w.shared_done = {}, set()
        shared_names = {}
        for s in live:
            if s.kind == "call" and s.info["access"][0] == "shared":
                ctor = s.info["access"][1]
                code = w.build(ctor, s.info.get("inplace", False))
                if code not in shared_names:
                    attr = names.local(ctor[1], set(w.attrs) | set(shared_names.values()) | names.MODULE_ATTRS)
                    shared_names[code] = attr
                w.shared_at[id(ctor)] = (shared_names[code], code)
                s.info["text"] = f"self.{shared_names[code]}"
        # variables
        taken = set(self.global_names) | {"self"}
        var: dict = {}
        remaining = dict(uses)
        for v in returned:
            remaining[v] = remaining.get(v, 0) + 1
        args = []
        for name, vid in w.inputs:
            base = "x" if (not network or name == "input") else name
            pyname = names.local(base, taken)
            taken.add(pyname)
            var[vid] = pyname
            args.append(pyname)
        lines = [(t, None) for t in format_line(f"def forward(self{''.join(', ' + a for a in args)}):", 1)]
        live_names = set(args)
        pre = [v for v in returns[1:] if v in producer and producer[v].training and not network]
        for v in dict.fromkeys(pre):
            name = self.fresh_var("out", live_names, taken)
            var[v] = name
            live_names.add(name)
            lines.append((INDENT * 2 + f"{name} = None", None))
        entries = []  # (guard, training, lines) per statement, nested by `assemble`
        scopes = _Scopes(self, w, live, producer, remaining, returned, var, taken)
        for s in live:
            if s.training and s.guard:
                raise CannotExpress(w.branchings[s.guard[0][0]].deps)
            live_names = scopes.enter(s.guard, live_names)
            depth = 2 + (1 if s.training else 0) + len(s.guard)
            ins = [var[v] for v in s.ins]
            for v in dict.fromkeys(s.ins):
                remaining[v] -= 1
            dying = [var[v] for v in dict.fromkeys(s.ins) if remaining[v] == 0]
            outs = []
            for index, o in enumerate(s.outs):
                if o in var:
                    outs.append(var[o])
                    continue
                label = s.info.get("label") if s.info.get("op") in ("group", "block", None) else None
                primary = args[0] if args else "x"
                if index > 0:
                    name = self.fresh_var(label or "out", live_names, taken)
                elif s.kind == "merge":
                    if self.in_place_add(s, producer, remaining, returned):
                        name = ins[0]
                    elif primary not in live_names or primary in dying:
                        name = primary
                    else:
                        name = self.fresh_var("out", live_names, taken)
                elif label and s.kind == "call" and uses.get(s.ins[0], 0) > 1 if s.ins else False:
                    name = self.fresh_var(label, live_names, taken)
                elif dying and var[s.ins[0]] in dying and not s.training:
                    name = var[s.ins[0]]
                else:
                    name = self.fresh_var(label or "out", live_names, taken)
                var[o] = name
                live_names.add(name)
                outs.append(name)
            printed = []
            for text in self.stmt_text(w, s, ins, outs, producer, remaining, returned):
                for line in format_line(text[1], depth + text[0]):
                    printed.append((line, s.span))
            entries.append((s.guard, s.training, printed))
            for v in dict.fromkeys(s.ins):
                if remaining[v] == 0 and var[v] not in outs:
                    live_names.discard(var[v])
        lines += _assemble(w, entries, 0)
        lines += self.returns(w, var, returns, network)
        return lines

    def closure(self, targets, stmts, producer) -> set:
        every: dict = {}
        for s in stmts:
            for o in s.outs:
                every.setdefault(o, []).append(s)
        needed, stack = set(), [t for t in targets if t is not None]
        while stack:
            for s in every.get(stack.pop(), ()):
                if id(s) in needed:
                    continue
                needed.add(id(s))
                stack.extend(s.ins)
        return needed

    def fresh_var(self, base, live, taken) -> str:
        base = names.local(base or "out", taken)
        name, n = base, 2
        while name in live or name in taken and name != base:
            name, n = f"{base}{n}", n + 1
        return name

    def stmt_text(self, w, s, ins, outs, producer, remaining, returned) -> list:
        target = ", ".join(outs)
        if s.kind == "merge":
            if self.in_place_add(s, producer, remaining, returned) and outs[0] == ins[0]:
                return [(0, f"{ins[0]} += {' + '.join(ins[1:])}")]
            return [(0, f"{target} = {MERGES[s.info['op']](ins)}")]
        if s.kind == "alias":  # a branch's result, in the variable of the `if`'s result
            return [] if outs[0] == ins[0] else [(0, f"{outs[0]} = {ins[0]}")]
        if s.kind == "optional":
            access = s.info["access"]
            lines = [] if outs[0] == ins[0] else [(0, f"{outs[0]} = {ins[0]}")]
            return lines + [(0, f"if {access} is not None:"), (1, f"{outs[0]} = {access}({ins[0]})")]
        access = s.info["access"]
        if access[0] == "apply":
            return [(0, f"{target} = {access[1].format(x=ins[0])}")]
        code = s.info.get("text") or access[1]
        return [(0, f"{target} = {code}({', '.join(ins)})")]

    def in_place_add(self, s, producer, remaining, returned) -> bool:
        """`a += b` when `a` is a fresh tensor nothing else reads (torchvision's `out += identity`)."""
        first = s.ins[0]
        source = producer.get(first)
        return (s.info["op"] == "add" and len(set(s.ins)) == len(s.ins) and source is not None
                and source.info.get("op") in FRESH_PRODUCERS and source.kind != "optional"
                and remaining.get(first, 0) == 0 and first not in returned)

    def returns(self, w, var, returns, network) -> list:
        main = var[returns[0]]
        if not network:
            values = [main] + [var[v] for v in returns[1:]]
            return [(INDENT * 2 + f"return {', '.join(values)}", None)]
        if len(returns) == 1:
            return [(INDENT * 2 + f"return {main}", None)]
        values = ", ".join(var[v] for v in returns)
        lines = [(INDENT * 2 + "if self.training:", None)]
        lines += [(t, None) for t in format_line(f"return {self.outputs_name}({values})", 3)]
        return lines + [(INDENT * 2 + f"return {main}", None)]



class _Scopes:
    """Variables across the branches of stored conditions: each branch starts from what was live
    and remaining before the `if` (less what the other branches read), and every branch writes the
    `if`'s result into one variable (the input's when nothing reads the input afterwards)."""

    def __init__(self, printer, w, live, producer, remaining, returned, var, taken):
        self.p, self.w, self.live, self.producer = printer, w, live, producer
        self.remaining, self.returned, self.var, self.taken = remaining, returned, var, taken
        self.open: tuple = ()
        self.saved: dict = {}  # if id -> (remaining, live names) at its start
        self.reads: dict = {}  # (if id, branch) -> {vid: statements reading it}
        for s in live:
            for level in range(len(s.guard)):
                counts = self.reads.setdefault(s.guard[level], {})
                for v in dict.fromkeys(s.ins):
                    counts[v] = counts.get(v, 0) + 1

    def enter(self, guard, live_names):
        common = 0
        while common < min(len(guard), len(self.open)) and guard[common] == self.open[common]:
            common += 1
        for level in range(len(self.open) - 1, common - 1, -1):  # leave branches (innermost first)
            cid = self.open[level][0]
            if level >= len(guard) or guard[level][0] != cid:
                live_names = self.leave(cid)
        for level in range(common, len(guard)):
            cid, index = guard[level]
            if cid not in self.saved:
                self.start(cid, live_names)
            rem, names_before = self.saved[cid]
            for key, value in rem.items():
                self.remaining[key] = value - sum(c.get(key, 0) for (c_id, i), c in self.reads.items()
                                                  if c_id == cid and i != index)
            live_names = set(names_before) | {self.var[self.w.branchings[cid].result]}
        self.open = tuple(guard)
        return live_names

    def start(self, cid, live_names):
        b = self.w.branchings[cid]
        after = self.remaining.get(b.source, 0) - sum(c.get(b.source, 0) for (c_id, _), c in self.reads.items()
                                                      if c_id == cid)
        if b.result not in self.var:
            if after == 0 and b.source in self.var and b.source not in self.returned:
                self.var[b.result] = self.var[b.source]
            else:
                self.var[b.result] = self.p.fresh_var("out", live_names, self.taken)
        name = self.var[b.result]
        for s in self.live:  # each branch's last statement writes the result's variable directly
            if s.kind != "alias" or not s.guard or s.guard[-1][0] != cid or s.outs[0] != b.result:
                continue
            branch = [t for t in self.live if t.guard[:len(s.guard)] == s.guard and t is not s]
            last = branch[-1] if branch else None
            v = s.ins[0]
            if (last is not None and v != b.source and v not in self.var and last.outs == [v]
                    and sum(1 for t in self.live if v in t.ins) == 1):
                self.var[v] = name
        self.saved[cid] = (dict(self.remaining), set(live_names))

    def leave(self, cid):
        names_before = self.saved[cid][1]
        result = self.var[self.w.branchings[cid].result]
        dead = {self.var[v] for v, n in self.remaining.items() if n == 0 and v in self.var}
        return (set(names_before) - dead) | {result}


def _assemble(w, entries, level) -> list:
    """Statement lines nested under `if self.training:` and the stored conditions' `if`s."""
    lines, i, in_training = [], 0, False
    while i < len(entries):
        guard, training, printed = entries[i]
        if len(guard) <= level:
            if level == 0 and training and not in_training:
                lines.append((INDENT * 2 + "if self.training:", None))
            in_training = training
            lines += printed
            i += 1
            continue
        cid = guard[level][0]
        j = i
        while j < len(entries) and len(entries[j][0]) > level and entries[j][0][level][0] == cid:
            j += 1
        b = w.branchings[cid]
        bodies = [_assemble(w, [e for e in entries[i:j] if e[0][level][1] == index], level + 1)
                  for index in range(len(b.tests))]
        if in_training:
            in_training = False
        for keyword, text, body in heads(b.tests, bodies):
            head = f"{keyword} {text}:" if text is not None else f"{keyword}:"
            lines += [(t, None) for t in format_line(head, 2 + level)]
            lines += body
        i = j
    return lines
