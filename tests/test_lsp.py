"""`cnnc lsp`, driven over stdio by a real LSP client (pytest-lsp, on pygls's client), with exact
expected ranges and texts: diagnostics (every independent error, warnings, notes as related
information), hover, definition, references, completion, symbols, formatting, and a half-typed
file fed through the server prefix by prefix."""
import sys
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types as t
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from conftest import ROOT

pytestmark = pytest.mark.asyncio


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[sys.executable, "-m", "cnnc", "lsp"]))
async def client(lsp_client: LanguageClient):
    await lsp_client.initialize_session(t.InitializeParams(
        capabilities=client_capabilities("visual-studio-code"), root_uri=ROOT.as_uri()))
    yield
    await lsp_client.shutdown_session()


async def open_doc(client: LanguageClient, path: Path, text: str | None = None) -> str:
    uri = path.resolve().as_uri()
    client.text_document_did_open(t.DidOpenTextDocumentParams(text_document=t.TextDocumentItem(
        uri=uri, language_id="cnn", version=1, text=path.read_text() if text is None else text)))
    await client.wait_for_notification(t.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    return uri


def rng(line: int, character: int, end_line: int, end_character: int) -> t.Range:
    """0-based, as the protocol counts."""
    return t.Range(start=t.Position(line=line, character=character),
                   end=t.Position(line=end_line, character=end_character))


def at(uri: str, line: int, character: int) -> dict:
    return {"text_document": t.TextDocumentIdentifier(uri=uri), "position": t.Position(line=line, character=character)}


BROKEN = """\
block Pair(width) {
    conv(width, 3x3, pad=1);  relu
    conv(width, 3x3, strde=2)
}

network Broken {
    input 3x32x32
    conv(16, 3x3,, pad=1)
}

network Shapes {
    input 3x32x32
    Pair(8)
    linear(10)
}

network Unknown {
    input 3x8x8
    Pear(8)
}

network Lossy {
    input 3x9x9
    maxpool(2x2)
}
"""


async def test_every_independent_error_and_the_warnings(client: LanguageClient, tmp_path):
    uri = await open_doc(client, tmp_path / "broken.cnn", BROKEN)
    found = [(d.range, d.severity, d.message) for d in client.diagnostics[uri]]
    assert found == [
        (rng(7, 17, 7, 18), t.DiagnosticSeverity.Error, "unexpected `,`; expected one of `(`, `)`, `-`, `[`, "
         "a name, a number, a size like 3x3, a string, ..."),
        (rng(2, 21, 2, 28), t.DiagnosticSeverity.Error, "`conv` has no argument `strde`\nhint: did you mean `stride`?"),
        (rng(18, 4, 18, 8), t.DiagnosticSeverity.Error, "unknown layer or block `Pear`\nhint: did you mean `Pair`?"),
        (rng(23, 4, 23, 16), t.DiagnosticSeverity.Warning,
         "maxpool `0`: stride 2 on a 9x9 input never reads the last 1 row and the last 1 column\n"
         "hint: pad the input, change the kernel or stride, or pick an input size where "
         "(size + 2*pad - dilation*(kernel-1) - 1) is a multiple of the stride"),
    ]
    note = client.diagnostics[uri][1].related_information
    assert [(n.location.uri, n.location.range, n.message) for n in note] == [(uri, rng(12, 4, 12, 11), "in Pair(8)")]
    assert all(d.source == "cnnc" for d in client.diagnostics[uri])


async def test_diagnostics_follow_edits(client: LanguageClient, tmp_path):
    uri = await open_doc(client, tmp_path / "n.cnn", "network N {\n    input 3x8x8\n    relu\n}\n")
    assert list(client.diagnostics[uri]) == []
    client.text_document_did_change(t.DidChangeTextDocumentParams(
        text_document=t.VersionedTextDocumentIdentifier(uri=uri, version=2),
        content_changes=[t.TextDocumentContentChangePartial(range=rng(2, 4, 2, 8), text="rellu")]))
    await client.wait_for_notification(t.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    assert [(d.range, d.message) for d in client.diagnostics[uri]] == [
        (rng(2, 4, 2, 9), "unknown layer or block `rellu`\nhint: did you mean `relu`?")]


async def test_hover_on_layers_block_instances_blocks_and_ops(client: LanguageClient):
    uri = await open_doc(client, ROOT / "archs" / "resnet50.cnn")
    lines = (ROOT / "archs" / "resnet50.cnn").read_text().split("\n")
    fc = next(i for i, row in enumerate(lines) if row.strip().startswith("fc:"))
    hover = await client.text_document_hover_async(t.HoverParams(**at(uri, fc, 9)))
    assert hover.range == rng(fc, 8, fc, 14)
    assert hover.contents.value.endswith("| path | output | params | MACs | RF |\n|---|---|---|---|---|\n"
                                         "| `fc` | [N, 1000] | 2,049,000 | 2,048,000 | 619 |")
    assert hover.contents.value.startswith("```cnn\nlinear(out, bias=true)\n```\n")
    assert "  params    (2,048 + 1)·1,000 = 2,049,000\n  MACs      2,048·1,000 = 2,048,000\n" in hover.contents.value
    layer1 = next(i for i, row in enumerate(lines) if row.strip().startswith("layer1:"))
    hover = await client.text_document_hover_async(t.HoverParams(**at(uri, layer1, 13)))
    assert "```cnn\nblock Stage(width, blocks, stride = 2)\n```\nused 4 times in this file" in hover.contents.value
    assert "| `layer1` | [N, 256, 56, 56] | 215,808 | 667,942,912 | 35 |" in hover.contents.value
    block = next(i for i, row in enumerate(lines) if row.startswith("block Bottleneck"))
    hover = await client.text_document_hover_async(t.HoverParams(**at(uri, block, 8)))
    assert hover.contents.value.startswith("```cnn\nblock Bottleneck(width, stride = 1)\n```\nused 2 times in this file")
    bn = lines[block + 2].index("batchnorm")
    hover = await client.text_document_hover_async(t.HoverParams(**at(uri, block + 2, bn + 2)))
    from cnnc.dsl.ops import OPS

    assert OPS["batchnorm"].doc in hover.contents.value
    assert "| `layer1.0.bn1` | [N, 64, 56, 56] | 128 | 0 | 11 |" in hover.contents.value


async def test_definitions_of_blocks_named_values_and_imports(client: LanguageClient):
    unet = ROOT / "examples" / "unet.cnn"
    uri = await open_doc(client, unet)
    lines = unet.read_text().split("\n")
    use = next(i for i, row in enumerate(lines) if "@skip2" in row)
    found = await client.text_document_definition_async(t.DefinitionParams(**at(uri, use, lines[use].index("skip2"))))
    bind = next(i for i, row in enumerate(lines) if "-> skip2" in row)
    start = lines[bind].index("skip2")
    assert found == [t.Location(uri=uri, range=rng(bind, start, bind, start + 5))]
    call = next(i for i, row in enumerate(lines) if "Double(base)" in row)
    found = await client.text_document_definition_async(
        t.DefinitionParams(**at(uri, call, lines[call].index("Double") + 1)))
    assert found == [t.Location(uri=uri, range=rng(1, 6, 1, 12))]
    mobile = ROOT / "examples" / "mobilenet.cnn"
    uri = await open_doc(client, mobile)
    found = await client.text_document_definition_async(t.DefinitionParams(**at(uri, 1, 10)))
    assert found == [t.Location(uri=(ROOT / "examples" / "blocks.cnn").as_uri(), range=rng(0, 0, 0, 0))]
    found = await client.text_document_definition_async(t.DefinitionParams(**at(uri, 8, 14)))
    assert [loc.uri for loc in found] == [(ROOT / "examples" / "blocks.cnn").as_uri()]
    assert found[0].range == rng(1, 6, 1, 24)


async def test_references_of_a_block(client: LanguageClient):
    uri = await open_doc(client, ROOT / "archs" / "resnet50.cnn")
    lines = (ROOT / "archs" / "resnet50.cnn").read_text().split("\n")
    block = next(i for i, row in enumerate(lines) if row.startswith("block Bottleneck"))
    found = await client.text_document_references_async(t.ReferenceParams(
        **at(uri, block, 7), context=t.ReferenceContext(include_declaration=True)))
    uses = [(i, row.index("Bottleneck")) for i, row in enumerate(lines) if "Bottleneck(width" in row and
            not row.startswith("block")]
    assert [loc.range for loc in found] == [rng(block, 6, block, 16)] + [rng(i, c, i, c + 10) for i, c in uses]


async def test_completion_of_ops_blocks_arguments_and_parameters(client: LanguageClient, tmp_path):
    text = "block B(width, stride = 1) {\n    conv(width, 3x3, \n}\nnetwork N {\n    input 3x8x8\n    \n}\n"
    uri = await open_doc(client, tmp_path / "c.cnn", text)
    inside = await client.text_document_completion_async(t.CompletionParams(**at(uri, 1, 21)))
    labels = {item.label: item for item in inside.items}
    assert labels["stride="].detail == "default 1" and labels["out="].detail == "required"
    assert labels["width"].kind == t.CompletionItemKind.Variable and "stride" in labels
    assert "same" in labels and "conv" not in labels
    start = await client.text_document_completion_async(t.CompletionParams(**at(uri, 5, 4)))
    labels = {item.label: item for item in start.items}
    assert labels["conv"].kind == t.CompletionItemKind.Function
    assert labels["conv"].detail.startswith("conv(out, kernel, stride=1, pad=0, dilation=1, groups=1, bias=true")
    assert labels["B"].detail == "block B(width, stride = 1)" and "repeat" in labels and "width" not in labels


async def test_document_symbols(client: LanguageClient):
    uri = await open_doc(client, ROOT / "examples" / "residual.cnn")
    found = await client.text_document_document_symbol_async(
        t.DocumentSymbolParams(text_document=t.TextDocumentIdentifier(uri=uri)))
    assert [(s.name, s.kind) for s in found] == [("Basic", t.SymbolKind.Class), ("SmallResNet", t.SymbolKind.Module)]
    assert [c.name for c in found[0].children] == ["conv1", "bn1", "conv2", "bn2", "downsample"]
    assert found[1].selection_range == rng(11, 8, 11, 19)
    assert [c.name for c in found[1].children] == ["conv1", "bn1", "layer1", "layer2", "layer3", "avgpool", "fc"]


async def test_formatting_through_fmt(client: LanguageClient, tmp_path):
    messy = "network N{input 3x8x8;relu;}\n"
    uri = await open_doc(client, tmp_path / "f.cnn", messy)
    edits = await client.text_document_formatting_async(t.DocumentFormattingParams(
        text_document=t.TextDocumentIdentifier(uri=uri), options=t.FormattingOptions(tab_size=4, insert_spaces=True)))
    assert list(edits) == [t.TextEdit(range=rng(0, 0, 1, 0), new_text="network N { input 3x8x8;  relu }\n")]


async def test_a_half_typed_file_never_crashes_the_server(client: LanguageClient, tmp_path):
    """GoogLeNet typed in, one prefix at a time (every 11th character, then the whole text)."""
    text = (ROOT / "archs" / "googlenet.cnn").read_text()
    uri = await open_doc(client, tmp_path / "typing.cnn", "")
    for version, end in enumerate(list(range(0, len(text), 11)) + [len(text)], 2):
        client.text_document_did_change(t.DidChangeTextDocumentParams(
            text_document=t.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[t.TextDocumentContentChangeWholeDocument(text=text[:end])]))
        await client.wait_for_notification(t.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        assert not any("internal error" in d.message for d in client.diagnostics[uri]), text[:end]
        if version % 20 == 0:
            await client.text_document_hover_async(t.HoverParams(**at(uri, text[:end].count("\n"), 3)))
            await client.text_document_completion_async(t.CompletionParams(**at(uri, text[:end].count("\n"), 0)))
    assert list(client.diagnostics[uri]) == []
    row = next(i for i, line in enumerate(text.split("\n")) if line.strip().startswith("inception4c:"))
    hover = await client.text_document_hover_async(t.HoverParams(**at(uri, row, 20)))
    assert "| `inception4c` | [N, 512, 14, 14] | 510,104 | 99,850,240 | 299 |" in hover.contents.value


async def test_prefixes_of_every_shipped_file_are_analysed_and_queried_without_crashing():
    """In-process, as the server does on each change: 8 random prefixes of every shipped file, each
    analysed and then hovered, completed, defined, referenced and outlined at its last position."""
    import random

    from cnnc import lsp_queries as q
    from cnnc.lsp_analysis import analyse

    rng = random.Random(14)
    files = sorted((ROOT / "archs").glob("*.cnn")) + sorted((ROOT / "examples").glob("*.cnn"))
    for path in files:
        text = path.read_text()
        for end in sorted(rng.sample(range(len(text)), 8)):
            prefix = text[:end]
            analysis = analyse(prefix, str(path))
            assert all(problem.line >= 1 and problem.column >= 1 for problem in analysis.problems)
            line = prefix.count("\n") + 1
            column = len(prefix) - (prefix.rfind("\n") + 1) + 1
            for query in (q.hover, q.definition, q.completion):
                query(analysis, line, column)
            q.references(analysis, line, column, True)
            q.symbols(analysis)
