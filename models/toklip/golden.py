"""Golden fixtures for the app's tests, computed by the Python side from a model folder.

    toklip-golden --bundle public/models/toklip-tiny --data models/data \
        --e2e e2e/fixtures/toklip-tiny --units src/lib/__golden__

Writes fixture images (opaque PNGs without colour profiles, so browser decoding is exact) with
their expected ids, reconstruction PSNR, embeddings and prompt cosines, plus preprocessing and
text-tokenisation vectors for the Vitest units.
"""

from __future__ import annotations

import argparse
import base64
import json
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from .dataset import load_pairs, read_jsonl
from .metrics import psnr, ssim
from .preprocess import canonicalize, image_section, preprocess_image, to_rgb01
from .runtime import Bundle

TEXT_CASES = [
    "a photo of a cat",
    "An Emoji of a CAT face!",
    "  the   sun,  the moon & the stars...  ",
    "café crème — déjà vu",
    "a red apple; a green pear: 2 fruits?",
    "",
    "emoji 🐱 with symbols ™ © and tabs\tand\nnewlines",
    "a very long caption that keeps going well past the sixteen token context length of the tiny model text tower",
    "ümlaut ß İstanbul",
]


def _b64(a: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(a).tobytes()).decode("ascii")


def preprocess_cases(size: int, mean: list[float], std: list[float]) -> list[dict[str, Any]]:
    """Noise pictures whose shapes reach each step of ``official_toklip`` (down- and upscaling, no resize, odd crop
    margins, Pillow 13's vertical-first pass, premultiplied alpha), with the tensor this toolkit makes of them: the
    app's ``preprocess`` must equal it bit for bit (src/lib/preprocess.test.ts)."""
    rng = np.random.default_rng(0)
    spec = image_section(size, mean, std)
    cases = []
    for name, (w, h, alpha) in {
        "noise_wide_downscale": (300, 200, False),
        "noise_tall_alpha": (61, 97, True),
        "tiny_upscale_alpha": (7, 5, True),
        "exact_size": (size, size, False),
        # No resample at all: the colour under transparent pixels reaches the model unchanged.
        "exact_size_alpha": (size, size, True),
        # A margin of 3 crops from 2 (Python's round, half to even), where floor would give 1.
        "margin3_wide": (size + 3, size, False),
        "margin3_tall_alpha": (size, size + 3, True),
        "resized_margin3_wide": (2 * size + 6, 2 * size, False),
        # Tall enough that Pillow 13 runs the vertical pass first (resize_pass_order "pillow13").
        "tall_vertical_first": (size + 71, 2 * size + 145, False),
    }.items():
        rgba = rng.integers(0, 256, (h, w, 4), dtype=np.uint8)
        mode = "RGBA" if alpha else "RGB"
        if not alpha:
            rgba[..., 3] = 255
        img = Image.fromarray(rgba if alpha else np.ascontiguousarray(rgba[..., :3]), mode)
        out = preprocess_image(img, spec)
        cases.append({"name": name, "width": w, "height": h, "rgba_b64": _b64(rgba), "mode": mode, "size": size,
                      "mean": mean, "std": std, "preprocessing": spec["preprocessing"],
                      "resize_pass_order": spec["resize_pass_order"], "output_b64": _b64(out.astype("<f4"))})
    return cases


def _fixture_images(data: Path, n_pairs: int) -> list[tuple[str, Image.Image]]:
    out: list[tuple[str, Image.Image]] = []
    photos = [r for r in read_jsonl(data / "photos.jsonl") if r["split"] == "val"]
    if photos:
        with Image.open(data / photos[0]["file"]) as im:
            out.append(("photo-" + photos[0]["id"], im.convert("RGB")))
    reps = [p for p in load_pairs(data, "val") if p.eval_rep]
    step = max(1, len(reps) // max(n_pairs, 1))
    for p in reps[::step][:n_pairs]:
        with Image.open(p.file) as im:
            rgba = im.convert("RGBA")
            bg = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
            out.append((p.id, Image.alpha_composite(bg, rgba).convert("RGB")))
    return out


def write_golden(bundle: Path, data: Path, e2e_dir: Path, units_dir: Path, n_pairs: int = 3) -> None:
    b = Bundle(bundle)
    prompts = list(b.manifest["default_prompts"])
    e2e_dir.mkdir(parents=True, exist_ok=True)
    images = []
    txt = b.embed_text(prompts)
    embs = []
    for name, im in _fixture_images(data, n_pairs):
        fname = "".join(c if c.isalnum() or c in "-_" else "_" for c in name) + ".png"
        im.save(e2e_dir / fname, optimize=False)
        x = preprocess_image(im, b.manifest["image"])[None]  # the manifest's preprocessing mode
        ids = b.tokenize(x)
        rec = b.decode(ids)[0]
        ref = to_rgb01(x[0], b.mean, b.std)
        emb = b.embed_ids(ids)[0]
        cos = txt @ emb
        entry: dict[str, Any] = {
            "file": fname,
            "ids": ids[0].tolist(),
            "recon_psnr_db": psnr(rec, ref),
            "recon_ssim": ssim(rec, ref),
            "embedding": emb.tolist(),
            "cosines": cos.tolist(),
            "probabilities": b.probability(cos).tolist(),
            "ranking": np.argsort(-cos, kind="stable").tolist(),
        }
        if b.manifest.get("teacher"):
            tea = b.embed_teacher(x)[0]
            entry["teacher_cosines"] = (txt @ tea).tolist()
        images.append(entry)
        embs.append(emb)
    e = np.stack(embs)
    golden = {"model_id": b.manifest["id"], "prompts": prompts, "images": images, "image_image_cos": (e @ e.T).tolist()}
    (e2e_dir / "golden.json").write_text(json.dumps(golden, indent=1) + "\n")

    units_dir.mkdir(parents=True, exist_ok=True)
    pre = {"cases": preprocess_cases(b.size, list(b.mean), list(b.std))}
    (units_dir / "preprocess.json").write_text(json.dumps(pre) + "\n")
    t = b.manifest["text"]
    cases = [{"text": s, "canonical": canonicalize(s), "ids": b.textin.ids(s)} for s in TEXT_CASES + prompts]
    text = {"tokenizer": str(bundle / "tokenizer.json"), "context_length": t["context_length"], "pad_id": t["pad_id"], "cases": cases}
    (units_dir / "text.json").write_text(json.dumps(text, indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {len(images)} fixtures to {e2e_dir} and unit vectors to {units_dir}")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bundle", type=Path, required=True)
    ap.add_argument("--data", type=Path, default=Path("models/data"))
    ap.add_argument("--e2e", type=Path, required=True, help="folder for fixture images + golden.json")
    ap.add_argument("--units", type=Path, required=True, help="folder for preprocess.json and text.json")
    ap.add_argument("--pairs", type=int, default=3, help="held-out caption images to include besides one photo")
    a = ap.parse_args(argv)
    write_golden(a.bundle, a.data, a.e2e, a.units, a.pairs)


if __name__ == "__main__":
    main()
