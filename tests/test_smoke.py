from cnnc import dsl


def test_resnet50_counts_match_torchvision():
    graph = dsl.build("archs/resnet50.cnn")
    assert graph.graph["totals"]["params"] == 25_557_032
    assert graph.graph["totals"]["macs"] == 4_089_184_256
