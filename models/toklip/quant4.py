"""4-bit weights for the official TokLIP transformer graphs: every MatMul with a constant 2-D weight in the
semantic encoder (causal ViT + attention pool) and the text tower becomes ``com.microsoft.MatMulNBits``
(4-bit blocks along K, one scale per block per output column, optional zero point), written by onnxruntime's
own quantiser (``onnxruntime.quantization.matmul_nbits_quantizer``; it needs the ``onnx-ir`` package).

The VQ encoder and decoder have no constant-weight MatMul (their 1x1 projections and 3x3 kernels are Conv,
which MatMulNBits does not cover) and stay at the variant's higher precision: fp32 in ``q4`` (ids identical to
fp32), the fp16 decoder in ``q4f16``.

What hurts most when quantised stays fp32: :func:`choose_fp32_matmuls` measures it on calibration inputs at
export time. Block size and symmetric/asymmetric were chosen with :func:`sweep` on the shallow synthetic checkpoint (the
numbers are in ``Q4_SWEEP_NOTE`` and in every q4 manifest under ``export.q4``)."""

from __future__ import annotations

import logging
import argparse
import json
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import onnx.numpy_helper

# Chosen by sweep() on the shallow synthetic checkpoint (see Q4_SWEEP_NOTE).
Q4_BLOCK_SIZE = 32
Q4_SYMMETRIC = False
Q4_SWEEP_NOTE = ("python -m toklip.quant4 on the shallow synthetic checkpoint (bench/results/q4-sweep-shallow.json), "
                 "min cosine vs fp32 PyTorch over 8 images / 3 texts: block 32 asymmetric 0.9884 semantic / 0.9929 "
                 "text, best of blocks 16/32/64/128 x symmetric/asymmetric (symmetric lost 0.002-0.004 at every "
                 "block size); neither reaches the 0.995 target on random weights. 4-bit VQ convolutions (fake-quantised, "
                 "block 32 asymmetric) change 52 % of the ids and give 19.9 dB decoder PSNR against fp32, so the VQ "
                 "stays at higher precision")


# Mixed precision: the MatMuls whose 4-bit weights cost the most are kept fp32 until the graph's output is
# within Q4_TARGET_COS of the fp32 graph on calibration inputs, keeping at most Q4_MAX_KEPT_FRACTION of the
# MatMul weights fp32 (see choose_fp32_matmuls).
Q4_TARGET_COS = 0.995
Q4_MAX_KEPT_FRACTION = 0.45


def quantize_q4(proto: onnx.ModelProto, *, block_size: int = Q4_BLOCK_SIZE, symmetric: bool = Q4_SYMMETRIC,
                accuracy_level: int | None = None, exclude: Sequence[str] = (),
                include: Sequence[str] | None = None) -> tuple[onnx.ModelProto, int]:
    """MatMul with a constant weight -> MatMulNBits (4 bit), on the given proto; returns (model, count).
    ``exclude``: MatMul node names kept as they are; ``include``: only these are quantised.

    ``accuracy_level`` unset: the activations stay in the graph's float type (the web build's kernel and the
    parity reference agree on that); 4 would let native onnxruntime quantise activations to int8 as well."""
    from onnxruntime.quantization.matmul_nbits_quantizer import MatMulNBitsQuantizer

    before = sum(n.op_type == "MatMul" for n in proto.graph.node)
    logging.getLogger("onnxruntime.quantization").setLevel(logging.WARNING)
    q = MatMulNBitsQuantizer(proto, bits=4, block_size=block_size, is_symmetric=symmetric,
                             accuracy_level=accuracy_level, op_types_to_quantize=("MatMul",),
                             nodes_to_exclude=list(exclude), nodes_to_include=list(include) if include else None)
    q.process()
    out: onnx.ModelProto = q.model.model
    n = sum(n.op_type == "MatMulNBits" for n in out.graph.node)
    assert before - sum(n.op_type == "MatMul" for n in out.graph.node) == n
    return out, n


def weight_matmuls(proto: onnx.ModelProto) -> dict[str, int]:
    """MatMul nodes with a constant 2-D weight (what the quantiser converts) -> number of weights."""
    dims = {t.name: list(t.dims) for t in proto.graph.initializer}
    return {n.name: int(np.prod(dims[n.input[1]])) for n in proto.graph.node
            if n.op_type == "MatMul" and len(dims.get(n.input[1], [])) == 2}


def rtn_relative_error(w: np.ndarray, block_size: int = Q4_BLOCK_SIZE, symmetric: bool = Q4_SYMMETRIC) -> float:
    """||W - Q(W)|| / ||W|| for round-to-nearest 4-bit blocks of ``block_size`` along K (W is [K, N]), the
    quantiser's layout; a cheap stand-in for a MatMul's cost when running the graph per MatMul is too slow."""
    k, n = w.shape
    pad = (-k) % block_size
    x = np.pad(w.astype(np.float64).T, ((0, 0), (0, pad))).reshape(n, -1, block_size)
    if symmetric:
        scale = np.abs(x).max(-1, keepdims=True) / 7
        scale[scale == 0] = 1
        q = np.clip(np.round(x / scale), -8, 7) * scale
    else:
        lo, hi = np.minimum(x.min(-1, keepdims=True), 0), np.maximum(x.max(-1, keepdims=True), 0)
        scale = (hi - lo) / 15
        scale[scale == 0] = 1
        zp = np.round(-lo / scale)
        q = (np.clip(np.round(x / scale) + zp, 0, 15) - zp) * scale
    err = (q - x).reshape(n, -1)[:, :k]
    return float(np.linalg.norm(err) / (np.linalg.norm(w) + 1e-30))


def _min_cos(a: Sequence[np.ndarray], b: Sequence[np.ndarray]) -> float:
    """Smallest cosine between matching output rows (embeddings), over all calibration inputs."""
    worst = 1.0
    for x, y in zip(a, b):
        x2, y2 = x.reshape(x.shape[0], -1).astype(np.float64), y.reshape(y.shape[0], -1).astype(np.float64)
        c = np.sum(x2 * y2, 1) / (np.linalg.norm(x2, axis=1) * np.linalg.norm(y2, axis=1) + 1e-30)
        worst = min(worst, float(c.min()))
    return worst


def choose_fp32_matmuls(proto: onnx.ModelProto, feeds: Sequence[dict[str, np.ndarray]], *,
                        target: float = Q4_TARGET_COS, max_kept_fraction: float = Q4_MAX_KEPT_FRACTION,
                        block_size: int = Q4_BLOCK_SIZE, symmetric: bool = Q4_SYMMETRIC,
                        max_evaluations: int = 64, time_budget_s: float = 300.0,
                        log: Callable[[str], Any] = lambda _m: None) -> tuple[list[str], dict[str, Any]]:
    """Which MatMuls to keep fp32 so that the 4-bit graph's outputs stay within ``target`` cosine of the fp32
    graph's on ``feeds`` (calibration inputs, not the parity set).

    Each MatMul's cost is measured alone (only it 4-bit); then, greedily, the MatMul whose fp32 weights help the
    whole graph most is kept, up to ``max_kept_fraction`` of all MatMul weights, until the graph reaches
    ``target``. Where the cap, ``max_evaluations`` graph runs or a step that helps nothing comes first,
    ``reached`` is false; the run budget is also cut to what fits in about ``time_budget_s`` (from the time of
    the first run). A graph with more MatMuls than the run budget allows ranks them by weight rounding error
    instead of one run each."""
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
    so.log_severity_level = 3

    def outputs(p: onnx.ModelProto) -> list[np.ndarray]:
        s = ort.InferenceSession(p.SerializeToString(), so, providers=["CPUExecutionProvider"])
        return [np.asarray(s.run(None, f)[0]) for f in feeds]

    def copy() -> onnx.ModelProto:
        return onnx.ModelProto.FromString(proto.SerializeToString())

    t0 = time.perf_counter()
    ref = outputs(proto)
    # Full-size towers take tens of seconds a run on a laptop CPU: the search gets about `time_budget_s` per graph.
    run_s = time.perf_counter() - t0
    max_evaluations = max(1, min(max_evaluations, int(time_budget_s / max(run_s, 1e-3))))
    sizes = weight_matmuls(proto)
    total = sum(sizes.values())

    def with_kept(kept: Sequence[str]) -> float:
        return _min_cos(outputs(quantize_q4(copy(), block_size=block_size, symmetric=symmetric, exclude=kept)[0]),
                        ref)

    pool_size = 6
    if len(sizes) + pool_size <= max_evaluations:
        cost = {name: 1.0 - _min_cos(outputs(quantize_q4(copy(), block_size=block_size, symmetric=symmetric,
                                                            include=[name])[0]), ref) for name in sizes}
        cost_kind = "1 - min cosine with only this MatMul 4-bit"
    else:
        # Too many MatMuls to run the graph once per MatMul (full-size towers take tens of seconds a run):
        # rank by how much 4-bit rounding changes each weight instead.
        inits = {t.name: t for t in proto.graph.initializer}
        wname = {n.name: n.input[1] for n in proto.graph.node if n.name in sizes}
        cost = {name: rtn_relative_error(onnx.numpy_helper.to_array(inits[wname[name]]), block_size, symmetric)
                for name in sizes}
        cost_kind = "relative Frobenius error of the 4-bit weights (too many MatMuls to measure one by one)"
    evaluations = len(sizes) if cost_kind.startswith("1 - ") else 0
    # Single costs do not add up (errors partly cancel), so each step measures the whole graph with each of the
    # `pool` costliest remaining MatMuls kept and keeps the one that helps most.
    kept: list[str] = []
    c = with_kept(kept)
    tried: list[dict[str, Any]] = [{"kept": 0, "min_cos": round(c, 5)}]
    log(f"[q4] all MatMuls 4-bit: min cosine {c:.5f} against the fp32 graph")
    budget = max_kept_fraction * total
    while c < target:
        used = sum(sizes[n] for n in kept)
        pool = [n for n in sorted(sizes, key=lambda n: -cost[n])
                if n not in kept and used + sizes[n] <= budget][:pool_size]
        if not pool:
            break
        if evaluations + len(pool) > max_evaluations:
            break
        evaluations += len(pool)
        step = max(((with_kept([*kept, n]), n) for n in pool))
        if step[0] <= c:
            break  # nothing in reach helps any more
        c, name = step
        kept.append(name)
        tried.append({"kept": len(kept), "added": name, "min_cos": round(c, 5)})
        log(f"[q4] {len(kept)} MatMul(s) kept fp32 (+{name}): min cosine {c:.5f} against the fp32 graph")
    return kept, {"target_cos": target, "reached": c >= target, "min_cos_vs_fp32_graph": round(c, 5),
                  "kept_fp32": kept, "kept_fp32_weight_fraction": round(sum(sizes[n] for n in kept) / total, 4),
                  "max_kept_fraction": max_kept_fraction, "matmuls": len(sizes), "tried": tried,
                  "single_matmul_cost": {n: round(cost[n], 6) for n in sorted(sizes, key=lambda n: -cost[n])[:8]},
                  "cost": cost_kind, "graph_runs": evaluations + 2, "max_graph_runs": max_evaluations + 2,
                  "seconds_per_run": round(run_s, 2), "calibration_inputs": len(feeds)}


def q4_config(block_size: int = Q4_BLOCK_SIZE, symmetric: bool = Q4_SYMMETRIC) -> dict[str, Any]:
    return {"op": "com.microsoft.MatMulNBits", "bits": 4, "block_size": block_size, "symmetric": symmetric,
            "quantiser": "onnxruntime.quantization.matmul_nbits_quantizer (DEFAULT / RTN)",
            "graphs": ["semantic_encoder", "text_encoder"], "note": Q4_SWEEP_NOTE}


def fake_quant_conv_(module: Any, block_size: int = Q4_BLOCK_SIZE, symmetric: bool = Q4_SYMMETRIC) -> int:
    """In place: every Conv2d weight of ``module`` rounded as 4-bit blocks of ``block_size`` along its flattened
    input (in_channels x kh x kw), the layout a blockwise 4-bit Conv would use. Returns the number of convs."""
    import torch

    n = 0
    for m in module.modules():
        if not isinstance(m, torch.nn.Conv2d):
            continue
        w = m.weight.data
        flat = w.reshape(w.shape[0], -1)
        k = flat.shape[1]
        pad = (-k) % block_size
        x = torch.nn.functional.pad(flat, (0, pad)).reshape(w.shape[0], -1, block_size)
        if symmetric:
            scale = x.abs().amax(-1, keepdim=True) / 7
            scale = torch.where(scale > 0, scale, torch.ones_like(scale))
            q = torch.clamp(torch.round(x / scale), -8, 7) * scale
        else:
            lo, hi = x.amin(-1, keepdim=True).clamp(max=0), x.amax(-1, keepdim=True).clamp(min=0)
            scale = (hi - lo) / 15
            scale = torch.where(scale > 0, scale, torch.ones_like(scale))
            zp = torch.round(-lo / scale)
            q = (torch.clamp(torch.round(x / scale) + zp, 0, 15) - zp) * scale
        m.weight.data = q.reshape(w.shape[0], -1)[:, :k].reshape(w.shape)
        n += 1
    return n


def measure_vq_4bit(model: Any, pixels: Any, block_size: int = Q4_BLOCK_SIZE,
                    symmetric: bool = Q4_SYMMETRIC) -> dict[str, Any]:
    """What 4-bit convolutions would cost the VQ (on a copy): ids mismatch of a 4-bit encoder against fp32,
    and the PSNR of a 4-bit decoder's picture against the fp32 decoder's on the fp32 ids. The exports keep the
    VQ at higher precision unless ids stay within 1 % (see ``safe``)."""
    import copy

    import torch

    from .metrics import psnr

    vq = copy.deepcopy(model.trunk.vq).eval()
    with torch.no_grad():
        ids = model.trunk.vq.encode_ids(pixels)
        img = (model.trunk.vq.decode_ids(ids) * 0.5 + 0.5).clamp(0, 1).numpy()
        n_enc = fake_quant_conv_(vq.encoder, block_size, symmetric) + fake_quant_conv_(vq.quant_conv, block_size,
                                                                                        symmetric)
        n_dec = fake_quant_conv_(vq.decoder, block_size, symmetric) + fake_quant_conv_(vq.post_quant_conv,
                                                                                        block_size, symmetric)
        ids4 = vq.encode_ids(pixels)
        img4 = (vq.decode_ids(ids) * 0.5 + 0.5).clamp(0, 1).numpy()
    mismatch = float((ids4 != ids).float().mean())
    p = float(psnr(img4, img))
    return {"images": int(len(pixels)), "block_size": block_size, "symmetric": symmetric, "encoder_convs": n_enc,
            "decoder_convs": n_dec, "ids_mismatch_fraction": mismatch,
            "decoder_psnr_db": round(p, 2) if p != float("inf") else None, "safe": mismatch <= 0.01,
            "note": "fake-quantised 4-bit conv weights in PyTorch (block along in_channels x kh x kw), measured "
                    "only: MatMulNBits has no Conv form, so the exported VQ graphs are never 4-bit"}


def sweep(measure: Callable[[int, bool], dict[str, float]], block_sizes: Sequence[int] = (32, 64, 128),
          symmetric: Sequence[bool] = (True, False)) -> list[dict[str, Any]]:
    """``measure(block_size, symmetric)`` -> figures (min cosines, bytes); one row per setting."""
    return [{"block_size": b, "symmetric": s, **measure(b, s)} for b in block_sizes for s in symmetric]


def _weight_bytes(proto: onnx.ModelProto) -> int:
    return sum(len(t.raw_data) or t.ByteSize() for t in proto.graph.initializer)


def measure_shallow(block_sizes: Sequence[int] = (16, 32, 64, 128), n_images: int = 8,
                    seed: int = 0) -> dict[str, Any]:
    """The sweep on the shallow synthetic checkpoint: semantic (n_images random images) and text (the parity
    prompts, fp32 table rows) min cosine against the fp32 PyTorch model, and the two graphs' weight bytes."""
    import onnxruntime as ort
    import torch

    from .export_official import export_graphs_fp32, reference_outputs
    from .official import prepare_tokenizer
    from .synthetic_official import build_gemma_style_json, random_model, shallow_config

    cfg = shallow_config()
    model = random_model(cfg, seed)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        prepared = prepare_tokenizer(build_gemma_style_json(work / "tok"), cfg.text.context_length)
        ref = reference_outputs(model, prepared, n_images=n_images)
        paths = export_graphs_fp32(model, work, log=lambda *_: None)
        fp32 = {r: onnx.load(str(paths[r])) for r in ("semantic_encoder", "text_encoder")}
    emb = model.text.token_embedding.weight.detach().numpy()[ref["text_ids"]].astype(np.float32)
    feeds = {"semantic_encoder": {"ids": ref["ids"].astype(np.int32)}, "text_encoder": {"token_embeds": emb}}
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC

    def run(role: str, proto: onnx.ModelProto) -> np.ndarray:
        s = ort.InferenceSession(proto.SerializeToString(), so, providers=["CPUExecutionProvider"])
        return np.asarray(s.run(None, feeds[role])[0])

    def measure(block: int, sym: bool) -> dict[str, float]:
        q = {r: quantize_q4(onnx.ModelProto.FromString(p.SerializeToString()), block_size=block, symmetric=sym)[0]
             for r, p in fp32.items()}
        sem, txt = run("semantic_encoder", q["semantic_encoder"]), run("text_encoder", q["text_encoder"])
        vq = measure_vq_4bit(model, torch.from_numpy(ref["pixels"]), block, sym)
        return {"semantic_min_cos": float(np.min(np.sum(sem * ref["semantic"], 1))),
                "text_min_cos": float(np.min(np.sum(txt * ref["text"], 1))),
                "weight_bytes": sum(_weight_bytes(p) for p in q.values()),
                "vq_4bit_ids_mismatch": vq["ids_mismatch_fraction"], "vq_4bit_decoder_psnr_db": vq["decoder_psnr_db"]}

    return {"checkpoint": f"shallow synthetic (toklip.synthetic_official, seed {seed}), width 64, 2+2 layers",
            "images": n_images, "texts": int(emb.shape[0]),
            "fp32_weight_bytes": sum(_weight_bytes(p) for p in fp32.values()), "rows": sweep(measure, block_sizes)}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m toklip.quant4",
                                 description="measure 4-bit block sizes / symmetry on the shallow synthetic checkpoint")
    ap.add_argument("--out", type=Path, help="write the table as JSON here")
    a = ap.parse_args(argv)
    res = measure_shallow()
    for r in res["rows"]:
        print(f"block {r['block_size']:4d} {'sym ' if r['symmetric'] else 'asym'}  semantic {r['semantic_min_cos']:.4f}  "
              f"text {r['text_min_cos']:.4f}  {r['weight_bytes']} B  | 4-bit VQ convs (not exported): ids mismatch "
              f"{r['vq_4bit_ids_mismatch']:.3f}, decoder PSNR {r['vq_4bit_decoder_psnr_db']} dB")
    if a.out:
        a.out.write_text(json.dumps(res, indent=2) + "\n")


if __name__ == "__main__":
    main()
