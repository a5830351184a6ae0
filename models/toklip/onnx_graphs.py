"""The five browser graphs as small wrapper modules, and their ONNX export.

Input/output names, dtypes and value ranges are fixed by docs/CONTRACT.md.
"""

from __future__ import annotations

import warnings
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

from .model import PixelCLIP, TokLIP
from .onnx_tidy import dedupe_constants_file
from .upconv import transposed_upsampling

OPSET = 17


class VQEncoderGraph(nn.Module):
    def __init__(self, model: TokLIP) -> None:
        super().__init__()
        self.vq = model.trunk.vq

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        # int32 ids: WebGPU has no 64-bit integers, and ORT-web would otherwise emulate them.
        return self.vq.encode_ids(pixels).to(torch.int32)


def _float32(x: torch.Tensor) -> torch.Tensor:
    # A trace-time branch: an fp16-compute export (export_official) gets one Cast, an fp32 graph none.
    return x if x.dtype == torch.float32 else x.float()


class VQDecoderGraph(nn.Module):
    """ids -> RGB in [0, 1] (float32 output whatever the compute dtype)."""

    def __init__(self, model: TokLIP) -> None:
        super().__init__()
        self.vq = model.trunk.vq
        self.register_buffer("mean", torch.tensor(model.cfg.mean).reshape(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(model.cfg.std).reshape(1, 3, 1, 1))

    def export_context(self) -> AbstractContextManager[int]:
        # Exported with each upsampling as one transposed convolution: the same output, 0.44× its arithmetic.
        return transposed_upsampling(self.vq.decoder)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        x = _float32(self.vq.decode_ids(ids.long()))
        return (x * self.std + self.mean).clamp(0.0, 1.0)


class SemanticEncoderGraph(nn.Module):
    """ids -> l2-normalised embedding, normalised in float32."""

    def __init__(self, model: TokLIP) -> None:
        super().__init__()
        self.model = model  # (the whole model, so that initializer names stay "model.<path>")

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return F.normalize(_float32(self.model.trunk.embed_ids(ids.long())), dim=-1)


class TextEncoderGraph(nn.Module):
    def __init__(self, text: nn.Module) -> None:
        super().__init__()
        self.text = text

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.text(input_ids.long()), dim=-1)


class TeacherImageGraph(nn.Module):
    def __init__(self, teacher: PixelCLIP) -> None:
        super().__init__()
        self.teacher = teacher

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        return self.teacher.encode_image(pixels)


def export_graph(module: nn.Module, example: torch.Tensor, in_name: str, out_name: str, path: Path) -> Path:
    module.eval()
    path.parent.mkdir(parents=True, exist_ok=True)
    # A graph module may ask for a context entered around the trace (VQDecoderGraph: its export-only form).
    context = getattr(module, "export_context", None)
    with warnings.catch_warnings(), torch.no_grad(), context() if context else nullcontext():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            module,
            (example,),
            str(path),
            input_names=[in_name],
            output_names=[out_name],
            dynamic_axes={in_name: {0: "B"}, out_name: {0: "B"}},
            opset_version=OPSET,
            do_constant_folding=True,
            dynamo=False,
        )
    dedupe_constants_file(path)
    return path


def export_all(model: TokLIP, teacher: PixelCLIP | None, out: Path) -> dict[str, Path]:
    cfg = model.cfg
    s, g = cfg.vision.image_size, cfg.grid
    pixels = torch.zeros(1, 3, s, s)
    ids = torch.zeros(1, g, g, dtype=torch.int32)
    text_ids = torch.zeros(1, cfg.text.context_length, dtype=torch.int32)
    files = {
        "vq_encoder": export_graph(VQEncoderGraph(model), pixels, "pixels", "ids", out / "vq_encoder.onnx"),
        "vq_decoder": export_graph(VQDecoderGraph(model), ids, "ids", "image", out / "vq_decoder.onnx"),
        "semantic_encoder": export_graph(SemanticEncoderGraph(model), ids, "ids", "embedding", out / "semantic_encoder.onnx"),
        "text_encoder": export_graph(TextEncoderGraph(model.text), text_ids, "input_ids", "embedding", out / "text_encoder.onnx"),
    }
    if teacher is not None:
        files["teacher_image_encoder"] = export_graph(TeacherImageGraph(teacher), pixels, "pixels", "embedding",
                                                      out / "teacher_image_encoder.onnx")
    return files
