"""PyTorch eager (CPU) timings and FLOPs per stage for `npm run bench` (bench/run.mjs).

Uses the same graph wrappers the ONNX export uses (toklip.onnx_graphs), so the work is the exported graphs'.
Weights: models/runs/tiny/final.pt when present (the trained bundle's checkpoint), else a random-init TokLIP-Tiny
(timings do not depend on the weights; FLOPs neither). Prints one JSON object on stdout.
"""

from __future__ import annotations

import json
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
    out: dict[str, object] = {"weights": weights, "threads": threads, "torch": torch.__version__, "grid": g, "size": S, "stages": {}}
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
        out["stages"][name] = {"times_ms": times, "flops": flops, "median": statistics.median(times)}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
