"""Load the Debian-built dataset (see toklip.data.build) for training and evaluation."""

from __future__ import annotations

import json
import random
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from .preprocess import official_toklip_rgb, to_tensor_normalise


@dataclass
class Pair:
    id: str
    file: Path
    concept: str
    captions: list[str]
    split: str
    eval_rep: bool
    source: str
    # the builder's kind of concept (v2 records: emoji / icon / flag); v1 records have none
    kind: str = ""


def read_jsonl(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def photo_files(folders: Iterable[Path], split: str) -> list[Path]:
    """Image paths of the photos in ``split``, folder by folder in photos.jsonl order (a folder without photos adds
    none): the held-out photo set of ``toklip-eval``'s ``psnr_db`` with ``split="val"``."""
    return [d / r["file"] for d in folders if (d / "photos.jsonl").exists()
            for r in read_jsonl(d / "photos.jsonl") if r["split"] == split]


def load_photos(data: Path, split: str, limit: int | None = None) -> list[np.ndarray]:
    """Photos (short side <= 320 px) as uint8 RGB arrays, in index order."""
    rows = [r for r in read_jsonl(data / "photos.jsonl") if r["split"] == split]
    rows = rows[:limit] if limit else rows
    out = []
    for r in rows:
        with Image.open(data / r["file"]) as im:
            out.append(np.asarray(im.convert("RGB")))
    return out


def load_pairs(data: Path, split: str | None = None, limit: int | None = None) -> list[Pair]:
    rows = read_jsonl(data / "pairs.jsonl")
    pairs = [
        Pair(r["id"], data / r["file"], r["concept"], list(r["captions"]), r["split"], bool(r.get("eval_rep")), r.get("source", ""),
        r.get("kind", ""))
        for r in rows
        if split is None or r["split"] == split
    ]
    return pairs[:limit] if limit else pairs


def on_white(im: Image.Image) -> Image.Image:
    """RGB, transparency composited over white. Training only: the pair images' transparent pixels hide arbitrary
    colours that the official transform's convert('RGB') would expose."""
    rgba = im.convert("RGBA")
    return Image.alpha_composite(Image.new("RGBA", rgba.size, (255, 255, 255, 255)), rgba).convert("RGB")


def pair_pixels(pairs: list[Pair], size: int, mean: tuple[float, ...], std: tuple[float, ...]) -> torch.Tensor:
    """Every pair image on white through the official TokLIP preprocessing, the only mode the exporter writes
    -> [N, 3, size, size] (toklip.train_v2's pair_rgb makes the same pictures)."""
    arrs = []
    for p in pairs:
        with Image.open(p.file) as im:
            arrs.append(to_tensor_normalise(official_toklip_rgb(on_white(im), size), mean, std))
    return torch.from_numpy(np.stack(arrs))


class CropSampler:
    """Random multi-scale square crops with flips, dropping flat crops (they teach the VQ nothing)."""

    def __init__(self, images: list[np.ndarray], seed: int, min_frac: float = 0.3, flat_std: float = 6.0,
                 resample: int = Image.BILINEAR) -> None:
        self.images = images
        self.resample = resample
        self.rng = random.Random(seed)
        self.min_frac = min_frac
        self.flat_std = flat_std

    def crop(self, res: int) -> np.ndarray:
        for _ in range(20):
            img = self.images[self.rng.randrange(len(self.images))]
            h, w = img.shape[:2]
            short = min(h, w)
            s = int(short * self.rng.uniform(self.min_frac, 1.0))
            s = max(min(s, short), min(res, short))
            top, left = self.rng.randint(0, h - s), self.rng.randint(0, w - s)
            c = img[top : top + s, left : left + s]
            if c.std() >= self.flat_std:
                break
        out = np.asarray(Image.fromarray(c).resize((res, res), self.resample))
        if self.rng.random() < 0.5:
            out = out[:, ::-1]
        return out

    def batch(self, n: int, res: int, mean: tuple[float, ...], std: tuple[float, ...]) -> torch.Tensor:
        if n == 0:
            return torch.zeros(0, 3, res, res)
        x = np.stack([self.crop(res) for _ in range(n)]).astype(np.float32) / 255.0
        x = (x - np.asarray(mean, dtype=np.float32)) / np.asarray(std, dtype=np.float32)
        return torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))
