import numpy as np
import pytest
from PIL import Image

from toklip.preprocess import canonicalize, pad_ids, preprocess_rgba, resize_square, triangle_weights


@pytest.mark.parametrize("n_in,n_out", [(300, 128), (128, 128), (7, 128), (61, 16)])
def test_triangle_weights_are_normalised(n_in: int, n_out: int) -> None:
    w = triangle_weights(n_in, n_out)
    assert w.shape == (n_out, n_in)
    np.testing.assert_allclose(w.sum(1), 1.0, atol=1e-12)
    assert (w >= 0).all()


def test_same_size_is_identity() -> None:
    np.testing.assert_allclose(triangle_weights(50, 50), np.eye(50), atol=1e-12)


def test_downscale_matches_pillow_bilinear_within_rounding() -> None:
    # Pillow's BILINEAR is the same antialiased triangle filter, but rounds to 8 bits per pass.
    rng = np.random.default_rng(1)
    img = rng.integers(0, 256, (200, 200, 3), dtype=np.uint8)
    ours = resize_square(img.astype(np.float64), 64)
    pil = np.asarray(Image.fromarray(img).resize((64, 64), Image.BILINEAR)).astype(np.float64)
    assert np.abs(ours - pil).max() <= 1.01


def test_centre_crop_and_alpha_composite() -> None:
    rgba = np.zeros((10, 30, 4), np.uint8)
    rgba[:, 10:20, :3] = 255  # the centre square is white, the sides black
    rgba[:, 10:20, 3] = 255
    rgba[0, 10, 3] = 0  # transparent pixel -> background white too
    rgba[0, 10, :3] = 0
    x = preprocess_rgba(rgba, 10, [0.0, 0.0, 0.0], [1.0, 1.0, 1.0])
    np.testing.assert_allclose(x, 1.0, atol=1e-6)


def test_normalisation_and_layout() -> None:
    rgba = np.zeros((4, 4, 4), np.uint8)
    rgba[..., 0] = 255
    rgba[..., 3] = 255
    x = preprocess_rgba(rgba, 4, [0.5, 0.5, 0.5], [0.5, 0.5, 0.5])
    assert x.shape == (3, 4, 4) and x.dtype == np.float32
    np.testing.assert_allclose(x[0], 1.0)
    np.testing.assert_allclose(x[1:], -1.0)


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
