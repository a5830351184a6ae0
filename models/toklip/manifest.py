"""manifest.json for a model folder (docs/CONTRACT.md, schema version 1): write and validate."""

from __future__ import annotations

import re

import hashlib
import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .preprocess import image_mode_problems, image_section

if TYPE_CHECKING:  # only for build_manifest's annotation: validation and the runner must not need torch
    from .model import TokLIPConfig

SCHEMA = "toklip-studio/model-manifest"
SCHEMA_VERSION = 1

# role -> (file name, dtype); the order is the order the app downloads them in.
ROLES: dict[str, tuple[str, str]] = {
    "vq_encoder": ("vq_encoder.onnx", "fp32"),
    "vq_decoder": ("vq_decoder.onnx", "fp32"),
    "semantic_encoder": ("semantic_encoder.onnx", "fp32"),
    "text_encoder": ("text_encoder.onnx", "fp32"),
    "teacher_image_encoder": ("teacher_image_encoder.onnx", "fp32"),
    "tokenizer": ("tokenizer.json", "json"),
    "codebook": ("codebook.bin", "fp32"),
    "metrics": ("metrics.json", "json"),
    "model_card": ("MODEL_CARD.md", "text"),
}
REQUIRED_ROLES = ("vq_encoder", "vq_decoder", "semantic_encoder", "text_encoder", "tokenizer", "codebook")


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def file_entries(folder: Path) -> list[dict[str, Any]]:
    out = []
    for role, (name, dtype) in ROLES.items():
        p = folder / name
        if p.exists():
            out.append({"role": role, "path": name, "dtype": dtype, "bytes": p.stat().st_size, "sha256": sha256_file(p)})
    return out


def build_manifest(cfg: TokLIPConfig, folder: Path, *, display_name: str, description: str, logit_scale: float,
                   logit_bias: float, default_prompts: list[str], license_info: dict[str, Any],
                   training: dict[str, Any] | None = None) -> dict[str, Any]:
    metrics_path = folder / "metrics.json"
    files = file_entries(folder)
    weights = sum(f["bytes"] for f in files if f["path"].endswith(".onnx"))
    return {
        "schema": SCHEMA,
        "schema_version": SCHEMA_VERSION,
        "id": cfg.name,
        "display_name": display_name,
        "description": description,
        "image": image_section(cfg.vision.image_size, cfg.mean, cfg.std),
        "grid": {"h": cfg.grid, "w": cfg.grid},
        "downsample": cfg.vq.downsample,
        "codebook": {"size": cfg.vq.codebook_size, "dim": cfg.vq.codebook_embed_dim, "l2_normalised": True},
        "embed_dim": cfg.embed_dim,
        "logit_scale": logit_scale,
        "logit_bias": logit_bias,
        "text": {"context_length": cfg.text.context_length, "pad_id": cfg.text.pad_id, "clean": "canonicalize", "input": "ids"},
        "teacher": (folder / ROLES["teacher_image_encoder"][0]).exists(),
        "files": files,
        "default_prompts": default_prompts,
        # Rough peak: weights plus onnxruntime's arena and activations (measured ~2-3x for small graphs).
        "memory": {"weights_bytes": weights, "peak_estimate_bytes": int(weights * 3 + 64 * 2**20)},
        "metrics": json.loads(metrics_path.read_text()) if metrics_path.exists() else None,
        "training": training,
        "license": license_info,
        "config": cfg.to_dict(),
    }


def write_manifest(folder: Path, manifest: dict[str, Any]) -> Path:
    validate_manifest(manifest)
    path = folder / "manifest.json"
    path.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def refresh_manifest(folder: Path) -> dict[str, Any]:
    """Re-hash the files and re-read metrics.json, keeping every other field."""
    path = folder / "manifest.json"
    m = json.loads(path.read_text(encoding="utf-8"))
    m["files"] = file_entries(folder)
    mp = folder / "metrics.json"
    m["metrics"] = json.loads(mp.read_text()) if mp.exists() else None
    m["memory"]["weights_bytes"] = sum(f["bytes"] for f in m["files"] if f["path"].endswith(".onnx"))
    write_manifest(folder, m)
    return m


class ManifestError(ValueError):
    pass


def validate_manifest(m: dict[str, Any], folder: Path | None = None) -> None:
    """Raise ManifestError naming the first field that breaks the contract; with ``folder``, also
    check each file's size and sha256."""

    def need(cond: bool, msg: str) -> None:
        if not cond:
            raise ManifestError(msg)

    need(m.get("schema") == SCHEMA, f"schema must be {SCHEMA!r}, got {m.get('schema')!r}")
    need(m.get("schema_version") == SCHEMA_VERSION, f"schema_version must be {SCHEMA_VERSION}, got {m.get('schema_version')!r}")
    need(isinstance(m.get("id"), str) and m["id"] != "", "id must be a non-empty string")
    img = m.get("image", {})
    need(isinstance(img.get("size"), int) and img["size"] > 0, "image.size must be a positive integer")
    for k in ("mean", "std"):
        need(isinstance(img.get(k), list) and len(img[k]) == 3, f"image.{k} must be 3 numbers")
    need(all(s > 0 for s in img["std"]), "image.std must be positive")
    mode_problems = image_mode_problems(img)
    need(not mode_problems, "; ".join(mode_problems))
    grid, ds = m.get("grid", {}), m.get("downsample")
    need(isinstance(ds, int) and ds > 0, "downsample must be a positive integer")
    need(grid.get("h") == img["size"] // ds and grid.get("w") == img["size"] // ds,
         f"grid {grid} disagrees with image.size {img['size']} / downsample {ds}")
    cb = m.get("codebook", {})
    need(isinstance(cb.get("size"), int) and cb["size"] > 0 and isinstance(cb.get("dim"), int) and cb["dim"] > 0,
         "codebook.size and codebook.dim must be positive integers")
    need(isinstance(m.get("embed_dim"), int) and m["embed_dim"] > 0, "embed_dim must be a positive integer")
    for k in ("logit_scale", "logit_bias"):
        need(isinstance(m.get(k), (int, float)) and math.isfinite(m[k]), f"{k} must be a finite number")
    t = m.get("text", {})
    need(isinstance(t.get("context_length"), int) and t["context_length"] > 0, "text.context_length must be positive")
    need(isinstance(t.get("pad_id"), int), "text.pad_id must be an integer")
    need(t.get("clean") == "canonicalize", "text.clean must be canonicalize")
    roles = {f.get("role"): f for f in m.get("files", [])}
    for r in REQUIRED_ROLES:
        need(r in roles, f"files has no {r!r} entry")
    if m.get("teacher"):
        need("teacher_image_encoder" in roles, "teacher is true but files has no teacher_image_encoder")
    samples = m.get("samples")
    need(samples is None or isinstance(samples, list), "samples must be a list when present")
    for i, smp in enumerate(samples or []):
        f = smp.get("file") if isinstance(smp, dict) else None
        need(isinstance(f, str) and f != "" and not f.startswith("/") and ".." not in f.split("/"),
             f"samples[{i}].file must be a path inside the model folder, got {f!r}")
        for k in ("title", "credit", "license"):
            need(isinstance(smp.get(k), str), f"samples[{i}].{k} must be a string")
        need(smp.get("split") in ("val", "heldout_style"), f"samples[{i}].split must be val or heldout_style")
        need(isinstance(smp.get("sha256"), str) and len(smp["sha256"]) == 64, f"samples[{i}].sha256 must be 64 hex chars")
        if folder is not None:
            need((folder / f).is_file() and sha256_file(folder / f) == smp["sha256"], f"samples[{i}]: {f} missing or sha256 mismatch")
    variants = m.get("variants")
    need(variants is None or isinstance(variants, list), "variants must be a list when present")
    for i, v in enumerate(variants or []):
        need(isinstance(v, dict) and isinstance(v.get("dtype"), str) and v["dtype"] != "",
             f"variants[{i}].dtype must be a non-empty string")
        need(isinstance(v.get("path"), str) and re.fullmatch(r"\.\./(?!\.\.?/)[A-Za-z0-9._-]+/", v["path"]) is not None,
             f"variants[{i}].path must name a sibling folder as ../<folder>/, got {v.get('path')!r}")
    concepts = m.get("concepts")
    need(concepts is None or isinstance(concepts, list), "concepts must be a list when present")
    for i, c in enumerate(concepts or []):
        need(isinstance(c, dict), f"concepts[{i}] must be an object")
        for k in ("name", "prompt"):
            need(isinstance(c.get(k), str) and c[k].strip() != "", f"concepts[{i}].{k} must be a non-empty string")
        need(c.get("split") in ("train", "val"), f"concepts[{i}].split must be train or val")
    for f in m["files"]:
        need(isinstance(f.get("sha256"), str) and len(f["sha256"]) == 64, f"{f.get('path')}: sha256 must be 64 hex chars")
        need(isinstance(f.get("bytes"), int) and f["bytes"] >= 0, f"{f.get('path')}: bytes must be an integer")
        if folder is not None:
            p = folder / f["path"]
            need(p.exists(), f"{f['path']}: file missing")
            need(p.stat().st_size == f["bytes"], f"{f['path']}: size {p.stat().st_size} != manifest {f['bytes']}")
            need(sha256_file(p) == f["sha256"], f"{f['path']}: sha256 mismatch")
