"""TokLIP-Tiny v2 additions to the dataset (issue 11): ``python -m toklip.data.build_v2 --out DIR``
(or ``python -m toklip.data.build --profile v2 --out DIR``).

Writes only the *new* sources, into their own folder, in the v1 layout so the v1 loaders read it
(``toklip.dataset.load_pairs/load_photos``) and the recipe can combine it with the v1 folder:

* ``pairs/<id>.png`` + ``pairs.jsonl``: every SVG item of :mod:`.sources_v2` (emoji styles, icon
  sets, flags) rendered once with :func:`.sources_v2.rasterise` (``--size``, ``--padding``, on white),
  v1 fields plus ``style``, ``kind``, ``license``. ``split`` comes from v1's ``concept_split``, so a
  concept is train or val in every style and in v1 alike; items of the held-out style
  (``--heldout-style``) get ``split: "heldout_style"``, which neither v1 loader path selects.
* ``photos/<id>.png`` + ``photos.jsonl``: natural textures from Debian game packages
  (:func:`.sources_v2.debian_textures`), filtered, downscaled and deduplicated by v1's ``build_photos``.
* ``sources.json``: per source package, version, licence, attribution, counts; skipped sources.
* ``vocab_captions.txt``.

Deterministic like v1 (sorted inputs, hashed splits, no RNG). The default ``toklip.data.build`` run
does not touch any of this.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing
import os
import sys
import time
import warnings
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from PIL import Image

from . import build as B
from . import sources as S
from . import sources_v2 as V
from .wordnet import WordNet, wordnet_captions

DEFAULT_HELDOUT_STYLE = "openmoji"
MAX_CAPTIONS = 8


def captions_v2(c: V.SvgCandidate, wn: WordNet | None = None) -> list[str]:
    """3-8 distinct lower-case captions per kind, then WordNet synonyms/broader terms for names
    WordNet knows as a whole. No head-noun fallback: emoji and icon names are not ordinary noun
    phrases ('dog face' -> 'a body part', 'arrow down' -> 'down' -> 'a feather' were measured), and
    flags would all become 'an emblem'."""
    name = B._clean(c.name)
    kws = [B._clean(k) for k in c.keywords if B._clean(k) and B._clean(k) != name][:3]
    if c.kind == "emoji":
        cands = [f"an emoji of {name}", name, ", ".join(kws) if len(kws) >= 2 else "", f"a picture of {name}"]
    elif c.kind == "flag":
        cands = [name, f"the {name}", f"a picture of the {name}", f"{name}, {B._clean(c.subgroup)}"
                 if c.subgroup else ""]
    else:  # icon
        cands = [f"an icon of {name}", name, f"{B.a_an(name)} icon", ", ".join(kws) if len(kws) >= 2 else "",
                 f"a pictogram of {name}"]
    if wn is not None and c.kind != "flag":
        info = wn.lookup(name, head_noun=False)
        if info is not None:
            cands += wordnet_captions(info)
    ref = f"the {name}" if c.kind == "flag" else name  # "a picture of the flag of france"
    out: list[str] = []
    for cap in cands + [f"an image of {ref}", f"a picture of {ref}"]:
        cap = " ".join(cap.split())
        if cap and cap not in out:
            out.append(cap)
    return out[:MAX_CAPTIONS]


def _render_one(job: tuple[str | None, str, int, float]) -> Image.Image | str:
    """A rendering, or the name of the error that prevented it (pickled back from a worker process)."""
    svg, err, size, padding = job
    if svg is None:
        return err
    try:
        return V.rasterise(svg, size, padding)
    except S.SourceUnavailable:
        raise  # no rasteriser: nothing can be rendered, say so once
    except Exception as exc:
        return type(exc).__name__


def _render_all(cands: list[V.SvgCandidate], size: int, padding: float, workers: int) -> Iterator[Image.Image | str]:
    """Renders in candidate order (so everything downstream, pixel dedupe included, is the same for any number
    of workers); SVG sources are read here, the rasterising runs in ``workers`` processes."""

    def jobs() -> Iterator[tuple[str | None, str, int, float]]:
        for c in cands:
            try:
                yield c.svg(), "", size, padding
            except S.SourceUnavailable:
                raise
            except Exception as exc:
                yield None, type(exc).__name__, size, padding

    if workers <= 1:
        yield from map(_render_one, jobs())
        return
    with multiprocessing.get_context("spawn").Pool(workers) as pool:
        yield from pool.imap(_render_one, jobs(), chunksize=64)


def build_svg_pairs(cands: list[V.SvgCandidate], out: Path, size: int, padding: float, heldout_style: str | None,
                    wn: WordNet | None, workers: int = 1) -> tuple[list[dict], dict]:
    pair_dir = out / "pairs"
    pair_dir.mkdir(parents=True, exist_ok=True)
    cands = sorted(cands, key=lambda c: c.id)
    if len({c.id for c in cands}) != len(cands):
        raise RuntimeError("duplicate v2 pair ids")
    records: list[dict] = []
    skipped: Counter[str] = Counter()
    first_of: dict[str, str] = {}  # pixel digest -> id: identical renders (aliases) kept once
    t0 = time.time()
    for i, (c, img) in enumerate(zip(cands, _render_all(cands, size, padding, workers))):
        if isinstance(img, str):  # one broken SVG must not abort the build
            skipped[f"{c.style}: unrenderable ({img})"] += 1
            continue
        if img.getextrema() == ((255, 255), (255, 255), (255, 255)):
            skipped[f"{c.style}: blank render"] += 1
            continue
        digest = hashlib.sha256(img.tobytes()).hexdigest()
        if digest in first_of:  # ids are sorted, so the kept one never depends on order
            skipped[f"{c.style}: identical to another item"] += 1
            continue
        first_of[digest] = c.id
        B.save_png(img, pair_dir / f"{c.id}.png")
        held = c.style.split("-")[0] == heldout_style or c.style == heldout_style
        records.append({
            "id": c.id, "file": f"pairs/{c.id}.png", "source": c.style, "concept": c.concept,
            "captions": captions_v2(c, wn), "group": c.group, "subgroup": c.subgroup,
            "split": "heldout_style" if held else B.concept_split(c.concept), "eval_rep": False,
            "style": c.style, "kind": c.kind, "license": c.license,
        })
        if (i + 1) % 1000 == 0:
            B.log(f"  v2 pairs: {i + 1}/{len(cands)} ({time.time() - t0:.0f}s)")
    reps: set[str] = set()
    for r in records:  # one representative per val concept, as in v1
        if r["split"] == "val" and r["concept"] not in reps:
            reps.add(r["concept"])
            r["eval_rep"] = True
    stats = {"skipped": dict(sorted(skipped.items())), "val_concepts": len(reps),
             "concepts": len({r["concept"] for r in records}), "seconds": round(time.time() - t0, 1)}
    B.log(f"  v2 pairs: kept {len(records)}, skipped {dict(skipped)}, concepts {stats['concepts']} "
          f"({stats['seconds']}s)")
    return records, stats


def build_v2(out: Path, limit: int | None = None, size: int = B.PAIR_SIZE, padding: float = 0.1,
             heldout_style: str | None = DEFAULT_HELDOUT_STYLE, only: list[str] | None = None,
             root: Path | None = None, idx: V.EmojiIndex | None = None, wordnet_dir: Path | None = None,
             workers: int = 1) -> dict:
    """``root``/``idx``/``wordnet_dir`` replace the installed npm packages, Debian's Unicode/CLDR
    names and Debian's WordNet (tests); None = the installed ones. ``workers``: rasterising processes (the
    output is the same for any number)."""
    t0 = time.time()
    prev = out / "sources.json"
    if prev.is_file() and json.loads(prev.read_text(encoding="utf-8")).get("profile") != "v2":
        raise ValueError(f"{out} holds a v1 dataset; the v2 additions go to their own folder")
    out.mkdir(parents=True, exist_ok=True)
    B.clean_outputs(out)
    skipped: list[dict] = []
    by_source = V.collect_v2(root, idx, skipped=skipped, only=only)
    svg_cands: list[V.SvgCandidate] = []
    for name in sorted(by_source):
        items = by_source[name]
        B.log(f"  {name}: {len(items)} candidates" + (f" (limited to {limit})" if limit else ""))
        svg_cands += items[:limit] if limit else items
    try:
        wn: WordNet | None = WordNet(wordnet_dir) if wordnet_dir else WordNet.from_debian()
    except S.SourceUnavailable as exc:
        wn = None
        B.loud(f"WordNet captions skipped: {exc}")
        skipped.append({"source": "wordnet", "reason": str(exc)})

    photo_cands: list[S.PhotoCandidate] = []
    if only is None or "textures" in only:
        for pkg in V.TEXTURE_PACKAGES:
            try:
                items = V.debian_textures(pkg)
            except S.SourceUnavailable as exc:
                B.loud(f"v2 textures {pkg} skipped: {exc}")
                skipped.append({"source": pkg, "reason": str(exc)})
                continue
            B.log(f"  {pkg}: {len(items)} texture candidates")
            photo_cands += items[:limit] if limit else items

    pairs, qstats = build_svg_pairs(svg_cands, out, size, padding, heldout_style, wn, workers)
    B.write_jsonl(out / "pairs.jsonl", pairs)
    photos, pstats = B.build_photos(photo_cands, out)
    B.write_jsonl(out / "photos.jsonl", photos)
    with open(out / "vocab_captions.txt", "w", encoding="utf-8", newline="\n") as fh:
        for r in pairs:
            fh.writelines(c + "\n" for c in r["captions"])

    entries: list[dict] = []
    for name in sorted(by_source):
        styles = sorted({c.style for c in by_source[name]})
        rs = [r for r in pairs if r["style"] in styles]
        if not by_source[name]:
            continue
        c0 = by_source[name][0]
        entries.append({
            "name": name, "output": "pairs", "package": c0.package, "version": c0.version, "registry": "npm",
            "styles": styles, "items": len(rs), "concepts": len({r["concept"] for r in rs}),
            "splits": dict(sorted(Counter(r["split"] for r in rs).items())),
            "license": sorted({c.license for c in by_source[name]}),
            "attribution": sorted({c.attribution for c in by_source[name]})[:20],
        })
    pkg_of = {c.source: c.package for c in photo_cands}
    for src in sorted({r["source"] for r in photos}):
        rs = [r for r in photos if r["source"] == src]
        entries.append(B.describe_source(src, pkg_of[src], "photos", [r["id"] for r in rs], pstats["paths"],
                                         Counter(r["split"] for r in rs),
                                         {"rejected": pstats["rejected_by_source"].get(src, {})}))
    if wn is not None:
        entries.append({"name": "wordnet", "output": "pairs (captions)", "package": "wordnet-base",
                        "version": WordNet.version(), "license": ["LicenseRef-WordNet-3.0"],
                        "attribution": "WordNet 3.0 Copyright 2006 by Princeton University; "
                                       "see /usr/share/doc/wordnet-base/copyright."})
    debian = Path("/etc/debian_version")
    report = {
        "schema": "toklip-studio/dataset-sources", "schema_version": 1, "profile": "v2",
        "debian_version": debian.read_text().strip() if debian.is_file() else None,
        "options": {"limit": limit, "size": size, "padding": padding, "heldout_style": heldout_style,
                    "only": only},
        "counts": {
            "pairs": dict(sorted(Counter(r["split"] for r in pairs).items())),
            "photos": dict(sorted(Counter(r["split"] for r in photos).items())),
            "pair_concepts": qstats["concepts"], "val_concepts": qstats["val_concepts"],
            "pairs_skipped": qstats["skipped"],
            "photos_rejected": pstats["rejected"], "photo_duplicates_removed": pstats["duplicates"],
        },
        "sources": entries,
        "skipped": skipped,
    }
    (out / "sources.json").write_text(json.dumps(report, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    B.log(f"v2 done in {time.time() - t0:.0f}s: {len(pairs)} pairs, {len(photos)} photos -> {out}")
    return report


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m toklip.data.build_v2", description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, required=True, help="output folder (not the v1 one), e.g. models/data-v2")
    ap.add_argument("--limit", type=int, default=None, help="at most N items per source (quick runs)")
    ap.add_argument("--size", type=int, default=B.PAIR_SIZE, help="pair image size in px")
    ap.add_argument("--padding", type=float, default=0.1, help="margin around the drawing, share of size per side")
    ap.add_argument("--heldout-style", default=DEFAULT_HELDOUT_STYLE,
                    help="emoji style kept out of train/val (split 'heldout_style'); 'none' keeps all")
    ap.add_argument("--only", nargs="+", default=None,
                    help="only these sources (reader keys, e.g. twemoji tabler flag-icons textures)")
    ap.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1),
                    help="processes that rasterise SVGs (default: 2, or 1 on one core); same output for any number")
    args = ap.parse_args(argv)
    if args.limit is not None and args.limit <= 0:
        ap.error("--limit must be positive")
    if args.workers < 1:
        ap.error("--workers must be at least 1")
    if not 0 <= args.padding < 0.5:
        ap.error("--padding must be in [0, 0.5)")
    warnings.simplefilter("ignore", Image.DecompressionBombWarning)
    held = None if args.heldout_style == "none" else args.heldout_style
    try:
        build_v2(args.out, args.limit, args.size, args.padding, held, args.only, workers=args.workers)
    except (S.SourceUnavailable, ValueError) as exc:
        B.loud(f"v2 build stopped: {exc}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
