"""Teacher-only runs that compare batch compositions (issue 11: the teacher bounds TokLIP's comprehension).

    python -m toklip.teacher_ablation train --out /tmp/tea-base --threads 2                   # the recipe's teacher
    python -m toklip.teacher_ablation train --out /tmp/tea-uni --shares proportional --threads 2
    python -m toklip.teacher_ablation train --out /tmp/tea-mid --shares emoji=0.2,icon=0.6,stamp=0.15,flag=0.05
    python -m toklip.teacher_ablation train --out /tmp/tea-s8 --steps 200 --spectrum-weight 8  # spectrum term arm
    python -m toklip.teacher_ablation eval /tmp/tea-mid                                       # held-out R@1

Why: balancing teacher batches by kind of concept (run 3 on) lifted the held-out OpenMoji style (teacher R@1 0.017
-> 0.060) but halved the teacher's R@1 on held-out concepts (0.179 -> 0.084), and TokLIP distils from that teacher.
A 400-step teacher stage took 11-16 idle minutes on this machine and the whole recipe 74-103 (2026-12-04 and -05: the
VM's speed varies by day), so compositions and step counts are compared here first.

``train`` runs ``toklip.train_v2``'s teacher stage unchanged (same seed, data, tokenizer, init order and schedule)
except for the kind shares, so ``--shares recipe`` reproduces the recipe's teacher. ``eval`` measures the teacher
(PyTorch, official preprocessing, as ``pair_rgb`` feeds training) with ``toklip-eval``'s pools: text->image R@1 on
the held-out concepts of both data folders (mean of 20 pools of 230), per kind of concept, and on the held-out
emoji style.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

import numpy as np
import torch

from .dataset import Pair, load_pairs
from .evaluate import one_per_concept, pooled_recall
from .metrics import cosine_spread, participation_ratio
from .model import PixelCLIP, TokLIPConfig, tiny_v2_config
from .textok import TextEncoderInput
from .train_v2 import (ScheduleV2, StageClock, concept_kinds, datasets, ensure_tokenizer, normalise, pair_rgb,
                       seeded_models, split_calibration, train_pairs, train_teacher)

V1, V2 = Path("models/data"), Path("models/data-v2")


def parse_shares(spec: str, pairs: list[Pair]) -> tuple[tuple[str, float], ...]:
    """``recipe`` (ScheduleV2's shares), ``proportional`` (each kind's share of the concepts: uniform over concepts,
    as runs 1-2 sampled) or ``kind=share,...``."""
    if spec == "recipe":
        return ScheduleV2().kind_shares
    if spec == "proportional":
        counts: dict[str, int] = {}
        for k in concept_kinds(pairs).values():
            counts[k] = counts.get(k, 0) + 1
        n = sum(counts.values())
        return tuple((k, c / n) for k, c in sorted(counts.items()))
    out = []
    for part in spec.split(","):
        k, _, v = part.partition("=")
        if not k or not v:
            raise argparse.ArgumentTypeError(f"bad share {part!r}: want kind=share")
        out.append((k.strip(), float(v)))
    return tuple(out)


def train(out: Path, shares: str, threads: int, steps: int | None, seed: int = 0, data: Path = V1,
          data_v2: Path = V2, spectrum_weight: float | None = None, bf16: bool = False) -> Path:
    torch.set_num_threads(threads)
    cfg = tiny_v2_config()
    _, teacher = seeded_models(cfg, seed)
    out.mkdir(parents=True, exist_ok=True)
    folders = datasets(data, data_v2)
    sch = ScheduleV2()
    tok = out / "tokenizer.json"
    ensure_tokenizer(folders, sch.vocab_size, tok)
    textin = TextEncoderInput.load(tok, cfg.text.context_length, cfg.text.pad_id)
    # The recipe's teacher never sees the calibration concepts.
    pairs, _ = split_calibration(train_pairs(folders, None), sch.calib_concepts, seed + 7)
    sch = dataclasses.replace(sch, kind_shares=parse_shares(shares, pairs), teacher_steps=steps or sch.teacher_steps,
                              spectrum_weight=sch.spectrum_weight if spectrum_weight is None else spectrum_weight,
                              teacher_bf16=bf16)
    print(f"[teacher] shares {sch.kind_shares}, {sch.teacher_steps} steps, spectrum weight {sch.spectrum_weight}, "
          f"bf16 {sch.teacher_bf16}", flush=True)
    rgb = pair_rgb(pairs, cfg.vision.image_size)
    # The recipe's clock, so an arm's teacher minutes read like the recipe's teacher stage in timing.json.
    StageClock(out)("teacher", lambda: train_teacher(teacher, cfg, rgb, pairs, textin, out, sch, seed))
    (out / "arm.json").write_text(json.dumps({"shares": sch.kind_shares, "steps": sch.teacher_steps, "seed": seed,
                                              "spectrum_weight": sch.spectrum_weight, "bf16": sch.teacher_bf16}))
    return out / "stage2_teacher.pt"


@torch.no_grad()
def _embed(teacher: PixelCLIP, cfg: TokLIPConfig, textin: TextEncoderInput, items: list[Pair],
           batch: int = 128) -> tuple[np.ndarray, np.ndarray]:
    img, txt = [], []
    for i in range(0, len(items), batch):
        chunk = items[i:i + batch]
        img.append(teacher.encode_image(normalise(pair_rgb(chunk, cfg.vision.image_size), cfg)).numpy())
        txt.append(teacher.encode_text(textin([p.captions[0] for p in chunk])).numpy())
    return np.concatenate(txt), np.concatenate(img)


def evaluate(run: Path, threads: int = 2, data: Path = V1, data_v2: Path = V2) -> dict[str, object]:
    torch.set_num_threads(threads)
    cfg = tiny_v2_config()
    teacher = PixelCLIP(cfg)
    teacher.load_state_dict(torch.load(run / "stage2_teacher.pt", map_location="cpu"))
    teacher.eval()
    textin = TextEncoderInput.load(run / "tokenizer.json", cfg.text.context_length, cfg.text.pad_id)
    reps = one_per_concept([p for d in datasets(data, data_v2) for p in load_pairs(d, "val")], rep_only=True)
    txt, img = _embed(teacher, cfg, textin, reps)
    m: dict[str, object] = {"n_concepts": len(reps), "teacher_t2i_r1": pooled_recall(txt, img),
                            "teacher_i2t_r1": pooled_recall(txt, img, 1, True),
                            "participation_ratio": participation_ratio(img),
                            "text_participation_ratio": participation_ratio(txt)}
    m.update(cosine_spread(txt, img))
    kinds = concept_kinds(reps)
    by_kind = {}
    for k in sorted(set(kinds.values())):
        idx = [i for i, p in enumerate(reps) if kinds[p.concept] == k]
        by_kind[k] = {"n": len(idx), "t2i_r1": round(pooled_recall(txt[idx], img[idx]), 4)}
    m["by_kind"] = by_kind
    held = one_per_concept(load_pairs(data_v2, "heldout_style"), rep_only=False)
    if held:
        htxt, himg = _embed(teacher, cfg, textin, held)
        m["heldout_style_t2i_r1"] = pooled_recall(htxt, himg)
    m["logit_scale"] = float(teacher.logit_scale.exp())
    m["logit_bias"] = float(teacher.logit_bias)
    return m


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=V1, help="v1 dataset folder")
    ap.add_argument("--data-v2", type=Path, default=V2, help="v2 dataset folder")
    sub = ap.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("train", help="train one teacher")
    t.add_argument("--out", type=Path, required=True)
    t.add_argument("--shares", default="recipe", help="recipe | proportional | kind=share,... (emoji, icon, stamp, flag)")
    t.add_argument("--threads", type=int, default=2)
    t.add_argument("--steps", type=int, default=None, help="teacher steps (default: the recipe's)")
    t.add_argument("--spectrum-weight", type=float, default=None,
                   help="weight of the inverse participation ratio term (default: the recipe's)")
    t.add_argument("--bf16", action="store_true", help="teacher forward/backward under bfloat16 autocast")
    e = sub.add_parser("eval", help="held-out R@1 of a trained teacher folder")
    e.add_argument("run", type=Path)
    e.add_argument("--threads", type=int, default=2)
    a = ap.parse_args(argv)
    if a.cmd == "train":
        print(train(a.out, a.shares, a.threads, a.steps, data=a.data, data_v2=a.data_v2,
                    spectrum_weight=a.spectrum_weight, bf16=a.bf16))
    else:
        print(json.dumps(evaluate(a.run, a.threads, a.data, a.data_v2), indent=1))


if __name__ == "__main__":
    main()
