"""TokLIP-stage-only runs on a finished recipe's VQ and teacher (issue 11: TokLIP keeps 0.60x its teacher's R@1).

    python -m toklip.student_ablation train --base models/runs/tiny-v2 --out /tmp/stu-a --steps 300
    python -m toklip.student_ablation train --base models/runs/tiny-v2 --out /tmp/stu-b --steps 300 --distill-weight 10
    python -m toklip.student_ablation eval /tmp/stu-b --base models/runs/tiny-v2          # held-out R@1

Why: the TokLIP stage is a third of the recipe's minutes, so its knobs are compared here on short runs that reuse
the base run's frozen VQ, teacher, tokenizer and cached stage-3 inputs (VQ ids + teacher embeddings). ``train`` runs
``toklip.train_v2``'s stage 3 unchanged (same seed, init order, batches and schedule) except for the overrides given,
so with no overrides and the recipe's step count it repeats the base run's TokLIP stage. ``eval`` measures TokLIP in
PyTorch on the held-out concepts of both data folders with ``toklip-eval``'s pools (text->image R@1, mean of 20 pools
of 230) and on the held-out emoji style, plus the participation ratio and matched / unmatched cosine medians.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
from pathlib import Path

import numpy as np
import torch

from .dataset import Pair, load_pairs
from .evaluate import one_per_concept, pooled_recall
from .metrics import cosine_spread, participation_ratio
from .model import TokLIP, TokLIPConfig, tiny_v2_config
from .textok import TextEncoderInput
from .train import load_done
from .train_v2 import (LEGACY_SCHEDULE, ScheduleV2, StageClock, _capped_indices, datasets, encode_ids_onnx, normalise,
                       pair_rgb, seeded_models, semantic_inputs, split_calibration, teacher_tokens, train_pairs,
                       train_semantic)

V1, V2 = Path("models/data"), Path("models/data-v2")
OVERRIDES = ("sem_steps", "distill_weight", "spectrum_weight", "sem_lr", "uniform_weight", "sem_bf16", "kd_weight",
             "max_per_concept", "spectrum_floor", "sem_centre_init", "token_distill_weight")


def arm_config(bidirectional: bool = False) -> TokLIPConfig:
    cfg = tiny_v2_config()
    return dataclasses.replace(cfg, vision=dataclasses.replace(cfg.vision, causal=False)) if bidirectional else cfg


def base_schedule(base: Path) -> ScheduleV2:
    """The base run's schedule (its calibration split and items per concept decide stage 3's items)."""
    final = base / "final.pt"
    if not final.exists():
        return ScheduleV2()
    saved = torch.load(final, map_location="cpu", weights_only=False).get("schedule") or {}
    known = {f.name for f in dataclasses.fields(ScheduleV2)}
    # Fields added to the recipe later: a schedule saved without one ran as they were before it existed.
    kw = {**(LEGACY_SCHEDULE if saved else {}),
          **{k: v for k, v in saved.items() if k in known}}
    if "kind_shares" in kw:
        kw["kind_shares"] = tuple(tuple(x) for x in kw["kind_shares"])
    return ScheduleV2(**kw)


def _frozen(base: Path, cfg: TokLIPConfig, seed: int) -> tuple[TokLIP, torch.nn.Module]:
    """TokLIP and teacher as ``run_recipe`` holds them when stage 3 starts (same seeded init order)."""
    model, teacher = seeded_models(cfg, seed)
    if not load_done(model.trunk.vq, base / "stage1_vq.pt", "vq"):
        raise SystemExit(f"{base} has no finished VQ stage (stage1_vq.pt)")
    if not load_done(teacher, base / "stage2_teacher.pt", "teacher"):
        raise SystemExit(f"{base} has no finished teacher stage (stage2_teacher.pt)")
    for p in model.trunk.vq.parameters():
        p.requires_grad_(False)
    model.trunk.vq.eval()
    teacher.eval()
    return model, teacher


def train(base: Path, out: Path, threads: int, seed: int = 0, data: Path = V1, data_v2: Path = V2,
          stage_seed: int | None = None, bidirectional: bool = False, **overrides: float) -> Path:
    """``seed`` is the base run's (it also picks the calibration split and stage-3 items, so changing it changes
    the data); ``stage_seed``, when given, replaces it only for TokLIP's init and batch order, the two things a
    rerun of the stage alone would draw anew. ``bidirectional`` drops TokLIP's causal mask (an ablation of the
    architecture, never the recipe: it measures what the paper's causal ViT costs at this size)."""
    torch.set_num_threads(threads)
    cfg = arm_config(bidirectional)
    out.mkdir(parents=True, exist_ok=True)
    sch = base_schedule(base)
    kinds = {f.name: f.type for f in dataclasses.fields(ScheduleV2)}
    given = {k: {"int": int, "float": float, "bool": bool}[str(kinds[k])](v) for k, v in overrides.items()
             if v is not None}
    sch = dataclasses.replace(sch, **given)
    textin = TextEncoderInput.load(base / "tokenizer.json", cfg.text.context_length, cfg.text.pad_id)
    run_seed = seed if stage_seed is None else stage_seed
    model, teacher = _frozen(base, cfg, run_seed)
    pairs, _ = split_calibration(train_pairs(datasets(data, data_v2), None), sch.calib_concepts, seed + 7)
    sem_idx = _capped_indices(pairs, sch.max_per_concept, seed + 6)
    sem_pairs = [pairs[i] for i in sem_idx]
    cache, shared = out / "stage3_inputs.pt", base / "stage3_inputs.pt"
    if not cache.exists() and shared.exists() and len(torch.load(shared, map_location="cpu")["ids"]) == len(sem_pairs):
        os.symlink(shared.resolve(), cache)
    # semantic_inputs reads only the length of its images when the cache holds them
    rgb = pair_rgb(sem_pairs, cfg.vision.image_size) if not cache.exists() else np.zeros((len(sem_pairs), 1, 1, 3))
    ids, t_img = semantic_inputs(model, teacher, cfg, rgb, out, threads)
    t_tok = None
    if sch.token_distill_weight:
        tok_cache, tok_shared = out / "stage3_teacher_tokens.pt", base / "stage3_teacher_tokens.pt"
        if not tok_cache.exists() and tok_shared.exists():
            os.symlink(tok_shared.resolve(), tok_cache)
        # ``rgb`` may be the placeholder above: the teacher needs the real pixels
        t_tok = teacher_tokens(teacher, cfg, len(sem_pairs),
                               lambda: rgb if rgb.shape[1] > 1 else pair_rgb(sem_pairs, cfg.vision.image_size), out)
    print(f"[student] {len(sem_pairs)} items, overrides {given}", flush=True)
    StageClock(out)("toklip", lambda: train_semantic(model, teacher, cfg, ids, t_img, sem_pairs, textin, out, sch,
                                                     run_seed, t_tok))
    (out / "arm.json").write_text(json.dumps({"base": str(base), "seed": seed, "stage_seed": stage_seed,
                                              "causal": cfg.vision.causal,
                                              "overrides": given,
                                              "schedule": dataclasses.asdict(sch)}, indent=1))
    return out / "stage3_toklip.pt"


@torch.no_grad()
def _embed(model: TokLIP, cfg: TokLIPConfig, textin: TextEncoderInput, items: list[Pair], threads: int,
           batch: int = 128) -> tuple[np.ndarray, np.ndarray]:
    ids = torch.from_numpy(encode_ids_onnx(model, normalise(pair_rgb(items, cfg.vision.image_size), cfg), threads))
    img = torch.cat([model.encode_ids(ids[i:i + batch]) for i in range(0, len(ids), batch)]).numpy()
    txt = torch.cat([model.encode_text(textin([p.captions[0] for p in items[i:i + batch]]))
                     for i in range(0, len(items), batch)]).numpy()
    return txt, img


def evaluate(run: Path, base: Path, threads: int = 2, data: Path = V1, data_v2: Path = V2) -> dict[str, object]:
    torch.set_num_threads(threads)
    arm = json.loads((run / "arm.json").read_text()) if (run / "arm.json").exists() else {}
    cfg = arm_config(not arm.get("causal", True))
    model = TokLIP(cfg)
    model.load_state_dict(torch.load(run / "stage3_toklip.pt", map_location="cpu"))
    model.eval()
    textin = TextEncoderInput.load(base / "tokenizer.json", cfg.text.context_length, cfg.text.pad_id)
    reps = one_per_concept([p for d in datasets(data, data_v2) for p in load_pairs(d, "val")], rep_only=True)
    txt, img = _embed(model, cfg, textin, reps, threads)
    m: dict[str, object] = {"n_concepts": len(reps), "toklip_t2i_r1": pooled_recall(txt, img),
                            "toklip_t2i_r5": pooled_recall(txt, img, 5),
                            "participation_ratio": participation_ratio(img), **cosine_spread(txt, img)}
    held = one_per_concept(load_pairs(data_v2, "heldout_style"), rep_only=False)
    if held:
        htxt, himg = _embed(model, cfg, textin, held, threads)
        m["heldout_style_t2i_r1"] = pooled_recall(htxt, himg)
    return m


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=V1, help="v1 dataset folder")
    ap.add_argument("--data-v2", type=Path, default=V2, help="v2 dataset folder")
    sub = ap.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("train", help="train one TokLIP stage on a base run's VQ and teacher")
    t.add_argument("--base", type=Path, required=True, help="finished toklip-train-v2 run folder")
    t.add_argument("--out", type=Path, required=True)
    t.add_argument("--threads", type=int, default=2)
    t.add_argument("--steps", dest="sem_steps", type=int, default=None, help="TokLIP steps (default: the recipe's)")
    t.add_argument("--distill-weight", type=float, default=None)
    t.add_argument("--spectrum-weight", type=float, default=None)
    t.add_argument("--uniform-weight", type=float, default=None)
    t.add_argument("--lr", dest="sem_lr", type=float, default=None)
    t.add_argument("--kd-weight", type=float, default=None, help="weight of train_v2.logit_distillation")
    t.add_argument("--max-per-concept", type=int, default=None, help="stage-3 items per training concept")
    t.add_argument("--centre-init", dest="sem_centre_init", action=argparse.BooleanOptionalAction, default=None,
                   help="train_v2.centre_token_mapping before the stage or not (default: as the base run)")
    t.add_argument("--spectrum-floor", type=float, default=None,
                   help="isotropic variance under the spectrum term (train_v2.inverse_participation)")
    t.add_argument("--bf16", dest="sem_bf16", action="store_const", const=True, default=None,
                   help="TokLIP forward/backward under bfloat16 autocast (losses in float32)")
    t.add_argument("--token-distill-weight", type=float, default=None,
                   help="weight of train_v2.token_distillation (teacher patch features; renders the items once)")
    t.add_argument("--stage-seed", type=int, default=None,
                   help="seed of TokLIP's init and batch order only (calibration split and items stay the base run's)")
    t.add_argument("--bidirectional", action="store_true",
                   help="drop TokLIP's causal mask (architecture ablation; the recipe and the app stay causal)")
    e = sub.add_parser("eval", help="held-out R@1 of a trained arm folder")
    e.add_argument("run", type=Path)
    e.add_argument("--base", type=Path, required=True, help="the base run (its tokenizer)")
    e.add_argument("--threads", type=int, default=2)
    a = ap.parse_args(argv)
    if a.cmd == "train":
        print(train(a.base, a.out, a.threads, data=a.data, data_v2=a.data_v2, stage_seed=a.stage_seed,
                    bidirectional=a.bidirectional,
                    **{k: getattr(a, k) for k in OVERRIDES}))
    else:
        print(json.dumps(evaluate(a.run, a.base, a.threads, a.data, a.data_v2), indent=1))


if __name__ == "__main__":
    main()
