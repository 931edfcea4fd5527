"""Files -> a program: read sources, follow imports, collect block and network definitions.

Imports stay home. `import "NAME.cnn"` names a .cnn file by a relative path, looked up in order
(the first that exists wins):

1. relative to the importing file's directory (or the working directory, for text held in memory);
2. in each directory of the search path (`--path DIR`, `search_path=` in Python), in order;
3. among the shipped networks (`import "resnet50.cnn"` reuses the zoo's blocks).

A path may climb out of the importing file's directory (`../common/blocks.cnn`), but not out of a
search-path directory or the zoo. An absolute path, or a file that is not a `.cnn` file, is refused
before anything is read: no import reads anything but a .cnn file, so no error excerpt can show
the content of another kind of file (`import "/proc/self/environ"`).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from . import ast
from .diagnostics import FileError, Note, NameError_, Source, Span, closest
from .limits import Limits
from .ops import OPS
from .syntax import parse


def zoo_dir() -> Path:
    """The shipped architectures: `archs/` in a checkout, `dsl/_archs` in an installed wheel."""
    here = Path(__file__).resolve().parent
    packaged = here / "_archs"
    return packaged if packaged.is_dir() else here.parent / "archs"


def resolve(path: str) -> str:
    """A path as given, or the name of a zoo network (`resnet50`) when no such file exists."""
    if os.path.exists(path):
        return path
    candidate = zoo_dir() / (path if path.endswith(".cnn") else path + ".cnn")
    if os.path.sep not in path and candidate.is_file():
        return _relative(candidate)
    candidate = zoo_dir() / Path(path).name
    if path.startswith("archs" + os.path.sep) and candidate.is_file():
        return _relative(candidate)
    return path


def _relative(path: Path) -> str:
    """Shorter names in messages: relative to the working directory when below it."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def zoo_names() -> list[str]:
    return sorted(p.stem for p in zoo_dir().glob("*.cnn"))


def read_source(path: str, span: Span | None = None, limits: Limits | None = None) -> str:
    """The text of a .cnn file, with clear errors for everything that is not a readable text file."""
    max_bytes = (limits or Limits()).max_file_bytes
    try:
        if os.path.isdir(path):
            raise FileError(f"{path} is a directory, not a .cnn file", span)
        if os.path.exists(path) and not os.path.isfile(path):  # reading a FIFO or a device could block
            raise FileError(f"{path} is not a regular file (a FIFO, socket or device?)", span)
        size = os.path.getsize(path)
        if size > max_bytes:
            raise FileError(f"{path} is {size:,} bytes; the limit is {max_bytes:,}", span,
                            hint="raise the limit with --limit max_file_bytes=N")
        with open(path, "rb") as handle:
            data = handle.read(max_bytes + 1)
    except FileNotFoundError:
        suggestion = None if span else closest(Path(path).stem, zoo_names())
        raise FileError(f"no such file: {path}", span,
                        hint=f"did you mean the shipped network `{suggestion}`?" if suggestion else None) from None
    except PermissionError:
        raise FileError(f"cannot read {path}: permission denied", span) from None
    except OSError as error:
        raise FileError(f"cannot read {path}: {error.strerror or error}", span) from None
    except ValueError:  # a NUL byte in the path
        raise FileError(f"no such file: {path!r}", span) from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise FileError(f"not UTF-8 text (byte 0x{data[error.start]:02x} at offset {error.start})",
                        _byte_span(path, data, error.start), hint="save the file as UTF-8",
                        notes=_imported_at(span)) from None
    if "\x00" in text:
        raise FileError("a NUL byte: is this a binary file?", _byte_span(path, data, data.index(b"\x00")),
                        notes=_imported_at(span))
    return text


def _byte_span(path: str, data: bytes, offset: int) -> Span:
    """Where a byte offset is, in lines and characters, over a leniently decoded copy for the excerpt."""
    line = data.count(b"\n", 0, offset) + 1
    start = data.rfind(b"\n", 0, offset) + 1
    column = len(data[start:offset].decode("utf-8", "replace")) + 1
    return Span(Source(path, data.decode("utf-8", "replace")), line, column, line, column + 1)


def _imported_at(span: Span | None) -> tuple:
    return (Note("imported here", span),) if span else ()


@dataclass
class Program:
    """Everything one compilation sees: the main module and the blocks of all its imports."""

    main: ast.Module
    path: str
    blocks: dict[str, ast.BlockDef] = field(default_factory=dict)
    networks: dict[str, ast.NetworkDef] = field(default_factory=dict)


def load_program(path: str | None = None, text: str | None = None, limits: Limits | None = None,
                 search_path=()) -> Program:
    """Parse a file (or text) and everything it imports (see the module's doc for where imports
    are looked up; `search_path` is a list of directories)."""
    limits = limits or Limits()
    path = None if path is None else os.fspath(path)  # a str or a pathlib.Path
    if text is None:
        path = resolve(path)
        text = read_source(path, None, limits)
    name = path or "<string>"
    module = parse(text, name, limits)
    program = Program(module, name)
    loader = _Imports(program, limits, [str(d) for d in search_path])
    loader.collect(module, name, stack=[os.path.abspath(name)])
    return program


def _collect(program: Program, module: ast.Module, path: str, stack: list[str], seen: set[str],
             limits: Limits | None = None, search_path=()) -> None:
    """Follow `module`'s imports into `program` and define its blocks and networks (the language
    server loads each import on its own, to report each import's problem)."""
    imports = _Imports(program, limits or Limits(), [str(d) for d in search_path])
    imports.seen = seen
    imports.collect(module, path, stack)


class _Imports:
    def __init__(self, program: Program, limits: Limits, search_path: list[str]):
        self.program, self.limits, self.search_path = program, limits, search_path
        self.seen: set[str] = set()

    def collect(self, module: ast.Module, path: str, stack: list[str]) -> None:
        for item in module.imports:
            target = self.find(item, path)
            key = os.path.abspath(target)
            if key in stack:
                chain = " -> ".join(os.path.basename(p) for p in stack[stack.index(key):] + [key])
                raise FileError(f"import cycle: {chain}", item.span)
            if len(stack) > self.limits.max_import_depth:
                raise FileError(f"imports nest more than {self.limits.max_import_depth} deep", item.span,
                                hint="raise the limit with --limit max_import_depth=N")
            if key in self.seen:
                continue
            self.seen.add(key)
            imported = parse(read_source(target, item.span, self.limits), target, self.limits)
            self.collect(imported, target, stack + [key])
        for block in module.blocks:
            _define(self.program.blocks, block, "block")
        for network in module.networks:
            _define(self.program.networks, network, "network")

    def find(self, item: ast.Import, importer: str) -> str:
        """The file an import names: the first of the importer's directory, the search path and the
        zoo that holds it; refused when it is not a relative path to a .cnn file."""
        name = item.path
        where = "imports are looked up relative to the importing file, in --path directories and among " \
                "the shipped networks"
        if "\x00" in name:
            raise FileError(f"no such file: {name!r}", item.span)
        if not name.endswith(".cnn"):
            raise FileError(f"an import names a .cnn file, not {name!r}", item.span, hint=where)
        if os.path.isabs(name) or name.startswith("~"):
            raise FileError(f"an import is a relative path, not {name!r}", item.span, hint=where)
        home = os.path.dirname(importer) if os.path.exists(importer) else "."
        bases = [home or ".", *self.search_path, str(zoo_dir())]
        inside = []
        for number, base in enumerate(bases):
            candidate = os.path.normpath(os.path.join(base, name))
            relative = os.path.relpath(candidate, base)
            if number and (relative == os.pardir or relative.startswith(os.pardir + os.sep)):
                continue  # leaves a search directory or the zoo: not looked up there
            inside.append(candidate)
            if os.path.lexists(candidate):
                return candidate
        known = sorted({p.name for base in bases if os.path.isdir(base) for p in Path(base).glob("*.cnn")}
                       - {os.path.basename(importer)})
        suggestion = closest(os.path.basename(name), known)
        looked = "".join(f", in {d}" for d in self.search_path)
        hint = (f"did you mean `{suggestion}`?" if suggestion
                else f"looked next to the importing file{looked} and among the shipped networks")
        raise FileError(f"no such file: {inside[0]}", item.span, hint=hint)


def _define(table: dict, definition, what: str) -> None:
    if definition.name in OPS:
        raise NameError_(f"{what} `{definition.name}` has the name of a built-in layer", definition.name_span,
                         hint="choose another name")
    first = table.get(definition.name)
    if first is not None:
        raise NameError_(f"{what} `{definition.name}` is defined twice", definition.name_span,
                         notes=(Note("first defined", first.name_span),))
    table[definition.name] = definition
