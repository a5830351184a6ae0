"""Export an official-size TokLIP (TokLIP-S 256 px / TokLIP-L 384 px) to browser model folders.

Browser limits drive the layout (docs/CONTRACT.md, "Large models"):

* the 256000×1152 token-embedding table (1.2 GB fp32) never enters a graph: ``text_encoder`` takes
  ``token_embeds`` float32 [B, L, width] and the app gathers the rows on the CPU from
  ``text_embedding.bin`` (fp32, fp16, or int8 rows with one float32 scale each), whole or by HTTP
  Range requests; ``manifest.text.input`` is ``"embeddings"``;
* graphs whose weights exceed ``external_threshold`` keep them in ONNX external-data shards of at most
  ``shard_bytes`` (listed in the manifest, each with its own sha256), so no single download or
  ArrayBuffer approaches Chrome's ~2 GB cap;
* variants: ``fp32``; ``fp16`` (fp16 weights and matmuls; LayerNorm/GroupNorm, attention logits and
  softmax, and the final l2-normalisation in fp32; WebGPU with shader-f16); ``int8`` (weight-only,
  symmetric per-output-channel int8 for every MatMul/Gemm weight of the semantic and text encoders,
  DequantizeLinear -> fp32 compute; runs on WASM and WebGPU); ``q4`` / ``q4f16`` (the semantic and text
  encoders' MatMuls as 4-bit ``com.microsoft.MatMulNBits``, toklip.quant4; fp32 / fp16 compute). The VQ
  encoder is fp32 in every variant so that ids are identical; the VQ decoder is fp16 in the fp16 and q4f16
  variants, fp32 otherwise.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import json
import math
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F
from onnx import TensorProto, helper, numpy_helper

from . import vit as vit_mod
from .export import write_codebook
from .manifest import build_manifest, validate_manifest, write_manifest
from .model import TextTransformer, TokLIP
from .official import PreparedTokenizer
from . import fp16_safe
from .quant4 import Q4_MAX_KEPT_FRACTION, choose_fp32_matmuls, measure_vq_4bit, q4_config, quantize_q4
from .onnx_graphs import SemanticEncoderGraph, VQDecoderGraph, VQEncoderGraph, export_graph
# The table's readers are torch-free (toklip.runtime uses them); re-exported for existing callers.
from .textok import TextRule, gather_table_rows, table_row_bytes  # noqa: F401
from .vq import AttnBlock

DTYPES = ("fp32", "fp16", "int8", "q4", "q4f16")
# The token-embedding table's row format per variant (the table is CPU-side; 4-bit rows are not a format the app reads).
TABLE_DTYPE = {"fp32": "fp32", "fp16": "fp16", "int8": "int8", "q4": "int8", "q4f16": "int8"}
COMPUTE = {"fp32": "fp32", "fp16": "fp16 (norms, attention logits/softmax, l2-norm in fp32)",
           "int8": "int8 weights (per output channel), fp32 compute",
           "q4": "4-bit weights (MatMulNBits) in the semantic and text encoders, fp32 compute; VQ fp32",
           "q4f16": "4-bit weights (MatMulNBits) in the semantic and text encoders, fp16 compute as in fp16; "
                    "VQ encoder fp32, VQ decoder as in fp16"}
GRAPH_ORDER = ("vq_encoder", "vq_decoder", "semantic_encoder", "text_encoder")
TABLE_FILE = "text_embedding.bin"
DEFAULT_SHARD_BYTES = 512 * 2**20
DEFAULT_EXTERNAL_THRESHOLD = 256 * 2**20

WEIGHTS_LICENSE = ("TokLIP weights: License Terms of TokLIP (TencentARC; not intended for use within the European "
                   "Union), https://github.com/TencentARC/TokLIP/blob/main/LICENSE; VQ-16 weights: LlamaGen "
                   "(FoundationVision, MIT); tokenizer: SigLIP2 Gemma tokenizer (timm/ViT-SO400M-16-SigLIP2-*)")


# --------------------------------------------------------------------------------------------------
# Graph wrappers (inputs/outputs float32/int32 whatever the compute dtype)


class TextEmbedsGraph(nn.Module):
    """token_embeds float32 [B, L, width] (rows of the token-embedding table) -> embedding [B, E]."""

    def __init__(self, text: TextTransformer) -> None:
        super().__init__()
        self.text = text

    def forward(self, token_embeds: torch.Tensor) -> torch.Tensor:
        dtype = self.text.positional_embedding.dtype
        return F.normalize(self.text.forward_embeddings(token_embeds.to(dtype)).float(), dim=-1)


# --------------------------------------------------------------------------------------------------
# fp16 with the sensitive ops in fp32


class Fp32Norm(nn.Module):
    def __init__(self, norm: nn.Module) -> None:
        super().__init__()
        self.norm = norm.float()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm(x.float()).to(x.dtype)


class Fp32SoftmaxAttnBlock(AttnBlock):
    """The VQ's spatial attention with logits and softmax in fp32 (c=512 channel dot products overflow fp16)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.norm(x)
        b, c, hh, ww = h.shape
        q = self.q(h).reshape(b, c, hh * ww).transpose(1, 2).float()
        k = self.k(h).reshape(b, c, hh * ww).float()
        v = self.v(h).reshape(b, c, hh * ww)
        w = torch.softmax(torch.bmm(q * (c**-0.5), k), dim=2).to(v.dtype)
        out = torch.bmm(v, w.transpose(1, 2)).reshape(b, c, hh, ww)
        return x + self.proj_out(out)


def _attention_fp32_softmax(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    w = torch.matmul(q.float() * (1.0 / math.sqrt(q.shape[-1])), k.float().transpose(-2, -1))
    if mask is not None:
        w = w + mask.float()
    return torch.matmul(torch.softmax(w, dim=-1).to(v.dtype), v)


@contextlib.contextmanager
def fp32_softmax_attention() -> Iterator[None]:
    old = vit_mod.attention
    vit_mod.attention = _attention_fp32_softmax
    try:
        yield
    finally:
        vit_mod.attention = old


def to_fp16_compute(module: nn.Module) -> nn.Module:
    """In place: fp16 weights, norms wrapped to run in fp32, VQ attention softmax in fp32."""
    module.half()
    for name, child in list(module.named_children()):
        if isinstance(child, (nn.LayerNorm, nn.GroupNorm)):
            setattr(module, name, Fp32Norm(child))
        else:
            if type(child) is AttnBlock:
                child.__class__ = Fp32SoftmaxAttnBlock
            to_fp16_compute(child)
    return module


# --------------------------------------------------------------------------------------------------
# ONNX helpers


def torch_export(module: nn.Module, example: torch.Tensor, in_name: str, out_name: str, path: Path) -> onnx.ModelProto:
    export_graph(module, example, in_name, out_name, path)
    return onnx.load(str(path), load_external_data=True)


def _tensor_nbytes(t: TensorProto) -> int:
    if t.raw_data:
        return len(t.raw_data)
    return int(numpy_helper.to_array(t).nbytes)


def initializer_bytes(proto: onnx.ModelProto) -> tuple[int, int]:
    """(total, largest) initializer bytes."""
    sizes = [_tensor_nbytes(t) for t in proto.graph.initializer]
    return sum(sizes), max(sizes, default=0)


def save_graph(proto: onnx.ModelProto, path: Path, *, external: bool, shard_bytes: int) -> list[Path]:
    """Write ``path``; with ``external``, every initializer of >= 1 KiB goes to ``<name>.data<i>`` shards of
    at most ``shard_bytes`` (a larger single tensor gets a shard of its own). Returns the shard paths."""
    path.parent.mkdir(parents=True, exist_ok=True)
    for old in path.parent.glob(path.name + ".data*"):
        old.unlink()
    if not external:
        onnx.save(proto, str(path))
        return []
    shards: list[Path] = []
    fh = None
    used = 0
    try:
        for t in proto.graph.initializer:
            if not t.raw_data:
                arr = numpy_helper.to_array(t)
                t.CopyFrom(numpy_helper.from_array(arr, t.name))
            n = len(t.raw_data)
            if n < 1024:
                continue
            if fh is None or (used > 0 and used + n > shard_bytes):
                if fh is not None:
                    fh.close()
                shards.append(path.with_name(f"{path.name}.data{len(shards)}"))
                fh = open(shards[-1], "wb")
                used = 0
            pad = (-used) % 64  # keep tensors 64-byte aligned inside a shard
            fh.write(b"\0" * pad)
            used += pad
            fh.write(t.raw_data)
            del t.external_data[:]
            for k, v in (("location", shards[-1].name), ("offset", str(used)), ("length", str(n))):
                e = t.external_data.add()
                e.key, e.value = k, v
            t.data_location = TensorProto.EXTERNAL
            t.ClearField("raw_data")
            used += n
    finally:
        if fh is not None:
            fh.close()
    onnx.save(proto, str(path))
    return shards


def quantize_int8_weights(proto: onnx.ModelProto, min_elements: int = 4096) -> tuple[onnx.ModelProto, int]:
    """Weight-only int8: each float 2-D initializer used only as the weight of MatMul (input 1, [K, N]) or
    Gemm (input 1) becomes int8 + per-output-channel float32 scale behind a DequantizeLinear. Returns the
    model and the number of weights quantised."""
    g = proto.graph
    uses: dict[str, list[tuple[onnx.NodeProto, int]]] = {}
    for node in g.node:
        for i, name in enumerate(node.input):
            uses.setdefault(name, []).append((node, i))
    keep, new_nodes, n_q = [], [], 0
    for t in g.initializer:
        u = uses.get(t.name, [])
        ok = (t.data_type == TensorProto.FLOAT and len(t.dims) == 2 and int(np.prod(t.dims)) >= min_elements
              and u and all(i == 1 and node.op_type in ("MatMul", "Gemm") for node, i in u))
        if not ok:
            keep.append(t)
            continue
        axes = set()
        for node, _ in u:
            if node.op_type == "MatMul":
                axes.add(1)
            else:
                trans_b = next((a.i for a in node.attribute if a.name == "transB"), 0)
                axes.add(0 if trans_b else 1)
        if len(axes) != 1:
            keep.append(t)
            continue
        axis = axes.pop()
        w = numpy_helper.to_array(t).astype(np.float32)
        amax = np.abs(w).max(axis=1 - axis)
        scale = np.where(amax > 0, amax / 127.0, 1.0).astype(np.float32)
        shape = (1, -1) if axis == 1 else (-1, 1)
        q = np.clip(np.rint(w / scale.reshape(shape)), -127, 127).astype(np.int8)
        keep += [numpy_helper.from_array(q, t.name + "_int8"), numpy_helper.from_array(scale, t.name + "_scale")]
        new_nodes.append(helper.make_node("DequantizeLinear", [t.name + "_int8", t.name + "_scale"], [t.name],
                                          name=t.name + "_dq", axis=axis))
        n_q += 1
    del g.initializer[:]
    g.initializer.extend(keep)
    nodes = new_nodes + list(g.node)
    del g.node[:]
    g.node.extend(nodes)
    return proto, n_q


# --------------------------------------------------------------------------------------------------
# Token-embedding table


def write_embedding_table(weight: torch.Tensor, path: Path, dtype: str, chunk: int = 8192) -> None:
    """fp32/fp16: little-endian rows [V, D]. int8: per row, a float32 LE scale then D int8 values
    (value = int8 * scale, symmetric, scale = max|row| / 127)."""
    v, d = weight.shape
    with open(path, "wb") as fh:
        for s in range(0, v, chunk):
            rows = weight[s : s + chunk].detach().float().numpy()
            if dtype == "fp32":
                fh.write(rows.astype("<f4").tobytes())
            elif dtype == "fp16":
                fh.write(rows.astype("<f2").tobytes())
            else:
                amax = np.abs(rows).max(axis=1)
                scale = np.where(amax > 0, amax / 127.0, 1.0).astype("<f4")
                q = np.clip(np.rint(rows / scale[:, None]), -127, 127).astype(np.int8)
                rec = np.empty((rows.shape[0], 4 + d), dtype=np.uint8)
                rec[:, :4] = scale.view(np.uint8).reshape(-1, 4)
                rec[:, 4:] = q.view(np.uint8)
                fh.write(rec.tobytes())


# --------------------------------------------------------------------------------------------------
# Export


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _entry(role: str, path: Path, dtype: str, **extra: Any) -> dict[str, Any]:
    return {"role": role, "path": path.name, "dtype": dtype, "bytes": path.stat().st_size, "sha256": _sha256(path),
            **extra}


def _examples(model: TokLIP) -> dict[str, torch.Tensor]:
    cfg = model.cfg
    s, g = cfg.vision.image_size, cfg.grid
    return {"pixels": torch.zeros(1, 3, s, s), "ids": torch.zeros(1, g, g, dtype=torch.int32),
            "token_embeds": torch.zeros(1, cfg.text.context_length, cfg.text.width)}


def _graph_modules(model: TokLIP) -> dict[str, tuple[nn.Module, str, str]]:
    return {
        "vq_encoder": (VQEncoderGraph(model), "pixels", "ids"),
        "vq_decoder": (VQDecoderGraph(model), "ids", "image"),
        "semantic_encoder": (SemanticEncoderGraph(model), "ids", "embedding"),
        "text_encoder": (TextEmbedsGraph(model.text), "token_embeds", "embedding"),
    }


def export_graphs_fp32(model: TokLIP, work: Path, log: Any = print) -> dict[str, Path]:
    ex = _examples(model)
    out = {}
    for role, (mod, i, o) in _graph_modules(model).items():
        t0 = time.time()
        p = work / "fp32" / f"{role}.onnx"
        torch_export(mod, ex[i], i, o, p)
        out[role] = p
        log(f"[export] fp32 {role}: {time.time() - t0:.1f} s")
    return out


def export_graphs_fp16(model: TokLIP, work: Path, log: Any = print) -> dict[str, Path]:
    """``model`` is converted in place (pass a copy if you still need it in fp32)."""
    ex = _examples(model)
    to_fp16_compute(model.trunk.vq.decoder)
    to_fp16_compute(model.trunk.vq.post_quant_conv)
    to_fp16_compute(model.trunk.vq.quantize)
    for name in ("blocks", "norm", "attn_pool", "vq_table", "vq_mapping"):
        to_fp16_compute(getattr(model.trunk, name))
    model.trunk.pos_embed.data = model.trunk.pos_embed.data.half()
    # The text tower without its table (the app gathers rows; the graph never sees the table).
    emb = model.text.token_embedding
    model.text.token_embedding = nn.Embedding(1, model.cfg.text.width)
    to_fp16_compute(model.text)
    model.text.token_embedding = emb
    mods = _graph_modules(model)
    out = {}
    with fp32_softmax_attention():
        for role in ("vq_decoder", "semantic_encoder", "text_encoder"):
            t0 = time.time()
            mod, i, o = mods[role]
            p = work / "fp16" / f"{role}.onnx"
            torch_export(mod, ex[i], i, o, p)
            out[role] = p
            log(f"[export] fp16 {role}: {time.time() - t0:.1f} s")
    return out


def calibration_pixels(model: TokLIP, images: Sequence[Path] = (), n_random: int = 2, seed: int = 0) -> torch.Tensor:
    """Normalised pixels [N, 3, S, S] for the fp16 range check: the parity images (uniform noise), a smooth
    colour ramp and a hard checkerboard (extremes of low and high frequency), and the user's ``images``."""
    from .preprocess import image_section, preprocess_image

    cfg = model.cfg
    s = cfg.vision.image_size
    g = torch.Generator().manual_seed(seed)
    out = [torch.rand(n_random, 3, s, s, generator=g) * 2 - 1]
    yy, xx = torch.meshgrid(torch.linspace(-1, 1, s), torch.linspace(-1, 1, s), indexing="ij")
    out.append(torch.stack([xx, yy, -xx * yy])[None])
    checker = ((torch.arange(s)[:, None] // 8 + torch.arange(s)[None, :] // 8) % 2).float() * 2 - 1
    out.append(torch.stack([checker, -checker, checker])[None])
    spec = image_section(s, cfg.mean, cfg.std)
    for p in images:
        out.append(torch.from_numpy(preprocess_image(p, spec))[None])
    return torch.cat(out)


def calibration_feeds(model: TokLIP, images: Sequence[Path] = (), seed: int = 0, n_random: int = 2,
                      n_texts: int = 4) -> tuple[dict[str, list[dict[str, np.ndarray]]], dict[str, Any]]:
    """Inputs of the decoder, semantic and text graphs for :func:`fp16_safety` and the q4 mixed-precision choice,
    from the fp32 model (call it before any fp16 conversion); ``seed`` draws the noise images."""
    pixels = calibration_pixels(model, images, n_random=n_random, seed=seed)
    cfg = model.cfg
    texts = torch.randint(4, cfg.text.vocab_size, (n_texts, cfg.text.context_length),
                          generator=torch.Generator().manual_seed(seed + 1))
    with torch.no_grad():
        ids = model.trunk.vq.encode_ids(pixels).numpy().astype(np.int32)
        emb = model.text.token_embedding.weight.detach().float()
        feeds = {"vq_decoder": [{"ids": ids[i : i + 1]} for i in range(len(ids))],
                 "semantic_encoder": [{"ids": ids[i : i + 1]} for i in range(len(ids))],
                 "text_encoder": [{"token_embeds": emb[t][None].numpy().astype(np.float32)} for t in texts]}
    info = {"images": int(len(pixels)), "user_images": [Path(p).name for p in images], "texts": int(len(texts)),
            "note": f"{n_random} noise images, a colour ramp, a checkerboard, plus user images; texts: random token rows of the "
                    "fp32 table"}
    return feeds, info


def fp16_safety(feeds: dict[str, list[dict[str, np.ndarray]]], calibration: dict[str, Any], fp32: dict[str, Path],
                g16: dict[str, Path], work: Path, *, margin: float = fp16_safe.DEFAULT_MARGIN,
                log: Any = print) -> tuple[dict[str, Path], dict[str, Any]]:
    """Run the fp32 graphs on calibration inputs and measure every node's max |activation|. A graph with no
    node within ``margin`` of fp16's limit keeps its fp16 export (``g16``); otherwise it is rebuilt from the fp32
    graph by onnxruntime's float16 converter with those nodes (and their consumers) in fp32. Each graph is
    also run through the fp16-emulating reference (toklip.fp16_safe.emulate_fp16). Returns the fp16 graphs to
    use and the report for ``manifest.export.fp16_safety``."""
    out = dict(g16)
    report: dict[str, Any] = {"calibration": calibration,
                              "emulation": "fp32 graph with every fp16 node's inputs, weights and outputs rounded to "
                                           "float16 (toklip.fp16_safe.emulate_fp16); no fp16 accumulation inside a node",
                              "graphs": {}}
    for role in ("vq_decoder", "semantic_encoder", "text_encoder"):
        if role not in g16:
            continue
        proto = onnx.load(str(fp32[role]), load_external_data=True)
        ranges = fp16_safe.activation_ranges(proto, feeds[role])
        keep = fp16_safe.fp32_nodes(proto, ranges, margin)
        if keep:
            mixed = fp16_safe.convert_mixed(proto, keep)
            p = work / "fp16safe" / f"{role}.onnx"
            save_graph(mixed, p, external=initializer_bytes(mixed)[0] > DEFAULT_EXTERNAL_THRESHOLD,
                       shard_bytes=DEFAULT_SHARD_BYTES)
            out[role] = p
            method = "onnx-mixed: onnxruntime float16 converter, fp32_nodes and norms/softmax in fp32"
        else:
            method = "torch-fp16: no node within the margin; norms, attention softmax and l2-norm in fp32"
        em = fp16_safe.emulate_fp16(proto, fp16_safe.fp16_node_names(proto, keep))
        worst = 0.0
        finite = True
        for f in feeds[role][:2]:
            a, b = fp16_safe.run(proto, f)[0], fp16_safe.run(em, f)[0]
            finite = finite and bool(np.isfinite(b).all())
            worst = max(worst, float(np.nanmax(np.abs(a - b))) if np.isfinite(b).any() else float("inf"))
        rep = fp16_safe.safety_report(proto, ranges, keep, margin, method)
        rep["emulated"] = {"finite": finite, "max_abs_vs_fp32": worst}
        report["graphs"][role] = rep
        log(f"[fp16-safety] {role}: max |activation| {rep['max_abs']:.4g}, {len(keep)} nodes kept fp32, "
            f"emulated fp16 finite={finite} max|d|={worst:.3g}")
        if not finite:
            raise RuntimeError(f"{role}: the fp16-emulating reference overflows even with {len(keep)} fp32 nodes")
    return out, report


def _memory(files: list[dict[str, Any]], graphs: dict[str, dict[str, int]], table: dict[str, Any]) -> dict[str, Any]:
    weights = sum(f["bytes"] for f in files if f["role"] in GRAPH_ORDER or f["role"].endswith("_data") or
                  "_data_" in f["role"])
    graph_bytes = {r: g["weights"] for r, g in graphs.items()}
    largest_file = max(f["bytes"] for f in files)
    largest_tensor = max(g["largest_tensor"] for g in graphs.values())
    # Device memory: every graph's weights resident at once, plus onnxruntime's arena and activations
    # (the text and semantic encoders of SO400M need ~0.2-0.5 GB of activations at batch 1).
    activations = 512 * 2**20
    return {
        "weights_bytes": weights,
        "peak_estimate_bytes": int(weights * 1.25 + largest_tensor * 4 + activations),
        "graph_weights_bytes": graph_bytes,
        "largest_file_bytes": largest_file,
        "largest_tensor_bytes": largest_tensor,
        "text_embedding_table_bytes": table["bytes"],
        "note": ("peak_estimate_bytes counts every graph's weights resident on the device plus activations; the "
                 "token-embedding table is CPU-side and adds text_embedding_table_bytes only if downloaded whole "
                 "(reading rows with HTTP Range requests needs context_length rows per prompt)"),
    }


def write_static(model: TokLIP, dtype: str, prepared: PreparedTokenizer, out: Path) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """tokenizer.json, codebook.bin (fp32) and the token-embedding table in ``dtype``: everything that
    needs the fp32 weights but no graph."""
    out.mkdir(parents=True, exist_ok=True)
    cfg = model.cfg
    prepared.tokenizer.save(str(out / "tokenizer.json"))
    write_codebook(model, out / "codebook.bin")
    dtype = TABLE_DTYPE[dtype]
    write_embedding_table(model.text.token_embedding.weight, out / TABLE_FILE, dtype)
    files = [_entry("tokenizer", out / "tokenizer.json", "json"), _entry("codebook", out / "codebook.bin", "fp32"),
             _entry("text_embedding", out / TABLE_FILE, dtype)]
    table = {"role": "text_embedding", "path": TABLE_FILE, "rows": cfg.text.vocab_size, "dim": cfg.text.width,
             "dtype": dtype, "row_bytes": table_row_bytes(dtype, cfg.text.width),
             "layout": {"fp32": "float32 LE rows", "fp16": "float16 LE rows",
                        "int8": "per row: float32 LE scale, then dim int8; value = int8 * scale"}[dtype],
             "bytes": (out / TABLE_FILE).stat().st_size}
    return files, table


def write_variant(cfg: Any, logits: tuple[float, float], graphs: dict[str, Path], dtype: str,
                  prepared: PreparedTokenizer, out: Path, static: tuple[list[dict[str, Any]], dict[str, Any]], *,
                  model_id: str, display_name: str, description: str, shard_bytes: int, external_threshold: int,
                  extra: dict[str, Any] | None = None, q4_keep: dict[str, list[str]] | None = None,
                  log: Any = print) -> Path:
    """The graphs and manifest of one model folder; ``graphs`` maps role -> exported ONNX in that dtype
    (int8: the fp32 graphs, quantised here; q4: ``q4_keep`` names the MatMuls per graph that stay unquantised)."""
    files: list[dict[str, Any]] = []
    data_files: list[dict[str, Any]] = []
    gstats: dict[str, dict[str, int]] = {}
    for role in GRAPH_ORDER:
        proto = onnx.load(str(graphs[role]), load_external_data=True)
        gdtype = dtype
        if dtype == "int8":
            if role in ("semantic_encoder", "text_encoder"):
                proto, n = quantize_int8_weights(proto)
                log(f"[export] int8 {role}: {n} weight matrices quantised")
            else:
                gdtype = "fp32"
        elif dtype in ("q4", "q4f16"):
            if role in ("semantic_encoder", "text_encoder"):
                keep = (q4_keep or {}).get(role, [])
                proto, n = quantize_q4(proto, exclude=keep)
                log(f"[export] {dtype} {role}: {n} MatMuls as 4-bit MatMulNBits, {len(keep)} kept unquantised")
            else:
                gdtype = "fp32" if dtype == "q4" or role == "vq_encoder" else "fp16"
        elif dtype == "fp16" and role == "vq_encoder":
            gdtype = "fp32"
        total, largest = initializer_bytes(proto)
        gstats[role] = {"weights": total, "largest_tensor": largest}
        p = out / f"{role}.onnx"
        shards = save_graph(proto, p, external=total > external_threshold, shard_bytes=shard_bytes)
        del proto
        files.append(_entry(role, p, gdtype, **({"external_data": [s.name for s in shards]} if shards else {})))
        for i, s in enumerate(shards):
            data_files.append(_entry(f"{role}_data_{i}", s, gdtype, graph=role))
    static_files, table = static
    files += static_files + data_files
    m = build_manifest(cfg, out, display_name=display_name, description=description, logit_scale=logits[0],
                       logit_bias=logits[1],
                       default_prompts=["a photo of a cat", "a photo of a dog", "a red apple", "a car", "a tree",
                                        "a house", "the sun", "a flower"],
                       license_info={"code": "Apache-2.0 (this exporter)", "weights": WEIGHTS_LICENSE,
                                     "data_attribution": []})
    m["id"] = model_id
    m["files"] = files
    m["text"] = {"context_length": cfg.text.context_length, "pad_id": prepared.rule.pad_id, "clean": "canonicalize",
                 **prepared.rule.to_manifest(), "input": "embeddings", "embedding_table": table}
    m["memory"] = _memory(files, gstats, table)
    f16 = dtype in ("fp16", "q4f16")
    m["variant"] = {"dtype": dtype, "compute": COMPUTE[dtype],
                    "providers": ["webgpu"] if f16 else ["webgpu", "wasm"],
                    "requires": ["shader-f16"] if f16 else []}
    m["training"] = None
    m["export"] = dict(extra or {})
    if dtype in ("q4", "q4f16"):
        m["export"].setdefault("q4", q4_config())
    write_manifest(out, m)
    validate_manifest(m, out)
    return out / "manifest.json"


def export_official(model: TokLIP, prepared: PreparedTokenizer, out: Path, dtypes: Sequence[str], *,
                    model_id: str, display_name: str, description: str = "", consume: bool = False,
                    shard_bytes: int = DEFAULT_SHARD_BYTES, external_threshold: int = DEFAULT_EXTERNAL_THRESHOLD,
                    verify: bool = True, calibration_images: Sequence[Path] = (),
                    fp16_margin: float = fp16_safe.DEFAULT_MARGIN, q4_search_seconds: float = 300.0,
                    q4_max_fp32_fraction: float = Q4_MAX_KEPT_FRACTION, log: Any = print) -> dict[str, Path]:
    """Write one model folder per dtype: ``out`` itself for a single dtype, ``out/<model_id>-<dtype>``
    for several. With ``consume`` the model is converted to fp16 in place instead of copied (saves a
    full copy of the weights). Returns dtype -> manifest path."""
    dtypes = list(dict.fromkeys(dtypes))
    for d in dtypes:
        if d not in DTYPES:
            raise ValueError(f"unknown dtype {d!r}; choose from {DTYPES}")
    model = model.eval()
    cfg = model.cfg
    targets = {d: (out if len(dtypes) == 1 else out / f"{model_id}-{d}") for d in dtypes}
    ids = {d: (model_id if len(dtypes) == 1 else f"{model_id}-{d}") for d in dtypes}
    logits = (float(math.exp(model.logit_scale.item())), float(model.logit_bias.item()))
    ref = reference_outputs(model, prepared) if verify else None
    written: dict[str, Path] = {}
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".toklip-export-", dir=out) as tmp:
        work = Path(tmp)
        t0 = time.time()
        static = {d: write_static(model, d, prepared, targets[d]) for d in dtypes}
        fp32 = export_graphs_fp32(model, work, log)
        q4: dict[str, Any] = {}
        q4_keep: dict[str, list[str]] = {}
        if "q4" in dtypes or "q4f16" in dtypes:
            vq4 = measure_vq_4bit(model, calibration_pixels(model, calibration_images))
            log(f"[q4] 4-bit VQ convolutions would give ids mismatch {vq4['ids_mismatch_fraction']:.4f}, decoder "
                f"PSNR {vq4['decoder_psnr_db']} dB against fp32: the VQ graphs stay at higher precision")
            # Calibration inputs other than the parity set (seed 1), so the parity figures stay a held-out check.
            feeds_q4, _ = calibration_feeds(model, calibration_images, seed=1, n_random=8, n_texts=8)
            mixed = {}
            for role in ("semantic_encoder", "text_encoder"):
                q4_keep[role], mixed[role] = choose_fp32_matmuls(
                    onnx.load(str(fp32[role])), feeds_q4[role], time_budget_s=q4_search_seconds,
                    max_kept_fraction=q4_max_fp32_fraction, log=log)
                if not mixed[role]["reached"]:
                    # Full-depth towers need a minute or more a graph run on a small CPU, so the search often
                    # stops at its time budget: say so loudly rather than only in the manifest.
                    log(f"[q4] WARNING: {role} reaches min cosine {mixed[role]['min_cos_vs_fp32_graph']} against "
                        f"the fp32 graph, below the {mixed[role]['target_cos']} target, with "
                        f"{len(q4_keep[role])} MatMul(s) kept fp32 after {mixed[role]['graph_runs']} graph runs "
                        f"({mixed[role]['seconds_per_run']} s each); give the search more time "
                        f"(--q4-search-seconds) or room (--q4-max-fp32), or use int8")
            q4 = {"q4": {**q4_config(), "vq_4bit_measured": vq4, "mixed_precision": mixed}}
        graphs = {d: fp32 for d in dtypes if d not in ("fp16", "q4f16")}
        if "fp16" in dtypes or "q4f16" in dtypes:
            feeds, calib = calibration_feeds(model, calibration_images)
            m16 = model if consume else copy.deepcopy(model)
            g16 = {**export_graphs_fp16(m16, work, log), "vq_encoder": fp32["vq_encoder"]}
            del m16
            g16, safety = fp16_safety(feeds, calib, fp32, g16, work, margin=fp16_margin, log=log)
            graphs.update({d: g16 for d in ("fp16", "q4f16") if d in dtypes})
        for d in dtypes:
            written[d] = write_variant(cfg, logits, graphs[d], d, prepared, targets[d], static[d], model_id=ids[d],
                                       display_name=f"{display_name} {d}", description=description,
                                       shard_bytes=shard_bytes, external_threshold=external_threshold, log=log,
                                       extra={"dtype": d, "export_seconds": round(time.time() - t0, 1),
                                              **({"fp16_safety": safety} if d in ("fp16", "q4f16") else {}),
                                              **(q4 if d in ("q4", "q4f16") else {})}, q4_keep=q4_keep)
    if ref is not None:
        for d, p in written.items():
            res = verify_folder(p.parent, ref)
            log(f"[verify] {d}: {json.dumps(res)}")
            add_to_manifest(p.parent, {"parity": res})
    if len(written) > 1:
        # Each folder names its siblings, so the app can open the best one the browser runs (src/lib/variants.ts).
        family = [{"dtype": d, "path": f"../{p.parent.name}/"} for d, p in written.items()]
        for p in written.values():
            m = json.loads(p.read_text(encoding="utf-8"))
            m["variants"] = family
            write_manifest(p.parent, m)
            validate_manifest(m, p.parent)
    for d, p in written.items():
        log(f"[size] {d}: {size_summary(p.parent)}")
    return written


def size_summary(folder: Path) -> str:
    """Bytes per graph (external-data shards included) and in all, from the folder's manifest."""
    m = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    per: dict[str, int] = {}
    for f in m["files"]:
        role = f.get("graph", f["role"])
        per[role] = per.get(role, 0) + f["bytes"]
    total = sum(per.values())
    return ", ".join(f"{r} {b / 2**20:.2f} MiB" for r, b in per.items()) + f"; total {total / 2**20:.2f} MiB"


def add_to_manifest(folder: Path, fields: dict[str, Any]) -> None:
    path = folder / "manifest.json"
    m = json.loads(path.read_text(encoding="utf-8"))
    m.setdefault("export", {}).update(fields)
    write_manifest(folder, m)


# --------------------------------------------------------------------------------------------------
# Parity: run the folder as the app does and compare with the fp32 PyTorch model


def _session(path: Path) -> Any:
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.log_severity_level = 3
    # At its default level the native CPU provider rewrites int8 DequantizeLinear+MatMul into MatMulNBits, which
    # also quantises the activations (text embeddings move ~3e-3); onnxruntime-web runs the graph as written, so the
    # parity recorded in the manifest is taken on the graph as written too.
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
    return ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])


def text_ids(folder: Path, texts: Sequence[str]) -> np.ndarray:
    from tokenizers import Tokenizer

    m = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    tok = Tokenizer.from_file(str(folder / "tokenizer.json"))
    return TextRule.from_manifest(m["text"]).array(tok, texts).astype(np.int64)


def embed_texts(folder: Path, texts: Sequence[str]) -> np.ndarray:
    m = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    table = m["text"]["embedding_table"]
    ids = text_ids(folder, texts)
    x = gather_table_rows(folder / table["path"], table, ids)
    return _session(folder / "text_encoder.onnx").run(None, {"token_embeds": x})[0]


PARITY_TEXTS = ["a photo of a cat", "A red apple, on a TABLE!", "the sun_and the moon 2024"]


def reference_outputs(model: TokLIP, prepared: PreparedTokenizer, n_images: int = 2, seed: int = 0) -> dict[str, np.ndarray]:
    """The fp32 PyTorch answers the exported folders are checked against (computed before any fp16
    conversion)."""
    s = model.cfg.vision.image_size
    g = torch.Generator().manual_seed(seed)
    pixels = (torch.rand(n_images, 3, s, s, generator=g) * 2 - 1).float()
    tids = torch.tensor([prepared.rule.ids(prepared.tokenizer, t) for t in PARITY_TEXTS])
    with torch.no_grad():
        ids = model.trunk.vq.encode_ids(pixels)
        return {"pixels": pixels.numpy(), "ids": ids.numpy(), "semantic": model.encode_ids(ids).numpy(),
                "image": (model.trunk.vq.decode_ids(ids) * 0.5 + 0.5).clamp(0, 1).numpy(),
                "text_ids": tids.numpy(), "text": model.encode_text(tids).numpy()}


def verify_folder(folder: Path, ref: dict[str, np.ndarray]) -> dict[str, Any]:
    """Run the folder as the app does and compare with :func:`reference_outputs`: ids equality (VQ
    encoder), min cosine (semantic and text encoders), decoder max abs error."""
    ids = _session(folder / "vq_encoder.onnx").run(None, {"pixels": ref["pixels"]})[0]
    ref_ids = ref["ids"].astype(np.int32)
    sem = _session(folder / "semantic_encoder.onnx").run(None, {"ids": ref_ids})[0]
    img = _session(folder / "vq_decoder.onnx").run(None, {"ids": ref_ids})[0]
    tids = text_ids(folder, PARITY_TEXTS)
    txt = embed_texts(folder, PARITY_TEXTS)
    return {
        "ids_identical": bool(ids.dtype == np.int32 and np.array_equal(ids, ref_ids)),
        "ids_mismatch_fraction": float(np.mean(ids != ref_ids)),
        "semantic_min_cos": float(np.min(np.sum(sem * ref["semantic"], 1))),
        "text_ids_identical": bool(np.array_equal(tids, ref["text_ids"])),
        "text_min_cos": float(np.min(np.sum(txt * ref["text"], 1))),
        "decoder_max_abs": float(np.max(np.abs(img - ref["image"]))),
    }
