"""Export a TokLIP checkpoint to a browser model folder (ONNX graphs + manifest), per docs/CONTRACT.md.

    toklip-export --checkpoint models/runs/tiny/final.pt --tokenizer models/runs/tiny/tokenizer.json \
        --data models/data --out public/models/toklip-tiny
    toklip-export --random-init --tokenizer tok.json --out /tmp/toklip-random   # untrained, same contract

Official TokLIP weights (docs/OFFICIAL.md):

    toklip-export --from-hub TencentARC/TokLIP --variant S_256 --dtype fp16 --out public/models/toklip-s-256
    toklip-export --checkpoint TokLIP_S_256.pt --vq vq_ds16_t2i.pt --tokenizer siglip2-tokenizer/ \
        --variant S_256 --dtype fp32 fp16 int8 q4 --out public/models
      (one dtype: --out is the model folder; several: one folder per dtype, <out>/toklip-s-256-<dtype>)
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import sys
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .manifest import build_manifest, write_manifest
from .preprocess import OFFICIAL
from .model import PixelCLIP, TokLIP, TokLIPConfig, tiny_config
from .onnx_graphs import export_all
from .quant4 import Q4_MAX_KEPT_FRACTION

DEFAULT_PROMPTS = [
    "an emoji of a cat face",
    "a picture of a dog",
    "a red apple",
    "a car",
    "a tree",
    "a house",
    "the sun",
    "a flower",
]


def load_checkpoint(path: Path) -> tuple[TokLIP, PixelCLIP | None, dict[str, Any]]:
    ck = torch.load(path, map_location="cpu", weights_only=False)
    cfg = TokLIPConfig.from_dict(ck["config"])
    model = TokLIP(cfg)
    model.load_state_dict(ck["toklip"], strict=True)
    teacher = None
    if ck.get("teacher") is not None and cfg.teacher is not None:
        teacher = PixelCLIP(cfg)
        teacher.load_state_dict(ck["teacher"], strict=True)
        teacher.eval()
    return model.eval(), teacher, ck


def write_codebook(model: TokLIP, path: Path) -> None:
    with torch.no_grad():
        cb = model.trunk.vq.quantize.codebook().numpy().astype("<f4")
    path.write_bytes(np.ascontiguousarray(cb).tobytes())


def license_info(*folders: Path | None) -> dict[str, Any]:
    info: dict[str, Any] = {"code": "Apache-2.0", "weights": "Apache-2.0 (trained by this project's scripts)", "data_sources": []}
    for data in folders:
        src = data / "sources.json" if data else None
        if not (src and src.exists()):
            continue
        s = json.loads(src.read_text())
        info["debian_version"] = s.get("debian_version")
        for v in s.get("sources") or []:
            info["data_sources"].append({"source": v.get("name"), "package": v.get("package"), "version": v.get("version"),
                                         "registry": v.get("registry", "debian"), "license": v.get("license"),
                                         "attribution": v.get("attribution")})
    return info


def concepts_from_data(data: Path | None, splits: tuple[str, ...] = ("val",)) -> list[dict[str, str]] | None:
    """The dataset's concepts for the manifest's optional ``concepts`` list (the app's zero-shot label set): name,
    first caption as the prompt, split. Only the held-out (``val``) ones by default: zero-shot in the strict sense
    (no picture of them was trained on), and 230 entries keep the manifest small where all 2135 would not."""
    path = data / "pairs.jsonl" if data else None
    if path is None or not path.exists():
        return None
    seen: dict[str, dict[str, str]] = {}
    from_rep: set[str] = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        name, caps, split = row.get("concept"), row.get("captions") or [], row.get("split")
        if not isinstance(name, str) or not name.strip() or split not in splits:
            continue
        # the concept's representative item (eval_rep) gives the prompt, as in toklip.evaluate's retrieval queries
        rep = bool(row.get("eval_rep"))
        if name in seen and (name in from_rep or not rep):
            continue
        prompt = next((c for c in caps if isinstance(c, str) and c.strip()), name)
        seen[name] = {"name": name, "prompt": prompt, "split": split}
        if rep:
            from_rep.add(name)
    return list(seen.values()) or None


def export_bundle(model: TokLIP, teacher: PixelCLIP | None, tokenizer: Path, out: Path, *, display_name: str,
                  description: str, data: Path | None, training: dict[str, Any] | None,
                  data_v2: Path | None = None) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    export_all(model, teacher, out)
    shutil.copyfile(tokenizer, out / "tokenizer.json")
    write_codebook(model, out / "codebook.bin")
    if model.cfg.extra.get("preprocessing") != OFFICIAL:
        # Not refused: the app reads nothing else, so re-exporting is the way to keep using such a checkpoint; its
        # numbers move a little, and toklip-eval on the new folder says how much.
        print(f"note: the checkpoint's config does not name {OFFICIAL} (a TokLIP-Tiny v1 checkpoint was trained on "
              f"the since-removed legacy preprocessing); the manifest names {OFFICIAL}, the only mode the app reads",
              file=sys.stderr)
    manifest = build_manifest(
        model.cfg, out, display_name=display_name, description=description,
        logit_scale=float(math.exp(model.logit_scale.item())), logit_bias=float(model.logit_bias.item()),
        default_prompts=DEFAULT_PROMPTS, license_info=license_info(data, data_v2), training=training,
    )
    concepts = concepts_from_data(data)
    if concepts:
        manifest["concepts"] = concepts
    return write_manifest(out, manifest)


def main_official(a: argparse.Namespace, ap: argparse.ArgumentParser) -> None:
    from . import official
    from .export_official import DTYPES, export_official

    variant = a.variant
    if variant is None and a.checkpoint is not None:
        variant = next((k for k, v in official.VARIANTS.items() if a.checkpoint.name == v.checkpoint_file), None)
    if variant not in official.VARIANTS:
        ap.error(f"give --variant ({' or '.join(official.VARIANTS)})")
    if a.from_hub:
        files = official.fetch_from_hub(variant, repo=a.from_hub, cache_dir=a.cache_dir, revision=a.revision)
        ckpt = a.checkpoint or files.checkpoint
        vq = a.vq or files.vq
        tok = a.tokenizer or files.tokenizer
    else:
        ckpt, vq, tok = a.checkpoint, a.vq, a.tokenizer
        if ckpt is None or tok is None:
            ap.error("give --checkpoint and --tokenizer (and --vq unless the checkpoint holds the VQ), or --from-hub")
    dtypes = a.dtype or ["fp16"]
    for d in dtypes:
        if d not in DTYPES:
            ap.error(f"--dtype {d}: choose from {', '.join(DTYPES)}")
    cfg = official.official_config(variant)
    print(f"[load] {ckpt} + {vq}")
    model = official.load_official(cfg, ckpt, vq, allow_pickle=a.allow_pickle)
    prepared = official.prepare_tokenizer(tok, cfg.text.context_length, add_bos=a.add_bos, add_eos=a.add_eos,
                                          padding_side=a.padding_side)
    r = prepared.rule
    print(f"[tokenizer] {prepared.source}: bos={r.bos_id} eos={r.eos_id} padding={r.padding_side} pad={r.pad_id}")
    v = official.VARIANTS[variant]
    model_id = a.out.name if len(dtypes) == 1 else v.model_id
    written = export_official(model, prepared, a.out, dtypes, model_id=model_id,
                              display_name=a.display_name or v.display_name,
                              description=f"Official {v.display_name} (TencentARC/TokLIP, {v.checkpoint_file}) with "
                                          f"LlamaGen VQ-16, exported by toklip-export.",
                              consume=True, verify=a.verify, shard_bytes=a.shard_mib * 2**20,
                              calibration_images=a.calibration_images or (), fp16_margin=a.fp16_margin,
                              q4_search_seconds=a.q4_search_seconds, q4_max_fp32_fraction=a.q4_max_fp32)
    for d, p in written.items():
        print(f"wrote {p} ({d})")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint", type=Path, help="final.pt written by toklip-train, or an official TokLIP_*.pt")
    ap.add_argument("--random-init", action="store_true", help="export an untrained TokLIP-Tiny (development)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--tokenizer", type=Path, help="tokenizer.json (default: beside the checkpoint)")
    ap.add_argument("--data", type=Path, help="dataset folder, for sources.json (licences, package versions)")
    ap.add_argument("--data-v2", type=Path, help="v2 dataset folder (toklip-build-data --profile v2), likewise")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--display-name", default=None)
    og = ap.add_argument_group("official TokLIP weights (docs/OFFICIAL.md)")
    og.add_argument("--from-hub", metavar="REPO", help="download from the Hugging Face Hub, e.g. TencentARC/TokLIP")
    og.add_argument("--variant", choices=["S_256", "L_384"], help="which official model")
    og.add_argument("--vq", type=Path, help="LlamaGen vq_ds16_t2i.pt (keys ema/model/state_dict)")
    og.add_argument("--dtype", nargs="+", help="fp32 fp16 int8 q4 q4f16 (several at once; default fp16)")
    og.add_argument("--verify", action=argparse.BooleanOptionalAction, default=True,
                    help="run every written folder with onnxruntime against the fp32 PyTorch model (default on)")
    og.add_argument("--calibration-images", nargs="+", type=Path, metavar="IMG",
                    help="fp16/q4f16: more images for the activation-range check (beside the built-in ones)")
    og.add_argument("--fp16-margin", type=float, default=4.0,
                    help="fp16/q4f16: keep a node fp32 when max |activation| >= 65504 / margin (default 4)")
    og.add_argument("--q4-search-seconds", type=float, default=300.0,
                    help="q4/q4f16: time for choosing which MatMuls stay fp32, per graph (default 300 s)")
    og.add_argument("--q4-max-fp32", type=float, default=Q4_MAX_KEPT_FRACTION,
                    help=f"q4/q4f16: largest share of MatMul weights kept fp32 (default {Q4_MAX_KEPT_FRACTION})")
    og.add_argument("--shard-mib", type=int, default=512, help="max size of one external-data file (MiB)")
    og.add_argument("--add-bos", action=argparse.BooleanOptionalAction, default=None,
                    help="override tokenizer_config.json's add_bos_token")
    og.add_argument("--add-eos", action=argparse.BooleanOptionalAction, default=None,
                    help="override tokenizer_config.json's add_eos_token")
    og.add_argument("--padding-side", choices=["left", "right"], help="override tokenizer_config.json's padding_side")
    og.add_argument("--cache-dir", type=Path, help="Hugging Face cache folder")
    og.add_argument("--revision", help="revision of the --from-hub repo")
    og.add_argument("--allow-pickle", action="store_true", help="allow torch.load(weights_only=False) (trusted files only)")
    a = ap.parse_args(argv)
    if a.from_hub or a.variant or a.vq:
        if a.random_init:
            ap.error("--random-init is for TokLIP-Tiny only")
        main_official(a, ap)
        return
    if a.random_init:
        torch.manual_seed(a.seed)
        cfg = tiny_config()
        model, teacher, training = TokLIP(cfg).eval(), PixelCLIP(cfg).eval(), {"random_init": True, "seed": a.seed}
        desc = "Randomly initialised TokLIP-Tiny: the real graphs and contract, untrained weights."
    elif a.checkpoint:
        model, teacher, ck = load_checkpoint(a.checkpoint)
        training = {k: ck.get(k) for k in ("train_minutes", "stage_minutes", "timing_note", "seed", "schedule", "smoke",
                                           "recipe", "timing", "data", "calibration") if k in ck or k in ("train_minutes", "seed")}
        desc = "TokLIP-Tiny trained offline by models/toklip on images and captions from Debian packages."
    else:
        ap.error("give --checkpoint or --random-init")
    tok = a.tokenizer or (a.checkpoint.parent / "tokenizer.json" if a.checkpoint else None)
    if tok is None or not tok.exists():
        ap.error(f"tokenizer not found: {tok}")
    name = a.display_name or f"TokLIP-Tiny ({model.cfg.vision.image_size} px)"
    path = export_bundle(model, teacher, tok, a.out, display_name=name, description=desc, data=a.data, training=training,
                         data_v2=a.data_v2)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
