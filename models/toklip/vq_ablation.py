"""Short VQ-only runs that compare VQ training settings at equal compute (issue 11: why v2's VQ trails v1's).

    python -m toklip.vq_ablation train --arm A --out /tmp/abl-A --steps 400     # one arm, 1 thread
    python -m toklip.vq_ablation psnr /tmp/abl-A/stage1_vq.pt --codes 2048       # held-out photos, 128 px
    python -m toklip.vq_ablation tail models/runs/tiny-v2-r12/stage1_vq.pt --codes 1024 --out /tmp/tail-mse \
        --steps 250 --l1 0                                                       # do the last steps' settings matter?
    python -m toklip.vq_ablation train --arm B --out /tmp/abl-B-full --steps 1600 --batch 32 \
        --hires-steps 200 --threads 2                                            # v1's whole VQ schedule
    python -m toklip.vq_ablation dectail models/runs/tiny-v2-r15/stage1_vq.pt --codes 1024 --out /tmp/dec \
        --steps 300 --lr 1e-4                                                    # decoder only: ids unchanged
    python -m toklip.vq_ablation style /tmp/dec/stage1_vq.pt --codes 1024 --base models/runs/tiny-v2-r15
                                                                                 # what the VQ keeps, teacher-read

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
2026-12-07: a tail that also sees v2's training styles (``tail --pairs v1+v2``) rebuilds held-out icons and emoji
1.1 dB better but the held-out OpenMoji style no better (``style``: 20.50 dB, teacher on reconstructions 0.104 vs
0.099; ``ablations/vq-style-tails-2026-12-07.json``); 300 decoder-only steps (``dectail``) add 0.14-0.17 dB with
every id kept, best at lr 1e-4 (``ablations/vq-decoder-tails-2026-12-07.json``): the recipe's decoder stage.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from .dataset import CropSampler, load_pairs, load_photos, photo_files
from .evaluate import one_per_concept, pooled_recall, thumbnail_psnr
from .metrics import psnr
from .model import PixelCLIP, TokLIP, TokLIPConfig, tiny_v2_config
from .preprocess import official_toklip_rgb
from .textok import TextEncoderInput
from .train import decoder_loop, load_done, vq_loop
from .train_v2 import ScheduleV2, capped, normalise, pair_rgb, train_pairs

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


def arm_images(c: dict[str, Any], cfg: TokLIPConfig) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """(training photos, one pair image per concept) of an arm's settings ``c``."""
    photos = [p for d in c["folders"] if (d / "photos.jsonl").exists() for p in load_photos(d, "train")]
    pairs = list(pair_rgb(capped(train_pairs(c.get("pair_folders", c["folders"]), None), 1, 0), cfg.vision.image_size))
    return photos, pairs


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
    photos, pairs = arm_images(c, cfg)
    print(f"[{arm}] {len(photos)} photos, {len(pairs)} pair images", flush=True)
    sch = dataclasses.replace(ScheduleV2(), vq_steps=steps, vq_batch=batch, vq_hires_steps=hires_steps,
                              vq_hires_batch=hires_batch, vq_lr=c["lr"], photo_share=c["share"], snapshot_every=10**9,
                              vq_bf16=bf16)
    vq_loop(vq, cfg, out, sch, 0, CropSampler(photos, 0, resample=c["resample"]),
            CropSampler(pairs, 1, min_frac=0.7, resample=c["resample"]), l1_weight=c["l1"],
            photo_min_frac=c["min_frac"])
    return out / "stage1_vq.pt"


def decoder_tail(checkpoint: Path, out: Path, steps: int, lr: float, threads: int, batch: int = 12,
                 codes: int = 1024) -> Path:
    """The decoder (and post-quant conv) of a trained VQ trained ``steps`` more at the model's size on arm B's data
    with the encoder and codebook frozen (``train.decoder_loop``, the recipe's decoder stage), so every image keeps
    its ids. Same losses as the recipe's VQ (MSE + 0.5 L1), own warmup + cosine."""
    c = ARMS["B"]
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    out.mkdir(parents=True, exist_ok=True)
    cfg = config(codes)
    vq = TokLIP(cfg).trunk.vq
    vq.load_state_dict(torch.load(checkpoint, map_location="cpu"))
    photos, pairs = arm_images(c, cfg)
    decoder_loop(vq, cfg, out / "stage1_vq.pt", steps, batch, lr,
                 CropSampler(photos, 0, min_frac=c["min_frac"][1], resample=c["resample"]),
                 CropSampler(pairs, 1, min_frac=0.7, resample=c["resample"]), c["share"], c["l1"], 0, 10**9)
    return out / "stage1_vq.pt"


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
    return photo_psnrs(load_vq(checkpoint, cfg), cfg, selection)


def load_vq(checkpoint: Path, cfg: TokLIPConfig) -> torch.nn.Module:
    vq = TokLIP(cfg).trunk.vq
    vq.load_state_dict(torch.load(checkpoint, map_location="cpu"))
    return vq.eval()


def photo_psnrs(vq: torch.nn.Module, cfg: TokLIPConfig, selection: bool = False) -> dict[str, float]:
    """``heldout_psnr`` of a loaded VQ."""
    files = photo_files((V1, V2), "val")
    p, t = photo_psnr(vq, cfg, files)
    out = {"photos": len(files), "psnr_db": p, "thumb32_psnr_db": t}
    if selection:
        sel = photo_files((V2,), "train")
        out["selection_photos"] = len(sel)
        out["selection_psnr_db"] = photo_psnr(vq, cfg, sel)[0]
    return out


@torch.no_grad()
def style_probe(checkpoint: Path, codes: int, base: Path, threads: int = 2, data: Path = V1,
                data_v2: Path = V2) -> dict[str, Any]:
    """What a VQ keeps of each image kind, read by the base run's pixel teacher and text tower: reconstruction
    PSNR and the teacher's text->image R@1 (toklip-eval's pools) on pixels and on the VQ's reconstructions, for
    the held-out concepts' representatives and for the held-out emoji style. The held-out style is where the
    bundled model's tokens lose most (teacher 0.151 on pixels, 0.101 on run 15's reconstructions), so a VQ
    setting is judged here by ``heldout_style.teacher_recon_r1`` next to the photo PSNR it must not give up."""
    torch.set_num_threads(threads)
    cfg = config(codes)
    vq = load_vq(checkpoint, cfg)
    teacher = PixelCLIP(tiny_v2_config())
    if not load_done(teacher, base / "stage2_teacher.pt", "teacher"):
        raise SystemExit(f"{base} has no finished teacher stage (stage2_teacher.pt)")
    teacher.eval()
    textin = TextEncoderInput.load(base / "tokenizer.json", cfg.text.context_length, cfg.text.pad_id)
    out: dict[str, Any] = {"checkpoint": str(checkpoint), **photo_psnrs(vq, cfg)}
    sets = {"heldout_concepts": one_per_concept([p for d in (data, data_v2) for p in load_pairs(d, "val")], True),
            "heldout_style": one_per_concept(load_pairs(data_v2, "heldout_style"), rep_only=False)}
    for name, items in sets.items():
        if not items:
            continue
        x = normalise(pair_rgb(items, cfg.vision.image_size), cfg)
        rec = torch.cat([vq(x[i:i + 64])[0].clamp(-1, 1) for i in range(0, len(x), 64)])
        mse = ((rec - x) / 2).pow(2).flatten(1).mean(1).clamp_min(1e-10)
        txt = torch.cat([teacher.encode_text(textin([p.captions[0] for p in items[i:i + 256]]))
                         for i in range(0, len(items), 256)]).numpy()
        on_px = torch.cat([teacher.encode_image(x[i:i + 128]) for i in range(0, len(x), 128)]).numpy()
        on_rec = torch.cat([teacher.encode_image(rec[i:i + 128]) for i in range(0, len(x), 128)]).numpy()
        out[name] = {"n": len(items), "recon_psnr_db": float((10 * torch.log10(1 / mse)).mean()),
                     "teacher_r1": pooled_recall(txt, on_px), "teacher_recon_r1": pooled_recall(txt, on_rec)}
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
    f.add_argument("--pairs", choices=("v1", "v1+v2"), default="v1",
                   help="pair images the tail sees beside photos: v1's (the recipe's) or every training style of both "
                        "folders (v2's emoji styles, icons and flags; the held-out style never)")
    g = sub.add_parser("dectail", help="more full-size steps on a trained VQ's decoder only (ids unchanged)")
    g.add_argument("checkpoint", type=Path)
    g.add_argument("--out", type=Path, required=True)
    g.add_argument("--codes", type=int, required=True, help="the checkpoint's codebook size")
    g.add_argument("--steps", type=int, default=300)
    g.add_argument("--batch", type=int, default=12)
    g.add_argument("--lr", type=float, default=1e-4, help="peak lr of the tail's own warmup + cosine")
    g.add_argument("--threads", type=int, default=1)
    y = sub.add_parser("style", help="what a VQ keeps of held-out concepts and the held-out style (teacher R@1)")
    y.add_argument("checkpoint", type=Path)
    y.add_argument("--codes", type=int, required=True, help="the checkpoint's codebook size")
    y.add_argument("--base", type=Path, required=True, help="a finished run whose teacher and tokenizer read it")
    y.add_argument("--threads", type=int, default=2)
    e = sub.add_parser("psnr", help="held-out photo PSNR of a VQ checkpoint")
    e.add_argument("checkpoint", type=Path)
    e.add_argument("--codes", type=int, required=True, help="the checkpoint's codebook size")
    e.add_argument("--selection", action="store_true", help="also v2's training photos (not in arm B's VQ)")
    a = ap.parse_args(argv)
    if a.cmd == "train":
        print(train_arm(a.arm, a.out, a.steps, a.threads, a.batch, a.hires_steps, a.hires_batch, a.bf16, a.codes))
    elif a.cmd == "tail":
        over = {"l1": a.l1, "lr": a.lr, "min_frac": (ARMS["B"]["min_frac"][0], a.min_frac),
                **({"pair_folders": [V1, V2]} if a.pairs == "v1+v2" else {})}
        ck = train_arm("B", a.out, 0, a.threads, hires_steps=a.steps, hires_batch=a.batch, bf16=True, codes=a.codes,
                       start=a.checkpoint, overrides=over)
        print(ck, heldout_psnr(ck, a.codes, selection=True))
    elif a.cmd == "dectail":
        ck = decoder_tail(a.checkpoint, a.out, a.steps, a.lr, a.threads, a.batch, a.codes)
        print(ck, heldout_psnr(ck, a.codes, selection=True))
    elif a.cmd == "style":
        print(json.dumps(style_probe(a.checkpoint, a.codes, a.base, a.threads), indent=1))
    else:
        print(heldout_psnr(a.checkpoint, a.codes, a.selection))


if __name__ == "__main__":
    main()
