"""One torch-based summary tool on torchvision's ResNet-50, as a user runs it: a fresh process that
imports torch, torchvision and the tool, builds the model and asks for its summary (batch 1).

    python bench/peers.py TOOL        TOOL: torchinfo, fvcore, ptflops, thop, torchview

`bench/run.py` times each installed tool against `cnnc check` (wall time, peak RSS, fresh
processes, interleaved); tools that are not installed are skipped. Prints the tool's totals.
"""
from __future__ import annotations

import sys

TOOLS = ("torchinfo", "fvcore", "ptflops", "thop", "torchview")


def run(tool: str) -> str:
    import torch
    import torchvision

    model = torchvision.models.resnet50().eval()
    shape = (1, 3, 224, 224)
    if tool == "torchinfo":
        from torchinfo import summary

        stats = summary(model, input_size=shape, verbose=0)
        return f"params {stats.total_params:,}, MACs {stats.total_mult_adds:,}"
    if tool == "fvcore":
        from fvcore.nn import FlopCountAnalysis, parameter_count

        flops = FlopCountAnalysis(model, torch.zeros(shape))
        flops.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
        return f"params {parameter_count(model)['']:,}, MACs {flops.total():,}"
    if tool == "ptflops":
        from ptflops import get_model_complexity_info

        macs, params = get_model_complexity_info(model, shape[1:], as_strings=False,
                                                 print_per_layer_stat=False, verbose=False)
        return f"params {params:,}, MACs {macs:,}"
    if tool == "thop":
        from thop import profile

        macs, params = profile(model, inputs=(torch.zeros(shape),), verbose=False)
        return f"params {int(params):,}, MACs {int(macs):,}"
    if tool == "torchview":
        from torchview import draw_graph

        graph = draw_graph(model, input_size=shape)
        return f"{len(graph.visual_graph.body)} graph lines"
    raise SystemExit(f"unknown tool {tool!r}; one of {', '.join(TOOLS)}")


if __name__ == "__main__":
    print(run(sys.argv[1]))
