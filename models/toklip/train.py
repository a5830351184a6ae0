"""Three-stage offline recipe for TokLIP-Tiny: VQ tokenizer, pixel teacher CLIP, TokLIP semantics.

    toklip-train --data models/data --out models/runs/tiny          # full recipe
    toklip-train --data models/data --out /tmp/smoke --smoke        # every stage, a few steps

Each stage writes a checkpoint (and mid-stage snapshots) so an interrupted run resumes where it
stopped. Seeds fix the data order and initialisation.

TokLIP-Tiny v1 was trained by this recipe when the teacher and TokLIP stages saw their pair images through the
since-removed ``center_crop_triangle_float`` preprocessing (git history has it); they now go through
``official_toklip`` (toklip.dataset.pair_pixels), the only mode the exporter writes, so the recipe no longer
reproduces v1's numbers exactly.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from .dataset import CropSampler, Pair, load_pairs, load_photos, on_white, pair_pixels, read_jsonl
from .model import PixelCLIP, TokLIP, TokLIPConfig, sigmoid_loss, tiny_config
from .textok import TextEncoderInput, train_tokenizer


@dataclass(frozen=True)
class Schedule:
    vq_steps: int = 1600
    vq_batch: int = 32
    vq_res: int = 64
    vq_hires_steps: int = 200
    vq_hires_batch: int = 12
    vq_lr: float = 3e-4
    photo_share: float = 0.7
    teacher_steps: int = 800
    teacher_batch: int = 96
    teacher_lr: float = 5e-4
    sem_steps: int = 550
    sem_batch: int = 64
    sem_lr: float = 5e-4
    distill_weight: float = 2.0
    vocab_size: int = 3072
    snapshot_every: int = 100
    dead_code_every: int = 50
    vq_bf16: bool = False


SMOKE = Schedule(
    vq_steps=4, vq_batch=4, vq_hires_steps=2, vq_hires_batch=2, teacher_steps=3, teacher_batch=8,
    sem_steps=3, sem_batch=8, vocab_size=512, snapshot_every=2, dead_code_every=2,
)


class Progress:
    def __init__(self, stage: str, total: int, start: int = 0) -> None:
        self.stage, self.total, self.start = stage, total, start
        self.t0 = time.time()
        self.last = 0.0

    def update(self, step: int, **metrics: float) -> None:
        now = time.time()
        if now - self.last < 10 and step != self.total:
            return
        self.last = now
        done = step - self.start
        rate = (now - self.t0) / max(done, 1)
        eta = rate * (self.total - step)
        ms = " ".join(f"{k}={v:.4f}" for k, v in metrics.items())
        print(f"[{self.stage}] step {step}/{self.total} {ms} {rate:.2f}s/step eta {eta / 60:.1f} min", flush=True)


def lr_at(step: int, total: int, base: float, warmup: int = 50) -> float:
    if step < warmup:
        return base * (step + 1) / warmup
    return base * 0.5 * (1 + math.cos(math.pi * min(1.0, (step - warmup) / max(1, total - warmup))))


def set_lr(opt: torch.optim.Optimizer, lr: float) -> None:
    """Sets every group's lr, times the group's ``lr_mult`` where it has one (e.g. logit scale/bias)."""
    for g in opt.param_groups:
        g["lr"] = lr * g.get("lr_mult", 1.0)


def save_snapshot(path: Path, **state: object) -> None:
    tmp = path.with_suffix(".tmp")
    torch.save(state, tmp)
    tmp.replace(path)


def pair_rgb_uint8(pairs: list[Pair]) -> list[np.ndarray]:
    out = []
    for p in pairs:
        with Image.open(p.file) as im:
            out.append(np.asarray(on_white(im)))
    return out


def load_done(mod: torch.nn.Module, done: Path, stage: str) -> bool:
    """Loads a finished stage's checkpoint; False when the stage still has to run."""
    if not done.exists():
        return False
    mod.load_state_dict(torch.load(done, map_location="cpu"))
    print(f"[{stage}] stage already done, loaded", flush=True)
    return True


def finish_stage(state: dict[str, torch.Tensor], done: Path, snap: Path) -> None:
    torch.save(state, done)
    snap.unlink(missing_ok=True)


class VQSchedule(Protocol):
    vq_steps: int
    vq_batch: int
    vq_res: int
    vq_hires_steps: int
    vq_hires_batch: int
    vq_lr: float
    photo_share: float
    snapshot_every: int
    dead_code_every: int
    vq_bf16: bool


def _resume_vq_snapshot(snap: Path, vq: torch.nn.Module, opt: torch.optim.Optimizer, photos: CropSampler,
                        pairs: CropSampler, stage: str) -> dict | None:
    """A VQ-side stage's snapshot (model, optimiser, crop streams) restored; the dict for the caller's own state, or
    None when the stage starts fresh."""
    if not snap.exists():
        return None
    s = torch.load(snap, map_location="cpu", weights_only=False)
    vq.load_state_dict(s["model"])
    opt.load_state_dict(s["opt"])
    photos.rng.setstate(s["photo_rng"])
    pairs.rng.setstate(s["pair_rng"])
    print(f"[{stage}] resumed at step {s['step']}", flush=True)
    return s


def _photo_pair_batch(photos: CropSampler, pairs: CropSampler, rng: random.Random, n: int, res: int, photo_share: float,
                      cfg: TokLIPConfig) -> torch.Tensor:
    """``n`` crops at ``res``, each a photo with probability ``photo_share`` (photos first), else a pair image."""
    n_photo = sum(rng.random() < photo_share for _ in range(n))
    return torch.cat([photos.batch(n_photo, res, cfg.mean, cfg.std), pairs.batch(n - n_photo, res, cfg.mean, cfg.std)])


@torch.no_grad()
def _batch_psnr(rec: torch.Tensor, x: torch.Tensor) -> float:
    """PSNR (dB) of a batch in [-1, 1] (peak-to-peak 2, hence 4 / MSE), for the progress log."""
    return 10 * math.log10(4.0 / max(F.mse_loss(rec.clamp(-1, 1), x).item(), 1e-10))


def vq_loop(vq: torch.nn.Module, cfg: TokLIPConfig, run: Path, sch: VQSchedule, seed: int, photos: CropSampler,
            pairs: CropSampler, l1_weight: float, photo_min_frac: tuple[float, float] | None = None) -> None:
    """The VQ stage after its data is loaded: low-res steps then full-res steps, a share ``photo_share`` of
    each batch from photos, dead-code restarts, snapshots every ``snapshot_every`` steps (resumable).
    ``photo_min_frac`` = (low-res, full-res) smallest crop side as a share of the photo's short side."""
    done, snap = run / "stage1_vq.pt", run / "stage1_vq.snapshot.pt"
    opt = torch.optim.AdamW(vq.parameters(), lr=sch.vq_lr, betas=(0.9, 0.95), weight_decay=0.0)
    total = sch.vq_steps + sch.vq_hires_steps
    s = _resume_vq_snapshot(snap, vq, opt, photos, pairs, "vq")
    step = s["step"] if s else 0
    if s and "py_rng" in s:
        random.setstate(s["py_rng"])
    rng = random.Random(seed + step)
    usage = torch.zeros(cfg.vq.codebook_size)
    prog = Progress("vq", total, step)
    vq.train()
    while step < total:
        hires = step >= sch.vq_steps
        bs, res = (sch.vq_hires_batch, cfg.vision.image_size) if hires else (sch.vq_batch, sch.vq_res)
        if photo_min_frac is not None:
            photos.min_frac = photo_min_frac[1] if hires else photo_min_frac[0]
        x = _photo_pair_batch(photos, pairs, rng, bs, res, sch.photo_share, cfg)
        set_lr(opt, lr_at(step, total, sch.vq_lr))
        rec, vq_loss, ids, z = _vq_forward(vq, x, sch.vq_bf16)
        # MSE is what PSNR measures; some L1 keeps edges from averaging out.
        rec_loss = F.mse_loss(rec, x) + l1_weight * F.l1_loss(rec, x)
        loss = rec_loss + vq_loss
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(vq.parameters(), 1.0)
        opt.step()
        usage += torch.bincount(ids.flatten(), minlength=cfg.vq.codebook_size).float()
        step += 1
        if step % sch.dead_code_every == 0:
            _revive_dead_codes(vq, usage, z.detach(), rng)
            usage.zero_()
        prog.update(step, loss=loss.item(), rec=rec_loss.item(), psnr_db=_batch_psnr(rec, x))
        if step % sch.snapshot_every == 0 and step < total:
            save_snapshot(snap, model=vq.state_dict(), opt=opt.state_dict(), step=step, py_rng=random.getstate(),
                          photo_rng=photos.rng.getstate(), pair_rng=pairs.rng.getstate())
    finish_stage(vq.state_dict(), done, snap)


def decoder_loop(vq: torch.nn.Module, cfg: TokLIPConfig, done: Path, steps: int, batch: int, lr: float,
                 photos: CropSampler, pairs: CropSampler, photo_share: float, l1_weight: float, seed: int,
                 snapshot_every: int = 50) -> None:
    """More steps at the model's size for the VQ's decoder (and post-quant conv) alone: the encoder and codebook
    stay frozen, so every image keeps its ids and nothing trained on them has to change. About 0.8x the time of
    a joint step here (the encoder runs forward only, under no_grad). Warmup + cosine to ``lr``, the VQ stage's
    losses, bf16 autocast for the convolutions; snapshots beside ``done`` (resumable)."""
    snap = done.with_name(done.stem + ".snapshot.pt")
    params = [*vq.post_quant_conv.parameters(), *vq.decoder.parameters()]
    opt = torch.optim.AdamW(params, lr=lr, betas=(0.9, 0.95), weight_decay=0.0)
    rng = random.Random(seed)
    s = _resume_vq_snapshot(snap, vq, opt, photos, pairs, "decoder")
    step = s["step"] if s else 0
    if s:
        rng.setstate(s["rng"])
    prog = Progress("decoder", steps, step)
    size = cfg.vision.image_size
    while step < steps:
        x = _photo_pair_batch(photos, pairs, rng, batch, size, photo_share, cfg)
        set_lr(opt, lr_at(step, steps, lr))
        with torch.no_grad():
            with torch.autocast("cpu", dtype=torch.bfloat16):
                z = vq.encode_features(x)
            zq = vq.quantize(z)[0]
        with torch.autocast("cpu", dtype=torch.bfloat16):
            rec = vq.decode(zq).float()
        rec_loss = F.mse_loss(rec, x) + l1_weight * F.l1_loss(rec, x)
        opt.zero_grad(set_to_none=True)
        rec_loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        step += 1
        prog.update(step, rec=rec_loss.item(), psnr_db=_batch_psnr(rec, x))
        if step % snapshot_every == 0 and step < steps:
            save_snapshot(snap, model=vq.state_dict(), opt=opt.state_dict(), step=step, rng=rng.getstate(),
                          photo_rng=photos.rng.getstate(), pair_rng=pairs.rng.getstate())
    finish_stage(vq.state_dict(), done, snap)


def _vq_forward(vq: torch.nn.Module, x: torch.Tensor, bf16: bool) -> tuple[torch.Tensor, ...]:
    """``vq(x)`` with the encoder and decoder convolutions under bfloat16 autocast when ``bf16`` (about 1.6x
    faster per step on this CPU); the quantiser keeps itself float32. Reconstruction and features come back
    float32, for the losses and the dead-code restarts."""
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        rec, loss, ids, z = vq(x)
    return rec.float(), loss, ids, z.float()


def train_vq(model: TokLIP, cfg: TokLIPConfig, data: Path, run: Path, sch: Schedule, seed: int, limit: int | None) -> None:
    vq = model.trunk.vq
    if load_done(vq, run / "stage1_vq.pt", "vq"):
        return
    photos = CropSampler(load_photos(data, "train", limit), seed)
    pairs_img = CropSampler(pair_rgb_uint8(load_pairs(data, "train", limit)), seed + 1, min_frac=0.7)
    vq_loop(vq, cfg, run, sch, seed, photos, pairs_img, l1_weight=0.5)


@torch.no_grad()
def _revive_dead_codes(vq: torch.nn.Module, usage: torch.Tensor, z: torch.Tensor, rng: random.Random) -> None:
    """Codes unused since the last check are moved onto random current encoder outputs, so the whole
    codebook keeps receiving gradient (the standard k-means-style restart)."""
    dead = (usage == 0).nonzero().flatten()
    if len(dead) == 0:
        return
    zf = F.normalize(z.permute(0, 2, 3, 1).reshape(-1, z.shape[1]), dim=-1)
    g = torch.Generator().manual_seed(rng.randrange(1 << 30))
    pick = torch.randint(0, zf.shape[0], (len(dead),), generator=g)
    noise = torch.randn(len(dead), zf.shape[1], generator=g) * 0.01
    vq.quantize.embedding.weight.data[dead] = F.normalize(zf[pick] + noise, dim=-1)


class PairBatches:
    """Batches of (image index, caption) with one item per concept, so SigLIP negatives are true negatives."""

    def __init__(self, pairs: list[Pair], seed: int) -> None:
        self.pairs = pairs
        self.rng = random.Random(seed)
        self.by_concept: dict[str, list[int]] = {}
        for i, p in enumerate(pairs):
            self.by_concept.setdefault(p.concept, []).append(i)
        self.concepts = sorted(self.by_concept)

    def sample(self, n: int) -> tuple[list[int], list[str]]:
        cs = self.rng.sample(self.concepts, min(n, len(self.concepts)))
        idx = [self.rng.choice(self.by_concept[c]) for c in cs]
        caps = [self.rng.choice(self.pairs[i].captions) for i in idx]
        return idx, caps


def _augment(x: torch.Tensor, rng: random.Random) -> torch.Tensor:
    """Flip half the batch (pixels); kept mild: emoji/stamps are centred objects."""
    flip = torch.tensor([rng.random() < 0.5 for _ in range(x.shape[0])])
    return torch.where(flip[:, None, None, None], x.flip(-1), x)


def train_teacher(teacher: PixelCLIP, cfg: TokLIPConfig, pixels: torch.Tensor, pairs: list[Pair], textin: TextEncoderInput,
                  run: Path, sch: Schedule, seed: int) -> None:
    if load_done(teacher, run / "stage2_teacher.pt", "teacher"):
        return
    opt = torch.optim.AdamW(teacher.parameters(), lr=sch.teacher_lr, betas=(0.9, 0.98), weight_decay=0.05)
    batches = PairBatches(pairs, seed + 2)
    rng = random.Random(seed + 3)
    step = _resume(run / "stage2_teacher.snapshot.pt", teacher, opt, batches, rng)
    prog = Progress("teacher", sch.teacher_steps, step)
    teacher.train()
    while step < sch.teacher_steps:
        idx, caps = batches.sample(sch.teacher_batch)
        x = _augment(pixels[idx], rng)
        set_lr(opt, lr_at(step, sch.teacher_steps, sch.teacher_lr))
        img = teacher.encode_image(x)
        txt = teacher.encode_text(textin(caps))
        loss = sigmoid_loss(img, txt, teacher.logit_scale, teacher.logit_bias)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(teacher.parameters(), 1.0)
        opt.step()
        step += 1
        prog.update(step, loss=loss.item(), scale=teacher.logit_scale.exp().item())
        if step % sch.snapshot_every == 0 and step < sch.teacher_steps:
            _snapshot(run / "stage2_teacher.snapshot.pt", teacher, opt, batches, rng, step)
    finish_stage(teacher.state_dict(), run / "stage2_teacher.pt", run / "stage2_teacher.snapshot.pt")


def train_semantic(model: TokLIP, teacher: PixelCLIP, cfg: TokLIPConfig, pixels: torch.Tensor, pairs: list[Pair],
                   textin: TextEncoderInput, run: Path, sch: Schedule, seed: int) -> None:
    if load_done(model, run / "stage3_toklip.pt", "toklip"):
        return
    # One text tower for teacher and TokLIP: the app compares both image towers against the same
    # text embeddings, so TokLIP inherits the teacher's text tower, scale and bias, frozen.
    model.text.load_state_dict(teacher.text.state_dict())
    model.logit_scale.data.copy_(teacher.logit_scale.data)
    model.logit_bias.data.copy_(teacher.logit_bias.data)
    trunk = model.trunk
    teacher.eval()
    with torch.no_grad():
        ids = torch.cat([trunk.vq.encode_ids(pixels[i : i + 64]) for i in range(0, len(pixels), 64)])
        ids_flip = torch.cat([trunk.vq.encode_ids(pixels[i : i + 64].flip(-1)) for i in range(0, len(pixels), 64)])
        t_img = torch.cat([teacher.encode_image(pixels[i : i + 64]) for i in range(0, len(pixels), 64)])
        t_img_flip = torch.cat([teacher.encode_image(pixels[i : i + 64].flip(-1)) for i in range(0, len(pixels), 64)])
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
        flip = torch.tensor([rng.random() < 0.5 for _ in idx])
        b_ids = torch.where(flip[:, None, None], ids_flip[idx], ids[idx])
        b_t = torch.where(flip[:, None], t_img_flip[idx], t_img[idx])
        set_lr(opt, lr_at(step, sch.sem_steps, sch.sem_lr))
        img = model.encode_ids(b_ids)
        with torch.no_grad():
            txt = F.normalize(text(textin(caps)), dim=-1)
        con = sigmoid_loss(img, txt, model.logit_scale.detach(), model.logit_bias.detach())
        distill = (1 - (img * b_t).sum(-1)).mean()
        loss = con + sch.distill_weight * distill
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        step += 1
        prog.update(step, loss=loss.item(), contrastive=con.item(), distill_cos=1 - distill.item())
        if step % sch.snapshot_every == 0 and step < sch.sem_steps:
            _snapshot(run / "stage3_toklip.snapshot.pt", trunk, opt, batches, rng, step, skip_prefix="vq.")
    finish_stage(model.state_dict(), run / "stage3_toklip.pt", run / "stage3_toklip.snapshot.pt")


def _snapshot(path: Path, mod: torch.nn.Module, opt: torch.optim.Optimizer, batches: PairBatches, rng: random.Random,
              step: int, skip_prefix: str | None = None) -> None:
    sd = {k: v for k, v in mod.state_dict().items() if not (skip_prefix and k.startswith(skip_prefix))}
    save_snapshot(path, model=sd, opt=opt.state_dict(), step=step, batch_rng=batches.rng.getstate(), rng=rng.getstate())


def _resume(path: Path, mod: torch.nn.Module, opt: torch.optim.Optimizer, batches: PairBatches, rng: random.Random,
            skip_prefix: str | None = None) -> int:
    if not path.exists():
        return 0
    s = torch.load(path, map_location="cpu", weights_only=False)
    mod.load_state_dict(s["model"], strict=skip_prefix is None)
    opt.load_state_dict(s["opt"])
    batches.rng.setstate(s["batch_rng"])
    rng.setstate(s["rng"])
    print(f"[{path.stem}] resumed at step {s['step']}", flush=True)
    return int(s["step"])


def run_recipe(data: Path, run: Path, smoke: bool, seed: int, threads: int) -> Path:
    torch.manual_seed(seed)
    random.seed(seed)
    np.random.seed(seed)
    torch.set_num_threads(threads)
    sch = SMOKE if smoke else Schedule()
    limit = 64 if smoke else None
    cfg = tiny_config()
    run.mkdir(parents=True, exist_ok=True)
    timing_path = run / "timing.json"
    timing: dict[str, float] = json.loads(timing_path.read_text()) if timing_path.exists() else {}

    starts_path = run / "stage_starts.json"
    starts: dict[str, float] = json.loads(starts_path.read_text()) if starts_path.exists() else {}

    def timed(stage: str, fn) -> None:  # type: ignore[no-untyped-def]
        # The first start of a stage is persisted, so a crashed-and-resumed stage reports the whole
        # wall-clock time from its first start (gap included), not only the resumed part.
        if stage not in starts:
            starts[stage] = time.time()
            starts_path.write_text(json.dumps(starts, indent=1))
        fn()
        if stage not in timing:
            timing[stage] = (time.time() - starts[stage]) / 60
            timing_path.write_text(json.dumps(timing, indent=1))

    tok_path = run / "tokenizer.json"
    if not tok_path.exists():
        caps = [c for r in read_jsonl(data / "pairs.jsonl") if r["split"] == "train" for c in r["captions"]]
        train_tokenizer(caps, sch.vocab_size, tok_path)
    textin = TextEncoderInput.load(tok_path, cfg.text.context_length, cfg.text.pad_id)

    model = TokLIP(cfg)
    teacher = PixelCLIP(cfg)
    timed("vq", lambda: train_vq(model, cfg, data, run, sch, seed, limit))
    for p in model.trunk.vq.parameters():
        p.requires_grad_(False)
    model.trunk.vq.eval()
    train_pairs = load_pairs(data, "train", limit)
    pixels = pair_pixels(train_pairs, cfg.vision.image_size, cfg.mean, cfg.std)
    timed("teacher", lambda: train_teacher(teacher, cfg, pixels, train_pairs, textin, run, sch, seed))
    timed("toklip", lambda: train_semantic(model, teacher, cfg, pixels, train_pairs, textin, run, sch, seed))
    final = run / "final.pt"
    torch.save({"config": cfg.to_dict(), "toklip": model.state_dict(), "teacher": teacher.state_dict(),
                "train_minutes": sum(timing.values()), "stage_minutes": timing, "smoke": smoke, "seed": seed,
                "schedule": sch.__dict__}, final)
    print(f"[done] {final} in {sum(timing.values()):.1f} min ({timing})", flush=True)
    return final


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=Path("models/data"), help="output of toklip-build-data")
    ap.add_argument("--out", type=Path, default=Path("models/runs/tiny"), help="run folder (checkpoints, resume)")
    ap.add_argument("--smoke", action="store_true", help="a few steps of every stage (CI)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=max(1, torch.get_num_threads()))
    a = ap.parse_args(argv)
    run_recipe(a.data, a.out, a.smoke, a.seed, a.threads)


if __name__ == "__main__":
    main()
