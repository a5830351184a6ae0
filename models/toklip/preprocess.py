"""Image and text preprocessing exactly as docs/CONTRACT.md states; src/lib mirrors it in TypeScript.

One image mode (manifest ``image.preprocessing``, required): ``official_toklip``, TokLIP's inference transform
(open_clip ``image_transform``, resize_mode "shortest"): torchvision ``Resize(S, BICUBIC)`` + ``CenterCrop(S)`` on
the PIL image, ``convert('RGB')``, ``ToTensor``, ``Normalize``. Done here with Pillow alone (what torchvision calls
on PIL images), so the reference runner needs no torch; tests check it equals torchvision's own transform byte for
byte. Torch-free: numpy and Pillow only.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import PIL
from PIL import Image, ImageOps

OFFICIAL = "official_toklip"
# TokLIP-Tiny v1's mode, also what an absent field used to mean: named only so that such a manifest is refused with
# advice rather than a bare "must be official_toklip".
LEGACY = "center_crop_triangle_float"
LEGACY_ADVICE = ("the legacy TokLIP-Tiny v1 preprocessing, no longer supported: re-export the model with the current "
                 'toklip-export, which writes "preprocessing": "official_toklip"')
# The descriptive fields the exporter writes into the manifest's "image" section besides size/mean/std
# (docs/CONTRACT.md); a reader accepts them absent but not saying something else.
OFFICIAL_FIELDS: dict[str, object] = {"resize": "shortest_side_then_center_crop", "interpolation": "pillow_bicubic",
                                      "alpha": "dropped"}


def image_section(size: int, mean: Sequence[float], std: Sequence[float],
                  pass_order: str = "pillow13") -> dict[str, object]:
    """The manifest's "image" section (``pass_order``: which Pillow version's resize the app follows)."""
    if pass_order not in PASS_ORDERS:
        raise ValueError(f"unknown resize pass order {pass_order!r}; known: {', '.join(PASS_ORDERS)}")
    return {"size": size, "mean": list(mean), "std": list(std), "preprocessing": OFFICIAL, **OFFICIAL_FIELDS,
            "resize_pass_order": pass_order}


def _mode_problem(mode: object) -> str | None:
    if mode is None:
        return f"image.preprocessing is missing, which meant {LEGACY_ADVICE}"
    if mode == LEGACY:
        return f"image.preprocessing {LEGACY!r} is {LEGACY_ADVICE}"
    if mode != OFFICIAL:
        return f"image.preprocessing must be {OFFICIAL}, got {mode!r}"
    return None


def image_mode_problems(img: dict) -> list[str]:
    """What is wrong with an "image" section's preprocessing fields (empty: fine). A section without
    "preprocessing", or naming the legacy mode, gets one problem that says what to do, not a list of the legacy
    fields that contradict the official mode."""
    problem = _mode_problem(img.get("preprocessing"))
    if problem:
        return [problem]
    out = []
    for key, want in OFFICIAL_FIELDS.items():
        got = img.get(key)
        if got is not None and got != want:
            out.append(f"image.{key} must be {want!r} for preprocessing {OFFICIAL}, got {got!r}")
    if img.get("resize_pass_order", "pillow13") not in PASS_ORDERS:
        out.append(f"image.resize_pass_order must be one of {', '.join(PASS_ORDERS)}, "
                   f"got {img['resize_pass_order']!r}")
    if "alpha_background" in img:
        out.append(f"image.alpha_background has no effect in {OFFICIAL} (alpha is dropped, as convert('RGB') does)")
    return out


def shortest_side_size(width: int, height: int, size: int) -> tuple[int, int]:
    """torchvision ``Resize(size)`` with an int: (new_w, new_h), the short side ``size``, the long one truncated."""
    if width <= height:
        return size, int(size * height / width)
    return int(size * width / height), size


PASS_ORDERS = ("pillow13", "horizontal_first")


def vertical_first(w: int, h: int, out_w: int, out_h: int, order: str) -> bool:
    """Pillow 13's rule for running the vertical pass first (``ImagingResampleInner``); Pillow <= 12.1 always ran
    the horizontal pass first (``order="horizontal_first"``). The 8-bit intermediate makes the order visible."""
    if order not in PASS_ORDERS:
        raise ValueError(f"unknown resize pass order {order!r}; known: {', '.join(PASS_ORDERS)}")
    return order == "pillow13" and h - out_h > 0 and h - out_h > (w - out_w) * 2


def pillow_pass_order() -> str:
    """The pass order of the installed Pillow (what ``Image.resize`` does here)."""
    major = int(PIL.__version__.split(".")[0])
    return "pillow13" if major >= 13 else "horizontal_first"


def pillow_bicubic(img: Image.Image, out_w: int, out_h: int, order: str = "pillow13") -> Image.Image:
    """``Image.resize((out_w, out_h), BICUBIC)`` with the pass order of ``order``, whatever Pillow is installed:
    one axis at a time (a one-axis resize is exactly that pass), premultiplied for RGBA/LA as Pillow does, NEAREST
    for "P"/"1" (Pillow's own choice for them; order is irrelevant there)."""
    w, h = img.size
    if (out_w, out_h) == (w, h):
        return img.copy()
    if img.mode in ("1", "P"):
        return img.resize((out_w, out_h), Image.Resampling.NEAREST)
    straight = img.mode if img.mode in ("RGBA", "LA") else None
    work = img.convert({"RGBA": "RGBa", "LA": "La"}[straight]) if straight else img
    steps = [(w, out_h), (out_w, out_h)] if vertical_first(w, h, out_w, out_h, order) else [(out_w, h), (out_w, out_h)]
    for step in steps:
        if step != work.size:
            work = work.resize(step, Image.Resampling.BICUBIC)
    return work.convert(straight) if straight else work


def official_toklip_rgb(img: Image.Image, size: int, order: str = "pillow13") -> np.ndarray:
    """The uint8 [size, size, 3] picture TokLIP's transform hands to ToTensor: Pillow bicubic resize of the
    shortest side (Pillow itself picks NEAREST for "P"/"1" and premultiplies RGBA/LA), torchvision's centre-crop
    offsets (Python ``round``: half to even), ``convert('RGB')`` (alpha dropped, not composited)."""
    w, h = img.size
    nw, nh = shortest_side_size(w, h, size)
    if (nw, nh) != (w, h):
        img = pillow_bicubic(img, nw, nh, order)
    top = int(round((nh - size) / 2.0))
    left = int(round((nw - size) / 2.0))
    img = img.crop((left, top, left + size, top + size))
    return np.asarray(img.convert("RGB"))


def to_tensor_normalise(rgb: np.ndarray, mean: Sequence[float], std: Sequence[float]) -> np.ndarray:
    """ToTensor + Normalize in float32, as torchvision computes them: uint8 HWC -> float32 CHW."""
    x = rgb.astype(np.float32).transpose(2, 0, 1) / np.float32(255)
    m = np.asarray(mean, dtype=np.float32).reshape(3, 1, 1)
    s = np.asarray(std, dtype=np.float32).reshape(3, 1, 1)
    return np.ascontiguousarray((x - m) / s, dtype=np.float32)


def load_image(path: str | Path) -> Image.Image:
    """Decode the first frame in the file's own mode, honouring EXIF orientation (what the user sees; the official
    code does not apply it)."""
    with Image.open(path) as im:
        im.seek(0)
        out = ImageOps.exif_transpose(im)
        out.load()
        return out if out is not im else im.copy()


def preprocess_image(img: Image.Image | str | Path, image_spec: dict) -> np.ndarray:
    """Manifest-driven preprocessing (``image`` section): float32 CHW [3, S, S], normalised."""
    problem = _mode_problem(image_spec.get("preprocessing"))
    if problem:
        raise ValueError(problem)
    if not isinstance(img, Image.Image):
        img = load_image(img)
    size, mean, std = image_spec["size"], image_spec["mean"], image_spec["std"]
    order = image_spec.get("resize_pass_order", "pillow13")
    return to_tensor_normalise(official_toklip_rgb(img, size, order), mean, std)


def to_rgb01(x: np.ndarray, mean: Sequence[float], std: Sequence[float]) -> np.ndarray:
    """Inverse of the normalisation for CHW arrays, clamped to [0, 1]."""
    m = np.asarray(mean).reshape(3, 1, 1)
    s = np.asarray(std).reshape(3, 1, 1)
    return np.clip(x * s + m, 0.0, 1.0)


_WS = re.compile(" +")


def canonicalize(text: str) -> str:
    """SigLIP-style cleaning: lower-case; every character that is not a letter or number (Unicode
    categories L*, N*) becomes a space; runs of spaces collapse; trim."""
    out = [ch if unicodedata.category(ch)[0] in ("L", "N") else " " for ch in text.lower()]
    return _WS.sub(" ", "".join(out)).strip()


def pad_ids(ids: Sequence[int], context_length: int, pad_id: int) -> list[int]:
    ids = list(ids)[:context_length]
    return ids + [pad_id] * (context_length - len(ids))
