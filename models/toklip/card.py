"""MODEL_CARD.md for a trained model folder: data, licences, package versions, training, metrics."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4f}"
    return "n/a" if v is None else str(v)


def write_model_card(bundle: Path, data: Path, metrics: dict[str, Any]) -> Path:
    man = json.loads((bundle / "manifest.json").read_text(encoding="utf-8"))
    src_path = data / "sources.json"
    sources = json.loads(src_path.read_text()) if src_path.exists() else {}
    training = man.get("training") or {}
    cfg = man.get("config", {})
    lines = [
        f"# {man['display_name']}",
        "",
        man.get("description", ""),
        "",
        "## Architecture",
        "",
        f"- Input {man['image']['size']}×{man['image']['size']} px, mean/std {man['image']['mean']}/{man['image']['std']}.",
        f"- VQ tokenizer (LlamaGen VQ family): ch {cfg.get('vq', {}).get('ch')}, ch_mult {cfg.get('vq', {}).get('ch_mult')},"
        f" downsample {man['downsample']} → {man['grid']['h']}×{man['grid']['w']} tokens,"
        f" l2-normalised codebook {man['codebook']['size']}×{man['codebook']['dim']}.",
        f"- Semantic encoder: codebook vectors → MLP ({man['codebook']['dim']}→4d→d, exact GELU) → causal ViT"
        f" (d={cfg.get('vision', {}).get('width')}, {cfg.get('vision', {}).get('depth')} blocks) → MAP pooling →"
        f" {man['embed_dim']}-d embedding.",
        f"- Text tower: SigLIP-style, {cfg.get('text', {}).get('layers')} layers, context {man['text']['context_length']},"
        " shared with the pixel teacher; logit scale"
        f" {man['logit_scale']:.3f}, bias {man['logit_bias']:.3f}.",
        f"- Pixel teacher CLIP (distillation target): ViT patch {cfg.get('teacher', {}).get('patch_size') if cfg.get('teacher') else 'n/a'}.",
        "",
        "## Training",
        "",
        f"- Recipe: `toklip-train` (seed {training.get('seed')}); stages and minutes measured on the training machine: "
        f"{json.dumps(training.get('stage_minutes'))}; total {_fmt(training.get('train_minutes'))} min.",
        f"- Schedule: `{json.dumps(training.get('schedule'))}`",
        f"- Timing note: {training.get('timing_note') or 'as measured by toklip-train'}",
        "",
        "## Targets (from the project's issue) and where this model stands",
        "",
        f"- PSNR ≥ 24 dB at {man['image']['size']} px: {_fmt(metrics.get('psnr_db'))} dB "
        f"({'met' if (metrics.get('psnr_db') or 0) >= 24 else 'not met'}).",
        f"- ≥ 60 % of codes used: {_fmt(metrics.get('codebook_usage'))} "
        f"({'met' if (metrics.get('codebook_usage') or 0) >= 0.6 else 'not met'}).",
        f"- TokLIP R@1 ≥ 90 % of the teacher's: ratio {_fmt(metrics.get('toklip_over_teacher_r1'))} "
        f"({'met' if (metrics.get('toklip_over_teacher_r1') or 0) >= 0.9 else 'not met'}); chance R@1 over "
        f"{metrics.get('retrieval_n_concepts')} concepts is {1 / max(1, metrics.get('retrieval_n_concepts') or 1):.4f}.",
        f"- Full recipe under 90 minutes on the 2-core machine: {_fmt(training.get('train_minutes'))} min "
        f"({'met' if (training.get('train_minutes') or 1e9) < 90 else 'not met as measured; see the timing note'}).",
        "",
        "## Evaluation (held-out photos and concepts; `toklip-eval`)",
        "",
        "| metric | value |",
        "| --- | --- |",
    ]
    lines += [f"| {k} | {_fmt(v)} |" for k, v in metrics.items()]
    lines += ["", "## Data sources (Debian packages)", "", f"Debian version: {sources.get('debian_version', 'unknown')}", ""]
    srcs = sources.get("sources") or []
    lines += ["| source | package | version | used as | items | licences |", "| --- | --- | --- | --- | --- | --- |"]
    for s in srcs:
        lic = ", ".join(s.get("license") or []) if isinstance(s.get("license"), list) else s.get("license")
        lines.append(f"| {s.get('name')} | {s.get('package')} | {s.get('version')} | {s.get('output')} | {s.get('items')} | {lic} |")
    skipped = sources.get("skipped") or []
    lines += ["", "Skipped packages: " + (", ".join(json.dumps(x) for x in skipped) if skipped else "none")]
    lines += ["", "## Attribution", ""]
    for s in srcs:
        lines.append(f"- **{s.get('name')}** ({s.get('package')} {s.get('version')}): {s.get('attribution')}")
        for f in s.get("files") or []:
            lines.append(f"  - {f.get('copyright')} — {f.get('license')} ({f.get('count')} files used)")
        for w in s.get("wallpapers") or []:
            if w.get("credit"):
                lines.append(f"  - {w['id']}: {w['credit']}")
    lines += ["", "## Licence", "", "Code: Apache-2.0. Weights: trained by this project from the data above; the data's own"
              " licences and attribution requirements (listed above) apply to derived uses.", ""]
    path = bundle / "MODEL_CARD.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path
