"""Build the app's sample gallery (public/samples) from installed Debian packages, with credits.

    python -m toklip.samples --data models/data --out public/samples
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from PIL import Image

from .dataset import read_jsonl

# (dataset id, title, credit, licence); credits as the packages' copyright files state them.
SAMPLES = [
    ("plasma-bythewater", "By the water", "'By the water' by Maciej Wiklo, KDE Plasma wallpapers (Debian plasma-workspace-wallpapers)", "LGPL-3.0"),
    ("plasma-kite", "Kite", "'Kite' by Risto Saukonpää, KDE Plasma wallpapers (Debian plasma-workspace-wallpapers)", "LGPL-3.0"),
    ("emoji-1f431", "Cat face emoji", "Noto Color Emoji, Google (Debian fonts-noto-color-emoji)", "OFL-1.1"),
    ("emoji-1f34e", "Red apple emoji", "Noto Color Emoji, Google (Debian fonts-noto-color-emoji)", "OFL-1.1"),
    ("emoji-1f680", "Rocket emoji", "Noto Color Emoji, Google (Debian fonts-noto-color-emoji)", "OFL-1.1"),
    ("tuxpaint-animals-amphibians-frog", "Frog stamp", "Tux Paint default stamps (Debian tuxpaint-stamps-default)", "GPL-2.0-only"),
]


def build_samples(data: Path, out: Path, max_side: int = 384) -> list[dict[str, str]]:
    rows = {r["id"]: r for r in read_jsonl(data / "photos.jsonl") + read_jsonl(data / "pairs.jsonl")}
    out.mkdir(parents=True, exist_ok=True)
    listing = []
    for sid, title, credit, lic in SAMPLES:
        r = rows.get(sid)
        if r is None:
            print(f"WARNING: sample {sid} not in the dataset; skipped")
            continue
        with Image.open(data / r["file"]) as im:
            im = im.convert("RGBA")
            bg = Image.new("RGBA", im.size, (255, 255, 255, 255))
            im = Image.alpha_composite(bg, im).convert("RGB")
            im.thumbnail((max_side, max_side), Image.BICUBIC)
            name = f"{sid}.jpg"
            im.save(out / name, quality=90)
        listing.append({"file": name, "title": title, "credit": credit, "license": lic})
    (out / "samples.json").write_text(json.dumps(listing, indent=1, ensure_ascii=False) + "\n")
    return listing


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=Path("models/data"))
    ap.add_argument("--out", type=Path, default=Path("public/samples"))
    a = ap.parse_args(argv)
    print(f"wrote {len(build_samples(a.data, a.out))} samples to {a.out}")


if __name__ == "__main__":
    main()
