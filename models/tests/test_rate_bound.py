import io

import numpy as np
import pytest
from PIL import Image

from toklip.metrics import psnr
from toklip.rate_bound import (CODECS, avif_payload_bytes, best_within, bits_to_reach, encode_decode,
                               id_entropy_bits, jpeg_payload_bytes, webp_payload_bytes)


def _photo_like(seed: int = 0, size: int = 64) -> np.ndarray:
    """Smooth colour fields plus fine texture, so every codec's quality setting changes both size and PSNR."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size] / size
    base = np.stack([np.sin(6 * xx + c) * np.cos(5 * yy - c) for c in range(3)], -1) * 70 + 128
    return np.clip(base + rng.normal(0, 18, (size, size, 3)), 0, 255).astype(np.uint8)


def _encoded(fmt: str, **kw: object) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(_photo_like()).save(buf, format=fmt, **kw)
    return buf.getvalue()


def test_jpeg_payload_is_the_scan_between_sos_and_eoi() -> None:
    data = _encoded("JPEG", quality=60)
    sos = data.index(b"\xff\xda")
    seg_len = int.from_bytes(data[sos + 2:sos + 4], "big")
    assert jpeg_payload_bytes(data) == len(data) - (sos + 2 + seg_len) - 2
    assert 0 < jpeg_payload_bytes(data) < len(data) - 300  # quantisation and Huffman tables are not payload


def test_webp_and_avif_payloads_exclude_their_containers() -> None:
    webp = _encoded("WEBP", quality=60)
    assert 0 < webp_payload_bytes(webp) <= len(webp) - 30
    avif = _encoded("AVIF", quality=60)
    assert 0 < avif_payload_bytes(avif) < len(avif) - 100


@pytest.mark.parametrize("parse,fmt", [(jpeg_payload_bytes, "WEBP"), (webp_payload_bytes, "JPEG"),
                                       (avif_payload_bytes, "JPEG")])
def test_parsers_refuse_other_formats(parse, fmt) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError):
        parse(_encoded(fmt))


@pytest.mark.parametrize("codec", list(CODECS))
def test_best_within_fits_the_budget_and_bits_to_reach_meets_the_target(codec: str) -> None:
    u8 = _photo_like(1)
    ref = u8.astype(np.float64) / 255
    lo_bits, _ = encode_decode(u8, codec, 20)
    hi_bits, _ = encode_decode(u8, codec, 80)
    assert lo_bits < hi_bits
    budget = (lo_bits + hi_bits) / 2
    q, bits, out = best_within(u8, codec, budget)  # type: ignore[misc]
    assert bits <= budget and out.shape == u8.shape
    # The next quality up no longer fits (the walk up covers three steps past the bisection).
    assert encode_decode(u8, codec, min(q + 1, CODECS[codec][3]))[0] > budget or q == CODECS[codec][3]
    assert best_within(u8, codec, 8) is None
    reached = psnr(out.astype(np.float64) / 255, ref)
    need = bits_to_reach(u8, ref, codec, reached)
    assert need is not None and need <= bits
    assert bits_to_reach(u8, ref, codec, 99.0) is None


def test_id_entropy_bits() -> None:
    assert id_entropy_bits(np.zeros((3, 4, 4), np.int64), 16) == 0.0
    uniform = np.arange(16 * 4).reshape(4, 4, 4) % 16
    assert id_entropy_bits(uniform, 16) == pytest.approx(16 * 4.0)


def test_measure_on_the_committed_bundle(synthetic_data) -> None:  # type: ignore[no-untyped-def]
    from pathlib import Path

    from toklip.evaluate import evaluate
    from toklip.rate_bound import BUDGET_FACTORS, measure

    bundle = Path(__file__).resolve().parents[2] / "public/models/toklip-tiny"
    res = measure(bundle, synthetic_data, None, ["jpeg"], [20.0], limit=2, workers=1)
    ref = evaluate(bundle, synthetic_data, limit=2)
    assert res["n_images"] == ref["psnr_n_images"] == 2
    assert res["vq"]["psnr_db"] == pytest.approx(ref["psnr_db"], abs=1e-9)
    assert res["thumb32_psnr_db"] == pytest.approx(ref["thumb32_psnr_db"], abs=1e-9)
    assert res["vq"]["bits_per_image"] == 16 * 16 * 10
    assert 0 < res["vq"]["id_entropy_bits_per_image"] <= 16 * 16 * 10
    row = res["codecs"]["jpeg"]
    assert [f"{f:g}x" for f in BUDGET_FACTORS] == list(row["at_budget"])
    for cell in row["at_budget"].values():
        assert 0 <= cell["n_images_fitting"] <= 2
        if cell["n_images_fitting"]:
            assert cell["mean_payload_bits"] <= cell["budget_bits"]
    for reach in row["bits_to_reach"].values():
        assert reach["n"] + reach["n_unreached"] == 2
        assert 0 <= reach["n_within_grid_bits"] <= reach["n"]
