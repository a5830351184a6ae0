"""Build the PNG corpus that pins the ``official_toklip`` preprocessing to torchvision, byte for byte.

For each case it writes ``<name>.png`` and ``<name>.rgb``: the uint8 [S, S, 3] picture torchvision's transform
(``toklip.tv_reference``, TokLIP's Resize + CenterCrop + convert('RGB')) makes from that file, decoded by Pillow
(with EXIF orientation applied, as the app does). A few cases also get ``<name>.f32``: the normalised float32
tensor. ``index.json`` lists them with the Pillow mode, size and versions. src/lib/officialPreprocess.test.ts
decodes the PNGs as the app does and must match every byte.

Cases: photographs from the Debian wallpaper packages the training data uses (resized to many shapes), and
synthetic edge cases: tall, wide, smaller than S, exactly S, odd crop margins, 1×1, 4000 px, every PNG colour
type and bit depth Pillow reads (1/2/4/8-bit grey, palette with and without tRNS, grey/RGB tRNS, LA, RGBA with
partial alpha, 16-bit), and EXIF-rotated files. Seeded: the same machine gives the same bytes.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import PIL
from PIL import Image

from .preprocess import load_image, pillow_pass_order

DEFAULT_OUT = Path(__file__).resolve().parents[1] / ".cache" / "preprocess-corpus"
PHOTO_PACKAGES = ("mate-backgrounds", "lomiri-wallpapers-20.04", "lomiri-wallpapers-16.04",
                  "plasma-workspace-wallpapers", "gcompris-qt-data")
PHOTO_SHAPES = [(640, 480), (301, 200), (97, 61), (1024, 683), (480, 640), (513, 300), (300, 513), (777, 555),
                (383, 384), (257, 256), (1280, 720), (199, 401), (2000, 1333), (4000, 2667), (520, 1250)]


@dataclass
class Case:
    name: str
    size: int
    make: Callable[[Path], None]  # writes the PNG
    tensor: bool = False
    exact: bool = True


def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def _smooth_noise(w: int, h: int, seed: int, channels: int = 3) -> np.ndarray:
    """A gradient with texture: smooth enough to compress, busy enough that resampling matters everywhere."""
    r = _rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    base = np.stack([(x * (c + 1) * 7 + y * (3 - c) * 5) % 256 for c in range(channels)], axis=-1)
    noise = r.integers(-40, 41, size=(h, w, channels))
    return np.clip(base + noise, 0, 255).astype(np.uint8)


def _save(arr: np.ndarray, mode: str, **kw: object) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        Image.fromarray(arr, mode).save(path, **kw)

    return write


def _save_image(make_img: Callable[[], Image.Image], **kw: object) -> Callable[[Path], None]:
    return lambda path: make_img().save(path, **kw)


def _raw_png(w: int, h: int, colour_type: int, depth: int, rows: list[bytes], extra: list[tuple[bytes, bytes]] = ()
             ) -> Callable[[Path], None]:
    """A PNG written chunk by chunk, for bit depths Pillow does not write (16-bit colour, 2/4-bit grey)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    def write(path: Path) -> None:
        ihdr = struct.pack(">IIBBBBB", w, h, depth, colour_type, 0, 0, 0)
        body = zlib.compress(b"".join(b"\x00" + r for r in rows))
        data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
        for kind, payload in extra:
            data += chunk(kind, payload)
        path.write_bytes(data + chunk(b"IDAT", body) + chunk(b"IEND", b""))

    return write


def _packed_rows(values: np.ndarray, depth: int) -> list[bytes]:
    per = 8 // depth
    rows = []
    for row in values:
        padded = np.concatenate([row, np.zeros((-len(row)) % per, dtype=row.dtype)])
        packed = np.zeros(len(padded) // per, dtype=np.uint16)
        for i in range(per):
            packed = (packed << depth) | padded[i::per]
        rows.append(packed.astype(np.uint8).tobytes())
    return rows


def synthetic_cases() -> list[Case]:
    c: list[Case] = []
    rgb = lambda w, h, s: _save(_smooth_noise(w, h, s), "RGB")  # noqa: E731
    for name, (w, h), size in [
        ("rgb-1x1", (1, 1), 256), ("rgb-2x3", (2, 3), 256), ("rgb-3x3", (3, 3), 384), ("rgb-17x5", (17, 5), 256),
        ("rgb-31x31", (31, 31), 256), ("tall-5x300", (5, 300), 256), ("wide-4000x30", (4000, 30), 256),
        ("exact-256", (256, 256), 256), ("exact-384", (384, 384), 384), ("short-256-400", (256, 400), 256),
        ("short-400-256", (400, 256), 256), ("margin1-256x257", (256, 257), 256), ("margin3-259x256", (259, 256), 256),
        ("odd-301x200", (301, 200), 256), ("odd-97x61", (97, 61), 256), ("odd-61x97", (61, 97), 384),
        ("small-255x255", (255, 255), 256), ("big-3000x4000", (3000, 4000), 256),
        # Tall and shrinking height: Pillow 13 runs the vertical pass first here (h - oh > 2 (w - ow)).
        ("vfirst-600x1500", (600, 1500), 256), ("vfirst-199x401-to64", (199, 401), 64),
        ("vfirst-1100x2300", (1100, 2300), 384),
    ]:
        c.append(Case(name, size, rgb(w, h, len(c) + 1), tensor=name in ("odd-301x200", "exact-384")))

    r = _rng(101)
    a = _smooth_noise(300, 211, 7, 4)
    a[..., 3] = r.choice([0, 1, 2, 60, 128, 200, 254, 255], size=a.shape[:2])
    a[:40, :, 3] = 0  # a fully transparent band with colour under it
    c.append(Case("rgba-partial-300x211", 256, _save(a, "RGBA"), tensor=True))
    a1 = np.array([[[200, 100, 50, 77]]], dtype=np.uint8)
    c.append(Case("rgba-1x1", 256, _save(a1, "RGBA")))
    tall = _smooth_noise(300, 900, 19, 4)
    tall[..., 3] = r.choice([0, 3, 90, 255], size=tall.shape[:2])
    c.append(Case("rgba-vfirst-300x900", 256, _save(tall, "RGBA")))
    la = np.stack([_smooth_noise(123, 77, 8, 1)[..., 0], r.integers(0, 256, (77, 123))], -1).astype(np.uint8)
    c.append(Case("la-123x77", 256, _save(la, "LA")))
    c.append(Case("l-150x99", 256, _save(_smooth_noise(150, 99, 9, 1)[..., 0], "L")))
    c.append(Case("one-64x40", 256, _save_image(lambda: Image.fromarray(_smooth_noise(64, 40, 10, 1)[..., 0], "L")
                                                 .convert("1"))))
    grey2 = r.integers(0, 4, (33, 45)).astype(np.uint8)
    c.append(Case("l2bit-45x33", 256, _raw_png(45, 33, 0, 2, _packed_rows(grey2, 2))))
    grey4 = r.integers(0, 16, (41, 29)).astype(np.uint8)
    c.append(Case("l4bit-29x41", 256, _raw_png(29, 41, 0, 4, _packed_rows(grey4, 4))))

    def palette_img(w: int, h: int, seed: int, colours: int) -> Image.Image:
        return Image.fromarray(_smooth_noise(w, h, seed), "RGB").quantize(colours, dither=Image.Dither.NONE)

    c.append(Case("p8-120x90", 256, _save_image(lambda: palette_img(120, 90, 11, 200))))
    c.append(Case("p4-77x130", 256, _save_image(lambda: palette_img(77, 130, 12, 16), bits=4)))

    def p_trns() -> Image.Image:
        im = palette_img(140, 100, 13, 64)
        im.info["transparency"] = bytes([0, 128] + [255] * 62)
        return im

    c.append(Case("p8-trns-140x100", 256, lambda path: p_trns().save(path, transparency=p_trns().info["transparency"])))
    c.append(Case("rgb-trns-70x50", 256, _save(_smooth_noise(70, 50, 14), "RGB", transparency=(10, 20, 30))))
    c.append(Case("l-trns-50x70", 256, _save(_smooth_noise(50, 70, 15, 1)[..., 0], "L", transparency=128)))

    v16 = (_smooth_noise(90, 70, 16).astype(np.uint16) * 257 + r.integers(0, 256, (70, 90, 3))).astype(">u2")
    c.append(Case("rgb16-90x70", 256, _raw_png(90, 70, 2, 16, [row.tobytes() for row in v16])))
    v16a = (_smooth_noise(80, 60, 17, 4).astype(np.uint16) * 257).astype(">u2")
    c.append(Case("rgba16-80x60", 256, _raw_png(80, 60, 6, 16, [row.tobytes() for row in v16a])))
    g16 = (_smooth_noise(40, 30, 18, 1)[..., 0].astype(np.uint16) * 3).astype(">u2")
    # Pillow reads 16-bit grey as "I;16" and clips at 255 on convert('RGB'): the app says it can't match this one.
    c.append(Case("l16-40x30", 256, _raw_png(40, 30, 0, 16, [row.tobytes() for row in g16]), exact=False))

    for orientation in (3, 6, 8):
        def exif_png(path: Path, o: int = orientation) -> None:
            im = Image.fromarray(_smooth_noise(160, 90, 20 + o), "RGB")
            exif = Image.Exif()
            exif[0x0112] = o
            im.save(path, exif=exif)

        c.append(Case(f"exif{orientation}-160x90", 256, exif_png))
    return c


def photo_cases(limit: int = len(PHOTO_SHAPES)) -> list[Case]:
    """Debian photographs at many shapes. A missing package is skipped loudly (the synthetic cases still run)."""
    from .data.sources import dpkg_files, is_installed  # noqa: PLC0415

    paths: list[str] = []
    for pkg in PHOTO_PACKAGES:
        if not is_installed(pkg):
            print(f"WARNING: Debian package {pkg} is not installed; its photos are left out of the corpus",
                  file=sys.stderr)
            continue
        files = sorted(p for p in dpkg_files(pkg) if p.lower().endswith((".jpg", ".jpeg")))
        paths += files[:: max(1, len(files) // 4)][:4]
    cases = []
    for i, (path, (w, h)) in enumerate(zip(paths, PHOTO_SHAPES[:limit])):
        def write(out: Path, src: str = path, shape: tuple[int, int] = (w, h)) -> None:
            with Image.open(src) as im:
                im.convert("RGB").resize(shape, Image.Resampling.LANCZOS).save(out)

        cases.append(Case(f"photo{i:02d}-{w}x{h}", 384 if i % 5 == 4 else 256, write, tensor=i == 0))
    return cases


JPEG_VARIANTS: list[tuple[tuple[int, int], dict[str, object], str]] = [
    ((640, 480), {"quality": 85}, "RGB"), ((800, 533), {"quality": 95, "subsampling": 0}, "RGB"),
    ((512, 768), {"quality": 75, "progressive": True}, "RGB"), ((301, 200), {"quality": 90}, "RGB"),
    ((1024, 683), {"quality": 60}, "RGB"), ((480, 640), {"quality": 85}, "L"),
    ((777, 555), {"quality": 92, "subsampling": 1}, "RGB"), ((257, 256), {"quality": 80}, "RGB"),
    ((1280, 720), {"quality": 88, "optimize": True}, "RGB"), ((199, 401), {"quality": 70}, "RGB"),
]


def jpeg_cases(out: Path) -> list[dict]:
    """Ten JPEGs made from Debian photos (4:2:0/4:2:2/4:4:4, progressive, greyscale, quality 60–95) and Pillow's
    decode of each (``<name>.pillow.rgb``, uint8 RGB at full size): the browser decodes JPEGs itself, so the
    e2e suite measures how far its pixels and ids are from Pillow's."""
    from .data.sources import dpkg_files, is_installed  # noqa: PLC0415

    sources = []
    for pkg in PHOTO_PACKAGES:
        if is_installed(pkg):
            files = sorted(p for p in dpkg_files(pkg) if p.lower().endswith((".jpg", ".jpeg")))
            sources += files[1 :: max(1, len(files) // 3)][:3]
    entries = []
    for i, (src, (shape, opts, mode)) in enumerate(zip(sources, JPEG_VARIANTS)):
        name = f"jpeg{i:02d}-{shape[0]}x{shape[1]}"
        with Image.open(src) as im:
            im.convert("RGB").resize(shape, Image.Resampling.LANCZOS).convert(mode).save(out / f"{name}.jpg", **opts)
        dec = load_image(out / f"{name}.jpg").convert("RGB")
        (out / f"{name}.pillow.rgb").write_bytes(np.asarray(dec).tobytes())
        entries.append({"name": name, "jpeg": f"{name}.jpg", "pillow_rgb": f"{name}.pillow.rgb", "width": dec.size[0],
                        "height": dec.size[1], "options": {k: v for k, v in opts.items()}, "mode": mode})
    if len(entries) < len(JPEG_VARIANTS):
        print(f"WARNING: only {len(entries)} JPEGs (Debian photo packages missing)", file=sys.stderr)
    return entries


def build(out: Path, photos: bool = True) -> dict:
    from . import tv_reference  # noqa: PLC0415  (torch + torchvision: test-time only)

    out.mkdir(parents=True, exist_ok=True)
    cases = synthetic_cases() + (photo_cases() if photos else [])
    index = []
    for case in cases:
        png = out / f"{case.name}.png"
        case.make(png)
        img = load_image(png)
        rgb = tv_reference.official_rgb(img, case.size)
        assert rgb.shape == (case.size, case.size, 3) and rgb.dtype == np.uint8
        (out / f"{case.name}.rgb").write_bytes(rgb.tobytes())
        entry = {"name": case.name, "png": png.name, "rgb": f"{case.name}.rgb", "size": case.size,
                 "width": img.size[0], "height": img.size[1], "pillow_mode": img.mode, "exact": case.exact}
        if case.tensor:
            t = tv_reference.official_tensor(img, case.size)
            (out / f"{case.name}.f32").write_bytes(t.astype("<f4").tobytes())
            entry["tensor"] = f"{case.name}.f32"
        index.append(entry)
    # torchvision calls the installed Pillow, so the vectors follow its pass order (pillow13 from Pillow 13 on).
    meta = {"pillow": PIL.__version__, "torchvision": _tv_version(), "pass_order": pillow_pass_order(),
            "mean": [0.5] * 3, "std": [0.5] * 3, "cases": index, "jpegs": jpeg_cases(out) if photos else []}
    (out / "index.json").write_text(json.dumps(meta, indent=1) + "\n")
    return meta


def _tv_version() -> str:
    from importlib.metadata import version  # noqa: PLC0415

    return version("torchvision")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output folder (default {DEFAULT_OUT})")
    ap.add_argument("--no-photos", action="store_true", help="synthetic cases only (no Debian packages needed)")
    args = ap.parse_args(argv)
    meta = build(args.out, photos=not args.no_photos)
    n = len(meta["cases"])
    print(f"wrote {n} cases to {args.out} (Pillow {meta['pillow']}, torchvision {meta['torchvision']})")


if __name__ == "__main__":
    main()
