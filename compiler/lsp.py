"""`cnnc lsp`: the cnn language server (Language Server Protocol over stdio, on pygls).

Every open document is analysed in-process on open and on each change (compiler/lsp_analysis.py;
ResNet-50 takes ~30 ms, see bench/bench_lsp.py); the queries (compiler/lsp_queries.py) read the
last analysis. A document that fails in an unexpected way gets one diagnostic saying so, never a
crash of the server.
"""
from __future__ import annotations

import os
import traceback

from lsprotocol import types as t
from pygls.lsp.server import LanguageServer
from pygls.uris import from_fs_path, to_fs_path

from cnnc import __version__

from . import lsp_queries as q
from .lsp_analysis import Analysis, analyse

server = LanguageServer("cnnc", __version__)
_analyses: dict[str, Analysis] = {}

_SEVERITY = {"error": t.DiagnosticSeverity.Error, "warning": t.DiagnosticSeverity.Warning}
_ITEM_KIND = {"op": t.CompletionItemKind.Function, "block": t.CompletionItemKind.Class,
              "argument": t.CompletionItemKind.Property, "parameter": t.CompletionItemKind.Variable,
              "keyword": t.CompletionItemKind.Keyword, "word": t.CompletionItemKind.EnumMember}
_SYMBOL_KIND = {"block": t.SymbolKind.Class, "network": t.SymbolKind.Module, "layer": t.SymbolKind.Field}


def _path(uri: str) -> str:
    return to_fs_path(uri) or uri


def _range(doc, line: int, column: int, end_line: int, end_column: int) -> t.Range:
    """1-based compiler columns (characters) -> the client's units (UTF-16 by default)."""
    server_range = t.Range(start=t.Position(line=line - 1, character=column - 1),
                           end=t.Position(line=end_line - 1, character=end_column - 1))
    return doc.range_to_client_units(server_range) if doc is not None else server_range


def _at(doc, position: t.Position) -> tuple[int, int]:
    server = doc.position_from_client_units(position)
    return server.line + 1, server.character + 1


def _refresh(uri: str) -> None:
    doc = server.workspace.get_text_document(uri)
    try:
        analysis = analyse(doc.source, _path(uri))
    except Exception:  # noqa: BLE001 - a bug in cnnc must not take the editor's server down
        analysis = Analysis(_path(uri), doc.source)
        message = "cnnc could not analyse this file (an internal error; please report it):\n" + \
            traceback.format_exc(limit=3)
        server.text_document_publish_diagnostics(t.PublishDiagnosticsParams(uri=uri, diagnostics=[t.Diagnostic(
            range=_range(None, 1, 1, 1, 2), message=message, severity=t.DiagnosticSeverity.Error, source="cnnc")]))
        _analyses[uri] = analysis
        return
    _analyses[uri] = analysis
    server.text_document_publish_diagnostics(t.PublishDiagnosticsParams(
        uri=uri, diagnostics=[_diagnostic(doc, problem, analysis) for problem in analysis.problems],
        version=doc.version))


def _diagnostic(doc, problem, analysis: Analysis) -> t.Diagnostic:
    message = problem.message + (f"\nhint: {problem.hint}" if problem.hint else "")
    related = []
    for note, path, line, column, end_line, end_column in problem.notes:
        same = os.path.abspath(path) == os.path.abspath(analysis.path)
        related.append(t.DiagnosticRelatedInformation(
            location=t.Location(uri=from_fs_path(os.path.abspath(path)),
                                range=_range(doc if same else None, line, column, end_line, end_column)),
            message=note))
    return t.Diagnostic(range=_range(doc, problem.line, problem.column, problem.end_line, problem.end_column),
                        message=message, severity=_SEVERITY[problem.severity], code=problem.code, source="cnnc",
                        related_information=related or None)


def _analysis(uri: str) -> Analysis:
    if uri not in _analyses:
        _refresh(uri)
    return _analyses[uri]


@server.feature(t.TEXT_DOCUMENT_DID_OPEN)
def did_open(ls: LanguageServer, params: t.DidOpenTextDocumentParams) -> None:
    _refresh(params.text_document.uri)


@server.feature(t.TEXT_DOCUMENT_DID_CHANGE)
def did_change(ls: LanguageServer, params: t.DidChangeTextDocumentParams) -> None:
    _refresh(params.text_document.uri)


@server.feature(t.TEXT_DOCUMENT_DID_CLOSE)
def did_close(ls: LanguageServer, params: t.DidCloseTextDocumentParams) -> None:
    _analyses.pop(params.text_document.uri, None)
    ls.text_document_publish_diagnostics(t.PublishDiagnosticsParams(uri=params.text_document.uri, diagnostics=[]))


def _location(uri: str, place: q.Place) -> t.Location:
    here = os.path.abspath(place.path) == os.path.abspath(_path(uri))
    target = uri if here else from_fs_path(os.path.abspath(place.path))
    doc = server.workspace.get_text_document(uri) if here else None
    return t.Location(uri=target, range=_range(doc, place.line, place.column, place.end_line, place.end_column))


@server.feature(t.TEXT_DOCUMENT_HOVER)
def hover(ls: LanguageServer, params: t.HoverParams) -> t.Hover | None:
    uri = params.text_document.uri
    doc = ls.workspace.get_text_document(uri)
    found = q.hover(_analysis(uri), *_at(doc, params.position))
    if found is None:
        return None
    text, place = found
    return t.Hover(contents=t.MarkupContent(kind=t.MarkupKind.Markdown, value=text),
                   range=_range(doc, place.line, place.column, place.end_line, place.end_column))


@server.feature(t.TEXT_DOCUMENT_DEFINITION)
def definition(ls: LanguageServer, params: t.DefinitionParams) -> list[t.Location]:
    uri = params.text_document.uri
    doc = ls.workspace.get_text_document(uri)
    return [_location(uri, place) for place in q.definition(_analysis(uri), *_at(doc, params.position))]


@server.feature(t.TEXT_DOCUMENT_REFERENCES)
def references(ls: LanguageServer, params: t.ReferenceParams) -> list[t.Location]:
    uri = params.text_document.uri
    doc = ls.workspace.get_text_document(uri)
    places = q.references(_analysis(uri), *_at(doc, params.position), params.context.include_declaration)
    return [_location(uri, place) for place in places]


@server.feature(t.TEXT_DOCUMENT_COMPLETION, t.CompletionOptions(trigger_characters=["(", ","]))
def completion(ls: LanguageServer, params: t.CompletionParams) -> t.CompletionList:
    uri = params.text_document.uri
    doc = ls.workspace.get_text_document(uri)
    analysis = _analyses.get(uri) or _analysis(uri)
    analysis = Analysis(analysis.path, doc.source, analysis.module, analysis.program)  # the text as typed
    items = [t.CompletionItem(label=item.label, kind=_ITEM_KIND[item.kind], detail=item.detail or None,
                              documentation=item.doc or None, insert_text=item.insert)
             for item in q.completion(analysis, *_at(doc, params.position))]
    return t.CompletionList(is_incomplete=False, items=items)


@server.feature(t.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
def document_symbols(ls: LanguageServer, params: t.DocumentSymbolParams) -> list[t.DocumentSymbol]:
    uri = params.text_document.uri
    doc = ls.workspace.get_text_document(uri)

    def convert(symbol: q.Symbol) -> t.DocumentSymbol:
        p, s = symbol.place, symbol.selection
        return t.DocumentSymbol(name=symbol.name, kind=_SYMBOL_KIND[symbol.kind],
                                range=_range(doc, p.line, p.column, p.end_line, p.end_column),
                                selection_range=_range(doc, s.line, s.column, s.end_line, s.end_column),
                                detail=symbol.detail, children=[convert(c) for c in symbol.children] or None)

    return [convert(symbol) for symbol in q.symbols(_analysis(uri))]


@server.feature(t.TEXT_DOCUMENT_FORMATTING)
def formatting(ls: LanguageServer, params: t.DocumentFormattingParams) -> list[t.TextEdit]:
    from cnnc.dsl.diagnostics import CnnError
    from cnnc.dsl.fmt import format_source

    doc = ls.workspace.get_text_document(params.text_document.uri)
    try:
        formatted = format_source(doc.source, _path(params.text_document.uri))
    except CnnError:
        return []  # the diagnostics already show the syntax error
    if formatted == doc.source:
        return []
    lines = doc.lines
    whole = t.Range(start=t.Position(line=0, character=0), end=t.Position(line=len(lines), character=0))
    return [t.TextEdit(range=whole, new_text=formatted)]


def serve() -> None:
    server.start_io()
