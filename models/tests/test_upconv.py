"""The export's transposed-convolution upsampling against LlamaGen's nearest ×2 + 3×3 convolution."""

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from toklip.model import TokLIP
from toklip.onnx_graphs import VQDecoderGraph, export_graph
from toklip.upconv import TransposedUpsample, transposed_kernel, transposed_upsampling
from toklip.vq import Upsample

from helpers import micro_config


@pytest.mark.parametrize("cin,cout,h,w", [(5, 7, 4, 6), (16, 16, 1, 1), (3, 8, 9, 2)])
def test_equals_nearest_upsample_then_conv(cin: int, cout: int, h: int, w: int) -> None:
    torch.manual_seed(cin * 100 + h)
    conv = nn.Conv2d(cin, cout, 3, 1, 1).double()
    x = torch.randn(2, cin, h, w, dtype=torch.float64)
    ref = conv(F.interpolate(x, scale_factor=2.0, mode="nearest"))
    got = F.conv_transpose2d(x, transposed_kernel(conv.weight), conv.bias, stride=2, padding=1)
    assert got.shape == ref.shape == (2, cout, 2 * h, 2 * w)
    assert torch.allclose(got, ref, atol=1e-12, rtol=0)


def test_every_tap_lands_where_the_upsampled_conv_puts_it() -> None:
    # one non-zero tap at a time: a wrong tap sum would move or drop exactly that tap's contribution
    x = torch.randn(1, 1, 5, 5, dtype=torch.float64)
    for ky in range(3):
        for kx in range(3):
            conv = nn.Conv2d(1, 1, 3, 1, 1, bias=False).double()
            with torch.no_grad():
                conv.weight.zero_()
                conv.weight[0, 0, ky, kx] = 1.0
            ref = conv(F.interpolate(x, scale_factor=2.0, mode="nearest"))
            assert torch.allclose(TransposedUpsample(conv)(x), ref, atol=1e-12), (ky, kx)


def test_rejects_what_it_cannot_rewrite() -> None:
    for conv in (nn.Conv2d(4, 4, 3, 2, 1), nn.Conv2d(4, 4, 5, 1, 2), nn.Conv2d(4, 4, 3, 1, 1, groups=2),
                 nn.Conv2d(4, 4, 3, 1, 1, padding_mode="reflect")):
        with pytest.raises(ValueError):
            TransposedUpsample(conv)


def test_context_restores_the_model_even_on_error() -> None:
    model = TokLIP(micro_config()).eval()
    ups = [m for m in model.modules() if isinstance(m, Upsample)]
    assert ups
    with pytest.raises(RuntimeError), transposed_upsampling(model.trunk.vq.decoder) as n:
        assert n == len(ups) and all(m.fast is not None for m in ups)
        raise RuntimeError("boom")
    assert all(m.fast is None for m in ups)


def test_exported_decoder_has_no_resize_and_matches_pytorch(tmp_path: Path) -> None:
    torch.manual_seed(3)
    model = TokLIP(micro_config()).eval()
    g = model.cfg.grid
    n_up = sum(isinstance(m, Upsample) for m in model.trunk.vq.decoder.modules())
    path = export_graph(VQDecoderGraph(model), torch.zeros(1, g, g, dtype=torch.int32), "ids", "image",
                        tmp_path / "vq_decoder.onnx")
    proto = onnx.load(str(path))
    ops = [n.op_type for n in proto.graph.node]
    assert ops.count("ConvTranspose") == n_up and "Resize" not in ops
    # 3×3 weights are stored, and the 4×4 kernels computed from them (Einsum), not stored
    stored = [tuple(t.dims) for t in proto.graph.initializer]
    stored += [tuple(a.t.dims) for n in proto.graph.node if n.op_type == "Constant" for a in n.attribute]
    assert not any(len(d) == 4 and d[-2:] == (4, 4) for d in stored)
    assert ops.count("Einsum") == 2 * n_up
    ids = torch.randint(0, model.cfg.vq.codebook_size, (2, g, g), dtype=torch.int32)
    with torch.no_grad():
        # the graph module outside the export: the model's own forward (nearest + conv)
        ref = VQDecoderGraph(model).eval()(ids).numpy()
    got = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, {"ids": ids.numpy()})[0]
    assert np.abs(got - ref).max() < 1e-4
