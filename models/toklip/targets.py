"""Issue 11's targets for the bundled model, and where a metrics dict stands against them (the card
shows this; `toklip-eval --check` guards reproducibility, not targets)."""

from __future__ import annotations

from typing import Any

# key -> (comparison, bound, meaning)
TARGETS: dict[str, tuple[str, float, str]] = {
    "psnr_db": (">=", 24.5, "VQ PSNR on held-out colour photos at model size (dB)"),
    "toklip_t2i_r1": (">=", 0.25, "text→image R@1, held-out concepts, mean of 230-concept pools"),
    "heldout_style_t2i_r1": (">=", 0.15, "text→image R@1 on the held-out emoji style, mean of 230-concept pools"),
    "participation_ratio": (">=", 24.0, "(Σλ)²/Σλ² of held-out TokLIP image embeddings"),
    "matched_prob_median": (">=", 0.5, "SigLIP probability, held-out matched pairs (median)"),
    "unmatched_prob_median": ("<=", 0.01, "SigLIP probability, held-out unmatched pairs (median)"),
    "codebook_usage": (">=", 0.6, "share of codes used on held-out photos"),
    "train_minutes": ("<=", 120.0, "whole training recipe, wall minutes"),
}


def target_status(m: dict[str, Any]) -> dict[str, bool | None]:
    """key -> met / not met / None (not measured)."""
    out: dict[str, bool | None] = {}
    for k, (op, bound, _) in TARGETS.items():
        v = m.get(k)
        out[k] = None if v is None else bool(v >= bound if op == ">=" else v <= bound)
    if m.get("psnr_db") is not None and m.get("thumb32_psnr_db") is not None:
        out["psnr_beats_thumb32"] = bool(m["psnr_db"] > m["thumb32_psnr_db"])
    if m.get("toklip_t2i_r1") is not None and m.get("teacher_t2i_r1"):
        out["toklip_t2i_r1_ge_0.9_teacher"] = bool(m["toklip_t2i_r1"] >= 0.9 * m["teacher_t2i_r1"])
    return out
