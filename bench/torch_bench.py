"""PyTorch eager (CPU) timings and FLOPs per stage for `npm run bench` (bench/run.mjs).

Uses the same graph wrappers the ONNX export uses (toklip.onnx_graphs), so the work is the exported graphs'.
Weights: models/runs/tiny/final.pt when present (the trained bundle's checkpoint), else a random-init TokLIP-Tiny
(timings do not depend on the weights; FLOPs neither). With BENCH_TORCH_CHECKPOINT (an official-layout
TokLIP_*.pt, e.g. from toklip-synth-official), BENCH_TORCH_VQ and BENCH_TORCH_VARIANT (S_256 | L_384) it times the
official model through the wrappers toklip-export uses (text: token_embeds in, as the app feeds it).
Prints one JSON object on stdout.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from pathlib import Path

import torch
from torch.utils.flop_counter import FlopCounterMode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "models"))

from toklip.model import TokLIP, tiny_config  # noqa: E402
from toklip.onnx_graphs import SemanticEncoderGraph, TextEncoderGraph, VQDecoderGraph, VQEncoderGraph  # noqa: E402


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    warmup = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    threads = torch.get_num_threads()
    if os.environ.get("BENCH_TORCH_CHECKPOINT"):
        return bench_official(runs, warmup, threads)
    ckpt = ROOT / "models/runs/tiny/final.pt"
    if ckpt.exists():
        from toklip.export import load_checkpoint

        model, _, _ = load_checkpoint(ckpt)
        weights = str(ckpt.relative_to(ROOT))
    else:
        torch.manual_seed(0)
        model = TokLIP(tiny_config()).eval()
        weights = "random init (toklip.model.tiny_config(); models/runs/tiny/final.pt absent)"
    cfg = model.cfg
    S = cfg.vision.image_size
    g = cfg.grid
    L = cfg.text.context_length
    pixels = torch.linspace(-1, 1, 3 * S * S).reshape(1, 3, S, S)
    with torch.no_grad():
        ids = VQEncoderGraph(model)(pixels)
    text = (torch.arange(L, dtype=torch.int32).reshape(1, L) * 7 + 5) % 100
    stages = {
        "VQ encode": (VQEncoderGraph(model).eval(), pixels),
        "VQ decode": (VQDecoderGraph(model).eval(), ids),
        "semantic encode": (SemanticEncoderGraph(model).eval(), ids),
        "text encode": (TextEncoderGraph(model.text).eval(), text),
    }
    out: dict[str, object] = {"weights": weights, "threads": threads, "torch": torch.__version__, "grid": g, "size": S}
    out["stages"] = time_stages(stages, runs, warmup)
    print(json.dumps(out))


def bench_official(runs: int, warmup: int, threads: int) -> None:
    from toklip.export_official import _examples, _graph_modules
    from toklip.official import load_official

    ckpt = Path(os.environ["BENCH_TORCH_CHECKPOINT"])
    vq = os.environ.get("BENCH_TORCH_VQ")
    model = load_official(os.environ.get("BENCH_TORCH_VARIANT", "S_256"), ckpt, Path(vq) if vq else None)
    ex = _examples(model)
    mods = _graph_modules(model)
    with torch.no_grad():
        ex["pixels"] = torch.linspace(-1, 1, ex["pixels"].numel()).reshape(ex["pixels"].shape)
        ex["ids"] = mods["vq_encoder"][0](ex["pixels"])
        ex["token_embeds"] = torch.linspace(-0.05, 0.05, ex["token_embeds"].numel()).reshape(ex["token_embeds"].shape)
    names = {"vq_encoder": "VQ encode", "vq_decoder": "VQ decode", "semantic_encoder": "semantic encode",
             "text_encoder": "text encode"}
    stages = {names[r]: (m.eval(), ex[i]) for r, (m, i, _) in mods.items()}
    out: dict[str, object] = {"weights": f"{ckpt} (fp32, official layout)", "threads": threads,
                              "torch": torch.__version__, "grid": model.cfg.grid, "size": model.cfg.vision.image_size}
    out["stages"] = time_stages(stages, runs, warmup)
    print(json.dumps(out))


def time_stages(stages: dict[str, tuple[torch.nn.Module, torch.Tensor]], runs: int, warmup: int) -> dict[str, object]:
    res: dict[str, object] = {}
    for name, (mod, x) in stages.items():
        with FlopCounterMode(display=False) as fc:  # (its module tracker fails under no_grad/inference_mode)
            mod(x)
        flops = fc.get_total_flops()
        with torch.inference_mode():
            for _ in range(warmup):
                mod(x)
            times = []
            for _ in range(runs):
                t0 = time.perf_counter()
                mod(x)
                times.append((time.perf_counter() - t0) * 1000)
        res[name] = {"times_ms": times, "flops": flops, "median": statistics.median(times)}
        print(f"[torch] {name}: median {statistics.median(times):.1f} ms", file=sys.stderr)
    return res


if __name__ == "__main__":
    main()
