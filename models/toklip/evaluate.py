"""Evaluate a model folder on the held-out split and write metrics.json (+ MODEL_CARD.md) beside it.

    toklip-eval --bundle public/models/toklip-tiny --data models/data

Runs the exported ONNX graphs with onnxruntime (what the app runs), not the PyTorch checkpoint, so
the numbers describe the files that ship.
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
from .dataset import load_pairs, read_jsonl
from .manifest import refresh_manifest
from .metrics import code_stats, psnr, recall_at, ssim
from .preprocess import preprocess_rgba, to_rgb01
from .runtime import Bundle


def _pixels(files: list[Path], b: Bundle) -> np.ndarray:
    out = []
    for f in files:
        with Image.open(f) as im:
            out.append(preprocess_rgba(np.asarray(im.convert("RGBA")), b.size, b.mean, b.std))
    return np.stack(out)


def evaluate(bundle: Path, data: Path, limit: int | None = None, threads: int = 0) -> dict[str, Any]:
    t0 = time.time()
    b = Bundle(bundle, threads=threads)
    photos = [data / r["file"] for r in read_jsonl(data / "photos.jsonl") if r["split"] == "val"][:limit]
    x = _pixels(photos, b)
    ids = b.tokenize(x)
    rec = b.decode(ids)
    ref = np.stack([to_rgb01(p, b.mean, b.std) for p in x])
    psnrs = [psnr(r, o) for r, o in zip(rec, ref)]
    ssims = [ssim(r, o) for r, o in zip(rec, ref)]

    reps = [p for p in load_pairs(data, "val") if p.eval_rep][:limit]
    px = _pixels([p.file for p in reps], b)
    pids = b.tokenize(px)
    usage, perplexity = code_stats(np.concatenate([ids.ravel(), pids.ravel()]), b.manifest["codebook"]["size"])
    texts = [p.captions[0] for p in reps]
    txt = b.embed_text(texts)
    tok_img = b.embed_ids(pids)
    m: dict[str, Any] = {
        "psnr_db": float(np.mean(psnrs)),
        "ssim": float(np.mean(ssims)),
        "psnr_n_images": len(psnrs),
        "codebook_usage": usage,
        "perplexity": perplexity,
        "codebook_n_tokens": int(ids.size + pids.size),
        "retrieval_n_concepts": len(reps),
        "retrieval_query": "first caption of each held-out concept's representative item",
    }
    sim = txt @ tok_img.T
    m.update(toklip_t2i_r1=recall_at(sim, 1), toklip_t2i_r5=recall_at(sim, 5),
             toklip_i2t_r1=recall_at(sim.T, 1), toklip_i2t_r5=recall_at(sim.T, 5))
    if b.manifest.get("teacher"):
        tea = b.embed_teacher(px)
        tsim = txt @ tea.T
        m.update(teacher_t2i_r1=recall_at(tsim, 1), teacher_t2i_r5=recall_at(tsim, 5),
                 teacher_i2t_r1=recall_at(tsim.T, 1), teacher_i2t_r5=recall_at(tsim.T, 5))
        teacher_r1 = (m["teacher_t2i_r1"] + m["teacher_i2t_r1"]) / 2
        m["toklip_over_teacher_r1"] = ((m["toklip_t2i_r1"] + m["toklip_i2t_r1"]) / 2) / teacher_r1 if teacher_r1 else None
        m["toklip_teacher_image_cos"] = float(np.mean(np.sum(tok_img * tea, axis=1)))
    training = b.manifest.get("training") or {}
    m["train_minutes"] = training.get("train_minutes")
    m["eval_seconds"] = round(time.time() - t0, 1)
    return m


# key -> allowed absolute difference (0.1 dB for PSNR, 1 point for fractions, 1% for perplexity).
TOLERANCES = {"psnr_db": 0.1, "ssim": 0.01, "codebook_usage": 0.01, "toklip_t2i_r1": 0.01, "toklip_i2t_r1": 0.01,
              "teacher_t2i_r1": 0.01, "teacher_i2t_r1": 0.01, "toklip_t2i_r5": 0.01, "toklip_i2t_r5": 0.01}


def compare_metrics(saved: dict[str, Any], now: dict[str, Any]) -> list[str]:
    problems = []
    for k, tol in TOLERANCES.items():
        if k in saved and saved[k] is not None:
            if now.get(k) is None or abs(now[k] - saved[k]) > tol:
                problems.append(f"{k}: saved {saved[k]} vs now {now.get(k)} (tolerance {tol})")
    if "perplexity" in saved and abs(now["perplexity"] - saved["perplexity"]) > 0.01 * saved["perplexity"]:
        problems.append(f"perplexity: saved {saved['perplexity']} vs now {now['perplexity']}")
    for k in ("psnr_n_images", "retrieval_n_concepts"):
        if saved.get(k) != now.get(k):
            problems.append(f"{k}: saved {saved.get(k)} vs now {now.get(k)} (the dataset differs)")
    return problems


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bundle", type=Path, required=True, help="model folder with manifest.json")
    ap.add_argument("--data", type=Path, default=Path("models/data"), help="output of toklip-build-data")
    ap.add_argument("--limit", type=int, default=None, help="evaluate on at most N items per set (smoke)")
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--no-write", action="store_true", help="print only; leave the bundle untouched")
    ap.add_argument("--check", action="store_true",
                    help="compare with the bundle's metrics.json (PSNR within 0.1 dB, fractions within 1 point) and exit 1 on a mismatch; writes nothing")
    a = ap.parse_args(argv)
    m = evaluate(a.bundle, a.data, a.limit, a.threads)
    print(json.dumps(m, indent=1))
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
        write_model_card(a.bundle, a.data, m)
        refresh_manifest(a.bundle)
        print(f"wrote {a.bundle / 'metrics.json'}")


if __name__ == "__main__":
    main()
