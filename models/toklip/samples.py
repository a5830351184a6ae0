"""Sample pictures and default prompts for a model folder, all from held-out data (issue 11).

    python -m toklip.samples --data models/data --data-v2 models/data-v2 --bundle public/models/toklip-tiny

Writes ``<bundle>/samples/*.jpg`` and the manifest's ``samples`` list (file, title, credit, licence, split,
sha256) and ``default_prompts``. Every sample is a held-out item: a photo with ``split: val``, the
representative of a held-out concept, or an item of the held-out emoji style; never a training item.
The choice is a rule (lowest sha256 of the id within each group), not a hand pick, so a rebuild on
another Debian release picks the same kind of items from whatever it has.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image

from .dataset import read_jsonl
from .manifest import refresh_manifest, sha256_file, write_manifest

N_PROMPTS = 8


@dataclass(frozen=True)
class Pick:
    row: dict[str, Any]
    folder: Path
    kind: str  # photo / pair / heldout_style


def _h(s: str) -> str:
    return hashlib.sha256(s.encode("utf-8")).hexdigest()


def _first(rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    return min(rows, key=lambda r: _h(r["id"])) if rows else None


def _sources(folders: list[Path]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for d in folders:
        p = d / "sources.json"
        if p.exists():
            for s in json.loads(p.read_text(encoding="utf-8")).get("sources") or []:
                out.setdefault(s["name"], s)
                for st in s.get("styles") or []:
                    out.setdefault(st, s)
    return out


def _wallpaper_credit(src: dict[str, Any], rid: str) -> str | None:
    return next((w.get("credit") for w in src.get("wallpapers") or [] if w.get("id") == rid), None)


def choose(data: Path, data_v2: Path | None) -> tuple[list[Pick], list[str]]:
    """Held-out samples and default prompts (first captions of held-out concepts)."""
    folders = [data] + ([data_v2] if data_v2 else [])
    photos = {d: [r for r in read_jsonl(d / "photos.jsonl") if r["split"] == "val"] for d in folders
              if (d / "photos.jsonl").exists()}
    pairs = {d: read_jsonl(d / "pairs.jsonl") for d in folders}
    srcs = _sources(folders)
    picks: list[Pick] = []
    # Photos: a credited wallpaper if there is one (the gallery shows the credit), and a texture.
    v1_photos = photos.get(data, [])
    credited = [r for r in v1_photos if _wallpaper_credit(srcs.get(r["source"], {}), r["id"])]
    for r in (_first(credited or v1_photos), _first(photos.get(data_v2, [])) if data_v2 else None):
        if r:
            picks.append(Pick(r, data if r in v1_photos else data_v2, "photo"))  # type: ignore[arg-type]
    reps = [(d, r) for d in folders for r in pairs[d] if r["split"] == "val" and r.get("eval_rep")]
    held = [r for r in pairs[data_v2] if r["split"] == "heldout_style"] if data_v2 else []
    held_concepts = {r["concept"] for r in held}
    # An emoji concept drawn in a training style and again in the held-out style: the same idea, two looks.
    emoji = [r for d, r in reps if d == data and r["source"] == "emoji" and r["concept"] in held_concepts]
    e = _first(emoji or [r for d, r in reps if d == data and r["source"] == "emoji"])
    if e:
        picks.append(Pick(e, data, "pair"))
        twin = _first([r for r in held if r["concept"] == e["concept"]])
        if twin:
            picks.append(Pick(twin, data_v2, "heldout_style"))  # type: ignore[arg-type]
    groups = [("tuxpaint",)] + ([("fluent-emoji",), ("tabler-outline",), ("flag-icons-1x1", "flag-icons-4x3")]
                                if data_v2 else [])
    if groups:
        for group in groups:
            r = _first([r for _, r in reps if r["source"] in group])
            if r:
                picks.append(Pick(r, next(d for d, x in reps if x is r), "pair"))
    prompts: list[str] = []
    for p in picks:
        if p.kind != "photo" and p.row["captions"][0] not in prompts:
            prompts.append(p.row["captions"][0])
    # Distractors: other held-out concepts, one per source in a fixed order of sources, round after round.
    order = ("mdi", "lucide", "emoji", "phosphor-fill", "bootstrap", "tuxpaint", "gcompris")
    while len(prompts) < N_PROMPTS:
        added = False
        for src in order:
            r = _first([r for _, r in reps if r["source"] == src and r["captions"][0] not in prompts])
            if r and len(prompts) < N_PROMPTS:
                prompts.append(r["captions"][0])
                added = True
        if not added:
            break
    return picks, prompts


def _credit(p: Pick, srcs: dict[str, dict[str, Any]]) -> tuple[str, str]:
    s = srcs.get(p.row["source"], {})
    pkg = f"{s.get('package')} {s.get('version')}" + (" (npm)" if s.get("registry") == "npm" else " (Debian)")
    who = _wallpaper_credit(s, p.row["id"])
    att = s.get("attribution")
    att = "; ".join(att[:1]) if isinstance(att, list) else (att or "").split(";")[0]
    lic = p.row.get("license") or ", ".join(s.get("license") or []) or "see MODEL_CARD.md"
    return (f"{who}, {pkg}" if who else f"{att.strip()} — {pkg}"), lic


def build_samples(data: Path, data_v2: Path | None, bundle: Path, max_side: int = 384) -> dict[str, Any]:
    picks, prompts = choose(data, data_v2)
    srcs = _sources([data] + ([data_v2] if data_v2 else []))
    out = bundle / "samples"
    if out.exists():
        for f in out.glob("*.jpg"):
            f.unlink()
    out.mkdir(parents=True, exist_ok=True)
    listing = []
    for p in picks:
        with Image.open(p.folder / p.row["file"]) as im:
            im = im.convert("RGBA")
            im = Image.alpha_composite(Image.new("RGBA", im.size, (255, 255, 255, 255)), im).convert("RGB")
            im.thumbnail((max_side, max_side), Image.BICUBIC)
            name = f"samples/{p.row['id']}.jpg"
            im.save(bundle / name, quality=92)
        credit, lic = _credit(p, srcs)
        title = p.row["captions"][0] if p.kind != "photo" else f"Photo: {p.row['id']}"
        split = "heldout_style" if p.kind == "heldout_style" else "val"
        listing.append({"file": name, "title": title, "credit": credit, "license": lic, "split": split,
                        "source": p.row["source"], "bytes": (bundle / name).stat().st_size,
                        "sha256": sha256_file(bundle / name)})
    man = json.loads((bundle / "manifest.json").read_text(encoding="utf-8"))
    man["samples"] = listing
    man["samples_note"] = ("Held-out items only: photos with split val, representatives of held-out concepts, and "
                           "the held-out emoji style (split heldout_style); none was seen in training.")
    man["default_prompts"] = prompts
    write_manifest(bundle, man)
    refresh_manifest(bundle)
    return {"samples": listing, "default_prompts": prompts}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=Path("models/data"))
    ap.add_argument("--data-v2", type=Path, default=None)
    ap.add_argument("--bundle", type=Path, required=True, help="model folder whose manifest gets the samples")
    a = ap.parse_args(argv)
    r = build_samples(a.data, a.data_v2, a.bundle)
    print(json.dumps(r, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
