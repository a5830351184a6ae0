"""TokLIP-Tiny v2 recipe: one VQ, one pixel teacher, one TokLIP, trained on v1 + v2 data (issue 11).

    toklip-train-v2 --data models/data --data-v2 models/data-v2 --out models/runs/tiny-v2     # full recipe
    toklip-train-v2 --data /tmp/smoke/data --out /tmp/smoke/run --smoke                       # every stage, a few steps

What differs from v1 (``toklip.train``), each for a measured v1 failure (issue 11):
- Images go through the official TokLIP preprocessing (Pillow bicubic shortest side + centre crop), so the
  app has one code path. VQ crops are resized with Pillow's bicubic too: v1 trained on bilinear (softer)
  crops and was evaluated on bicubic ones.
- VQ: 2048 codes (v1: 1024), crops sampled at the scale the model sees whole photos at, more photo share;
  batches of 20 instead of 32 for more updates at the same compute (the first v2 run was still gaining
  about 1 dB per 500 steps when it stopped).
- Teacher: 192 concepts per batch (v1: 96; more negatives), logit scale/bias in their own parameter group with a
  20x learning rate (v1's stayed at their initial 10/-10), and a uniformity term (Wang & Isola 2020) on
  image and text embeddings against the low-rank collapse v1 showed.
- TokLIP: distillation + contrastive as v1, plus the same uniformity term; ids are computed once with
  onnxruntime (about 2x faster than PyTorch eager here), at most ``max_per_concept`` items per concept.
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
from .textok import TextEncoderInput, train_tokenizer
from .train import (PairBatches, Progress, _resume, _snapshot, finish_stage, load_done, lr_at, save_snapshot, set_lr,
                    vq_loop)


@dataclass(frozen=True)
class ScheduleV2:
    vq_steps: int = 2400
    vq_batch: int = 20
    vq_res: int = 64
    vq_hires_steps: int = 150
    vq_hires_batch: int = 12
    vq_lr: float = 4e-4
    photo_share: float = 0.85
    teacher_steps: int = 400
    teacher_batch: int = 192
    teacher_lr: float = 5e-4
    scale_lr_mult: float = 20.0
    uniform_weight: float = 0.1
    sem_steps: int = 550
    sem_batch: int = 48
    sem_lr: float = 5e-4
    distill_weight: float = 3.0
    max_per_concept: int = 2
    vocab_size: int = 4096
    snapshot_every: int = 50
    dead_code_every: int = 50


SMOKE_V2 = ScheduleV2(
    vq_steps=4, vq_batch=4, vq_hires_steps=2, vq_hires_batch=2, teacher_steps=3, teacher_batch=8,
    sem_steps=3, sem_batch=8, vocab_size=512, snapshot_every=2, dead_code_every=2, max_per_concept=2,
)

WHITE = 1.0  # white after Normalize(0.5, 0.5)


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
    photos: list[np.ndarray] = []
    for d in folders:
        if (d / "photos.jsonl").exists():
            photos += load_photos(d, "train", limit)
    pairs = train_pairs(folders, limit)
    pair_imgs = list(pair_rgb(capped(pairs, 1, seed), cfg.vision.image_size))
    print(f"[vq] {len(photos)} photos, {len(pair_imgs)} pair images (one per concept)", flush=True)
    # Photos are stored with short side <= 320 and seen whole at 128, i.e. downscaled ~2.5x: crops of
    # 30-100 % of the short side resized to 64 px cover 1.5-5x, around what the model meets.
    photo_s = CropSampler(photos, seed, resample=Image.BICUBIC)
    pair_s = CropSampler(pair_imgs, seed + 1, min_frac=0.7, resample=Image.BICUBIC)
    vq_loop(vq, cfg, run, sch, seed, photo_s, pair_s, l1_weight=0.2, photo_min_frac=(0.3, 0.4))


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
    batches = PairBatches(pairs, seed + 2)
    rng = random.Random(seed + 3)
    step = _resume(run / "stage2_teacher.snapshot.pt", teacher, opt, batches, rng)
    prog = Progress("teacher", sch.teacher_steps, step)
    teacher.train()
    while step < sch.teacher_steps:
        idx, caps = batches.sample(sch.teacher_batch)
        x = zoom_augment(normalise(rgb[idx], cfg), rng)
        set_lr(opt, lr_at(step, sch.teacher_steps, sch.teacher_lr))
        img = teacher.encode_image(x)
        txt = teacher.encode_text(textin(caps))
        con = sigmoid_loss(img, txt, teacher.logit_scale, teacher.logit_bias)
        uni = uniformity(img) + uniformity(txt)
        loss = con + sch.uniform_weight * uni
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(teacher.parameters(), 1.0)
        opt.step()
        step += 1
        prog.update(step, loss=loss.item(), contrastive=con.item(), uniformity=uni.item(),
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


def train_semantic(model: TokLIP, teacher: PixelCLIP, cfg: TokLIPConfig, ids: torch.Tensor, t_img: torch.Tensor,
                   pairs: list[Pair], textin: TextEncoderInput, run: Path, sch: ScheduleV2, seed: int) -> None:
    if load_done(model, run / "stage3_toklip.pt", "toklip"):
        return
    # One text tower, scale and bias for teacher and TokLIP (frozen here): the app compares both image
    # towers against the same text embeddings.
    model.text.load_state_dict(teacher.text.state_dict())
    model.logit_scale.data.copy_(teacher.logit_scale.data)
    model.logit_bias.data.copy_(teacher.logit_bias.data)
    trunk = model.trunk
    params = [p for n, p in trunk.named_parameters() if not n.startswith("vq.")]
    opt = torch.optim.AdamW(params, lr=sch.sem_lr, betas=(0.9, 0.98), weight_decay=0.05)
    batches = PairBatches(pairs, seed + 4)
    rng = random.Random(seed + 5)
    step = _resume(run / "stage3_toklip.snapshot.pt", trunk, opt, batches, rng, skip_prefix="vq.")
    prog = Progress("toklip", sch.sem_steps, step)
    trunk.train()
    text = model.text.eval()
    while step < sch.sem_steps:
        idx, caps = batches.sample(sch.sem_batch)
        set_lr(opt, lr_at(step, sch.sem_steps, sch.sem_lr))
        img = model.encode_ids(ids[idx])
        with torch.no_grad():
            txt = F.normalize(text(textin(caps)), dim=-1)
        con = sigmoid_loss(img, txt, model.logit_scale.detach(), model.logit_bias.detach())
        distill = (1 - (img * t_img[idx]).sum(-1)).mean()
        uni = uniformity(img)
        loss = con + sch.distill_weight * distill + sch.uniform_weight * uni
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        step += 1
        prog.update(step, loss=loss.item(), contrastive=con.item(), distill_cos=1 - distill.item(), uniformity=uni.item())
        if step % sch.snapshot_every == 0 and step < sch.sem_steps:
            _snapshot(run / "stage3_toklip.snapshot.pt", trunk, opt, batches, rng, step, skip_prefix="vq.")
    finish_stage(model.state_dict(), run / "stage3_toklip.pt", run / "stage3_toklip.snapshot.pt")


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


def run_recipe(data: Path, data_v2: Path | None, run: Path, smoke: bool, seed: int, threads: int) -> Path:
    torch.manual_seed(seed)
    random.seed(seed)
    np.random.seed(seed)
    torch.set_num_threads(threads)
    sch = SMOKE_V2 if smoke else ScheduleV2()
    limit = 64 if smoke else None
    cfg = tiny_v2_config()
    run.mkdir(parents=True, exist_ok=True)
    clock = StageClock(run)
    folders = datasets(data, data_v2)

    tok_path = run / "tokenizer.json"
    if not tok_path.exists():
        caps = [c for d in folders for r in read_jsonl(d / "pairs.jsonl") if r["split"] == "train" for c in r["captions"]]
        train_tokenizer(caps, sch.vocab_size, tok_path)
    textin = TextEncoderInput.load(tok_path, cfg.text.context_length, cfg.text.pad_id)

    model = TokLIP(cfg)
    teacher = PixelCLIP(cfg)
    clock("vq", lambda: train_vq(model, cfg, folders, run, sch, seed, limit))
    for p in model.trunk.vq.parameters():
        p.requires_grad_(False)
    model.trunk.vq.eval()

    pairs = train_pairs(folders, limit)
    t0 = time.time()
    rgb = pair_rgb(pairs, cfg.vision.image_size, log=lambda m: print(m, flush=True))
    print(f"[data] {len(pairs)} training pairs, {len({p.concept for p in pairs})} concepts ({time.time() - t0:.0f}s)",
          flush=True)
    clock("teacher", lambda: train_teacher(teacher, cfg, rgb, pairs, textin, run, sch, seed))
    teacher.eval()

    sem_idx = _capped_indices(pairs, sch.max_per_concept, seed + 6)
    sem_pairs = [pairs[i] for i in sem_idx]
    box: dict[str, torch.Tensor] = {}

    def stage3() -> None:
        box["ids"], box["t"] = semantic_inputs(model, teacher, cfg, rgb[sem_idx], run, threads)
        train_semantic(model, teacher, cfg, box["ids"], box["t"], sem_pairs, textin, run, sch, seed)

    clock("toklip", stage3)
    final = run / "final.pt"
    wall = clock.wall()
    torch.save({"config": cfg.to_dict(), "toklip": model.state_dict(), "teacher": teacher.state_dict(),
                "train_minutes": round(sum(wall.values()), 2), "stage_minutes": wall, "timing": clock.t,
                "smoke": smoke, "seed": seed, "schedule": asdict(sch), "recipe": "toklip-train-v2",
                "data": {"train_pairs": len(pairs), "stage3_pairs": len(sem_pairs),
                         "concepts": len({p.concept for p in pairs}), "folders": [str(f) for f in folders]}}, final)
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
    a = ap.parse_args(argv)
    run_recipe(a.data, a.data_v2, a.out, a.smoke, a.seed, a.threads)


if __name__ == "__main__":
    main()
