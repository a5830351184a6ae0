"""What the token grid's bit budget buys a standard image codec (issue 11's PSNR target, put in bits).

    python -m toklip.rate_bound --bundle public/models/toklip-tiny --data models/data --data-v2 models/data-v2 \\
        --out models/toklip/ablations/rate-bound.json

A VQ tokenizer is a fixed-rate image codec: an h×w grid of ids from a K-entry codebook carries h·w·log2(K) bits
per image (16×16 × 10 = 2,560 bits for TokLIP-Tiny), and its reconstruction PSNR is a point on a rate-distortion
plane that standard codecs also occupy. This puts JPEG, WebP and AVIF (Pillow's encoders) on that plane for the
photos ``toklip-eval`` scores ``psnr_db`` on, at the model's size and preprocessing:

- the PSNR each codec reaches within the grid's bit budget (and within 0.5, 2, 4 and 8 times it), the quality
  setting chosen per image by bisection as the highest whose payload fits. A codec's lowest quality can overshoot
  a small budget on busy photos, so each mean is over the photos it fits, with the VQ's and the thumbnail's PSNR
  on those same photos beside it;
- the bits each codec needs to reach a PSNR target (``--targets``, default 24.5 dB) and each photo's own 32×32
  thumbnail PSNR (what ``psnr_db`` must beat), and on how many photos that is within the grid's bits.

Only the coded payload is counted (JPEG's entropy-coded scan; WebP's VP8 chunk less its 10-byte frame header;
AVIF's ``mdat`` box), never headers, tables or containers, since the VQ's decoder and codebook are shipped once
too. That is in the codecs' favour on top of the budget itself: the VQ's ids are not entropy-coded (their
empirical entropy is reported beside the raw rate).
"""

from __future__ import annotations

import argparse
import io
import json
import math
import struct
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import PIL
from PIL import Image, features

from .dataset import photo_files
from .evaluate import _pixels, thumbnail_psnr
from .metrics import code_stats, psnr
from .preprocess import to_rgb01
from .runtime import Bundle

BUDGET_FACTORS = (0.5, 1.0, 2.0, 4.0, 8.0)


def jpeg_payload_bytes(data: bytes) -> int:
    """Bytes of a baseline JPEG's entropy-coded scan: after the SOS segment, before EOI."""
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            raise ValueError(f"JPEG: no marker at byte {pos}")
        marker = data[pos + 1]
        (length,) = struct.unpack(">H", data[pos + 2:pos + 4])
        if marker == 0xDA:
            start = pos + 2 + length
            if data[-2:] != b"\xff\xd9":
                raise ValueError("JPEG: no EOI at the end")
            return len(data) - 2 - start
        pos += 2 + length
    raise ValueError("JPEG: no SOS segment")


def webp_payload_bytes(data: bytes) -> int:
    """Bytes of a lossy WebP's VP8 bitstream less its 10-byte frame header (tag, start code, dimensions)."""
    if data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        raise ValueError("WebP: not a RIFF/WEBP file")
    pos = 12
    while pos + 8 <= len(data):
        tag = data[pos:pos + 4]
        (size,) = struct.unpack("<I", data[pos + 4:pos + 8])
        if tag == b"VP8 ":
            return size - 10
        pos += 8 + size + (size & 1)
    raise ValueError("WebP: no lossy VP8 chunk")


def avif_payload_bytes(data: bytes) -> int:
    """Bytes of an AVIF's top-level ``mdat`` box content (the AV1 bitstream)."""
    pos = 0
    while pos + 8 <= len(data):
        size, tag = struct.unpack(">I4s", data[pos:pos + 8])
        head = 8
        if size == 1:
            (size,) = struct.unpack(">Q", data[pos + 8:pos + 16])
            head = 16
        elif size == 0:
            size = len(data) - pos
        if tag == b"mdat":
            return size - head
        pos += size
    raise ValueError("AVIF: no mdat box")


Encoder = Callable[[Image.Image, int], bytes]


def _save(img: Image.Image, fmt: str, **kw: Any) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt, **kw)
    return buf.getvalue()


# (encoder, payload parser, lowest quality, highest quality). Settings are each encoder's slowest/best effort.
CODECS: dict[str, tuple[Encoder, Callable[[bytes], int], int, int]] = {
    "jpeg": (lambda im, q: _save(im, "JPEG", quality=q, optimize=True), jpeg_payload_bytes, 1, 95),
    "webp": (lambda im, q: _save(im, "WEBP", quality=q, method=6), webp_payload_bytes, 0, 100),
    "avif": (lambda im, q: _save(im, "AVIF", quality=q, speed=0), avif_payload_bytes, 0, 100),
}


def encode_decode(u8: np.ndarray, codec: str, quality: int) -> tuple[int, np.ndarray]:
    """(payload bits, decoded HWC uint8) of one encode."""
    enc, payload, _, _ = CODECS[codec]
    data = enc(Image.fromarray(u8), quality)
    with Image.open(io.BytesIO(data)) as im:
        out = np.asarray(im.convert("RGB"))
    return 8 * payload(data), out


def best_within(u8: np.ndarray, codec: str, bits: float) -> tuple[int, int, np.ndarray] | None:
    """(quality, payload bits, decoded) at the highest quality whose payload fits ``bits``, or None if none does.

    Payload grows with quality almost everywhere; bisection then a short walk up catches a non-monotone step."""
    _, _, lo, hi = CODECS[codec]
    best: tuple[int, int, np.ndarray] | None = None
    a, b = lo, hi
    while a <= b:
        q = (a + b) // 2
        n, out = encode_decode(u8, codec, q)
        if n <= bits:
            best, a = (q, n, out), q + 1
        else:
            b = q - 1
    if best is not None:
        for q in range(best[0] + 1, min(best[0] + 4, hi + 1)):
            n, out = encode_decode(u8, codec, q)
            if n <= bits:
                best = (q, n, out)
    return best


def bits_to_reach(u8: np.ndarray, ref: np.ndarray, codec: str, target_db: float) -> int | None:
    """Payload bits of the lowest quality whose PSNR against ``ref`` reaches ``target_db`` (None if none does)."""
    _, _, lo, hi = CODECS[codec]
    found: int | None = None
    a, b = lo, hi
    while a <= b:
        q = (a + b) // 2
        n, out = encode_decode(u8, codec, q)
        if psnr(out.astype(np.float64) / 255, ref) >= target_db:
            found, b = n, q - 1
        else:
            a = q + 1
    return found


def id_entropy_bits(ids: np.ndarray, codebook_size: int) -> float:
    """Mean bits per image if each id were coded with the ids' own empirical distribution over these images
    (``toklip-eval``'s perplexity is that distribution's exp(entropy))."""
    _, perplexity = code_stats(ids, codebook_size)
    return math.log2(perplexity) * ids[0].size


def _summary(vals: list[int | None], grid_bits: int) -> dict[str, float | int | None]:
    got = [v for v in vals if v is not None]
    return {"mean": float(np.mean(got)) if got else None, "median": float(np.median(got)) if got else None,
            "n": len(got), "n_unreached": len(vals) - len(got),
            "n_within_grid_bits": sum(v <= grid_bits for v in got)}


def _one_image(u8: np.ndarray, ref: np.ndarray, thumb_db: float, codecs: list[str], grid_bits: int,
               targets: list[float]) -> dict[str, Any]:
    """Every codec measurement of one photo (run in a worker process)."""
    out: dict[str, Any] = {}
    for codec in codecs:
        fits = {}
        for f in BUDGET_FACTORS:
            r = best_within(u8, codec, f * grid_bits)
            fits[f] = None if r is None else (r[0], r[1], psnr(r[2].astype(np.float64) / 255, ref))
        reach = {t: bits_to_reach(u8, ref, codec, t) for t in targets}
        out[codec] = {"fits": fits, "reach": reach, "reach_thumb32": bits_to_reach(u8, ref, codec, thumb_db)}
    return out


def measure(bundle: Path, data: Path, data_v2: Path | None, codecs: list[str], targets: list[float],
            limit: int | None = None, workers: int = 2) -> dict[str, Any]:
    b = Bundle(bundle)
    folders = [data] + ([data_v2] if data_v2 else [])
    photos = photo_files(folders, "val")[:limit]
    if not photos:
        raise SystemExit("no held-out photos (split: val) in the data folders")
    x = _pixels(photos, b)
    ids = b.tokenize(x)
    rec = b.decode(ids)
    refs = [to_rgb01(p, b.mean, b.std).transpose(1, 2, 0).astype(np.float64) for p in x]
    u8s = [np.round(r * 255).astype(np.uint8) for r in refs]
    k = int(b.manifest["codebook"]["size"])
    grid_bits = int(ids[0].size * math.ceil(math.log2(k)))
    thumbs = [thumbnail_psnr(r.transpose(2, 0, 1)) for r in refs]
    vq = [psnr(r.transpose(1, 2, 0), f) for r, f in zip(rec, refs)]
    out: dict[str, Any] = {
        "bundle": str(bundle),
        "n_images": len(photos),
        "image_size": b.size,
        "vq": {
            "grid": list(ids.shape[1:]),
            "codebook_size": k,
            "bits_per_image": grid_bits,
            "id_entropy_bits_per_image": id_entropy_bits(ids, k),
            "psnr_db": float(np.mean(vq)),
            "n_beating_own_thumb32": int(sum(v > t for v, t in zip(vq, thumbs))),
        },
        "thumb32_psnr_db": float(np.mean(thumbs)),
        "uint8_input_psnr_db": float(np.mean([psnr(u.astype(np.float64) / 255, r) for u, r in zip(u8s, refs)])),
        "encoders": {"pillow": PIL.__version__, "libjpeg": features.version("jpg"),
                     "libwebp": features.version("webp"), "libavif": features.version("avif")},
        "codecs": {},
    }
    with ProcessPoolExecutor(max_workers=workers) as pool:
        job = partial(_one_image, codecs=codecs, grid_bits=grid_bits, targets=targets)
        per = list(pool.map(job, u8s, refs, thumbs))
    for codec in codecs:
        row: dict[str, Any] = {"at_budget": {}, "bits_to_reach": {}}
        for f in BUDGET_FACTORS:
            # Means over the photos the codec fits at all (its lowest quality can overshoot a small budget):
            # the VQ's and the thumbnail's PSNR on those same photos stand beside it, so subsets compare fairly.
            idx = [i for i, p in enumerate(per) if p[codec]["fits"][f] is not None]
            fit = [per[i][codec]["fits"][f] for i in idx]
            row["at_budget"][f"{f:g}x"] = {
                "budget_bits": f * grid_bits,
                "n_images_fitting": len(idx),
                "psnr_db": float(np.mean([r[2] for r in fit])) if fit else None,
                "vq_psnr_db_same_images": float(np.mean([vq[i] for i in idx])) if idx else None,
                "thumb32_psnr_db_same_images": float(np.mean([thumbs[i] for i in idx])) if idx else None,
                "mean_payload_bits": float(np.mean([r[1] for r in fit])) if fit else None,
                "mean_quality": float(np.mean([r[0] for r in fit])) if fit else None,
            }
        for t in targets:
            row["bits_to_reach"][f"{t:g}_db"] = _summary([p[codec]["reach"][t] for p in per], grid_bits)
        row["bits_to_reach"]["own_thumb32"] = _summary([p[codec]["reach_thumb32"] for p in per], grid_bits)
        out["codecs"][codec] = row
        print(f"[rate] {codec} at the grid's bits: {json.dumps(row['at_budget']['1x'])}", flush=True)
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    ap.add_argument("--bundle", type=Path, required=True, help="model folder (manifest.json + ONNX graphs)")
    ap.add_argument("--data", type=Path, required=True, help="dataset folder with photos.jsonl")
    ap.add_argument("--data-v2", type=Path, default=None, help="second dataset folder (held-out photos of both)")
    ap.add_argument("--codecs", nargs="+", default=list(CODECS), choices=list(CODECS))
    ap.add_argument("--targets", nargs="+", type=float, default=[24.5], help="PSNR targets in dB (default 24.5)")
    ap.add_argument("--limit", type=int, default=None, help="first N held-out photos only")
    ap.add_argument("--workers", type=int, default=2, help="processes encoding photos in parallel (default 2)")
    ap.add_argument("--out", type=Path, default=None, help="write the JSON here (stdout otherwise)")
    a = ap.parse_args(argv)
    res = measure(a.bundle, a.data, a.data_v2, a.codecs, a.targets, a.limit, a.workers)
    text = json.dumps(res, indent=1)
    if a.out:
        a.out.write_text(text + "\n")
    else:
        print(text)


if __name__ == "__main__":
    main()
