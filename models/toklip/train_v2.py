"""TokLIP-Tiny v2 recipe: one VQ, one pixel teacher, one TokLIP, trained on v1 + v2 data (issue 11).

    toklip-train-v2 --data models/data --data-v2 models/data-v2 --out models/runs/tiny-v2     # full recipe
    toklip-train-v2 --data /tmp/smoke/data --out /tmp/smoke/run --smoke                       # every stage, a few steps

What differs from v1 (``toklip.train``), each for a measured v1 failure (issue 11):
- Images go through the official TokLIP preprocessing (Pillow bicubic shortest side + centre crop), so the
  app has one code path.
- VQ: v1's VQ stage (1024 codes, L1 0.5, lr 3e-4, Pillow bilinear crops, v1's photos and pairs, 70 % photos; up to
  run 11 also v1's 1600 x 32 at 64 px + 200 x 12 at 128 px in float32), which is ``toklip.vq_ablation`` arm B run in
  full: 22.38 dB on the 41 held-out photos (official preprocessing). Runs 1-4 trained the VQ on v1 + v2 photos,
  textures and icons with batches of 20, bicubic crops and 85 % photos and ended at 21.4-21.5 dB (4096 / 2048 / 1024
  codes); moving a third of that compute to full resolution (run 4: 1500 x 20 + 500 x 12 at 128 px) gave 20.12 dB.
  v2's extra photos are not used by the VQ until a measured run says they help.
- Since run 12, the VQ's encoder and decoder run under bfloat16 autocast (the quantiser and the losses in
  float32; ``vq_bf16``): 0.52 vs 0.84 s per 32 x 64 px step here, and arm B at 400 x 32 (``vq_ablation train
  --arm B --steps 400 --batch 32 [--bf16]``, 2026-12-06) gave 17.16 dB in bf16 vs 16.90 in float32. The minutes
  saved go to more steps of the same schedule: 3700 x 32 at 64 px + 500 x 12 at 128 px (was 1600 + 200), since
  held-out PSNR was still climbing with steps (arm B: 16.7 dB at 400, 22.4 at 1600 + 200).
- Since run 16, a decoder stage after every other (``train_decoder``, ``dec_steps`` 300 x 12 at 128 px, lr 1e-4):
  the VQ's decoder alone goes on training with the encoder and codebook frozen, so the ids TokLIP learnt from stay
  the exported encoder's. Three 300-step arms on run 15's VQ (``vq_ablation dectail``, lr 3e-5 / 1e-4 / 3e-4:
  +0.15 / +0.17 / +0.14 dB held-out) against +0.11 for 250 joint steps; 3.45 idle minutes in run 16 (23.42 ->
  23.60 dB).
- Teacher and TokLIP batches are balanced by kind of concept (emoji, icons, stamps, flags): sampled
  uniformly over ~13k concepts, emoji were under a tenth of each batch and their held-out R@1 fell to chance.
  Shares emoji 0.2 / icon 0.6 / stamp 0.15 / flag 0.05 since run 6, from three teacher-only arms
  (``toklip.teacher_ablation``, 2026-12-05; teacher text->image R@1 on the held-out concepts / on the held-out
  OpenMoji style): 0.35/0.4/0.2/0.05 (runs 3-5) 0.084 / 0.060; proportional to the concepts (0.09/0.84/0.05/0.02)
  0.108 / 0.005; 0.2/0.6/0.15/0.05 0.131 / 0.037. Chosen on the held-out concepts, so those figures carry a
  small selection bias (three arms).
- Teacher steps 1600 since run 9 (runs 7-8: 800, runs 1-6: 400): the teacher bounds TokLIP's comprehension
  (run 8: TokLIP R@1 0.133 = 0.56x its teacher's 0.236), and the same arm (shares above,
  ``teacher_ablation train --steps 800``) reached held-out R@1 0.239 / OpenMoji 0.083 against 0.131 / 0.037 at
  400 steps. Run 9 measured it: teacher R@1 0.236 -> 0.327, TokLIP 0.133 -> 0.170, for ~16 more idle minutes
  (whole recipe 90.3 min that day).
- TokLIP steps 1200 since run 8 (runs 1-7: 480): at 480 the student's distillation cosine was still rising
  (0.66 at step 170, 0.74-0.78 at the end) and held-out R@1 was 0.39x the teacher's; 1200 steps at ~1.95 s
  fill most of the budget the VQ and teacher stages leave.
- Teacher: 192 concepts per batch (v1: 96; more negatives), logit scale/bias in their own parameter group with a
  20x learning rate (v1's stayed at their initial 10/-10), and a uniformity term (Wang & Isola 2020) on
  image and text embeddings against the low-rank collapse v1 showed.
- TokLIP: distillation + contrastive as v1, plus the same uniformity term; its transformer blocks, final
  norm and attention pool start from the teacher's (same width; the token grid's position embedding is the
  teacher's, upsampled), since from random init the distillation cosine stalled at 0.75; ids are computed once with
  onnxruntime (about 2x faster than PyTorch eager here), at most ``max_per_concept`` items per concept.
- Since run 10, a spectrum term (``spectrum_weight`` x the inverse participation ratio of each batch's image and
  text embeddings, teacher and TokLIP): run 9's held-out image embeddings used 11.8 directions (text 22.0), so
  unmatched text-image cosines spread widely (10-90 % -0.25 .. 0.31) and overlapped the matched ones (median 0.42).
  Weight 8 from three 200-step teacher arms (``teacher_ablation train --steps 200 --spectrum-weight W``,
  2026-12-06; held-out teacher text->image R@1 / image participation ratio / OpenMoji R@1): W=0 0.041 / 4.8 /
  0.013; W=2 0.112 / 19.2 / 0.033; W=8 0.118 / 33.5 / 0.031. Short arms: the ranking at 1600 steps is assumed.
- Since run 10, a calibration stage: ``calib_concepts`` training concepts never reach the teacher or TokLIP, and
  the shared logit bias is set on them (trained scale kept) where the class-balanced sigmoid loss is lowest, so
  p = 0.5 marks even odds between a match and a non-match. The bias SigLIP learns encodes a training batch's
  1-in-191 odds: run 9's matched held-out pairs read 0.08. On run 9's held-out cosines the balanced bias would
  have read 0.98 matched / 0.03 unmatched (its scale 17.75): p < 0.01 for non-matches needs better separated
  embeddings, not another bias.
- Since run 11, the TokLIP stage runs under bfloat16 autocast (losses in float32) with distillation weight 10
  (was 3) for 1700 steps (was 1200): seven 300-step arms on run 10's VQ and teacher (``toklip.student_ablation``,
  2026-12-06, ``models/toklip/ablations/student-arms-2026-12-06.json``; held-out TokLIP R@1 / OpenMoji R@1):
  recipe 0.106 / 0.042; distill 10 0.118 / 0.055; distill 30 0.121 / 0.048; lr 1e-3 0.107 / 0.043; spectrum 0
  0.075 / 0.032; spectrum 16 (with distill 10, bf16) 0.117 / 0.045; bf16 0.111 / 0.047 at 1.04 s per step
  against 1.50 in float32 (AMD EPYC with avx512_bf16; a CPU without bf16 instructions may run it slower), so
  1700 steps take the minutes 1200 took.
- Since run 11, the calibrated bias is the posterior at a prior of 1 matching prompt in 8 (``calib_prior``, the
  app's default prompt count) instead of even odds: at even odds run 10's median unmatched held-out pair read
  0.054 while a list of 8 prompts holds at most one match.
- Since run 13, the teacher stage runs under bfloat16 autocast (``teacher_bf16``; losses in float32) for 2000
  steps (was 1600 in float32): two arms each at 200 and 800 steps (``teacher_ablation train --steps N
  [--bf16]``, 2026-12-06, ``ablations/teacher-bf16-arms-2026-12-06.json``) ran 1.42x faster at 800 steps with
  held-out R@1 0.291 vs 0.284 in float32, OpenMoji 0.104 vs 0.105; the minutes saved buy more steps, as 800 -> 1600
  did for run 9 (teacher R@1 0.236 -> 0.327, TokLIP 0.133 -> 0.170). Run 13 (bundled): teacher R@1 0.355 -> 0.400,
  OpenMoji 0.133 -> 0.151, TokLIP 0.269 -> 0.299 against run 12's 1600-step float32 teacher.
- ``logit_distillation`` (KL to the teacher's softmax over the batch's image-text logits, both directions;
  ``kd_weight``) is off. 300-step arms on run 13's VQ and teacher (``student_ablation train --base
  models/runs/tiny-v2-r13 --steps 300 [--kd-weight W]``, 2026-12-06, ``ablations/student-kd-arms-2026-12-06.json``)
  gave held-out R@1 / OpenMoji R@1 0.126 / 0.048 without it, 0.147 / 0.047 at weight 1, 0.149 / 0.060 at weight
  3; but run 14 (run 13 with weight 3, 1700 steps) ended level with run 13: R@1 0.2985 vs 0.2993, R@5 0.528 vs
  0.522, OpenMoji 0.092 vs 0.085, participation ratio 31.9 vs 34.5, matched p 0.925 vs 0.933. The early gain is
  one of speed, not of where the stage ends, so the recipe keeps weight 0.
- Since run 15, the TokLIP stage starts from a centred token mapping (``centre_token_mapping``,
  ``sem_centre_init``): at PyTorch's default init the student's embeddings were near-identical (pairwise cosine
  0.97), and whether the stage left that start depended on the batches (run 13 left it after 75-86 of 1700
  steps; a 300-step arm with 4 items per concept never did). Centred, it never starts collapsed (distillation
  cosine 0.46 at step 100 against 0.16 at step 96 for run 13; ``ablations/student-init-2026-12-07.json``). Run 15
  (bundled) is run 13's VQ and teacher with that start: held-out TokLIP R@1 0.308 vs 0.299, OpenMoji 0.093 vs
  0.085, 0.74x its teacher vs 0.72x; one seed each, so the gain in where the stage ends is small against what a
  seed may move.
- ``token_distillation`` (TokLIP's token features, averaged onto the teacher's 8x8 patch grid, against the
  teacher's patch features; ``token_distill_weight``) is off. A 300-step arm at weight 10 on run 15's VQ and teacher
  (``student_ablation train --base models/runs/tiny-v2-r15 --steps 300 --token-distill-weight 10``, 2026-12-07)
  gave held-out R@1 / OpenMoji R@1 0.177 / 0.083 against 0.171 / 0.078 without it, and 0.307 / 0.104 at the full
  1700 steps against run 15's 0.308 / 0.093: inside what a second seed of the whole stage moves (run 15's stage with
  ``--stage-seed 1``: 0.288 / 0.102; ``ablations/student-gap-2026-12-07.json``).
No flips anywhere: directional icons (arrow-left / arrow-right) are different concepts.

Every stage snapshots and resumes. ``timing.json`` holds per stage the wall minutes from the stage's first
start, the process CPU minutes and the load average, so a run shared with other jobs is visible as such.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from .dataset import CropSampler, Pair, load_pairs, load_photos, read_jsonl
from .model import PixelCLIP, TokLIP, TokLIPConfig, sigmoid_loss, tiny_v2_config
from .preprocess import official_toklip_rgb
from .samples import N_PROMPTS
from .textok import TextEncoderInput, train_tokenizer
from .train import (PairBatches, Progress, _resume, _snapshot, decoder_loop, finish_stage, load_done, lr_at,
                    save_snapshot, set_lr, vq_loop)


@dataclass(frozen=True)
class ScheduleV2:
    vq_steps: int = 3700
    vq_batch: int = 32
    vq_res: int = 64
    vq_hires_steps: int = 500
    vq_hires_batch: int = 12
    vq_lr: float = 3e-4
    vq_l1_weight: float = 0.5
    vq_bf16: bool = True
    photo_share: float = 0.7
    # Decoder-only steps at 128 px after every other stage (``train_decoder``; ids unchanged, run 16 on): 300 x 12
    # at lr 1e-4 gave +0.17 dB on run 15's VQ (``vq_ablation dectail``) for ~4 idle minutes.
    dec_steps: int = 300
    dec_batch: int = 12
    dec_lr: float = 1e-4
    teacher_steps: int = 2000
    teacher_batch: int = 192
    teacher_lr: float = 5e-4
    # Teacher forward/backward under bfloat16 autocast (losses in float32), as the TokLIP stage (run 13 on).
    teacher_bf16: bool = True
    scale_lr_mult: float = 20.0
    uniform_weight: float = 0.1
    spectrum_weight: float = 8.0
    sem_steps: int = 1700
    sem_batch: int = 48
    sem_lr: float = 5e-4
    distill_weight: float = 10.0
    # Weight of ``logit_distillation`` (the teacher's batch ranking); 0 = off, as the bundled run 13. Run 14
    # (weight 3) came out level at full length; see the module docstring.
    kd_weight: float = 0.0
    # Isotropic variance under the TokLIP stage's spectrum term (``inverse_participation``); 0 = none, as runs 13-14.
    spectrum_floor: float = 0.0
    # ``centre_token_mapping`` before the TokLIP stage (run 15 on; runs 1-14 kept PyTorch's default init).
    sem_centre_init: bool = True
    # Weight of ``token_distillation`` (TokLIP's token features, pooled onto the teacher's patch grid, against the
    # teacher's patch features); 0 = off, as runs 1-15.
    token_distill_weight: float = 0.0
    sem_bf16: bool = True
    max_per_concept: int = 2
    vocab_size: int = 4096
    snapshot_every: int = 50
    dead_code_every: int = 50
    # Share of each teacher / TokLIP batch per kind of concept (``concept_kinds``); renormalised over the
    # kinds a dataset has.
    kind_shares: tuple[tuple[str, float], ...] = (("emoji", 0.2), ("icon", 0.6), ("stamp", 0.15), ("flag", 0.05))
    # Training concepts kept out of the teacher and TokLIP stages; the logit bias is calibrated on them.
    calib_concepts: int = 400
    # Prior odds that a prompt is the picture's match, folded into the calibrated bias: 1 in N_PROMPTS (8), as
    # the app's default prompt list holds that many prompts and at most one names the picture.
    calib_prior: float = 1 / N_PROMPTS


# What each field added to ScheduleV2 after its first saved runs was before it existed, for reading a schedule saved
# without it (``student_ablation.base_schedule``). A new field goes here with the value the older runs trained under.
LEGACY_SCHEDULE: dict[str, object] = {"kd_weight": 0.0, "teacher_bf16": False, "spectrum_floor": 0.0,
                                      "sem_centre_init": False, "token_distill_weight": 0.0, "dec_steps": 0}

SMOKE_V2 = ScheduleV2(
    vq_steps=4, vq_batch=4, vq_hires_steps=2, vq_hires_batch=2, teacher_steps=3, teacher_batch=8,
    sem_steps=3, sem_batch=8, vocab_size=512, snapshot_every=2, dead_code_every=2, max_per_concept=2,
    calib_concepts=4, dec_steps=3, dec_batch=2,
)

WHITE = 1.0  # white after Normalize(0.5, 0.5)

# v2 records carry the builder's ``kind``; v1 records do not, so theirs comes from the source.
V1_KIND_OF_SOURCE = {"emoji": "emoji", "gcompris": "stamp", "tuxpaint": "stamp"}


# --------------------------------------------------------------------------- data


def datasets(data: Path, data_v2: Path | None) -> list[Path]:
    return [data] + ([data_v2] if data_v2 is not None else [])


def train_pairs(folders: list[Path], limit: int | None) -> list[Pair]:
    """Training pairs of every folder; concepts share keys across folders (v2 uses v1's concept split)."""
    out: list[Pair] = []
    for d in folders:
        out += load_pairs(d, "train", limit)
    return out


def capped(pairs: list[Pair], per_concept: int, seed: int) -> list[Pair]:
    """At most ``per_concept`` items per concept, chosen by seed, so common concepts (one emoji in six
    styles) do not crowd out rare ones and the one-off id pass stays affordable."""
    rng = random.Random(seed)
    by: dict[str, list[Pair]] = {}
    for p in pairs:
        by.setdefault(p.concept, []).append(p)
    out = []
    for c in sorted(by):
        items = sorted(by[c], key=lambda p: p.id)
        rng.shuffle(items)
        out += items[:per_concept]
    return out


def pair_rgb(pairs: list[Pair], size: int, log: Callable[[str], None] | None = None) -> np.ndarray:
    """uint8 [N, size, size, 3]: composited on white, then the official TokLIP resize + crop."""
    out = np.empty((len(pairs), size, size, 3), dtype=np.uint8)
    t0 = time.time()
    for i, p in enumerate(pairs):
        with Image.open(p.file) as im:
            rgba = im.convert("RGBA")
            flat = Image.alpha_composite(Image.new("RGBA", rgba.size, (255, 255, 255, 255)), rgba).convert("RGB")
            out[i] = official_toklip_rgb(flat, size)
        if log and (i + 1) % 5000 == 0:
            log(f"[data] {i + 1}/{len(pairs)} pair images ({time.time() - t0:.0f}s)")
    return out


def normalise(rgb: np.ndarray, cfg: TokLIPConfig) -> torch.Tensor:
    x = torch.from_numpy(rgb).permute(0, 3, 1, 2).float().div_(255.0)
    m = torch.tensor(cfg.mean).view(1, 3, 1, 1)
    s = torch.tensor(cfg.std).view(1, 3, 1, 1)
    return (x - m) / s


def uniformity(x: torch.Tensor, t: float = 2.0) -> torch.Tensor:
    """log E[exp(-t |xi - xj|^2)] over pairs of l2-normalised rows (lower = more spread out)."""
    return torch.pdist(x).pow(2).mul(-t).exp().mean().log()


def inverse_participation(x: torch.Tensor, floor: float = 0.0) -> torch.Tensor:
    """1 / participation ratio of the batch covariance, tr(C^2) / tr(C)^2: 1 when all variance lies on one
    direction, 1/rank when it is spread evenly. Lowering it spreads the embeddings over more directions,
    which is what ``toklip-eval``'s participation_ratio measures on held-out data.

    ``floor`` adds isotropic variance of that total to C (C + floor/d I), so the term fades on a batch spread
    less than that. Without it the ratio is blind to scale: at the TokLIP stage's start (every embedding nearly the
    same) its gradient norm was 50-100 against 24 for the contrastive and 9-13 for the distillation term (run 13's
    VQ and teacher), and after clipping it mostly shapes noise. A floor of 0.1 let a 300-step arm that had stayed
    collapsed escape, but cost a healthy arm 0.126 -> 0.095 R@1 at 300 steps; the recipe keeps 0 and starts from a
    centred token mapping instead (``centre_token_mapping``)."""
    xc = x - x.mean(dim=0, keepdim=True)
    g = xc @ xc.t()  # same nonzero spectrum as the covariance, n x n
    if not floor:
        return (g * g).sum() / g.diagonal().sum().pow(2)
    n, d = xc.shape
    g = g / n
    tr, tr2 = g.diagonal().sum(), (g * g).sum()
    f = floor / d
    return (tr2 + 2 * f * tr + f * f * d) / (tr + f * d).pow(2)


def logit_distillation(img: torch.Tensor, t_img: torch.Tensor, txt: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """KL from the teacher's to the student's softmax over the batch's image-text logits, both directions
    averaged: the student learns how the teacher ranks the batch's captions (and images), which the per-item
    cosine term does not ask for. All rows l2-normalised; ``scale`` is the shared logit scale (detached)."""
    def kl(student: torch.Tensor, teacher: torch.Tensor) -> torch.Tensor:
        return F.kl_div(F.log_softmax(student, -1), F.log_softmax(teacher, -1), log_target=True,
                        reduction="batchmean")

    s, t = scale * img @ txt.t(), scale * t_img @ txt.t()
    return 0.5 * (kl(s, t) + kl(s.t(), t.t()))


def zoom_augment(x: torch.Tensor, rng: random.Random, p: float = 0.5) -> torch.Tensor:
    """Random zoom (0.75-1.1) and shift (up to 6 %) on a white page for a share ``p`` of the batch: the
    same drawing at other sizes and paddings."""
    n = x.shape[0]
    theta = torch.zeros(n, 2, 3)
    for i in range(n):
        z = 1.0 / rng.uniform(0.75, 1.1) if rng.random() < p else 1.0
        tx, ty = (rng.uniform(-0.06, 0.06), rng.uniform(-0.06, 0.06)) if z != 1.0 else (0.0, 0.0)
        theta[i] = torch.tensor([[z, 0.0, tx], [0.0, z, ty]])
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x - WHITE, grid, mode="bilinear", padding_mode="zeros", align_corners=False) + WHITE


# --------------------------------------------------------------------------- stage 1: VQ


def train_vq(model: TokLIP, cfg: TokLIPConfig, folders: list[Path], run: Path, sch: ScheduleV2, seed: int,
             limit: int | None) -> None:
    vq = model.trunk.vq
    if load_done(vq, run / "stage1_vq.pt", "vq"):
        return
    photo_s, pair_s = vq_samplers(cfg, folders, seed, limit, "vq")
    vq_loop(vq, cfg, run, sch, seed, photo_s, pair_s, l1_weight=sch.vq_l1_weight, photo_min_frac=(0.3, 0.3))


def vq_samplers(cfg: TokLIPConfig, folders: list[Path], seed: int, limit: int | None,
                stage: str) -> tuple[CropSampler, CropSampler]:
    """(photo crops, pair-image crops) for the VQ stages: v1's photos and one pair image per v1 concept."""
    # v1's data only (see the module docstring: v2's extra photos, textures and icons measured worse here)
    vq_folders = folders[:1]
    photos: list[np.ndarray] = []
    for d in vq_folders:
        if (d / "photos.jsonl").exists():
            photos += load_photos(d, "train", limit)
    pairs = train_pairs(vq_folders, limit)
    pair_imgs = list(pair_rgb(capped(pairs, 1, seed), cfg.vision.image_size))
    print(f"[{stage}] {len(photos)} photos, {len(pair_imgs)} pair images (one per concept)", flush=True)
    # Photos are stored with short side <= 320 and seen whole at 128, i.e. downscaled ~2.5x: crops of
    # 30-100 % of the short side resized to 64 px cover 1.5-5x, around what the model meets.
    return (CropSampler(photos, seed, resample=Image.BILINEAR),
            CropSampler(pair_imgs, seed + 1, min_frac=0.7, resample=Image.BILINEAR))


def train_decoder(model: TokLIP, cfg: TokLIPConfig, folders: list[Path], run: Path, sch: ScheduleV2, seed: int,
                  limit: int | None) -> None:
    """The VQ's decoder alone, ``dec_steps`` more at 128 px on the VQ stage's data (``train.decoder_loop``). It
    runs last: the encoder and codebook are frozen, so the ids TokLIP and the calibration were trained on stay
    what the exported encoder gives; only the reconstruction changes."""
    vq = model.trunk.vq
    done = run / "stage5_decoder.pt"
    if load_done(vq, done, "decoder"):
        return
    for p in [*vq.post_quant_conv.parameters(), *vq.decoder.parameters()]:
        p.requires_grad_(True)
    # The VQ stage's photos and pool of pair images; which item stands for each concept, and the crops, are drawn
    # with seeds of the stage's own (seed + 20..22), so no random stream of an earlier stage shifts.
    photo_s, pair_s = vq_samplers(cfg, folders, seed + 20, limit, "decoder")
    decoder_loop(vq, cfg, done, sch.dec_steps, sch.dec_batch, sch.dec_lr, photo_s, pair_s, sch.photo_share,
                 sch.vq_l1_weight, seed + 22, sch.snapshot_every)
    for p in vq.parameters():
        p.requires_grad_(False)


# --------------------------------------------------------------------------- balanced batches


def concept_kinds(pairs: list[Pair]) -> dict[str, str]:
    """Kind of each concept: the most common kind among its items (ties broken by name, deterministic)."""
    votes: dict[str, dict[str, int]] = {}
    for p in pairs:
        k = p.kind or V1_KIND_OF_SOURCE.get(p.source, "icon")
        v = votes.setdefault(p.concept, {})
        v[k] = v.get(k, 0) + 1
    return {c: max(sorted(v), key=lambda k: v[k]) for c, v in votes.items()}


class KindBalancedBatches(PairBatches):
    """PairBatches (one item per concept) whose concepts are drawn per kind in fixed shares, so the ~1.3k
    emoji concepts are not swamped by ~10k icon names. A kind with too few concepts gives what it has and
    the rest of the batch comes from the other kinds."""

    def __init__(self, pairs: list[Pair], seed: int, shares: tuple[tuple[str, float], ...]) -> None:
        super().__init__(pairs, seed)
        kinds = concept_kinds(pairs)
        self.groups = {k: [c for c in self.concepts if kinds[c] == k] for k, _ in shares}
        self.groups = {k: g for k, g in self.groups.items() if g}
        other = [c for c in self.concepts if kinds[c] not in self.groups]
        if other:
            self.groups["other"] = other
        w = {k: s for k, s in shares if k in self.groups}
        total = sum(w.values()) or 1.0
        self.shares = {k: w.get(k, 0.0) / total for k in self.groups}

    def sample(self, n: int) -> tuple[list[int], list[str]]:
        n = min(n, len(self.concepts))
        want = {k: min(len(g), round(n * self.shares[k])) for k, g in self.groups.items()}
        short = n - sum(want.values())
        for k in sorted(self.groups, key=lambda k: -self.shares[k]):  # fill (or trim) by share order
            if short == 0:
                break
            room = len(self.groups[k]) - want[k] if short > 0 else -want[k]
            d = min(short, room) if short > 0 else max(short, room)
            want[k] += d
            short -= d
        cs = [c for k in self.groups for c in self.rng.sample(self.groups[k], want[k])]
        idx = [self.rng.choice(self.by_concept[c]) for c in cs]
        caps = [self.rng.choice(self.pairs[i].captions) for i in idx]
        return idx, caps


def init_from_teacher(model: TokLIP, teacher: PixelCLIP) -> int:
    """Copy the teacher's transformer blocks, final norm and attention pool into TokLIP's trunk (block i
    from teacher block min(i, depth-1)), and its position embedding bilinearly resized to the token grid.
    Returns how many tensors were copied; shapes that differ are left at their init."""
    src, dst = teacher.visual.trunk, model.trunk
    copied = 0
    pairs: list[tuple[torch.nn.Module, torch.nn.Module]] = [(src.norm, dst.norm), (src.attn_pool, dst.attn_pool)]
    pairs += [(src.blocks[min(i, len(src.blocks) - 1)], b) for i, b in enumerate(dst.blocks)]
    for a, b in pairs:
        sa = a.state_dict()
        with torch.no_grad():
            for k, v in b.state_dict().items():
                if k in sa and sa[k].shape == v.shape:
                    v.copy_(sa[k])
                    copied += 1
    gs, gd = int(math.isqrt(src.pos_embed.shape[1])), int(math.isqrt(dst.pos_embed.shape[1]))
    if src.pos_embed.shape[2] == dst.pos_embed.shape[2] and gs * gs == src.pos_embed.shape[1] and gd * gd == dst.pos_embed.shape[1]:
        grid = src.pos_embed.detach().reshape(1, gs, gs, -1).permute(0, 3, 1, 2)
        up = F.interpolate(grid, size=(gd, gd), mode="bilinear", align_corners=False)
        with torch.no_grad():
            dst.pos_embed.copy_(up.permute(0, 2, 3, 1).reshape(1, gd * gd, -1))
        copied += 1
    return copied


def centre_token_mapping(trunk: torch.nn.Module, std: float = 1.0) -> None:
    """Rescale the token MLP's last layer (``vq_mapping``) so its output over the whole codebook has zero mean and a
    per-channel spread of ``std``, a data-free init from the frozen codebook alone.

    Why: at PyTorch's default init that output is mostly one shared vector (two images' token features have
    cosine 0.71), which the teacher-initialised blocks and pool turn into near-identical embeddings (pairwise
    cosine 0.97 on run 13's stage-3 items). The stage then has to escape a collapsed start; at 22.9k items and 300
    steps it never did. Centred and at unit spread: 0.76 at init, distillation cosine 0.43 after 100 steps."""
    with torch.no_grad():
        y = trunk.vq_mapping(trunk.vq_act(trunk.vq_table(trunk.vq.quantize.codebook())))
        k = std / y.std(dim=0).mean()
        shared = (y - trunk.vq_mapping.bias).mean(dim=0)
        trunk.vq_mapping.weight.mul_(k)
        trunk.vq_mapping.bias.copy_(-k * shared)


# --------------------------------------------------------------------------- stage 2: teacher


def _param_groups(mod: torch.nn.Module, lr: float, scale_mult: float, wd: float) -> list[dict]:
    scalars = [p for n, p in mod.named_parameters() if n in ("logit_scale", "logit_bias")]
    decay = [p for n, p in mod.named_parameters() if n not in ("logit_scale", "logit_bias") and p.ndim >= 2]
    no_decay = [p for n, p in mod.named_parameters() if n not in ("logit_scale", "logit_bias") and p.ndim < 2]
    groups = [{"params": decay, "weight_decay": wd, "lr_mult": 1.0},
              {"params": no_decay, "weight_decay": 0.0, "lr_mult": 1.0}]
    if scalars:
        groups.append({"params": scalars, "weight_decay": 0.0, "lr_mult": scale_mult})
    for g in groups:
        g["lr"] = lr * g["lr_mult"]
    return groups


def train_teacher(teacher: PixelCLIP, cfg: TokLIPConfig, rgb: np.ndarray, pairs: list[Pair], textin: TextEncoderInput,
                  run: Path, sch: ScheduleV2, seed: int) -> None:
    if load_done(teacher, run / "stage2_teacher.pt", "teacher"):
        return
    opt = torch.optim.AdamW(_param_groups(teacher, sch.teacher_lr, sch.scale_lr_mult, 0.05), betas=(0.9, 0.98))
    batches = KindBalancedBatches(pairs, seed + 2, sch.kind_shares)
    rng = random.Random(seed + 3)
    step = _resume(run / "stage2_teacher.snapshot.pt", teacher, opt, batches, rng)
    prog = Progress("teacher", sch.teacher_steps, step)
    teacher.train()
    while step < sch.teacher_steps:
        idx, caps = batches.sample(sch.teacher_batch)
        x = zoom_augment(normalise(rgb[idx], cfg), rng)
        set_lr(opt, lr_at(step, sch.teacher_steps, sch.teacher_lr))
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=sch.teacher_bf16):
            img = teacher.encode_image(x).float()
            txt = teacher.encode_text(textin(caps)).float()
        con = sigmoid_loss(img, txt, teacher.logit_scale, teacher.logit_bias)
        uni = uniformity(img) + uniformity(txt)
        spec_img = inverse_participation(img)
        spec = spec_img + inverse_participation(txt)
        loss = con + sch.uniform_weight * uni + sch.spectrum_weight * spec
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(teacher.parameters(), 1.0)
        opt.step()
        step += 1
        prog.update(step, loss=loss.item(), contrastive=con.item(), uniformity=uni.item(),
                    batch_pr_img=1 / spec_img.item(),
                    scale=teacher.logit_scale.exp().item(), bias=teacher.logit_bias.item())
        if step % sch.snapshot_every == 0 and step < sch.teacher_steps:
            _snapshot(run / "stage2_teacher.snapshot.pt", teacher, opt, batches, rng, step)
    finish_stage(teacher.state_dict(), run / "stage2_teacher.pt", run / "stage2_teacher.snapshot.pt")


# --------------------------------------------------------------------------- stage 3: TokLIP


def encode_ids_onnx(model: TokLIP, pixels: torch.Tensor, threads: int, batch: int = 64) -> np.ndarray:
    """The frozen VQ encoder through onnxruntime (about 2x PyTorch eager on this CPU), same graph as the app's."""
    import onnxruntime as ort

    from .onnx_graphs import VQEncoderGraph, export_graph

    with tempfile.TemporaryDirectory() as tmp:
        path = export_graph(VQEncoderGraph(model), pixels[:1], "pixels", "ids", Path(tmp) / "vq_encoder.onnx")
        so = ort.SessionOptions()
        so.intra_op_num_threads = threads
        sess = ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
        out = [sess.run(None, {"pixels": pixels[i : i + batch].numpy()})[0] for i in range(0, len(pixels), batch)]
    return np.concatenate(out).astype(np.int64)


def semantic_inputs(model: TokLIP, teacher: PixelCLIP, cfg: TokLIPConfig, rgb: np.ndarray, run: Path,
                    threads: int) -> tuple[torch.Tensor, torch.Tensor]:
    """VQ ids and teacher image embeddings of every stage-3 item, cached in the run folder (resume)."""
    cache = run / "stage3_inputs.pt"
    if cache.exists():
        c = torch.load(cache, map_location="cpu")
        if c["ids"].shape[0] == len(rgb):
            return c["ids"], c["teacher"]
    ids, emb = [], []
    t0 = time.time()
    teacher.eval()
    chunk = 1024
    for i in range(0, len(rgb), chunk):
        x = normalise(rgb[i : i + chunk], cfg)
        ids.append(torch.from_numpy(encode_ids_onnx(model, x, threads)) if len(x) else torch.zeros(0))
        with torch.no_grad():
            emb.append(torch.cat([teacher.encode_image(x[j : j + 128]) for j in range(0, len(x), 128)]))
        print(f"[toklip] inputs {min(i + chunk, len(rgb))}/{len(rgb)} ({time.time() - t0:.0f}s)", flush=True)
    out = torch.cat(ids), torch.cat(emb)
    save_snapshot(cache, ids=out[0], teacher=out[1])
    return out


def teacher_tokens(teacher: PixelCLIP, cfg: TokLIPConfig, n: int, pixels: Callable[[], np.ndarray],
                   run: Path) -> torch.Tensor:
    """float16 [n, patches, width]: the teacher's patch features (after its final norm) of every stage-3 item, cached
    in the run folder beside ``stage3_inputs.pt`` (only runs with ``token_distill_weight`` need them). ``pixels``
    (uint8 [n, size, size, 3]) is called only when the cache is missing or holds other items."""
    cache = run / "stage3_teacher_tokens.pt"
    if cache.exists():
        c = torch.load(cache, map_location="cpu")
        if c["tokens"].shape[0] == n:
            return c["tokens"]
    rgb = pixels()
    out, t0 = [], time.time()
    teacher.eval()
    with torch.no_grad():
        for i in range(0, len(rgb), 128):
            out.append(teacher.visual.trunk.token_features(normalise(rgb[i:i + 128], cfg)).half())
            if (i // 128) % 20 == 0:
                print(f"[toklip] teacher tokens {min(i + 128, len(rgb))}/{len(rgb)} ({time.time() - t0:.0f}s)", flush=True)
    tokens = torch.cat(out) if out else torch.zeros(0)
    save_snapshot(cache, tokens=tokens)
    return tokens


def token_distillation(student: torch.Tensor, teacher: torch.Tensor) -> torch.Tensor:
    """1 - mean cosine between TokLIP's token features [B, g*g, D], averaged over each teacher patch's tokens, and the
    teacher's patch features [B, p*p, D] (g a multiple of p).

    Why: the image-level distillation gives one 192-d target per item and the student's image cosine to its teacher
    stays near 0.68 (runs 11-15, train and held-out alike, so it underfits); the teacher's patch features give 64
    targets per item. Under TokLIP's causal mask an early token cannot see what a bidirectional teacher patch sees,
    so this can only be an auxiliary term next to the image-level one."""
    b, n, d = student.shape
    g, p = math.isqrt(n), math.isqrt(teacher.shape[1])
    grid = student.transpose(1, 2).reshape(b, d, g, g)
    pooled = F.avg_pool2d(grid, g // p).flatten(2).transpose(1, 2)
    return 1 - F.cosine_similarity(pooled, teacher.to(pooled.dtype), dim=-1).mean()


def train_semantic(model: TokLIP, teacher: PixelCLIP, cfg: TokLIPConfig, ids: torch.Tensor, t_img: torch.Tensor,
                   pairs: list[Pair], textin: TextEncoderInput, run: Path, sch: ScheduleV2, seed: int,
                   t_tok: torch.Tensor | None = None) -> None:
    if load_done(model, run / "stage3_toklip.pt", "toklip"):
        return
    # One text tower, scale and bias for teacher and TokLIP (frozen here): the app compares both image
    # towers against the same text embeddings.
    model.text.load_state_dict(teacher.text.state_dict())
    model.logit_scale.data.copy_(teacher.logit_scale.data)
    model.logit_bias.data.copy_(teacher.logit_bias.data)
    print(f"[toklip] {init_from_teacher(model, teacher)} tensors initialised from the teacher", flush=True)
    if sch.sem_centre_init:
        centre_token_mapping(model.trunk)
    trunk = model.trunk
    params = [p for n, p in trunk.named_parameters() if not n.startswith("vq.")]
    opt = torch.optim.AdamW(params, lr=sch.sem_lr, betas=(0.9, 0.98), weight_decay=0.05)
    batches = KindBalancedBatches(pairs, seed + 4, sch.kind_shares)
    rng = random.Random(seed + 5)
    step = _resume(run / "stage3_toklip.snapshot.pt", trunk, opt, batches, rng, skip_prefix="vq.")
    prog = Progress("toklip", sch.sem_steps, step)
    trunk.train()
    text = model.text.eval()
    while step < sch.sem_steps:
        idx, caps = batches.sample(sch.sem_batch)
        set_lr(opt, lr_at(step, sch.sem_steps, sch.sem_lr))
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=sch.sem_bf16):
            # encode_ids's arithmetic, split so the token features are at hand for token_distillation
            feats = trunk.token_features(ids[idx])
            img = F.normalize(trunk.attn_pool(feats), dim=-1).float()
        with torch.no_grad():
            txt = F.normalize(text(textin(caps)), dim=-1)
        con = sigmoid_loss(img, txt, model.logit_scale.detach(), model.logit_bias.detach())
        distill = (1 - (img * t_img[idx]).sum(-1)).mean()
        uni = uniformity(img)
        spec = inverse_participation(img, sch.spectrum_floor)
        loss = con + sch.distill_weight * distill + sch.uniform_weight * uni + sch.spectrum_weight * spec
        if sch.kd_weight:
            loss = loss + sch.kd_weight * logit_distillation(img, t_img[idx], txt, model.logit_scale.detach().exp())
        tok_cos = None
        if sch.token_distill_weight:
            if t_tok is None:
                raise ValueError("token_distill_weight needs the teacher's patch features (teacher_tokens)")
            tok = token_distillation(feats.float(), t_tok[idx])
            loss = loss + sch.token_distill_weight * tok
            tok_cos = 1 - tok.item()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        step += 1
        # the batch PR logged is the floorless one whatever the floor, so logs of runs compare
        pr = 1 / (inverse_participation(img.detach()) if sch.spectrum_floor else spec).item()
        prog.update(step, loss=loss.item(), contrastive=con.item(), distill_cos=1 - distill.item(), uniformity=uni.item(),
                    batch_pr_img=pr, **({"token_cos": tok_cos} if tok_cos is not None else {}))
        if step % sch.snapshot_every == 0 and step < sch.sem_steps:
            _snapshot(run / "stage3_toklip.snapshot.pt", trunk, opt, batches, rng, step, skip_prefix="vq.")
    finish_stage(model.state_dict(), run / "stage3_toklip.pt", run / "stage3_toklip.snapshot.pt")


# --------------------------------------------------------------------------- stage 4: probability calibration


def split_calibration(pairs: list[Pair], n_concepts: int, seed: int) -> tuple[list[Pair], list[Pair]]:
    """(training pairs, calibration pairs): ``n_concepts`` training concepts chosen by seed leave the teacher and
    TokLIP stages, so the calibration sees text and images as unseen as the held-out ones."""
    concepts = sorted({p.concept for p in pairs})
    keep_out = set(random.Random(seed).sample(concepts, min(n_concepts, len(concepts) // 4)))
    return [p for p in pairs if p.concept not in keep_out], [p for p in pairs if p.concept in keep_out]


def balanced_bias(cos: np.ndarray, scale: float) -> float:
    """The bias b minimising the class-balanced sigmoid loss mean_pos softplus(-z) + mean_neg softplus(z),
    z = scale * cos + b, for a square text x image cosine matrix whose diagonal holds the matched pairs.
    Its derivative in b is monotone, so bisection finds the minimum."""
    eye = np.eye(len(cos), dtype=bool)
    pos, neg = scale * cos[eye], scale * cos[~eye]

    def slope(b: float) -> float:
        return float(np.mean(1 / (1 + np.exp(-(neg + b)))) - np.mean(1 / (1 + np.exp(pos + b))))

    lo, hi = -100.0, 100.0
    for _ in range(100):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if slope(mid) < 0 else (lo, mid)
    return (lo + hi) / 2


def prior_bias(balanced: float, prior: float) -> float:
    """Bayes' rule on the logit: the class-balanced bias reads log-likelihood ratios, so the posterior for a
    prior share ``prior`` of matches adds the prior log-odds."""
    return balanced + math.log(prior / (1 - prior))


def calibrate(model: TokLIP, teacher: PixelCLIP, cfg: TokLIPConfig, pairs: list[Pair], textin: TextEncoderInput,
              run: Path, seed: int, threads: int, prior: float = 0.5) -> dict[str, object]:
    """Sets the shared logit bias so that p = sigmoid(scale * cos + bias) is the probability of a match when a
    share ``prior`` of the prompts match, fitted on one item per calibration concept (never trained on): the
    class-balanced bias (even odds) plus the prior log-odds. The SigLIP bias that stages 2-3 learn sits at the
    1-in-191 odds of a training batch, so a correct match read ~8 % in the app (run 9); at even odds (run 10)
    the median wrong prompt read 5 %, though a list of 8 prompts holds at most one match. The scale keeps its
    trained value."""
    items = capped(pairs, 1, seed)
    if len(items) < 2:
        print("[calibrate] fewer than 2 calibration concepts: keeping the trained bias", flush=True)
        return {}
    x = normalise(pair_rgb(items, cfg.vision.image_size), cfg)
    ids = torch.from_numpy(encode_ids_onnx(model, x, threads))
    model.eval()
    with torch.no_grad():
        img = torch.cat([model.encode_ids(ids[i : i + 128]) for i in range(0, len(ids), 128)]).numpy()
        txt = model.encode_text(textin([p.captions[0] for p in items])).numpy()
    cos = txt @ img.T
    scale = float(model.logit_scale.detach().exp())
    trained = float(model.logit_bias.detach())
    balanced = balanced_bias(cos, scale)
    bias = prior_bias(balanced, prior)
    eye = np.eye(len(cos), dtype=bool)

    def medians(b: float) -> tuple[float, float]:
        p = 1 / (1 + np.exp(-(scale * cos + b)))
        return float(np.median(p[eye])), float(np.median(p[~eye]))

    rec = {"n_concepts": len(items), "logit_scale": scale, "trained_bias": trained, "balanced_bias": balanced,
           "prior": prior, "calibrated_bias": bias,
           "matched_cos_median": float(np.median(cos[eye])), "unmatched_cos_median": float(np.median(cos[~eye])),
           "trained_prob_medians": medians(trained), "calibrated_prob_medians": medians(bias)}
    (run / "calibration.json").write_text(json.dumps(rec, indent=1))
    print(f"[calibrate] {rec}", flush=True)
    for m in (model, teacher):
        m.logit_bias.data.fill_(bias)
    return rec


# --------------------------------------------------------------------------- recipe


class StageClock:
    """Wall minutes from a stage's first start (a crash and resume counts its gap), CPU minutes of this
    process, and the load average around it: CPU/wall far below the thread count means a shared machine."""

    def __init__(self, run: Path) -> None:
        self.path = run / "timing.json"
        self.t = json.loads(self.path.read_text()) if self.path.exists() else {}

    def __call__(self, stage: str, fn: Callable[[], None]) -> None:
        rec = self.t.setdefault(stage, {})
        if "done" in rec:
            fn()  # loads the finished stage
            return
        rec.setdefault("first_start", time.time())
        rec.setdefault("load_start", os.getloadavg()[0])
        self._save()
        cpu0 = time.process_time()
        fn()
        rec["cpu_minutes"] = rec.get("cpu_minutes", 0.0) + (time.process_time() - cpu0) / 60
        rec["wall_minutes"] = (time.time() - rec["first_start"]) / 60
        rec["load_end"] = os.getloadavg()[0]
        rec["done"] = True
        self._save()

    def _save(self) -> None:
        self.path.write_text(json.dumps(self.t, indent=1))

    def wall(self) -> dict[str, float]:
        return {k: round(v.get("wall_minutes", 0.0), 2) for k, v in self.t.items()}


def seeded_models(cfg: TokLIPConfig, seed: int) -> tuple[TokLIP, PixelCLIP]:
    """Seeds torch, random and numpy, then builds TokLIP and the teacher in that order: the teacher's init depends
    on it, so a teacher-only rerun (``toklip.teacher_ablation``) gets the recipe's teacher init from here."""
    torch.manual_seed(seed)
    random.seed(seed)
    np.random.seed(seed)
    return TokLIP(cfg), PixelCLIP(cfg)


def ensure_tokenizer(folders: list[Path], vocab_size: int, path: Path) -> None:
    """Trains the text tokenizer on every training caption of ``folders`` unless ``path`` exists (resume)."""
    if not path.exists():
        caps = [c for d in folders for r in read_jsonl(d / "pairs.jsonl") if r["split"] == "train" for c in r["captions"]]
        train_tokenizer(caps, vocab_size, path)


def run_recipe(data: Path, data_v2: Path | None, run: Path, smoke: bool, seed: int, threads: int,
               stop_after: str | None = None) -> Path:
    torch.set_num_threads(threads)
    sch = SMOKE_V2 if smoke else ScheduleV2()
    limit = 64 if smoke else None
    cfg = tiny_v2_config()
    run.mkdir(parents=True, exist_ok=True)
    clock = StageClock(run)
    folders = datasets(data, data_v2)

    tok_path = run / "tokenizer.json"
    ensure_tokenizer(folders, sch.vocab_size, tok_path)
    textin = TextEncoderInput.load(tok_path, cfg.text.context_length, cfg.text.pad_id)

    # Seeded here, after the tokenizer (which draws no random numbers), as before: same inits for the same seed.
    model, teacher = seeded_models(cfg, seed)
    clock("vq", lambda: train_vq(model, cfg, folders, run, sch, seed, limit))
    for p in model.trunk.vq.parameters():
        p.requires_grad_(False)
    model.trunk.vq.eval()
    if stop_after == "vq":
        print(f"[stop] after the VQ stage ({clock.wall()}); rerun without --stop-after to resume", flush=True)
        return run / "stage1_vq.pt"

    pairs, calib_pairs = split_calibration(train_pairs(folders, limit), sch.calib_concepts, seed + 7)
    loaded: dict[str, np.ndarray] = {}

    def load_rgb() -> None:
        t0 = time.time()
        loaded["rgb"] = pair_rgb(pairs, cfg.vision.image_size, log=lambda m: print(m, flush=True))
        print(f"[data] {len(pairs)} training pairs, {len({p.concept for p in pairs})} concepts "
              f"({time.time() - t0:.0f}s)", flush=True)

    # Clocked as its own stage so train_minutes covers every step of the recipe (a resume reloads it untimed).
    clock("data", load_rgb)
    rgb = loaded["rgb"]
    clock("teacher", lambda: train_teacher(teacher, cfg, rgb, pairs, textin, run, sch, seed))
    teacher.eval()

    sem_idx = _capped_indices(pairs, sch.max_per_concept, seed + 6)
    sem_pairs = [pairs[i] for i in sem_idx]
    box: dict[str, torch.Tensor] = {}

    def stage3() -> None:
        box["ids"], box["t"] = semantic_inputs(model, teacher, cfg, rgb[sem_idx], run, threads)
        t_tok = (teacher_tokens(teacher, cfg, len(sem_idx), lambda: rgb[sem_idx], run) if sch.token_distill_weight
                 else None)
        train_semantic(model, teacher, cfg, box["ids"], box["t"], sem_pairs, textin, run, sch, seed, t_tok)

    clock("toklip", stage3)
    cal: dict[str, object] = {}
    clock("calibrate", lambda: cal.update(calibrate(model, teacher, cfg, calib_pairs, textin, run, seed + 8, threads,
                                                          sch.calib_prior)))
    if sch.dec_steps > 0:
        clock("decoder", lambda: train_decoder(model, cfg, folders, run, sch, seed, limit))
    final = run / "final.pt"
    wall = clock.wall()
    torch.save({"config": cfg.to_dict(), "toklip": model.state_dict(), "teacher": teacher.state_dict(),
                "train_minutes": round(sum(wall.values()), 2), "stage_minutes": wall, "timing": clock.t,
                "smoke": smoke, "seed": seed, "schedule": asdict(sch), "recipe": "toklip-train-v2", "calibration": cal,
                "data": {"train_pairs": len(pairs), "stage3_pairs": len(sem_pairs),
                         "concepts": len({p.concept for p in pairs}), "folders": [str(f) for f in folders],
                         "calibration_concepts": len({p.concept for p in calib_pairs})}}, final)
    print(f"[done] {final} in {sum(wall.values()):.1f} min ({wall})", flush=True)
    return final


def _capped_indices(pairs: list[Pair], per_concept: int, seed: int) -> list[int]:
    keep = {p.id for p in capped(pairs, per_concept, seed)}
    return [i for i, p in enumerate(pairs) if p.id in keep]


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=Path("models/data"), help="v1 dataset (toklip-build-data)")
    ap.add_argument("--data-v2", type=Path, default=None,
                    help="v2 additions (toklip-build-data --profile v2); omit to train on the v1 folder only")
    ap.add_argument("--out", type=Path, default=Path("models/runs/tiny-v2"), help="run folder (checkpoints, resume)")
    ap.add_argument("--smoke", action="store_true", help="a few steps of every stage (CI)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=max(1, torch.get_num_threads()))
    ap.add_argument("--stop-after", choices=["vq"], default=None,
                    help="end after this stage (a later run without it resumes from there)")
    a = ap.parse_args(argv)
    run_recipe(a.data, a.data_v2, a.out, a.smoke, a.seed, a.threads, a.stop_after)


if __name__ == "__main__":
    main()
