"""Export a TokLIP checkpoint to a browser model folder (ONNX graphs + manifest), per docs/CONTRACT.md.

    toklip-export --checkpoint models/runs/tiny/final.pt --tokenizer models/runs/tiny/tokenizer.json \
        --data models/data --out public/models/toklip-tiny
    toklip-export --random-init --tokenizer tok.json --out /tmp/toklip-random   # untrained, same contract
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .manifest import build_manifest, write_manifest
from .model import PixelCLIP, TokLIP, TokLIPConfig, tiny_config
from .onnx_graphs import export_all

DEFAULT_PROMPTS = [
    "an emoji of a cat face",
    "a picture of a dog",
    "a red apple",
    "a car",
    "a tree",
    "a house",
    "the sun",
    "a flower",
]


def load_checkpoint(path: Path) -> tuple[TokLIP, PixelCLIP | None, dict[str, Any]]:
    ck = torch.load(path, map_location="cpu", weights_only=False)
    cfg = TokLIPConfig.from_dict(ck["config"])
    model = TokLIP(cfg)
    model.load_state_dict(ck["toklip"], strict=True)
    teacher = None
    if ck.get("teacher") is not None and cfg.teacher is not None:
        teacher = PixelCLIP(cfg)
        teacher.load_state_dict(ck["teacher"], strict=True)
        teacher.eval()
    return model.eval(), teacher, ck


def write_codebook(model: TokLIP, path: Path) -> None:
    with torch.no_grad():
        cb = model.trunk.vq.quantize.codebook().numpy().astype("<f4")
    path.write_bytes(np.ascontiguousarray(cb).tobytes())


def license_info(data: Path | None) -> dict[str, Any]:
    info: dict[str, Any] = {"code": "Apache-2.0", "weights": "Apache-2.0 (trained by this project's scripts)", "data_sources": []}
    src = data / "sources.json" if data else None
    if src and src.exists():
        s = json.loads(src.read_text())
        info["debian_version"] = s.get("debian_version")
        for v in s.get("sources") or []:
            info["data_sources"].append({"source": v.get("name"), "package": v.get("package"), "version": v.get("version"),
                                          "license": v.get("license"), "attribution": v.get("attribution")})
    return info


def export_bundle(model: TokLIP, teacher: PixelCLIP | None, tokenizer: Path, out: Path, *, display_name: str,
                  description: str, data: Path | None, training: dict[str, Any] | None) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    export_all(model, teacher, out)
    shutil.copyfile(tokenizer, out / "tokenizer.json")
    write_codebook(model, out / "codebook.bin")
    manifest = build_manifest(
        model.cfg, out, display_name=display_name, description=description,
        logit_scale=float(math.exp(model.logit_scale.item())), logit_bias=float(model.logit_bias.item()),
        default_prompts=DEFAULT_PROMPTS, license_info=license_info(data), training=training,
    )
    return write_manifest(out, manifest)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint", type=Path, help="final.pt written by toklip-train")
    ap.add_argument("--random-init", action="store_true", help="export an untrained TokLIP-Tiny (development)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--tokenizer", type=Path, help="tokenizer.json (default: beside the checkpoint)")
    ap.add_argument("--data", type=Path, help="dataset folder, for sources.json (licences, package versions)")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--display-name", default=None)
    a = ap.parse_args(argv)
    if a.random_init:
        torch.manual_seed(a.seed)
        cfg = tiny_config()
        model, teacher, training = TokLIP(cfg).eval(), PixelCLIP(cfg).eval(), {"random_init": True, "seed": a.seed}
        desc = "Randomly initialised TokLIP-Tiny: the real graphs and contract, untrained weights."
    elif a.checkpoint:
        model, teacher, ck = load_checkpoint(a.checkpoint)
        training = {k: ck.get(k) for k in ("train_minutes", "stage_minutes", "seed", "schedule", "smoke")}
        desc = "TokLIP-Tiny trained offline by models/toklip on images and captions from Debian packages."
    else:
        ap.error("give --checkpoint or --random-init")
    tok = a.tokenizer or (a.checkpoint.parent / "tokenizer.json" if a.checkpoint else None)
    if tok is None or not tok.exists():
        ap.error(f"tokenizer not found: {tok}")
    name = a.display_name or f"TokLIP-Tiny ({model.cfg.vision.image_size} px)"
    path = export_bundle(model, teacher, tok, a.out, display_name=name, description=desc, data=a.data, training=training)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
