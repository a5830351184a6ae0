"""The official_toklip pipeline on pictures whose answer is known without torchvision (test_official_preprocess.py
checks it against torchvision), the training pixels built on it, and the text cleaning."""

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from toklip.dataset import Pair, on_white, pair_pixels
from toklip.preprocess import canonicalize, official_toklip_rgb, pad_ids, preprocess_image, to_tensor_normalise

HALF = ([0.5] * 3, [0.5] * 3)


def test_normalisation_and_layout_at_model_size() -> None:
    rgb = np.zeros((4, 4, 3), np.uint8)
    rgb[..., 0] = 255
    spec = {"size": 4, "mean": HALF[0], "std": HALF[1], "preprocessing": "official_toklip"}
    x = preprocess_image(Image.fromarray(rgb), spec)
    assert x.shape == (3, 4, 4) and x.dtype == np.float32
    np.testing.assert_array_equal(x[0], 1.0)
    np.testing.assert_array_equal(x[1:], -1.0)


def test_alpha_is_dropped_not_composited() -> None:
    # At the model size nothing is resampled: the colour stored under a transparent pixel reaches the model.
    same = np.array([[[255, 0, 0, 0], [10, 20, 30, 128]]] * 2, np.uint8)
    out = official_toklip_rgb(Image.fromarray(same, "RGBA"), 2)
    assert out[0, 0].tolist() == [255, 0, 0] and out[0, 1].tolist() == [10, 20, 30]
    # Resized: Pillow premultiplies RGBA, so a fully transparent region comes out black (white would mean a
    # composite).
    up = np.zeros((8, 8, 4), np.uint8)
    up[:, :4] = [255, 0, 0, 0]
    up[:, 4:] = [0, 0, 255, 255]
    out = official_toklip_rgb(Image.fromarray(up, "RGBA"), 16)
    assert out[8, 0].tolist() == [0, 0, 0] and out[8, 15].tolist() == [0, 0, 255]


def test_pair_pixels_are_official_on_white(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    rgba = rng.integers(0, 256, (37, 53, 4), dtype=np.uint8)
    rgba[:, :10, 3] = 0  # a transparent band hiding random colours
    Image.fromarray(rgba, "RGBA").save(tmp_path / "a.png")
    x = pair_pixels([Pair("a", tmp_path / "a.png", "c", ["a c"], "train", False, "")], 16, *HALF)
    assert tuple(x.shape) == (1, 3, 16, 16)
    with Image.open(tmp_path / "a.png") as im:
        flat = on_white(im)
    assert np.asarray(flat)[:, :10].min() == 255  # what the band hid is gone
    want = to_tensor_normalise(official_toklip_rgb(flat, 16), *HALF)
    np.testing.assert_array_equal(x[0].numpy(), want)


@pytest.mark.parametrize(
    "raw,clean",
    [
        ("An Emoji of a CAT face!", "an emoji of a cat face"),
        ("  the   sun,  the moon & the stars...  ", "the sun the moon the stars"),
        ("café — déjà vu", "café déjà vu"),
        ("emoji 🐱 ™ tab\there", "emoji tab here"),
        ("", ""),
    ],
)
def test_canonicalize(raw: str, clean: str) -> None:
    assert canonicalize(raw) == clean


def test_pad_ids_truncates_and_pads() -> None:
    assert pad_ids([5, 6], 4, 0) == [5, 6, 0, 0]
    assert pad_ids(list(range(1, 10)), 4, 0) == [1, 2, 3, 4]
