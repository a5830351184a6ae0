"""Deterministic dataset builder (CLI): ``python -m toklip.data.build --out models/data``.

Same installed packages -> byte-identical outputs: every listing is sorted, splits come from
SHA-256 of ids/concepts (no RNG), PNGs carry no timestamps, JSON keys have a fixed order, and
nothing depends on processing order (photo dedupe picks its winner by (-area, id)).

Outputs (described in the package docstring): photos/ + photos.jsonl, pairs/ + pairs.jsonl,
sources.json, vocab_captions.txt.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
import warnings
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

import numpy as np
from PIL import Image, ImageOps

from . import sources as S

PHOTO_MAX_SHORT = 320
PHOTO_MIN_SHORT = 160
PAIR_SIZE = 128
PHOTO_VAL_FRACTION = 0.08
CONCEPT_VAL_FRACTION = 0.10
MIN_VAL_CONCEPTS = 150
# Near-duplicate test: the 64-bit average hash is only a cheap pre-filter (sky-over-ground
# scenes collide easily), confirmed by the mean absolute difference of 16x16 grey thumbnails.
# Measured on the real data: true copies differ by < 1 grey level, distinct images by > 25.
PHASH_MAX_DISTANCE = 6
THUMB_MAX_MAD = 6.0
WHITE = (255, 255, 255)

Image.MAX_IMAGE_PIXELS = 64_000_000  # the largest wallpaper is ~20 MP; refuse anything absurd


def log(msg: str) -> None:
    print(msg, flush=True)


def loud(msg: str) -> None:
    bar = "!" * 78
    print(f"\n{bar}\n!!! {msg}\n{bar}\n", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- splits


def stable_unit(key: str) -> float:
    """Uniform [0, 1) from SHA-256: stable across runs, machines and Python hash seeds."""
    return int(hashlib.sha256(key.encode("utf-8")).hexdigest()[:13], 16) / 16**13


def photo_split(photo_id: str) -> str:
    return "val" if stable_unit("photo:" + photo_id) < PHOTO_VAL_FRACTION else "train"


def concept_split(concept: str) -> str:
    return "val" if stable_unit("concept:" + concept) < CONCEPT_VAL_FRACTION else "train"


# --------------------------------------------------------------------------- captions


def _clean(text: str) -> str:
    return " ".join(text.lower().split()).strip(" ,.;:")


def a_an(word: str) -> str:
    return ("an " if word[:1] in "aeiou" else "a ") + word


def captions_for(c: S.PairCandidate) -> list[str]:
    """3-6 distinct lower-case captions from per-kind templates
    (kind = emoji / stamp / photo / painting / drawing)."""
    name = _clean(c.name)
    group = _clean(c.group)
    cat = _clean(c.category)
    kws = [_clean(k) for k in c.keywords if _clean(k) and _clean(k) != name][:3]
    extra = [_clean(e) for e in c.extra_captions]
    with_cat = f"{name}, {cat}" if cat and cat != name else ""
    if c.kind == "emoji":
        cands = [f"an emoji of {name}", name, ", ".join(kws) if len(kws) >= 2 else "",
                 f"{a_an(group)} icon: {name}", f"a picture of {name}"]
    elif c.kind == "stamp":
        cands = [*extra, f"a picture of {name}", name, f"a drawing of {name}", with_cat]
    elif c.kind == "painting":
        cands = [f"a painting of {name}", name, *extra, f"a picture of {name}"]
    elif c.kind == "drawing":
        cands = [f"a drawing of {name}", name, f"a cartoon of {name}", f"a picture of {name}"]
    else:  # photo
        cands = [f"a photo of {name}", name, f"a picture of {name}", with_cat, *extra]
    out: list[str] = []
    for cap in cands + [f"an image of {name}", f"a picture of {name}", name]:
        cap = " ".join(cap.split())
        if cap and cap not in out:
            out.append(cap)
        if len(out) == 6:
            break
    return out if len(out) >= 3 else (out + [f"an illustration of {name}"])[:3]


# --------------------------------------------------------------------------- image helpers


def save_png(img: Image.Image, path: Path) -> None:
    # Fixed compression settings and no metadata chunks -> reproducible bytes.
    img.save(path, format="PNG", compress_level=6, optimize=False)


def alpha_fraction(img: Image.Image) -> float:
    """Share of pixels that are not (nearly) opaque."""
    if img.mode not in ("RGBA", "LA", "PA") and "transparency" not in img.info:
        return 0.0
    a = np.asarray(img.convert("RGBA").getchannel("A"))
    return float((a < 250).mean())


def on_white(img: Image.Image) -> Image.Image:
    """RGB copy, alpha composited over white (palette/LA/I;16 images normalised first)."""
    if img.mode == "RGB":
        return img
    rgba = img.convert("RGBA")
    base = Image.new("RGBA", rgba.size, WHITE + (255,))
    base.alpha_composite(rgba)
    return base.convert("RGB")


def colour_richness(img: Image.Image) -> int:
    """Distinct colours of a <=128 px thumbnail; for (near-)grayscale images the number of grey
    levels scaled to the colour threshold, so black-and-white photos are not mistaken for flat art."""
    thumb = img.copy()
    thumb.thumbnail((128, 128), Image.Resampling.BOX)
    a = np.asarray(thumb, dtype=np.int16)
    if float((a.max(axis=2) - a.min(axis=2)).mean()) < 2.0:
        levels = len(np.unique(np.asarray(thumb.convert("L"))))
        return levels * MIN_COLOURS // GREY_LEVELS
    return len(thumb.getcolors(1 << 15) or ())


def flat_fraction(img: Image.Image) -> float:
    """Share of pixels whose 3x3 second-difference (Laplacian-like) response is exactly zero.
    Photos carry sensor noise/texture almost everywhere; vector art and gradients are exactly
    flat over large areas. Measured on a <=512 px copy so the value is scale-stable."""
    small = img
    if min(img.size) > 512:
        f = max(1, min(img.size) // 512)
        small = img.reduce(f)
    g = np.asarray(small.convert("L"), dtype=np.int32)
    if g.shape[0] < 3 or g.shape[1] < 3:
        return 1.0
    k = (g[:-2, :-2] - 2 * g[:-2, 1:-1] + g[:-2, 2:] - 2 * g[1:-1, :-2] + 4 * g[1:-1, 1:-1]
         - 2 * g[1:-1, 2:] + g[2:, :-2] - 2 * g[2:, 1:-1] + g[2:, 2:])
    return float((k == 0).mean())


# Flatness limits per container: lossless PNG keeps vector art exactly flat (strict limit);
# JPEG adds ringing so vector art scores lower; lossy WebP (GCompris) smooths real photos into
# flat areas too, so no flatness test there (colour count + opacity suffice for GCompris).
FLAT_LIMIT = {"png": 0.05, "jpeg": 0.30}
MIN_COLOURS = 256  # photos score thousands; icons, textures and gradients a few hundred at most
GREY_LEVELS = 96  # grayscale equivalent of MIN_COLOURS


# Curated natural textures (game terrain tiles, rendered mountain skyboxes, planetary maps; chosen by
# file name in sources_v2._TEXTURE_KEEP) have smooth sky, snow or ocean areas that are exactly flat over
# up to 42% of their pixels (measured on the etr/colobot/xplanet files kept), far above the photo limits;
# synthetic gradients and fills score >= 0.9. The texture limit sits between the two.
TEXTURE_FLAT_LIMIT = 0.5


def photo_reject_reason(img: Image.Image, fmt: str, texture: bool = False) -> str | None:
    """None if the decoded image looks like a usable photograph, else a short reason.
    ``texture``: the candidate is a curated natural texture; only the flatness limit differs."""
    if min(img.size) < PHOTO_MIN_SHORT:
        return "short side < 160"
    if alpha_fraction(img) > 0.02:
        return "transparent (sprite/cut-out)"
    rgb = on_white(img)
    if colour_richness(rgb) < MIN_COLOURS:
        return "few colours"
    limit = TEXTURE_FLAT_LIMIT if texture else FLAT_LIMIT.get(fmt)
    if limit is not None and flat_fraction(rgb) > limit:
        return "flat/vector-looking"
    return None


def downscale_short(img: Image.Image, short: int = PHOTO_MAX_SHORT) -> Image.Image:
    w, h = img.size
    if min(w, h) <= short:
        return img
    if w <= h:
        size = (short, max(1, round(h * short / w)))
    else:
        size = (max(1, round(w * short / h)), short)
    return img.resize(size, Image.Resampling.BICUBIC, reducing_gap=None)


def ahash(img: Image.Image) -> int:
    """64-bit average hash of an 8x8 grayscale thumbnail."""
    g = np.asarray(img.convert("L").resize((8, 8), Image.Resampling.BOX), dtype=np.float64)
    bits = (g > g.mean()).flatten()
    return int("".join("1" if b else "0" for b in bits), 2)


def grey_thumb(img: Image.Image) -> np.ndarray:
    return np.asarray(img.convert("L").resize((16, 16), Image.Resampling.BOX), dtype=np.float32)


def near_duplicate(a: "PhotoResult", b: "PhotoResult") -> bool:
    if bin(a.phash ^ b.phash).count("1") > PHASH_MAX_DISTANCE:
        return False
    return float(np.abs(a.thumb - b.thumb).mean()) <= THUMB_MAX_MAD


def square_on_white(img: Image.Image, size: int = PAIR_SIZE) -> Image.Image | None:
    """Crop to the alpha bbox, pad to a centred square, composite on white, resize (BICUBIC).
    Returns None when nothing is visible."""
    rgba = img.convert("RGBA")
    bbox = rgba.getchannel("A").getbbox()
    if not bbox:
        return None
    rgba = rgba.crop(bbox)
    w, h = rgba.size
    side = max(w, h)
    canvas = Image.new("RGBA", (side, side), WHITE + (255,))
    canvas.alpha_composite(rgba, ((side - w) // 2, (side - h) // 2))
    rgb = canvas.convert("RGB")
    if side != size:
        rgb = rgb.resize((size, size), Image.Resampling.BICUBIC, reducing_gap=None)
    return rgb


def load_image(open_fn: Callable[[], Image.Image], fmt: str) -> Image.Image:
    img = open_fn()
    if fmt == "jpeg":
        img = ImageOps.exif_transpose(img) or img  # honour camera orientation like the app does
    img.load()
    return img


# --------------------------------------------------------------------------- photos


@dataclass
class PhotoResult:
    cand: S.PhotoCandidate
    width: int
    height: int
    area: int
    exact: str
    phash: int
    thumb: np.ndarray


def build_photos(cands: list[S.PhotoCandidate], out: Path) -> tuple[list[dict], dict]:
    photo_dir = out / "photos"
    photo_dir.mkdir(parents=True, exist_ok=True)
    rejected: Counter[str] = Counter()
    per_source_rej: dict[str, Counter[str]] = defaultdict(Counter)
    results: list[PhotoResult] = []
    t0 = time.time()
    for i, c in enumerate(sorted(cands, key=lambda c: c.id)):
        try:
            img = load_image(c.open, c.fmt)
        except Exception as exc:  # a corrupt file must not abort the whole build
            reason = f"undecodable ({type(exc).__name__})"
            rejected[reason] += 1
            per_source_rej[c.source][reason] += 1
            continue
        reason = photo_reject_reason(img, c.fmt, c.texture)
        if reason:
            rejected[reason] += 1
            per_source_rej[c.source][reason] += 1
            continue
        small = downscale_short(on_white(img))
        save_png(small, photo_dir / f"{c.id}.png")
        results.append(PhotoResult(c, small.width, small.height, img.width * img.height,
                                   hashlib.sha256(small.tobytes()).hexdigest(), ahash(small),
                                   grey_thumb(small)))
        img.close()
        if (i + 1) % 100 == 0:
            log(f"  photos: {i + 1}/{len(cands)} candidates, {len(results)} kept ({time.time() - t0:.0f}s)")

    # Dedupe independent of processing order: best (largest original) first, then by id.
    kept: list[PhotoResult] = []
    dupes: list[tuple[str, str]] = []
    seen_exact: dict[str, str] = {}
    for r in sorted(results, key=lambda r: (-r.area, r.cand.id)):
        twin = seen_exact.get(r.exact) or next(
            (k.cand.id for k in kept if near_duplicate(k, r)), None)
        if twin:
            dupes.append((r.cand.id, twin))
            (photo_dir / f"{r.cand.id}.png").unlink()
            continue
        seen_exact[r.exact] = r.cand.id
        kept.append(r)
    for dup, twin in sorted(dupes):
        log(f"  photos: duplicate {dup} -> kept {twin}")
    records = [
        {"id": r.cand.id, "file": f"photos/{r.cand.id}.png", "source": r.cand.source,
         "package": r.cand.package, "orig_path": r.cand.orig_path, "width": r.width,
         "height": r.height, "split": photo_split(r.cand.id)}
        for r in sorted(kept, key=lambda r: r.cand.id)
    ]
    stats = {"rejected": dict(sorted(rejected.items())), "duplicates": len(dupes),
             "rejected_by_source": {k: dict(sorted(v.items())) for k, v in sorted(per_source_rej.items())},
             "paths": {r.cand.id: r.cand.copyright_path for r in kept}}
    log(f"  photos: kept {len(records)}, duplicates {len(dupes)}, rejected {sum(rejected.values())} "
        f"{dict(rejected)} ({time.time() - t0:.0f}s)")
    return records, stats


# --------------------------------------------------------------------------- pairs


def build_pairs(cands: list[S.PairCandidate], out: Path) -> tuple[list[dict], dict]:
    pair_dir = out / "pairs"
    pair_dir.mkdir(parents=True, exist_ok=True)
    records: list[dict] = []
    digests: dict[str, list[tuple[float, str]]] = defaultdict(list)
    skipped: Counter[str] = Counter()
    t0 = time.time()
    cands = sorted(cands, key=lambda c: c.id)
    if len({c.id for c in cands}) != len(cands):
        raise RuntimeError("duplicate pair ids")
    for i, c in enumerate(cands):
        try:
            sq = square_on_white(c.open())
        except Exception as exc:
            skipped[f"undecodable ({type(exc).__name__})"] += 1
            continue
        if sq is None:
            skipped[f"{c.source}: empty render"] += 1
            continue
        digests[hashlib.sha256(sq.tobytes()).hexdigest()].append((c.rank, c.id))
        save_png(sq, pair_dir / f"{c.id}.png")
        records.append({
            "id": c.id, "file": f"pairs/{c.id}.png", "source": c.source, "concept": c.concept,
            "captions": captions_for(c), "group": c.group, "subgroup": c.subgroup,
            "split": concept_split(c.concept), "eval_rep": False,
        })
        if (i + 1) % 500 == 0:
            log(f"  pairs: {i + 1}/{len(cands)} ({time.time() - t0:.0f}s)")
    # Pixel-identical images (a stamp shipped twice, flags shared by two regions): keep the
    # lowest (rank, id) so the choice does not depend on processing order.
    losers: set[str] = set()
    for group in digests.values():
        for _, pid in sorted(group)[1:]:
            losers.add(pid)
            skipped[f"{pid.split('-')[0]}: identical image"] += 1
            (pair_dir / f"{pid}.png").unlink()
    records = [r for r in records if r["id"] not in losers]
    # One representative per val concept (first by id) so retrieval eval is over distinct concepts.
    reps: set[str] = set()
    for r in records:
        if r["split"] == "val" and r["concept"] not in reps:
            reps.add(r["concept"])
            r["eval_rep"] = True
    by_id = {c.id: c for c in cands}
    stats = {"skipped": dict(sorted(skipped.items())), "val_concepts": len(reps),
             "concepts": len({r["concept"] for r in records}),
             "paths": {r["id"]: by_id[r["id"]].copyright_path for r in records}}
    log(f"  pairs: kept {len(records)}, skipped {dict(skipped)}, concepts {stats['concepts']}, "
        f"val concepts {len(reps)} ({time.time() - t0:.0f}s)")
    return records, stats


# --------------------------------------------------------------------------- packages


def install_packages(pkgs: list[str]) -> list[tuple[str, str]]:
    """apt-get install the missing packages; returns (package, reason) for those still missing."""
    missing = [p for p in pkgs if not S.is_installed(p)]
    if not missing:
        log("install: all packages already installed")
        return []
    prefix = [] if os.geteuid() == 0 else (["sudo", "-n"] if shutil.which("sudo") else [])

    def apt(*args: str) -> bool:
        cmd = prefix + ["apt-get", *args]
        log("install: " + " ".join(cmd))
        return subprocess.run(cmd, check=False).returncode == 0

    if not apt("install", "-y", "--no-install-recommends", *missing):
        apt("update")  # stale lists are the usual cause; then try one by one
        for p in missing:
            apt("install", "-y", "--no-install-recommends", p)
    failed = [(p, "apt-get install failed (not available on this release?)")
              for p in missing if not S.is_installed(p)]
    for p, why in failed:
        loud(f"package {p} could not be installed: {why}. Continuing without it.")
    return failed


SOURCE_INFO = {
    "gcompris": "GCompris educational suite (https://gcompris.net)",
    "lomiri": "Lomiri/Ubuntu Touch wallpapers",
    "mate": "MATE desktop backgrounds",
    "plasma": "KDE Plasma wallpapers",
    # TokLIP-Tiny v2 natural textures (sources_v2.TEXTURE_PACKAGES)
    "scorched3d": "Scorched 3D landscape textures",
    "etr": "Extreme Tux Racer terrain textures and skyboxes",
    "colobot": "Colobot: Gold Edition terrain and sky textures",
    "xplanet": "xplanet planetary maps",
    "emoji": "Noto Color Emoji (Google); names and keywords from Unicode emoji-test.txt and CLDR annotations",
    "tuxpaint": "Tux Paint default stamps",
}


def describe_source(name: str, package: str, output: str, ids: list[str], paths: dict[str, str],
                    splits: Counter[str], extra: dict | None = None) -> dict:
    """Licence and attribution for the items actually used, matched file by file against the
    package's DEP-5 copyright file (the last matching ``Files:`` paragraph wins)."""
    paras, _ = S.read_copyright(package)
    groups: dict[tuple[str, str], list[str]] = defaultdict(list)
    for i in ids:
        para = S.match_copyright(paras, paths.get(i, "")) if paras else None
        key = (para.copyright, S.spdx(para.license)) if para else ("see copyright file", "unknown")
        groups[key].append(i)
    licences = sorted({lic for _, lic in groups} - {"unknown"}) or S.package_licenses(package)
    info = SOURCE_INFO.get(name.split("-")[0], name)
    entry = {
        "name": name, "output": output, "package": package, "version": S.pkg_version(package),
        "items": len(ids), "splits": dict(sorted(splits.items())), "license": licences,
        "attribution": (f"{info}; from Debian package {package} {S.pkg_version(package)}. "
                        f"Copyright holders and licences per file are listed under 'files'; "
                        f"full licence texts in /usr/share/doc/{package}/copyright."),
        "files": [{"copyright": c, "license": lic, "count": len(v), "ids": v}
                  for (c, lic), v in sorted(groups.items())],
    }
    if extra:
        entry.update(extra)
    return entry


def data_package_entry(package: str, used_for: str, items: int) -> dict:
    return {"name": package, "output": "pairs (text)", "package": package, "version": S.pkg_version(package),
            "items": items, "license": S.package_licenses(package),
            "attribution": f"{used_for} © Unicode, Inc., used under the Unicode License; "
                           f"see /usr/share/doc/{package}/copyright."}


# --------------------------------------------------------------------------- main


def collect(limit: int | None, skipped: list[dict]) -> tuple[list[S.PhotoCandidate], list[S.PairCandidate]]:
    photos: list[S.PhotoCandidate] = []
    pairs: list[S.PairCandidate] = []

    def take(label: str, pkgs: list[str], fn: Callable[[], list]) -> list:
        try:
            items = sorted(fn(), key=lambda c: c.id)
        except S.SourceUnavailable as exc:
            loud(f"source {label} skipped: {exc}")
            skipped.append({"source": label, "packages": pkgs, "reason": str(exc)})
            return []
        log(f"  {label}: {len(items)} candidates" + (f" (limited to {limit})" if limit else ""))
        return items[:limit] if limit else items

    try:
        index: S.GComprisIndex | None = S.GComprisIndex()
    except S.SourceUnavailable as exc:
        index = None
        loud(f"GCompris skipped: {exc}")
        skipped.append({"source": "gcompris", "packages": ["gcompris-qt-data"], "reason": str(exc)})
    if index:
        photos += take("gcompris photos", ["gcompris-qt-data"], lambda: S.gcompris_photos(index))
    photos += take("lomiri 16.04", ["lomiri-wallpapers-16.04"], lambda: S.lomiri_wallpapers("lomiri-wallpapers-16.04"))
    photos += take("lomiri 20.04", ["lomiri-wallpapers-20.04"], lambda: S.lomiri_wallpapers("lomiri-wallpapers-20.04"))
    photos += take("mate", ["mate-backgrounds"], S.mate_backgrounds)
    photos += take("plasma", ["plasma-workspace-wallpapers"], S.plasma_wallpapers)
    pairs += take("emoji", ["fonts-noto-color-emoji", "unicode-data", "unicode-cldr-core"], S.noto_emoji)
    pairs += take("tuxpaint", ["tuxpaint-stamps-default"], S.tuxpaint_stamps)
    if index:
        pairs += take("gcompris pairs", ["gcompris-qt-data"], lambda: S.gcompris_pairs(index))
    return photos, pairs


def clean_outputs(out: Path) -> None:
    """Remove previous outputs so stale files cannot survive (only what this tool writes)."""
    for sub in ("photos", "pairs"):
        d = out / sub
        if d.is_dir():
            for f in d.glob("*.png"):
                f.unlink()
    for name in ("photos.jsonl", "pairs.jsonl", "sources.json", "vocab_captions.txt"):
        (out / name).unlink(missing_ok=True)


def write_jsonl(path: Path, records: Iterable[dict]) -> None:
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        for r in records:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")


def build(out: Path, limit: int | None = None, install: bool = False) -> dict:
    t0 = time.time()
    out.mkdir(parents=True, exist_ok=True)
    clean_outputs(out)
    skipped: list[dict] = []
    if install:
        for pkg, why in install_packages(S.ALL_PACKAGES):
            skipped.append({"source": pkg, "packages": [pkg], "reason": why})
    log("collecting sources ...")
    photo_cands, pair_cands = collect(limit, skipped)

    log(f"photos: processing {len(photo_cands)} candidates ...")
    photos, pstats = build_photos(photo_cands, out)
    write_jsonl(out / "photos.jsonl", photos)

    log(f"pairs: rendering {len(pair_cands)} items ...")
    pairs, qstats = build_pairs(pair_cands, out)
    write_jsonl(out / "pairs.jsonl", pairs)
    with open(out / "vocab_captions.txt", "w", encoding="utf-8", newline="\n") as fh:
        for r in pairs:
            fh.writelines(c + "\n" for c in r["captions"])

    # sources.json
    entries: list[dict] = []
    pkg_of = {c.source: c.package for c in photo_cands}
    for src in sorted({r["source"] for r in photos}):
        rs = [r for r in photos if r["source"] == src]
        extra = {"rejected": pstats["rejected_by_source"].get(src, {})}
        if src == "plasma":
            extra["wallpapers"] = [
                {"id": r["id"], "credit": S.plasma_attribution(r["orig_path"])} for r in rs
            ]
        entries.append(describe_source(src, pkg_of[src], "photos", [r["id"] for r in rs], pstats["paths"],
                                       Counter(r["split"] for r in rs), extra))
    pkg_of = {c.source: c.package for c in pair_cands}
    for src in sorted({r["source"] for r in pairs}):
        rs = [r for r in pairs if r["source"] == src]
        entries.append(describe_source(src, pkg_of[src], "pairs", [r["id"] for r in rs], qstats["paths"],
                                       Counter(r["split"] for r in rs),
                                       {"concepts": len({r["concept"] for r in rs})}))
        if src == "emoji":
            n = len(rs)
            entries.append(data_package_entry("unicode-data", "Emoji names and groups (emoji-test.txt)", n))
            entries.append(data_package_entry("unicode-cldr-core", "Emoji keywords (CLDR annotations)", n))
    debian = Path("/etc/debian_version")
    report = {
        "schema": "toklip-studio/dataset-sources",
        "schema_version": 1,
        "debian_version": debian.read_text().strip() if debian.is_file() else None,
        "options": {"limit": limit},
        "counts": {
            "photos": dict(sorted(Counter(r["split"] for r in photos).items())),
            "pairs": dict(sorted(Counter(r["split"] for r in pairs).items())),
            "pair_concepts": qstats["concepts"], "val_concepts": qstats["val_concepts"],
            "photo_duplicates_removed": pstats["duplicates"], "photos_rejected": pstats["rejected"],
            "pairs_skipped": qstats["skipped"],
        },
        "sources": entries,
        "skipped": skipped,
    }
    (out / "sources.json").write_text(json.dumps(report, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")

    if qstats["val_concepts"] < MIN_VAL_CONCEPTS:
        msg = f"only {qstats['val_concepts']} val concepts (< {MIN_VAL_CONCEPTS})"
        (log if limit else loud)(("note: " if limit else "") + msg + (" - expected with --limit" if limit else ""))
    log(f"done in {time.time() - t0:.0f}s: {len(photos)} photos, {len(pairs)} pairs -> {out}")
    return report


def main(argv: list[str] | None = None) -> int:
    # --profile v2 hands everything else to the v2 builder (its own options and output folder), so
    # the default run and its outputs stay exactly what the committed model was built from.
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--profile", choices=("v1", "v2"), default="v1")
    known, rest = pre.parse_known_args(argv)
    if known.profile == "v2":
        from .build_v2 import main as main_v2

        return main_v2(rest)
    ap = argparse.ArgumentParser(prog="python -m toklip.data.build", description=__doc__.split("\n")[0])
    ap.add_argument("--profile", choices=("v1", "v2"), default="v1",
                    help="v1 (default): the dataset of the committed model; v2: only the TokLIP-Tiny v2 "
                         "additions, into their own folder (python -m toklip.data.build_v2 --help)")
    ap.add_argument("--out", type=Path, required=True, help="output folder, e.g. models/data")
    ap.add_argument("--limit", type=int, default=None, help="at most N candidates per source (quick runs)")
    ap.add_argument("--install", action="store_true",
                    help="apt-get install missing Debian packages first (needs root or sudo)")
    args = ap.parse_args(argv)
    if args.limit is not None and args.limit <= 0:
        ap.error("--limit must be positive")
    warnings.simplefilter("ignore", Image.DecompressionBombWarning)
    build(args.out, args.limit, args.install)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
