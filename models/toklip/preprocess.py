"""Image and text preprocessing exactly as docs/CONTRACT.md states; src/lib mirrors it in TypeScript."""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps


def triangle_weights(n_in: int, n_out: int) -> np.ndarray:
    """[n_out, n_in] matrix of the antialiased triangle (bilinear) filter."""
    scale = n_in / n_out
    support = max(scale, 1.0)
    w = np.zeros((n_out, n_in), dtype=np.float64)
    for i in range(n_out):
        c = (i + 0.5) * scale
        lo = max(int(math.floor(c - support)), 0)
        hi = min(int(math.ceil(c + support)), n_in)
        j = np.arange(lo, hi)
        wi = np.maximum(0.0, 1.0 - np.abs((j + 0.5 - c) / support))
        w[i, lo:hi] = wi / wi.sum()
    return w


def composite_rgba(rgba: np.ndarray, background: Sequence[int] = (255, 255, 255)) -> np.ndarray:
    """uint8 [H, W, 4] -> float64 [H, W, 3] on the background, unrounded."""
    rgb = rgba[..., :3].astype(np.float64)
    a = rgba[..., 3:4].astype(np.float64)
    bg = np.asarray(background, dtype=np.float64)
    return (rgb * a + bg * (255.0 - a)) / 255.0


def resize_square(rgb: np.ndarray, size: int) -> np.ndarray:
    """Centre-crop float [H, W, 3] to a square and resize it to size×size (values stay 0..255)."""
    h, w = rgb.shape[:2]
    m = min(h, w)
    top, left = (h - m) // 2, (w - m) // 2
    sq = rgb[top : top + m, left : left + m]
    wm = triangle_weights(m, size)
    # Rows (vertical) first, then columns, as the contract says; separable so order only matters
    # for rounding, which we never do.
    out = np.einsum("ij,jkc->ikc", wm, sq)
    return np.einsum("kj,ijc->ikc", wm, out)


def preprocess_rgba(
    rgba: np.ndarray,
    size: int,
    mean: Sequence[float],
    std: Sequence[float],
    background: Sequence[int] = (255, 255, 255),
) -> np.ndarray:
    """uint8 RGBA [H, W, 4] -> float32 CHW [3, size, size] normalised."""
    rgb = resize_square(composite_rgba(rgba, background), size) / 255.0
    x = (rgb - np.asarray(mean)) / np.asarray(std)
    return np.ascontiguousarray(x.transpose(2, 0, 1)).astype(np.float32)


def load_rgba(path: str | Path) -> np.ndarray:
    """Decode a file to uint8 RGBA honouring EXIF orientation (first frame of animations)."""
    with Image.open(path) as im:
        im.seek(0)
        im = ImageOps.exif_transpose(im)
        return np.asarray(im.convert("RGBA"))


def preprocess_file(path: str | Path, size: int, mean: Sequence[float], std: Sequence[float]) -> np.ndarray:
    return preprocess_rgba(load_rgba(path), size, mean, std)


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
