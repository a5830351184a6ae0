"""Shared fixtures: a synthetic dataset in the builder's layout, so training/export/eval tests run
without the Debian packages."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

CONCEPTS = ["cat", "dog", "apple", "car", "tree", "house", "sun", "flower", "fish", "bird", "moon", "star"]


def make_dataset(root: Path, n_photos: int = 12) -> Path:
    rng = np.random.default_rng(0)
    (root / "photos").mkdir(parents=True)
    (root / "pairs").mkdir()
    photos = []
    for i in range(n_photos):
        h, w = int(rng.integers(140, 220)), int(rng.integers(140, 260))
        yy, xx = np.mgrid[0:h, 0:w]
        img = np.stack([(xx * (i + 1)) % 256, (yy * 3 + i * 20) % 256, ((xx + yy) * 2) % 256], -1)
        img = (img + rng.integers(0, 30, img.shape)).clip(0, 255).astype(np.uint8)
        Image.fromarray(img).save(root / "photos" / f"p{i:03d}.png")
        photos.append({"id": f"p{i:03d}", "file": f"photos/p{i:03d}.png", "source": "synthetic", "package": "none",
                       "orig_path": "", "width": w, "height": h, "split": "val" if i % 4 == 0 else "train"})
    pairs = []
    for ci, c in enumerate(CONCEPTS):
        for k in range(2):
            img = np.full((128, 128, 4), 0, np.uint8)
            colour = rng.integers(0, 256, 3)
            r = 20 + 3 * ci
            yy, xx = np.mgrid[0:128, 0:128]
            mask = (yy - 64) ** 2 + (xx - 64 + k * 5) ** 2 < r * r
            img[mask, :3] = colour
            img[mask, 3] = 255
            pid = f"{c}-{k}"
            Image.fromarray(img, "RGBA").save(root / "pairs" / f"{pid}.png")
            pairs.append({"id": pid, "file": f"pairs/{pid}.png", "source": "synthetic", "concept": c,
                          "captions": [f"an emoji of a {c}", f"a picture of a {c}", c], "group": "g", "subgroup": "s",
                          "split": "val" if ci % 3 == 0 else "train", "eval_rep": k == 0 and ci % 3 == 0})
    (root / "photos.jsonl").write_text("".join(json.dumps(p) + "\n" for p in photos))
    (root / "pairs.jsonl").write_text("".join(json.dumps(p) + "\n" for p in pairs))
    (root / "sources.json").write_text(json.dumps({"debian_version": "test", "sources": {}, "skipped": []}))
    return root


@pytest.fixture(scope="session")
def synthetic_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_dataset(tmp_path_factory.mktemp("data"))
