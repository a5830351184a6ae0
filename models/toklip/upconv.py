"""Nearest-neighbour ×2 upsampling followed by a 3×3 convolution, as one stride-2 transposed convolution.

LlamaGen-style decoders upsample with ``conv3x3(nearest2x(x))``. Output row ``2i + a`` of that reads three rows
of the upsampled map, which are only two rows of ``x``: ``{i-1, i}`` for ``a = 0`` (taps 0 | 1+2) and ``{i, i+1}``
for ``a = 1`` (taps 0+1 | 2); zero padding maps to zero padding, and columns work the same way. A transposed
convolution with a 4×4 kernel, stride 2 and padding 1 reads exactly those rows, so with its taps set to those sums

    k0 = w2,  k1 = w1 + w2,  k2 = w0 + w1,  k3 = w0     (per axis)

it gives the same output: 16 multiply-adds per output pixel and input channel instead of 36, and no upsampled
tensor in memory. onnxruntime-web's WASM build runs it as GEMM + col2im: 5–7 % less decoder time on one thread,
within noise on two (bench/results/2026-11-30-convtranspose-ab.md). The model keeps LlamaGen's parameters and
forward; only the ONNX export (``VQDecoderGraph.export_context``) switches the ``Upsample`` modules to this form;
the graph keeps the 3×3 weights and computes the 4×4 kernels from them with constant-only Einsums (folded by
onnxruntime at load).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch
import torch.nn as nn
import torch.nn.functional as F

# [4, 3]: which of the 3×3 convolution's taps (columns) add up to each tap of the transposed kernel (rows), per axis
_TAP_SUMS = torch.tensor([[0, 0, 1], [0, 1, 1], [1, 1, 0], [1, 0, 0]], dtype=torch.float32)


def _check(conv: nn.Conv2d) -> None:
    if (conv.kernel_size, conv.stride, conv.padding, conv.dilation, conv.groups) != ((3, 3), (1, 1), (1, 1), (1, 1), 1):
        raise ValueError("only a 3×3 convolution with stride 1, padding 1, dilation 1 and one group is supported")
    if conv.padding_mode != "zeros":
        raise ValueError(f"only zero padding is supported, not {conv.padding_mode!r}")


def transposed_kernel(w: torch.Tensor) -> torch.Tensor:
    """A Conv2d weight [C_out, C_in, 3, 3] -> the ConvTranspose2d weight [C_in, C_out, 4, 4].

    The tap sums run in at least float32, so an fp16 kernel is rounded once per tap.
    """
    if w.dim() != 4 or w.shape[-2:] != (3, 3):
        raise ValueError(f"expected a [C_out, C_in, 3, 3] kernel, got {tuple(w.shape)}")
    acc = torch.promote_types(w.dtype, torch.float32)
    t = _TAP_SUMS.to(device=w.device, dtype=acc)
    rows = torch.einsum("ky,oiyx->oikx", t, w.to(acc))  # two-input Einsums: what every onnxruntime build runs
    return torch.einsum("lx,oikx->iokl", t, rows).to(w.dtype)


class TransposedUpsample:
    """``conv(F.interpolate(x, scale_factor=2, mode="nearest"))`` for one 3×3 ``conv``, as a transposed
    convolution. The 4×4 kernel is computed from ``conv``'s own 3×3 weight inside the forward, so an export stores
    the 3×3 weight (16/9 fewer bytes) and an Einsum on constants, which onnxruntime folds once when it creates the
    session."""

    def __init__(self, conv: nn.Conv2d) -> None:
        _check(conv)
        self.conv = conv

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv_transpose2d(x, transposed_kernel(self.conv.weight), self.conv.bias, stride=2, padding=1)


@contextmanager
def transposed_upsampling(module: nn.Module) -> Iterator[int]:
    """While open, every ``vq.Upsample`` inside ``module`` runs as a ``TransposedUpsample``; yields how many."""
    from .vq import Upsample

    ups = [m for m in module.modules() if isinstance(m, Upsample)]
    for m in ups:
        m.fast = TransposedUpsample(m.conv)
    try:
        yield len(ups)
    finally:
        for m in ups:
            m.fast = None
