"""Evaluate a model folder on held-out data and write metrics.json (+ MODEL_CARD.md) beside it.

    toklip-eval --bundle public/models/toklip-tiny --data models/data --data-v2 models/data-v2

Runs the exported ONNX graphs with onnxruntime (what the app runs), not the PyTorch checkpoint, so
the numbers describe the files that ship. Images go through the manifest's preprocessing.

Held-out sets (never trained on): photos with ``split: val``; one representative item per held-out
concept (``split: val``, ``eval_rep``); with ``--data-v2``, the held-out emoji style (``split:
heldout_style``, one item per concept). Retrieval is averaged over ``POOLS`` random pools of
``POOL_SIZE`` concepts (seeded), so the number does not hang on one draw.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from .card import write_model_card
from .dataset import Pair, load_pairs, photo_files
from .manifest import refresh_manifest
from .metrics import code_stats, participation_ratio, psnr, recall_at, ssim
from .preprocess import to_rgb01
from .runtime import Bundle
from .targets import target_status

POOL_SIZE = 230
POOLS = 20
POOL_SEED = 0


def _pixels(files: list[Path], b: Bundle) -> np.ndarray:
    return np.stack([b.preprocess_path(f) for f in files]) if files else np.zeros((0, 3, b.size, b.size), np.float32)


def _renormalised(rgb01: np.ndarray, b: Bundle) -> np.ndarray:
    """Decoder output ([0, 1] RGB) back to the model's normalised pixels, as the image encoders take them."""
    m = np.asarray(b.mean, np.float32).reshape(1, 3, 1, 1)
    s = np.asarray(b.std, np.float32).reshape(1, 3, 1, 1)
    return ((np.clip(rgb01, 0.0, 1.0) - m) / s).astype(np.float32)


def thumbnail_psnr(ref: np.ndarray, side: int = 32) -> float:
    """PSNR of a ``side``×``side`` thumbnail scaled back up (Pillow bicubic both ways): the bar a token
    grid has to beat to be worth more than a tiny picture."""
    u8 = np.round(np.transpose(ref, (1, 2, 0)) * 255).astype(np.uint8)
    size = u8.shape[0]
    up = Image.fromarray(u8).resize((side, side), Image.BICUBIC).resize((size, size), Image.BICUBIC)
    return psnr(np.asarray(up).astype(np.float64) / 255, u8.astype(np.float64) / 255)


def one_per_concept(pairs: list[Pair], rep_only: bool) -> list[Pair]:
    """First folder wins; within a folder the eval_rep item (held-out concepts) or the lowest id."""
    out: dict[str, Pair] = {}
    for p in pairs:
        if rep_only and not p.eval_rep:
            continue
        cur = out.get(p.concept)
        if cur is None or (not rep_only and cur.file.parent == p.file.parent and p.id < cur.id):
            out[p.concept] = p
    return sorted(out.values(), key=lambda p: p.concept)


def pooled_recall(txt: np.ndarray, img: np.ndarray, k: int = 1, i2t: bool = False) -> float:
    """Mean R@k over POOLS random pools of POOL_SIZE concepts (all concepts if fewer)."""
    n = len(txt)
    rng = np.random.default_rng(POOL_SEED)
    pools = [np.arange(n)] if n <= POOL_SIZE else [rng.choice(n, POOL_SIZE, replace=False) for _ in range(POOLS)]
    vals = []
    for idx in pools:
        sim = txt[idx] @ img[idx].T
        vals.append(recall_at(sim.T if i2t else sim, k))
    return float(np.mean(vals))


def by_source(reps: list[Pair], txt: np.ndarray, img: np.ndarray, tea: np.ndarray | None,
              min_concepts: int = 20) -> dict[str, dict[str, float | int]]:
    """Per source with at least ``min_concepts`` held-out concepts: concept count, TokLIP and teacher R@1."""
    out: dict[str, dict[str, float | int]] = {}
    for src in sorted({p.source for p in reps}):
        idx = [i for i, p in enumerate(reps) if p.source == src]
        if len(idx) < min_concepts:
            continue
        row: dict[str, float | int] = {"n": len(idx), "toklip": round(pooled_recall(txt[idx], img[idx]), 4)}
        if tea is not None:
            row["teacher"] = round(pooled_recall(txt[idx], tea[idx]), 4)
        out[src] = row
    return out


def evaluate(bundle: Path, data: Path, limit: int | None = None, threads: int = 0,
             data_v2: Path | None = None) -> dict[str, Any]:
    t0 = time.time()
    b = Bundle(bundle, threads=threads)
    folders = [data] + ([data_v2] if data_v2 else [])
    photos = photo_files(folders, "val")[:limit]
    x = _pixels(photos, b)
    ids = b.tokenize(x)
    rec = b.decode(ids)
    ref = np.stack([to_rgb01(p, b.mean, b.std) for p in x])
    usage, perplexity = code_stats(ids.ravel(), b.manifest["codebook"]["size"])
    m: dict[str, Any] = {
        "psnr_db": float(np.mean([psnr(r, o) for r, o in zip(rec, ref)])),
        "thumb32_psnr_db": float(np.mean([thumbnail_psnr(o) for o in ref])),
        "ssim": float(np.mean([ssim(r, o) for r, o in zip(rec, ref)])),
        "psnr_n_images": len(photos),
        "codebook_usage": usage,
        "perplexity": perplexity,
        "codebook_n_tokens": int(ids.size),
    }

    reps = one_per_concept([p for d in folders for p in load_pairs(d, "val")], rep_only=True)[:limit]
    px = _pixels([p.file for p in reps], b)
    rep_ids = b.tokenize(px)
    tok_img = b.embed_ids(rep_ids)
    txt = b.embed_text([p.captions[0] for p in reps])
    m.update(retrieval_n_concepts=len(reps), retrieval_pool=min(POOL_SIZE, len(reps)),
             retrieval_pools=1 if len(reps) <= POOL_SIZE else POOLS,
             retrieval_query="first caption of each held-out concept's representative item")
    m.update(toklip_t2i_r1=pooled_recall(txt, tok_img), toklip_t2i_r5=pooled_recall(txt, tok_img, 5),
             toklip_i2t_r1=pooled_recall(txt, tok_img, 1, True), toklip_i2t_r5=pooled_recall(txt, tok_img, 5, True))
    v1 = [i for i, p in enumerate(reps) if p.file.is_relative_to(data)]
    if data_v2 and v1:
        m["v1pool_toklip_t2i_r1"] = pooled_recall(txt[v1], tok_img[v1])
    m["participation_ratio"] = participation_ratio(tok_img)
    m["text_participation_ratio"] = participation_ratio(txt)
    cos = txt @ tok_img.T
    prob = b.probability(cos)
    off = ~np.eye(len(reps), dtype=bool)
    m["matched_prob_median"] = float(np.median(np.diag(prob)))
    m["unmatched_prob_median"] = float(np.median(prob[off])) if off.any() else None
    m["matched_cos_median"] = float(np.median(np.diag(cos)))
    m["unmatched_cos_median"] = float(np.median(cos[off])) if off.any() else None
    m["logit_scale"] = float(b.manifest["logit_scale"])
    m["logit_bias"] = float(b.manifest["logit_bias"])
    tea = None
    if b.manifest.get("teacher"):
        tea = b.embed_teacher(px)
        m.update(teacher_t2i_r1=pooled_recall(txt, tea), teacher_t2i_r5=pooled_recall(txt, tea, 5),
                 teacher_i2t_r1=pooled_recall(txt, tea, 1, True), teacher_i2t_r5=pooled_recall(txt, tea, 5, True))
        teacher_r1 = (m["teacher_t2i_r1"] + m["teacher_i2t_r1"]) / 2
        m["toklip_over_teacher_r1"] = ((m["toklip_t2i_r1"] + m["toklip_i2t_r1"]) / 2) / teacher_r1 if teacher_r1 else None
        m["toklip_teacher_image_cos"] = float(np.mean(np.sum(tok_img * tea, axis=1)))
        m["teacher_participation_ratio"] = participation_ratio(tea)
        # The teacher on the pictures the VQ rebuilds from the same ids: roughly what a pixel model still finds in
        # the tokens, so a TokLIP short of its teacher can be read as the tokens' loss or the student's.
        m["teacher_recon_t2i_r1"] = pooled_recall(txt, b.embed_teacher(_renormalised(b.decode(rep_ids), b)))
        if data_v2 and v1:
            m["v1pool_teacher_t2i_r1"] = pooled_recall(txt[v1], tea[v1])
    # Where retrieval works and where it does not: R@1 within each source's own held-out concepts (a pool per
    # source, so a small source is not judged against a large one). Diagnostic, not a target.
    m["t2i_r1_by_source"] = by_source(reps, txt, tok_img, tea)

    if data_v2:
        held = one_per_concept(load_pairs(data_v2, "heldout_style"), rep_only=False)[:limit]
        if held:
            hx = _pixels([p.file for p in held], b)
            htxt = b.embed_text([p.captions[0] for p in held])
            hids = b.tokenize(hx)
            m["heldout_style"] = ", ".join(sorted({p.source for p in held}))
            m["heldout_style_n_concepts"] = len(held)
            m["heldout_style_t2i_r1"] = pooled_recall(htxt, b.embed_ids(hids))
            if tea is not None:
                m["teacher_heldout_style_t2i_r1"] = pooled_recall(htxt, b.embed_teacher(hx))
                m["teacher_recon_heldout_style_t2i_r1"] = pooled_recall(
                    htxt, b.embed_teacher(_renormalised(b.decode(hids), b)))

    training = b.manifest.get("training") or {}
    m["train_minutes"] = training.get("train_minutes")
    m["eval_seconds"] = round(time.time() - t0, 1)
    return m


# key -> allowed absolute difference (0.1 dB for PSNR, 1 point for fractions, 1% for perplexity).
TOLERANCES = {"psnr_db": 0.1, "thumb32_psnr_db": 0.1, "ssim": 0.01, "codebook_usage": 0.01, "toklip_t2i_r1": 0.01,
              "toklip_i2t_r1": 0.01, "teacher_t2i_r1": 0.01, "teacher_i2t_r1": 0.01, "toklip_t2i_r5": 0.01,
              "toklip_i2t_r5": 0.01, "heldout_style_t2i_r1": 0.01, "participation_ratio": 0.5,
              "matched_prob_median": 0.01, "unmatched_prob_median": 0.01, "teacher_recon_t2i_r1": 0.01,
              "teacher_recon_heldout_style_t2i_r1": 0.01}

def compare_metrics(saved: dict[str, Any], now: dict[str, Any]) -> list[str]:
    problems = []
    for k, tol in TOLERANCES.items():
        if k in saved and saved[k] is not None:
            if now.get(k) is None or abs(now[k] - saved[k]) > tol:
                problems.append(f"{k}: saved {saved[k]} vs now {now.get(k)} (tolerance {tol})")
    if "perplexity" in saved and abs(now["perplexity"] - saved["perplexity"]) > 0.01 * saved["perplexity"]:
        problems.append(f"perplexity: saved {saved['perplexity']} vs now {now['perplexity']}")
    for k in ("psnr_n_images", "retrieval_n_concepts", "heldout_style_n_concepts"):
        if saved.get(k) != now.get(k):
            problems.append(f"{k}: saved {saved.get(k)} vs now {now.get(k)} (the dataset differs)")
    return problems


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bundle", type=Path, required=True, help="model folder with manifest.json")
    ap.add_argument("--data", type=Path, default=Path("models/data"), help="output of toklip-build-data")
    ap.add_argument("--data-v2", type=Path, default=None, help="output of toklip-build-data --profile v2")
    ap.add_argument("--limit", type=int, default=None, help="evaluate on at most N items per set (smoke)")
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--no-write", action="store_true", help="print only; leave the bundle untouched")
    ap.add_argument("--check", action="store_true",
                    help="compare with the bundle's metrics.json (PSNR within 0.1 dB, fractions within 1 point) and exit 1 on a mismatch; writes nothing")
    a = ap.parse_args(argv)
    m = evaluate(a.bundle, a.data, a.limit, a.threads, a.data_v2)
    print(json.dumps(m, indent=1))
    print("targets:", json.dumps(target_status(m)))
    if a.check:
        problems = compare_metrics(json.loads((a.bundle / "metrics.json").read_text()), m)
        for p in problems:
            print(f"MISMATCH {p}")
        if problems:
            raise SystemExit(1)
        print(f"metrics of {a.bundle} reproduce within tolerance")
        return
    if not a.no_write:
        (a.bundle / "metrics.json").write_text(json.dumps(m, indent=1) + "\n")
        write_model_card(a.bundle, a.data, m, data_v2=a.data_v2)
        refresh_manifest(a.bundle)
        print(f"wrote {a.bundle / 'metrics.json'}")


if __name__ == "__main__":
    main()
