"""Short VQ-only runs that compare VQ training settings at equal compute (issue 11: why v2's VQ trails v1's).

    python -m toklip.vq_ablation train --arm A --out /tmp/abl-A --steps 400     # one arm, 1 thread
    python -m toklip.vq_ablation psnr /tmp/abl-A/stage1_vq.pt --codes 2048       # held-out photos, 128 px
    python -m toklip.vq_ablation tail models/runs/tiny-v2-r12/stage1_vq.pt --codes 1024 --out /tmp/tail-mse \
        --steps 250 --l1 0                                                       # do the last steps' settings matter?
    python -m toklip.vq_ablation train --arm B --out /tmp/abl-B-full --steps 1600 --batch 32 \
        --hires-steps 200 --threads 2                                            # v1's whole VQ schedule

Arms: A = run 2's VQ settings (2048 codes, L1 0.2, lr 4e-4, bicubic crops, v1 + v2 photos and pairs, 85 %
photos); B = v1's (1024 codes, L1 0.5, lr 3e-4, bilinear crops, v1 photos and pairs, 70 % photos); C = A with
v1's pairs only (no line-art icons); D = A with v1's L1 weight and lr; E = A with 1024 codes; F = B with v2's
photos and textures added to v1's photos (pairs v1's). Measured on
2026-11-29 (400 steps x 20 at 64 px, seed 0, 41 held-out photos): A 16.06 dB, B 16.66 dB, C 15.90 dB,
D 16.25 dB, E 17.01 dB. With ``--bf16`` (encoder and decoder under bfloat16 autocast, quantiser float32; 2026-12-06,
400 x 32, arm B): 17.16 dB against 16.90 in float32 (``ablations/vq-bf16-arms-2026-12-06.json``).
Codebook size at a longer length (arm B in bf16, 2000 x 32 at 64 px + 250 x 12 at 128 px, ``--codes``): 1024 and
4096 codes end level, and ``tail`` arms on run 12's VQ (250 more steps with MSE only, crops >= 0.8 of the short
side, or a 3x higher lr) end within 0.05 dB of each other (``ablations/vq-capacity-arms-2026-12-06.json``).
"""

from __future__ import annotations

import argparse
import dataclasses
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from .dataset import CropSampler, load_photos, read_jsonl
from .evaluate import thumbnail_psnr
from .metrics import psnr
from .model import TokLIP, TokLIPConfig, tiny_v2_config
from .preprocess import official_toklip_rgb
from .train import vq_loop
from .train_v2 import ScheduleV2, capped, pair_rgb, train_pairs

V1, V2 = Path("models/data"), Path("models/data-v2")
_A: dict[str, Any] = dict(codes=2048, l1=0.2, resample=Image.BICUBIC, folders=[V1, V2], share=0.85, lr=4e-4,
                          min_frac=(0.3, 0.4))
_B: dict[str, Any] = dict(codes=1024, l1=0.5, resample=Image.BILINEAR, folders=[V1], share=0.7, lr=3e-4,
                          min_frac=(0.3, 0.3))
ARMS: dict[str, dict[str, Any]] = {
    "A": _A,
    "B": _B,
    "C": {**_A, "pair_folders": [V1]},
    "D": {**_A, "l1": 0.5, "lr": 3e-4},
    "E": {**_A, "codes": 1024},
    # B with v2's photos and textures added to v1's (pairs still v1's): does more natural data help at v1's settings?
    "F": {**_B, "folders": [V1, V2], "pair_folders": [V1]},
}


def config(codes: int) -> TokLIPConfig:
    cfg = tiny_v2_config()
    return dataclasses.replace(cfg, vq=dataclasses.replace(cfg.vq, codebook_size=codes))


def train_arm(arm: str, out: Path, steps: int, threads: int, batch: int = 20, hires_steps: int = 0,
              hires_batch: int = 12, bf16: bool = False, codes: int | None = None, start: Path | None = None,
              overrides: dict[str, Any] | None = None) -> Path:
    """One arm's VQ trained into ``out``; ``start``: go on from a trained VQ instead of a fresh init;
    ``overrides``: replace the arm's settings (``l1``, ``lr``, ``min_frac``...)."""
    c = {**ARMS[arm], **({"codes": codes} if codes else {}), **(overrides or {})}
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    random.seed(0)
    np.random.seed(0)
    out.mkdir(parents=True, exist_ok=True)
    cfg = config(c["codes"])
    vq = TokLIP(cfg).trunk.vq
    if start is not None:
        vq.load_state_dict(torch.load(start, map_location="cpu"))
    photos = [p for d in c["folders"] if (d / "photos.jsonl").exists() for p in load_photos(d, "train")]
    pairs = list(pair_rgb(capped(train_pairs(c.get("pair_folders", c["folders"]), None), 1, 0), cfg.vision.image_size))
    print(f"[{arm}] {len(photos)} photos, {len(pairs)} pair images", flush=True)
    sch = dataclasses.replace(ScheduleV2(), vq_steps=steps, vq_batch=batch, vq_hires_steps=hires_steps,
                              vq_hires_batch=hires_batch, vq_lr=c["lr"], photo_share=c["share"], snapshot_every=10**9,
                              vq_bf16=bf16)
    vq_loop(vq, cfg, out, sch, 0, CropSampler(photos, 0, resample=c["resample"]),
            CropSampler(pairs, 1, min_frac=0.7, resample=c["resample"]), l1_weight=c["l1"],
            photo_min_frac=c["min_frac"])
    return out / "stage1_vq.pt"


def photo_files(split: str, folders: tuple[Path, ...] = (V1, V2)) -> list[Path]:
    return [d / r["file"] for d in folders if (d / "photos.jsonl").exists()
            for r in read_jsonl(d / "photos.jsonl") if r["split"] == split]


@torch.no_grad()
def photo_psnr(vq: torch.nn.Module, cfg: TokLIPConfig, files: list[Path]) -> tuple[float, float]:
    """Mean PSNR of the VQ (PyTorch, eval mode) on whole photos, official preprocessing at 128 px, and of a
    32x32 thumbnail of the same photos; on the held-out photos these are the numbers toklip-eval gives for the
    exported graphs."""
    m = torch.tensor(cfg.mean).view(1, 3, 1, 1)
    s = torch.tensor(cfg.std).view(1, 3, 1, 1)
    ps, ts = [], []
    for f in files:
        with Image.open(f) as im:
            rgb = official_toklip_rgb(im, cfg.vision.image_size)
        ref = rgb.transpose(2, 0, 1) / 255.0
        x = (torch.from_numpy(np.ascontiguousarray(ref, dtype=np.float32))[None] - m) / s
        rec = (vq(x)[0] * s + m).clamp(0, 1)[0].numpy()
        ps.append(psnr(rec, ref))
        ts.append(thumbnail_psnr(ref))
    return float(np.mean(ps)), float(np.mean(ts))


def heldout_psnr(checkpoint: Path, codes: int, selection: bool = False) -> dict[str, float]:
    """Held-out photos of both folders; with ``selection`` also v2's training photos (textures that arm B's
    VQ, as the recipe's, never trains on), the set to choose between B-based arms by without looking at the
    held-out photos."""
    cfg = config(codes)
    vq = TokLIP(cfg).trunk.vq
    vq.load_state_dict(torch.load(checkpoint, map_location="cpu"))
    vq.eval()
    files = photo_files("val")
    p, t = photo_psnr(vq, cfg, files)
    out = {"photos": len(files), "psnr_db": p, "thumb32_psnr_db": t}
    if selection:
        sel = photo_files("train", (V2,))
        out["selection_photos"] = len(sel)
        out["selection_psnr_db"] = photo_psnr(vq, cfg, sel)[0]
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("train", help="train one arm's VQ")
    t.add_argument("--arm", choices=sorted(ARMS), required=True)
    t.add_argument("--out", type=Path, required=True)
    t.add_argument("--steps", type=int, default=400)
    t.add_argument("--threads", type=int, default=1)
    t.add_argument("--batch", type=int, default=20, help="images per step at 64 px")
    t.add_argument("--hires-steps", type=int, default=0, help="steps at the model's size after the 64 px ones")
    t.add_argument("--hires-batch", type=int, default=12)
    t.add_argument("--bf16", action="store_true", help="encoder/decoder under bfloat16 autocast (quantiser float32)")
    t.add_argument("--codes", type=int, default=None, help="codebook size (default: the arm's)")
    f = sub.add_parser("tail", help="more full-size steps on a trained VQ with other settings (arm B's data)")
    f.add_argument("checkpoint", type=Path, help="a trained VQ (e.g. a run's stage1_vq.pt)")
    f.add_argument("--out", type=Path, required=True)
    f.add_argument("--codes", type=int, required=True, help="the checkpoint's codebook size")
    f.add_argument("--steps", type=int, default=250)
    f.add_argument("--batch", type=int, default=12)
    f.add_argument("--threads", type=int, default=1)
    f.add_argument("--lr", type=float, default=3e-5, help="peak lr of the tail's own warmup + cosine")
    f.add_argument("--l1", type=float, default=0.5, help="L1 weight next to the MSE")
    f.add_argument("--min-frac", type=float, default=0.3, help="smallest photo crop side / the photo's short side")
    e = sub.add_parser("psnr", help="held-out photo PSNR of a VQ checkpoint")
    e.add_argument("checkpoint", type=Path)
    e.add_argument("--codes", type=int, required=True, help="the checkpoint's codebook size")
    e.add_argument("--selection", action="store_true", help="also v2's training photos (not in arm B's VQ)")
    a = ap.parse_args(argv)
    if a.cmd == "train":
        print(train_arm(a.arm, a.out, a.steps, a.threads, a.batch, a.hires_steps, a.hires_batch, a.bf16, a.codes))
    elif a.cmd == "tail":
        over = {"l1": a.l1, "lr": a.lr, "min_frac": (ARMS["B"]["min_frac"][0], a.min_frac)}
        ck = train_arm("B", a.out, 0, a.threads, hires_steps=a.steps, hires_batch=a.batch, bf16=True, codes=a.codes,
                       start=a.checkpoint, overrides=over)
        print(ck, heldout_psnr(ck, a.codes, selection=True))
    else:
        print(heldout_psnr(a.checkpoint, a.codes, a.selection))


if __name__ == "__main__":
    main()
