"""MODEL_CARD.md for a trained model folder: data, licences, package versions, training, metrics."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .targets import TARGETS, target_status


def _prior_words(cal: dict[str, Any]) -> str:
    """How the calibrated bias reads: even odds, or the posterior at a stated prior share of matching prompts."""
    prior = cal.get("prior")
    if prior is None or prior == 0.5:
        return "p = 0.5 at even odds"
    return f"p is the chance of a match when 1 prompt in {1 / prior:.3g} matches"


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4f}"
    if isinstance(v, dict):  # e.g. per-source rows: "noto: n 120, toklip 0.0500; …"
        return "; ".join(f"{k}: {_fmt(x) if not isinstance(x, dict) else ', '.join(f'{a} {_fmt(b)}' for a, b in x.items())}"
                         for k, x in v.items())
    return "n/a" if v is None else str(v)


HISTORY = Path(__file__).parent / "history"


def _sources(folders: list[Path]) -> dict[str, Any]:
    """sources.json of every dataset folder merged: sources and skips concatenated, counts per profile."""
    merged: dict[str, Any] = {"sources": [], "skipped": [], "counts": {}, "debian_version": None}
    for d in folders:
        p = d / "sources.json"
        if not p.exists():
            continue
        s = json.loads(p.read_text(encoding="utf-8"))
        merged["debian_version"] = merged["debian_version"] or s.get("debian_version")
        merged["sources"] += s.get("sources") or []
        merged["skipped"] += s.get("skipped") or []
        merged["counts"][s.get("profile", "v1")] = s.get("counts")
        if s.get("options", {}).get("heldout_style"):
            merged["heldout_style"] = s["options"]["heldout_style"]
    return merged


def _target_lines(metrics: dict[str, Any]) -> list[str]:
    status = target_status(metrics)
    lines = ["| key | meaning | target | this model | |", "| --- | --- | --- | --- | --- |"]
    for k, (op, bound, meaning) in TARGETS.items():
        met = status.get(k)
        lines.append(f"| `{k}` | {meaning} | {op} {bound:g} | {_fmt(metrics.get(k))} | "
                     f"{'met' if met else 'not measured' if met is None else '**not met**'} |")
    for k in ("psnr_beats_thumb32", "toklip_t2i_r1_ge_0.9_teacher"):
        if k in status:
            lines.append(f"| `{k}` | derived | true | {status[k]} | {'met' if status[k] else '**not met**'} |")
    return lines


def _history_lines() -> list[str]:
    lines: list[str] = []
    for f in sorted(HISTORY.glob("*.json")) if HISTORY.is_dir() else []:
        h = json.loads(f.read_text(encoding="utf-8"))
        lines += ["", f"### {h.get('name', f.stem)}", "", h.get("note", ""), "", "| metric | value |", "| --- | --- |"]
        lines += [f"| {k} | {_fmt(v)} |" for k, v in (h.get("metrics") or {}).items()]
    return lines


def write_model_card(bundle: Path, data: Path, metrics: dict[str, Any], data_v2: Path | None = None) -> Path:
    man = json.loads((bundle / "manifest.json").read_text(encoding="utf-8"))
    sources = _sources([data] + ([data_v2] if data_v2 else []))
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
        f"- Preprocessing: `{man['image']['preprocessing']}` (docs/CONTRACT.md).",
        "",
        "## Training",
        "",
        f"- Recipe: `{training.get('recipe') or 'toklip-train'}` (seed {training.get('seed')}); wall minutes per stage: "
        f"{json.dumps(training.get('stage_minutes'))}; total {_fmt(training.get('train_minutes'))} min.",
        f"- Per stage (wall and process CPU minutes, load average at start/end): `{json.dumps(training.get('timing'))}`",
        f"- Data: `{json.dumps(training.get('data'))}`",
        f"- Schedule: `{json.dumps(training.get('schedule'))}`",
        *([f"- Probability calibration (logit bias fitted on {training['calibration'].get('n_concepts')} concepts kept"
           f" out of training, {_prior_words(training['calibration'])}): `{json.dumps(training['calibration'])}`"]
          if training.get("calibration") else []),
        f"- Timing note: {training.get('timing_note') or 'as measured by the recipe'}",
        "",
        "## Targets (issue 11) and where this model stands",
        "",
        *_target_lines({**metrics, "train_minutes": metrics.get("train_minutes") or training.get("train_minutes")}),
        "",
        "## Evaluation (held-out photos and concepts; `toklip-eval`)",
        "",
        "| metric | value |",
        "| --- | --- |",
    ]
    lines += [f"| {k} | {_fmt(v)} |" for k, v in metrics.items()]
    if "teacher_recon_t2i_r1" in metrics:
        lines += ["", "`teacher_recon_*`: the pixel teacher on the pictures the VQ decodes from the same items' token ids, "
                  "roughly what a pixel model still finds in the tokens: TokLIP below it is the student's shortfall, the "
                  "teacher's drop from pixels to it is the tokens'."]
    lines += ["", "## Data sources (Debian and npm packages)", "", f"Debian version: {sources.get('debian_version', 'unknown')}."]
    if sources.get("heldout_style"):
        lines.append(f"Held-out style (never trained on; measures cross-style transfer): **{sources['heldout_style']}**.")
    for prof, c in sources.get("counts", {}).items():
        lines.append(f"Counts ({prof}): `{json.dumps(c)}`")
    lines.append("")
    srcs = sources.get("sources") or []
    lines += ["| source | package | version | used as | items | concepts | licences |", "| --- | --- | --- | --- | --- | --- | --- |"]
    for s in srcs:
        lic = ", ".join(s.get("license") or []) if isinstance(s.get("license"), list) else s.get("license")
        lines.append(f"| {s.get('name')} | {s.get('package')} | {s.get('version')} | {s.get('output')} | {s.get('items')} "
                     f"| {s.get('concepts', '')} | {lic} |")
    skipped = sources.get("skipped") or []
    lines += ["", "Skipped packages: " + (", ".join(json.dumps(x) for x in skipped) if skipped else "none")]
    lines += ["", "## Attribution", ""]
    for s in srcs:
        att = s.get("attribution")
        lines.append(f"- **{s.get('name')}** ({s.get('package')} {s.get('version')}): "
                     f"{'; '.join(att) if isinstance(att, list) else att}")
        for f in s.get("files") or []:
            lines.append(f"  - {f.get('copyright')} — {f.get('license')} ({f.get('count')} files used)")
        for w in s.get("wallpapers") or []:
            if w.get("credit"):
                lines.append(f"  - {w['id']}: {w['credit']}")
    lines += ["", "## History (earlier bundled models, for comparison)", *_history_lines()]
    lines += ["", "## Licence", "", "Code: Apache-2.0. Weights: trained by this project from the data above; the data's own"
              " licences and attribution requirements (listed above) apply to derived uses.", ""]
    path = bundle / "MODEL_CARD.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path
