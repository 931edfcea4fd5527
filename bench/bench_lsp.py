"""The language server's re-analysis latency after an edit, for every shipped network.

In-process: what `cnnc lsp` does on each change (compiler/lsp_analysis.analyse: parse, imports,
elaborate and analyse every network, lint), timed after an edit that changes the text (a comment
line appended, different each run, so nothing can be cached). Median and max of --runs.
Then one end-to-end figure through the real server over stdio (pygls's client): didChange on
ResNet-50 until its publishDiagnostics arrives.

Target (issue 14): ResNet-50 well under 100 ms.
Usage: python bench/bench_lsp.py [--runs 30]
"""
from __future__ import annotations

import argparse
import asyncio
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def in_process(path: Path, runs: int) -> tuple[float, float, int]:
    from cnnc.lsp_analysis import analyse

    text = path.read_text()
    analyse(text, str(path))  # warm: imports, the parser, the grammar cache
    times = []
    for run in range(runs):
        edited = text + f"# edit {run}\n"
        start = time.perf_counter()
        result = analyse(edited, str(path))
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000, max(times) * 1000, len(result.problems)


async def through_the_server(path: Path, runs: int) -> float:
    from lsprotocol import types as t
    from pygls.lsp.client import LanguageClient

    client = LanguageClient("bench", "1")
    published: asyncio.Queue = asyncio.Queue()

    @client.feature(t.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    def diagnostics(params: t.PublishDiagnosticsParams) -> None:
        published.put_nowait(params)

    await client.start_io(sys.executable, "-m", "cnnc", "lsp")
    await client.initialize_async(t.InitializeParams(capabilities=t.ClientCapabilities(), root_uri=ROOT.as_uri()))
    client.initialized(t.InitializedParams())
    uri, text = path.resolve().as_uri(), path.read_text()
    client.text_document_did_open(t.DidOpenTextDocumentParams(
        text_document=t.TextDocumentItem(uri=uri, language_id="cnn", version=1, text=text)))
    await published.get()
    times = []
    for run in range(runs):
        start = time.perf_counter()
        client.text_document_did_change(t.DidChangeTextDocumentParams(
            text_document=t.VersionedTextDocumentIdentifier(uri=uri, version=run + 2),
            content_changes=[t.TextDocumentContentChangeWholeDocument(text=text + f"# edit {run}\n")]))
        await published.get()
        times.append(time.perf_counter() - start)
    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    print(f"# cnnc lsp re-analysis after an edit ({platform.python_implementation()} {platform.python_version()}, "
          f"{platform.machine()}, median of {args.runs})\n")
    print("| file | median ms | max ms | problems |")
    print("|---|---:|---:|---:|")
    files = sorted((ROOT / "archs").glob("*.cnn"))
    for path in files:
        median, worst, problems = in_process(path, args.runs)
        print(f"| {path.relative_to(ROOT)} | {median:.1f} | {worst:.1f} | {problems} |")
    resnet50 = ROOT / "archs" / "resnet50.cnn"
    end_to_end = asyncio.run(through_the_server(resnet50, args.runs))
    print(f"\nthrough the server over stdio (didChange -> publishDiagnostics), {resnet50.name}: "
          f"median {end_to_end:.1f} ms")


if __name__ == "__main__":
    main()
