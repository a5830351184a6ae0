"""`official_toklip` preprocessing: the torch-free Python pipeline equals torchvision's own TokLIP transform, byte
for byte, on the synthetic half of the PNG corpus (the Vitest suite checks the browser side on the whole corpus)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from toklip import tv_reference
from toklip.preprocess import (LEGACY, OFFICIAL, image_mode_problems, image_section, load_image,
                               official_toklip_rgb, pillow_bicubic, pillow_pass_order, preprocess_image,
                               shortest_side_size, vertical_first)
from toklip.preprocess_corpus import build


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("corpus")
    return out, build(out, photos=False)


def test_corpus_covers_the_edge_cases(corpus: tuple[Path, dict]) -> None:
    _, meta = corpus
    names = {c["name"] for c in meta["cases"]}
    modes = {c["pillow_mode"] for c in meta["cases"]}
    assert {"RGB", "RGBA", "L", "LA", "P", "1", "I;16"} <= modes
    assert {"rgb-1x1", "wide-4000x30", "exact-256", "margin3-259x256", "odd-97x61", "rgba-partial-300x211"} <= names
    assert len(meta["cases"]) >= 35


def test_python_pipeline_equals_torchvision(corpus: tuple[Path, dict]) -> None:
    folder, meta = corpus
    bad = []
    for c in meta["cases"]:
        want = np.frombuffer((folder / c["rgb"]).read_bytes(), np.uint8).reshape(c["size"], c["size"], 3)
        got = official_toklip_rgb(load_image(folder / c["png"]), c["size"], pillow_pass_order())
        if not np.array_equal(got, want):
            bad.append((c["name"], int(np.abs(got.astype(int) - want).max())))
    assert bad == []


def test_normalised_tensor_equals_torchvision(corpus: tuple[Path, dict]) -> None:
    folder, meta = corpus
    spec = image_section(256, (0.5, 0.5, 0.5), (0.5, 0.5, 0.5), pillow_pass_order())
    checked = 0
    for c in meta["cases"]:
        if c["size"] != 256:
            continue
        img = load_image(folder / c["png"])
        x = preprocess_image(img, spec)
        ref = tv_reference.official_tensor(img, 256)
        assert x.dtype == np.float32 and x.shape == (3, 256, 256)
        assert np.array_equal(x, ref), c["name"]
        checked += 1
    assert checked >= 30


def test_pass_order_matters_and_is_emulated_for_both_pillow_versions() -> None:
    rng = np.random.default_rng(5)
    for mode, ch in (("RGB", 3), ("RGBA", 4)):
        img = Image.fromarray(rng.integers(0, 256, (401, 199, ch), dtype=np.uint8), mode)
        assert vertical_first(199, 401, 64, 128, "pillow13") and not vertical_first(199, 401, 64, 128, "horizontal_first")
        v = np.asarray(pillow_bicubic(img, 64, 128, "pillow13"))
        h = np.asarray(pillow_bicubic(img, 64, 128, "horizontal_first"))
        assert not np.array_equal(v, h)  # the 8-bit intermediate rounds differently
        # The installed Pillow's own single call equals the emulation of its order.
        native = np.asarray(img.resize((64, 128), Image.Resampling.BICUBIC))
        assert np.array_equal(native, v if pillow_pass_order() == "pillow13" else h)


def test_crop_offsets_round_half_to_even() -> None:
    # 259 px wide → margin 3 → torchvision's round(1.5) = 2, where floor would give 1.
    arr = np.zeros((256, 259, 3), np.uint8)
    arr[:, :, 0] = np.arange(259, dtype=np.uint8)[None, :]
    out = official_toklip_rgb(Image.fromarray(arr), 256)
    assert out[0, 0, 0] == 2 and out[0, -1, 0] == (2 + 255) % 256  # the uint8 ramp wraps after 255


def test_shortest_side_size() -> None:
    assert shortest_side_size(301, 200, 256) == (385, 256)
    assert shortest_side_size(200, 301, 256) == (256, 385)
    assert shortest_side_size(1, 1, 384) == (384, 384)


def test_mode_fields() -> None:
    section = image_section(256, [0.5] * 3, [0.5] * 3)
    assert section["preprocessing"] == OFFICIAL and image_mode_problems(section) == []
    assert image_mode_problems({"size": 64, "preprocessing": OFFICIAL}) == []  # descriptive fields are optional
    with pytest.raises(ValueError, match="unknown resize pass order"):
        image_section(64, [0.5] * 3, [0.5] * 3, "pillow12")
    assert image_mode_problems({"preprocessing": "squash"}) == [
        "image.preprocessing must be official_toklip, got 'squash'"]
    mixed = {"resize": "center_crop_then_resize", "interpolation": "triangle_antialias", "alpha": "composited",
             "alpha_background": [255, 255, 255], "preprocessing": OFFICIAL}
    assert [p.split(" ")[0] for p in image_mode_problems(mixed)] == [
        "image.resize", "image.interpolation", "image.alpha", "image.alpha_background"]
    assert image_mode_problems({**section, "resize_pass_order": "x"}) == [
        "image.resize_pass_order must be one of pillow13, horizontal_first, got 'x'"]
    with pytest.raises(ValueError, match="must be official_toklip, got 'squash'"):
        preprocess_image(Image.new("RGB", (4, 4)), {"size": 4, "mean": [0] * 3, "std": [1] * 3,
                                                   "preprocessing": "squash"})


def test_legacy_v1_sections_are_refused_with_advice() -> None:
    advice = ('the legacy TokLIP-Tiny v1 preprocessing, no longer supported: re-export the model with the current '
              'toklip-export, which writes "preprocessing": "official_toklip"')
    # TokLIP-Tiny v1's section, written before modes had names: one problem, not its fields listed as wrong.
    v1 = {"size": 128, "mean": [0.5] * 3, "std": [0.5] * 3, "resize": "center_crop_then_resize",
          "interpolation": "triangle_antialias", "alpha_background": [255, 255, 255]}
    assert image_mode_problems(v1) == [f"image.preprocessing is missing, which meant {advice}"]
    named = {**v1, "preprocessing": LEGACY}
    assert image_mode_problems(named) == [f"image.preprocessing 'center_crop_triangle_float' is {advice}"]
    for spec in (v1, named):
        with pytest.raises(ValueError, match="re-export the model"):
            preprocess_image(Image.new("RGB", (4, 4)), spec)


def test_corpus_index_is_json(corpus: tuple[Path, dict]) -> None:
    folder, _ = corpus
    assert json.loads((folder / "index.json").read_text())["torchvision"]
