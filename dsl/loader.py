"""Files -> a program: read sources, follow imports, collect block and network definitions."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from . import ast
from .diagnostics import FileError, Note, NameError_, Source, Span
from .ops import OPS
from .syntax import parse

MAX_FILE_BYTES = 8 * 1024 * 1024
MAX_IMPORT_DEPTH = 32


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


def read_source(path: str, span: Span | None = None) -> str:
    """The text of a .cnn file, with clear errors for everything that is not a readable text file."""
    try:
        if os.path.isdir(path):
            raise FileError(f"{path} is a directory, not a .cnn file", span)
        if os.path.exists(path) and not os.path.isfile(path):  # reading a FIFO or a device could block
            raise FileError(f"{path} is not a regular file (a FIFO, socket or device?)", span)
        size = os.path.getsize(path)
        if size > MAX_FILE_BYTES:
            raise FileError(f"{path} is {size:,} bytes; the limit is {MAX_FILE_BYTES:,}", span)
        with open(path, "rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise FileError(f"no such file: {path}", span) from None
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


def load_program(path: str | None = None, text: str | None = None) -> Program:
    """Parse a file (or text) and everything it imports."""
    if text is None:
        path = resolve(path)
        text = read_source(path)
    name = path or "<string>"
    module = parse(text, name)
    program = Program(module, name)
    _collect(program, module, name, stack=[os.path.abspath(name)], seen=set())
    return program


def _collect(program: Program, module: ast.Module, path: str, stack: list[str], seen: set[str]) -> None:
    for item in module.imports:
        base = os.path.dirname(path) if os.path.exists(path) else "."
        target = os.path.normpath(os.path.join(base, item.path))
        key = os.path.abspath(target)
        if key in stack:
            chain = " -> ".join(os.path.basename(p) for p in stack[stack.index(key):] + [key])
            raise FileError(f"import cycle: {chain}", item.span)
        if len(stack) > MAX_IMPORT_DEPTH:
            raise FileError(f"imports nest more than {MAX_IMPORT_DEPTH} deep", item.span)
        if key in seen:
            continue
        seen.add(key)
        imported = parse(read_source(target, item.span), target)
        _collect(program, imported, target, stack + [key], seen)
    for block in module.blocks:
        _define(program.blocks, block, "block")
    for network in module.networks:
        _define(program.networks, network, "network")


def _define(table: dict, definition, what: str) -> None:
    if definition.name in OPS:
        raise NameError_(f"{what} `{definition.name}` has the name of a built-in layer", definition.name_span,
                         hint="choose another name")
    first = table.get(definition.name)
    if first is not None:
        raise NameError_(f"{what} `{definition.name}` is defined twice", definition.name_span,
                         notes=(Note("first defined", first.name_span),))
    table[definition.name] = definition
