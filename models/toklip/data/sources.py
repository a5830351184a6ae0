"""Where the raw material comes from: one function per Debian package.

Every function only *enumerates* items (cheap metadata plus a lazy ``open`` callable); the
decoding, filtering, resizing and splitting live in :mod:`toklip.data.build`. Files are always
located with ``dpkg -L`` so the builder keeps working when Debian moves paths between releases.
All listings are sorted so enumeration order never depends on the filesystem.
"""
from __future__ import annotations

import fnmatch
import io
import json
import re
import subprocess
import unicodedata
import warnings
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Callable, Iterable, Iterator

from PIL import Image, ImageDraw, ImageFont

from .rcc import RccReader

RASTER_EXT = (".png", ".jpg", ".jpeg", ".webp")

# Packages per output source. Debian 12 names; --install tries exactly these.
PHOTO_PACKAGES = [
    "gcompris-qt-data",
    "lomiri-wallpapers-16.04",
    "lomiri-wallpapers-20.04",
    "mate-backgrounds",
    "plasma-workspace-wallpapers",
]
PAIR_PACKAGES = ["fonts-noto-color-emoji", "unicode-data", "unicode-cldr-core", "tuxpaint-stamps-default"]
ALL_PACKAGES = PHOTO_PACKAGES + PAIR_PACKAGES


class SourceUnavailable(RuntimeError):
    """A package (or a file inside it) is missing; the builder records the reason and goes on."""


# --------------------------------------------------------------------------- Debian helpers


@lru_cache(maxsize=None)
def dpkg_files(pkg: str) -> tuple[str, ...]:
    """Sorted regular files installed by ``pkg`` (raises SourceUnavailable if not installed)."""
    try:
        out = subprocess.run(["dpkg", "-L", pkg], capture_output=True, text=True, check=False)
    except FileNotFoundError as exc:  # not a Debian system at all
        raise SourceUnavailable(f"{pkg}: dpkg not available") from exc
    if out.returncode != 0:
        raise SourceUnavailable(f"{pkg}: not installed")
    return tuple(sorted(p for p in out.stdout.splitlines() if p and Path(p).is_file()))


def pkg_version(pkg: str) -> str | None:
    try:
        out = subprocess.run(
            ["dpkg-query", "-W", "-f=${Version}", pkg], capture_output=True, text=True, check=False
        )
    except FileNotFoundError:
        return None
    if out.returncode != 0:
        return None
    return out.stdout.strip() or None


def is_installed(pkg: str) -> bool:
    try:
        out = subprocess.run(
            ["dpkg-query", "-W", "-f=${db:Status-Status}", pkg], capture_output=True, text=True
        )
    except FileNotFoundError:
        return False
    return out.returncode == 0 and out.stdout.strip() == "installed"


def find_file(pkg: str, suffix: str) -> str:
    """The first installed file of ``pkg`` whose path ends with ``suffix``."""
    for p in dpkg_files(pkg):
        if p.endswith(suffix):
            return p
    raise SourceUnavailable(f"{pkg}: no file ending in {suffix}")


# --------------------------------------------------------------------------- copyright (DEP-5)

# Debian short names -> SPDX identifiers (only those we meet; unknown names pass through).
SPDX = {
    "GPL-2": "GPL-2.0-only",
    "GPL-2+": "GPL-2.0-or-later",
    "GPL-3": "GPL-3.0-only",
    "GPL-3+": "GPL-3.0-or-later",
    "LGPL-2.1": "LGPL-2.1-only",
    "LGPL-2.1+": "LGPL-2.1-or-later",
    "LGPL-3": "LGPL-3.0-only",
    "LGPL-3+": "LGPL-3.0-or-later",
    "LGPLv3": "LGPL-3.0-only",
    "SIL-1.1": "OFL-1.1",
    "Expat": "MIT",
    "public-domain": "LicenseRef-public-domain",
    "free-art": "LicenseRef-free-art-1.3",
    "GFDL-NIV-1.2": "GFDL-1.2-no-invariants-only",
    "GFDL-NIV-1.2+": "GFDL-1.2-no-invariants-or-later",
    "CC-BY-SA-4.0+": "CC-BY-SA-4.0",
}


def spdx(name: str) -> str:
    name = " ".join(name.split())
    return SPDX.get(name, name)


@dataclass(frozen=True)
class CopyrightPara:
    patterns: tuple[str, ...]
    copyright: str
    license: str


def read_copyright(pkg: str) -> tuple[list[CopyrightPara], str]:
    """Parse /usr/share/doc/<pkg>/copyright; returns (Files paragraphs, raw text)."""
    path = Path("/usr/share/doc") / pkg / "copyright"
    if not path.is_file():
        return [], ""
    text = path.read_text(encoding="utf-8", errors="replace")
    paras: list[CopyrightPara] = []
    for block in re.split(r"\n\s*\n", text):
        fields: dict[str, str] = {}
        key = None
        for line in block.splitlines():
            if line[:1] in (" ", "\t") and key:
                fields[key] += "\n" + line.strip()
            elif ":" in line:
                key, _, val = line.partition(":")
                key = key.strip()
                fields[key] = val.strip()
        if "Files" in fields and "License" in fields:
            paras.append(
                CopyrightPara(
                    tuple(fields["Files"].split()),
                    " ".join(fields.get("Copyright", "").split()),
                    fields["License"].splitlines()[0].strip(),
                )
            )
    return paras, text


def _pattern_hits(pattern: str, path: str) -> int:
    """2 = path-suffix match, 1 = basename-only match, 0 = none. Extension-insensitive because
    GCompris ships .webp conversions of the .jpg/.png files its copyright file names."""
    def stem(s: str) -> str:
        return re.sub(r"\.(png|jpe?g|webp|svgz?)$", "", s, flags=re.I)

    p, s = stem(pattern), stem(path)
    if pattern == "*" or fnmatch.fnmatchcase(s, p) or fnmatch.fnmatchcase(s, "*/" + p):
        return 2
    base = p.rsplit("/", 1)[-1]
    if not any(c in base for c in "*?[") and base == s.rsplit("/", 1)[-1]:
        return 1
    return 0


def match_copyright(paras: list[CopyrightPara], path: str) -> CopyrightPara | None:
    """DEP-5 'last match wins', preferring directory-aware matches over basename-only ones."""
    best: dict[int, CopyrightPara] = {}
    for para in paras:
        if any(p.startswith("debian/") for p in para.patterns):
            continue
        hit = max((_pattern_hits(p, path) for p in para.patterns), default=0)
        if hit:
            best[hit if para.patterns != ("*",) else 0] = para
    for k in (2, 1, 0):
        if k in best:
            return best[k]
    return None


def package_licenses(pkg: str) -> list[str]:
    """Licence names for packages whose copyright file is not machine-readable."""
    paras, text = read_copyright(pkg)
    if paras:
        return sorted({spdx(p.license) for p in paras if not p.patterns[0].startswith("debian/")})
    if "UNICODE, INC. LICENSE AGREEMENT" in text.upper():
        return ["Unicode-DFS-2016"]
    return ["LicenseRef-see-copyright"] if text else []


# --------------------------------------------------------------------------- candidates


@dataclass
class PhotoCandidate:
    id: str
    source: str
    package: str
    orig_path: str
    fmt: str  # "jpeg" | "png" | "webp": picks the flatness test (lossy webp smooths noise away)
    area: int  # original pixel count; larger originals win perceptual-hash ties
    open: Callable[[], Image.Image]
    copyright_path: str = ""  # path to match against the package's copyright file
    texture: bool = False  # curated natural texture: build.py applies TEXTURE_FLAT_LIMIT instead of FLAT_LIMIT


@dataclass
class PairCandidate:
    id: str
    source: str
    package: str
    orig_path: str
    kind: str  # "emoji" | "stamp" | "photo" | "painting" | "drawing": selects caption templates
    name: str
    concept: str
    group: str
    subgroup: str
    open: Callable[[], Image.Image]
    keywords: list[str] = field(default_factory=list)
    extra_captions: list[str] = field(default_factory=list)
    copyright_path: str = ""
    category: str = ""  # short label for the "{name}, {category}" caption; "" = no such caption
    rank: float = 0.0  # among pixel-identical images the lowest (rank, id) is kept


def slug(text: str) -> str:
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def concept_key(name: str) -> str:
    """Canonical concept text: lower case, letters/digits only, single spaces."""
    text = "".join(c if unicodedata.category(c)[0] in "LN" else " " for c in name.lower())
    return " ".join(text.split())


def camel_words(stem: str) -> str:
    """'leaningTowerOfPisa3' -> 'leaning tower of pisa'; 'long_nosed_monkey' -> 'long nosed monkey'."""
    stem = re.sub(r"[_\-]+", " ", stem)
    stem = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", stem)
    stem = re.sub(r"\d+$", "", stem.strip())
    return " ".join(stem.lower().split())


def _open_path(path: str) -> Callable[[], Image.Image]:
    return lambda: Image.open(path)


def _image_size(path: str) -> tuple[int, int]:
    with Image.open(path) as im:  # header only; pixels are decoded later, one at a time
        return im.size


def _fmt(path: str) -> str:
    ext = path.rsplit(".", 1)[-1].lower()
    return {"jpg": "jpeg"}.get(ext, ext)


# --------------------------------------------------------------------------- wallpapers


def lomiri_wallpapers(pkg: str) -> list[PhotoCandidate]:
    short = "lomiri-" + pkg.rsplit("-", 1)[-1]
    out = []
    for p in dpkg_files(pkg):
        if p.lower().endswith((".jpg", ".jpeg", ".png")):
            w, h = _image_size(p)
            cid = f"{short}-{slug(Path(p).stem)}"
            out.append(PhotoCandidate(cid, short, pkg, p, _fmt(p), w * h, _open_path(p), p))
    return out


def mate_backgrounds() -> list[PhotoCandidate]:
    pkg = "mate-backgrounds"
    out = []
    for p in dpkg_files(pkg):
        if p.lower().endswith((".jpg", ".jpeg", ".png")):  # SVGs are vector art by definition
            rel = p.split("/backgrounds/mate/", 1)[-1]
            w, h = _image_size(p)
            out.append(
                PhotoCandidate(f"mate-{slug(rel.rsplit('.', 1)[0])}", "mate", pkg, p, _fmt(p), w * h,
                               _open_path(p), rel)
            )
    return out


def plasma_wallpapers() -> list[PhotoCandidate]:
    """KDE ships each wallpaper in up to 13 resolutions: take only the largest file per
    ``<name>/contents/images[_dark]`` folder (decoding all of them would dominate build time);
    the perceptual-hash dedupe in build.py catches any remaining near-copies."""
    pkg = "plasma-workspace-wallpapers"
    folders: dict[str, list[str]] = {}
    for p in dpkg_files(pkg):
        m = re.search(r"/wallpapers/([^/]+)/contents/(images[^/]*)/[^/]+\.(jpe?g|png)$", p, re.I)
        if m:
            folders.setdefault(f"{m.group(1)}|{m.group(2)}", []).append(p)
    out = []
    for key in sorted(folders):
        name, sub = key.split("|")
        sized = sorted(((_image_size(p), p) for p in folders[key]), key=lambda t: (-t[0][0] * t[0][1], t[1]))
        (w, h), p = sized[0]
        suffix = "" if sub == "images" else "-" + slug(sub.replace("images_", ""))
        out.append(PhotoCandidate(f"plasma-{slug(name)}{suffix}", "plasma", pkg, p, _fmt(p), w * h,
                                  _open_path(p), p))
    return out


def plasma_attribution(path: str) -> str | None:
    """'Name' by Author (License) from the wallpaper's metadata.json, if present."""
    m = re.search(r"^(.*/wallpapers/[^/]+)/contents/", path)
    meta = Path(m.group(1)) / "metadata.json" if m else None
    if not meta or not meta.is_file():
        return None
    plugin = json.loads(meta.read_text(encoding="utf-8")).get("KPlugin", {})
    authors = ", ".join(a.get("Name", "") for a in plugin.get("Authors", []))
    return f"'{plugin.get('Name', '?')}' by {authors or '?'} ({plugin.get('License', '?')})"


# --------------------------------------------------------------------------- GCompris


class GComprisIndex:
    """All raster and data entries of the GCompris .rcc bundles, by bundle path."""

    def __init__(self) -> None:
        self.pkg = "gcompris-qt-data"
        self.bundles = [p for p in dpkg_files(self.pkg) if p.endswith(".rcc")]
        if not self.bundles:
            raise SourceUnavailable(f"{self.pkg}: no .rcc bundles found")
        self.where: dict[str, tuple[str, object]] = {}  # entry path -> (rcc file, RccEntry)
        for rcc in self.bundles:
            reader = RccReader(rcc)
            if reader.overall_flags & 0x04:
                warnings.warn(f"{rcc} uses zstd compression")
            for e in reader.entries():
                self.where.setdefault(e.path, (rcc, e))
        self._readers: dict[str, RccReader] = {}

    def read(self, path: str) -> bytes | None:
        rcc, entry = self.where[path]
        if rcc not in self._readers:
            self._readers[rcc] = RccReader(rcc)
        return self._readers[rcc].read(entry)  # type: ignore[arg-type]

    def opener(self, path: str) -> Callable[[], Image.Image]:
        def _open() -> Image.Image:
            data = self.read(path)
            if data is None:
                raise SourceUnavailable(f"{path}: undecodable entry")
            return Image.open(io.BytesIO(data))
        return _open

    def rasters(self) -> list[str]:
        return sorted(p for p in self.where if p.lower().endswith(RASTER_EXT))

    def texts(self) -> list[str]:
        return sorted(p for p in self.where if p.endswith((".qml", ".js", ".json")))

    @staticmethod
    def activity(path: str) -> str:
        m = re.search(r"/activities/([^/]+)/", path)
        return m.group(1) if m else "core"

    def short_id(self, path: str) -> str:
        rel = path.split("/activities/", 1)[-1].rsplit(".", 1)[0]
        return slug(rel.replace("/resource/", "/"))


def gcompris_photos(index: GComprisIndex | None = None) -> list[PhotoCandidate]:
    index = index or GComprisIndex()
    out = []
    for p in index.rasters():
        out.append(
            PhotoCandidate(f"gcompris-{index.short_id(p)}", "gcompris", index.pkg, f"{Path(index.where[p][0]).name}:{p}",
                           _fmt(p), 0, index.opener(p), p.removeprefix("gcompris/"))
        )
    return out


# Category folder of the categorization activity -> readable label, and filename fixes.
_CATEGORY_LABEL = {"fishes": "fish", "monuments": "monuments", "others": "household objects",
                   "renewable": "renewable energy", "tools": "tools"}
_NAME_FIX = {"solar": "solar panel", "geothermal": "geothermal power plant", "burj": "burj khalifa",
             "zimni palace": "winter palace", "le musee": "louvre museum", "us capitol": "united states capitol",
             "dam": "dam", "monument": "monument", "buffetset": "buffet set", "blackslate": "blackboard"}
_TITLE_KEYS = ("title", "bodyName", "description")
_IMAGE_KEYS = ("image2", "realImg", "image", "pixmapfile")


def _js_objects(text: str) -> Iterator[str]:
    """Each ``{...}`` object of a QML/JS/JSON text with its nested objects cut out, so the keys
    seen belong to that object only. String literals are skipped so braces inside them are ignored."""
    stack: list[tuple[int, list[tuple[int, int]]]] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c in "\"'":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            i = j + 1
            continue
        if c == "{":
            stack.append((i, []))
        elif c == "}" and stack:
            start, kids = stack.pop()
            parts, pos = [], start
            for a, b in kids:
                parts.append(text[pos:a])
                pos = b
            parts.append(text[pos : i + 1])
            yield "".join(parts)
            if stack:
                stack[-1][1].append((start, i + 1))
        i += 1


def _js_fields(obj: str) -> dict[str, str]:
    fields = {}
    for m in re.finditer(r'"(\w+)"\s*:\s*(?:qsTr\(\s*)?"((?:[^"\\]|\\.)*)"', obj):
        fields.setdefault(m.group(1), m.group(2).replace('\\"', '"'))
    return fields


def _sentence(text: str, max_words: int = 14) -> str:
    first = re.split(r"(?<=[.!?])\s", text.strip(), maxsplit=1)[0]
    words = first.rstrip(".!?").split()
    return " ".join(words[:max_words])


def gcompris_pairs(index: GComprisIndex | None = None) -> list[PairCandidate]:
    """Image/word pairs from GCompris activity data:

    * objects in .qml/.js/.json data files that have a title-like key (title, bodyName, description)
      and a raster image key (explore_* activities, solar_system, the lang word list);
    * 'details' boards: the board instruction names the SHAPE_BACKGROUND_IMAGE picture;
    * 'erase' and 'categorization' photos, named after their (descriptive) file names.
    Anything else (puzzle pieces, sprites, SVG-only activities) is skipped.
    """
    index = index or GComprisIndex()
    rasters = index.rasters()
    by_name: dict[str, list[str]] = {}
    for p in rasters:
        by_name.setdefault(p.rsplit("/", 1)[-1], []).append(p)

    def resolve(value: str, context: str) -> str | None:
        if not value.lower().endswith(RASTER_EXT):
            return None
        if value.startswith("qrc:/"):
            path = value[5:]
            return path if path in index.where else None
        base = value.rsplit("/", 1)[-1]
        act = index.activity(context)
        hits = [p for p in by_name.get(base, []) if p.endswith("/" + value) and index.activity(p) == act]
        return hits[0] if hits else None

    found: dict[str, PairCandidate] = {}

    def add(img: str, name: str, kind: str, group: str, subgroup: str, extra: list[str] | None = None,
            category: str = "") -> None:
        name = " ".join(name.replace("\\n", " ").split()).rstrip(".")
        if img in found or not name:
            return
        pid = f"gcompris-{index.short_id(img)}"
        found[img] = PairCandidate(
            pid, "gcompris", index.pkg, f"{Path(index.where[img][0]).name}:{img}", kind, name.lower(),
            concept_key(name), group, subgroup, index.opener(img), [], extra or [], img.removeprefix("gcompris/"),
            category,
        )

    for tpath in index.texts():
        raw = index.read(tpath)
        if raw is None:
            continue
        text = raw.decode("utf-8", "replace")
        act = index.activity(tpath)
        if act == "details":
            m = re.search(r'instruction:\s*qsTr\("((?:[^"\\]|\\.)*)"\)', text)
            bg = re.search(r'"pixmapfile"\s*:\s*"([^"]+)"\s*,\s*"type"\s*:\s*"SHAPE_BACKGROUND_IMAGE"', text)
            img = resolve(bg.group(1), tpath) if bg else None
            if m and img:
                title = m.group(1).rstrip(".")
                # "Vincent van Gogh, The Harvest - 1888": a painting (artist, title, year);
                # anything without a year is a photo of a place ("Taj Mahal, Agra, India").
                art = re.match(r"^([^,]+), (.+?)\s*-?\s*\d{4}(-\d+)?$", title)
                if art:
                    artist, work = art.group(1).strip(), art.group(2).strip()
                    add(img, work, "painting", "details", "paintings",
                        [f"{work} by {artist}", f"a painting by {artist}"], "painting")
                else:  # name the place by its first clause, keep the full title as a caption
                    add(img, title.split(",")[0], "photo", "details", "monuments", [title], "")
            continue
        for obj in _js_objects(text):
            f = _js_fields(obj)
            title = next((f[k] for k in _TITLE_KEYS if f.get(k)), "")
            img = next((r for k in _IMAGE_KEYS if (r := resolve(f.get(k, ""), tpath))), None)
            if not title or not img:
                continue
            if act == "lang":  # hand-drawn word illustrations
                add(img, title, "drawing", "lang", "words", [])
            else:
                extra = []
                t2 = f.get("text2", "")
                if t2 and concept_key(t2) != concept_key(title):
                    extra.append(_sentence(t2))
                # subgroup: the image folder (india, animals, ...); category: 'farm animals', ...
                label = act.replace("explore_", "").replace("_", " ")
                add(img, title, "photo", act.replace("_", " "), img.rsplit("/", 2)[-2], extra, label)

    # File-name-labelled photos.
    for p in rasters:
        act = index.activity(p)
        stem = p.rsplit("/", 1)[-1].rsplit(".", 1)[0]
        if act == "erase" and "/resource/" in p and p.endswith(".webp"):
            add(p, camel_words(stem), "photo", "erase", "animals", None, "animals")
        m = re.search(r"/categorization/resource/images/([^/]+)/", p)
        if m and m.group(1) in _CATEGORY_LABEL:
            name = camel_words(stem)
            label = _CATEGORY_LABEL[m.group(1)]
            add(p, _NAME_FIX.get(name, name), "photo", "categorization", label, None, label)
    return [found[k] for k in sorted(found)]


# --------------------------------------------------------------------------- emoji

SKIN_TONES = set(range(0x1F3FB, 0x1F400))
GENDER_SIGNS = {0x2640, 0x2642}
HAIR = {0x1F9B0, 0x1F9B1, 0x1F9B2, 0x1F9B3}
TO_PERSON = {0x1F468: 0x1F9D1, 0x1F469: 0x1F9D1}  # man, woman -> person
ZWJ, VS16 = 0x200D, 0xFE0F


@dataclass(frozen=True)
class EmojiEntry:
    cps: tuple[int, ...]
    name: str
    group: str
    subgroup: str
    version: float = 0.0  # Emoji version that introduced it (older = more canonical)


def parse_emoji_test(path: str | Path) -> tuple[list[EmojiEntry], dict[tuple[int, ...], str]]:
    """Fully-qualified entries in file order, plus a name map over *all* listed sequences keyed
    without VS16 (used to name normalised concept sequences)."""
    entries: list[EmojiEntry] = []
    names: dict[tuple[int, ...], str] = {}
    group = subgroup = ""
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if line.startswith("# group:"):
            group = line.split(":", 1)[1].strip()
        elif line.startswith("# subgroup:"):
            subgroup = line.split(":", 1)[1].strip()
        elif line and not line.startswith("#") and ";" in line:
            codes, rest = line.split(";", 1)
            status, _, comment = rest.partition("#")
            cps = tuple(int(c, 16) for c in codes.split())
            m = re.match(r"\s*\S+\s+E(\d+\.\d+)\s+(.*)$", comment)
            name = m.group(2).strip() if m else comment.strip()
            names.setdefault(tuple(c for c in cps if c != VS16), name)
            if status.strip() == "fully-qualified":
                entries.append(EmojiEntry(cps, name, group, subgroup, float(m.group(1)) if m else 99.0))
    return entries, names


def parse_cldr_annotations(paths: Iterable[str | Path]) -> tuple[dict[str, list[str]], dict[str, str]]:
    """(keywords, tts names) keyed by the sequence without VS16; later files do not override."""
    keywords: dict[str, list[str]] = {}
    tts: dict[str, str] = {}
    for path in paths:
        for el in ET.parse(path).getroot().iter("annotation"):
            cp = (el.get("cp") or "").replace("\ufe0f", "")
            text = (el.text or "").strip()
            if not cp or not text:
                continue
            if el.get("type") == "tts":
                tts.setdefault(cp, text)
            else:
                keywords.setdefault(cp, [k.strip() for k in text.split("|") if k.strip()])
    return keywords, tts


def emoji_concept(entry: EmojiEntry, names: dict[tuple[int, ...], str]) -> str:
    """Near-duplicate key: skin tones, gender signs and hair components removed, man/woman ->
    person; every flag maps to its subgroup ('country flag', ...)."""
    if entry.group == "Flags":
        return concept_key(entry.subgroup)
    comps: list[list[int]] = [[]]
    for c in entry.cps:
        if c == ZWJ:
            comps.append([])
        elif c not in SKIN_TONES and c != VS16:
            comps[-1].append(TO_PERSON.get(c, c))
    kept = [c for c in comps if c and not (len(c) == 1 and c[0] in GENDER_SIGNS | HAIR)]
    seq: list[int] = []
    for i, comp in enumerate(kept):
        seq += ([ZWJ] if i else []) + comp
    name = names.get(tuple(seq)) or entry.name.split(":", 1)[0]
    return concept_key(name)


def emoji_display_name(entry: EmojiEntry, tts: dict[str, str]) -> str:
    key = "".join(chr(c) for c in entry.cps if c != VS16)
    name = tts.get(key) or entry.name
    if entry.group == "Flags" and name.lower().startswith("flag: "):
        name = "flag of " + name[6:]
    return name.replace(": ", ", ").lower()


def noto_emoji() -> list[PairCandidate]:
    font_path = find_file("fonts-noto-color-emoji", "/NotoColorEmoji.ttf")
    test_path = find_file("unicode-data", "/emoji/emoji-test.txt")
    cldr = [p for p in dpkg_files("unicode-cldr-core")
            if p.endswith(("/annotations/en.xml", "/annotationsDerived/en.xml"))]
    if not cldr:
        raise SourceUnavailable("unicode-cldr-core: no annotations/en.xml")
    entries, names = parse_emoji_test(test_path)
    keywords, tts = parse_cldr_annotations(sorted(cldr, key=lambda p: "Derived" in p))
    render = EmojiRenderer(font_path)
    out = []
    for e in entries:
        key = "".join(chr(c) for c in e.cps if c != VS16)
        name = emoji_display_name(e, tts)
        kws = [k.lower() for k in keywords.get(key, []) if k.lower() != name]
        text = "".join(chr(c) for c in e.cps)
        out.append(PairCandidate(
            "emoji-" + "-".join(f"{c:x}" for c in e.cps), "emoji", "fonts-noto-color-emoji",
            " ".join(f"U+{c:04X}" for c in e.cps), "emoji", name, emoji_concept(e, names), e.group,
            e.subgroup, (lambda t=text: render(t)), kws, [], "fonts/NotoColorEmoji.ttf", "",
            # Identical glyphs (flag of France = St. Martin, snowboarder ignores skin tone):
            # keep the oldest, most canonical emoji.
            e.version,
        ))
    return out


class EmojiRenderer:
    """Renders one emoji sequence with the CBDT colour font onto a transparent RGBA canvas.

    RAQM (HarfBuzz) is needed to form ZWJ/flag/keycap ligatures; with the BASIC engine those come
    out as several glyphs side by side, which ``__call__`` detects (by advance width) and reports
    as an empty image so the builder skips them."""

    SIZE = 109  # the font's only bitmap strike is 136 px at 109 pt

    def __init__(self, font_path: str) -> None:
        try:
            self.font = ImageFont.truetype(font_path, self.SIZE, layout_engine=ImageFont.Layout.RAQM)
            self.ligatures = True
        except (OSError, KeyError, ImportError):
            warnings.warn("!!! libraqm unavailable: emoji sequences cannot be shaped; only single glyphs kept")
            self.font = ImageFont.truetype(font_path, self.SIZE, layout_engine=ImageFont.Layout.BASIC)
            self.ligatures = False

    def __call__(self, text: str) -> Image.Image:
        if not self.ligatures:  # BASIC gives VS16 its own advance
            text = text.replace("\ufe0f", "")
        # More than one advance means the sequence was not shaped into a single glyph.
        if self.font.getlength(text) > 1.5 * self.font.getlength("\U0001F600"):
            return Image.new("RGBA", (1, 1), (0, 0, 0, 0))
        canvas = Image.new("RGBA", (self.SIZE * 2, self.SIZE * 2), (0, 0, 0, 0))
        ImageDraw.Draw(canvas).text((8, 8), text, font=self.font, embedded_color=True)
        return canvas


# --------------------------------------------------------------------------- Tux Paint

_ARTICLE = re.compile(r"^(a|an|the|some)\s+", re.I)


def stamp_caption_line(txt: str) -> str:
    """The English description: the first non-empty line without an ``xx.utf8=`` locale tag."""
    for line in txt.splitlines():
        line = line.strip()
        if line and not re.match(r"^[A-Za-z_@]+\.utf8=", line):
            return line
    return ""


# A first sentence containing one of these is a statement, not a name ("Holly leaves are shiny").
_VERBS = {"is", "are", "was", "were", "means", "stands", "lets", "carries", "has", "have",
          "gets", "remember", "it's"}
_GENERIC_DIRS = {"cartoon", "photo", "photos", "filled", "outlined", "lowercase", "uppercase"}
_FILE_NOISE = {"zzz", "photo", "filled", "outline"}


def stamp_name(desc: str, stem: str) -> str:
    """Short object name: the description's first phrase ('A frog.' -> 'frog', 'A Seville orange,
    also called…' -> 'seville orange', 'The sign for the letter a in…' kept whole) unless that is
    a statement or too long; then the file name without variant numbers."""
    first = re.split(r"(?<=[.!?])\s|[—–:;(,]| - ", desc, maxsplit=1)[0].strip().rstrip(".!?")
    first = _ARTICLE.sub("", first).strip().strip("“”\"'")
    words = first.lower().split()
    if words and len(words) <= 9 and not _VERBS & set(words):
        return " ".join(words)
    name = camel_words(re.sub(r"[-_]?\d+$", "", stem))
    return " ".join(w for w in name.split() if w not in _FILE_NOISE and not w.isdigit()) or name


def stamp_category(group: str, dirs: list[str]) -> str:
    """Most specific folder that names a kind of thing (skips 'cartoon', 'filled', ...)."""
    for d in reversed(dirs):
        if d.lower() not in _GENERIC_DIRS:
            return camel_words(d)
    return camel_words(group)


def tuxpaint_stamps() -> list[PairCandidate]:
    pkg = "tuxpaint-stamps-default"
    files = set(dpkg_files(pkg))
    out = []
    for p in sorted(files):
        if not p.endswith(".png") or "/stamps/" not in p:
            continue
        stem = p[:-4]
        if stem.endswith("_mirror"):  # pre-flipped copies of another stamp
            continue
        txt = stem + ".txt"
        if txt not in files:
            continue
        desc = stamp_caption_line(Path(txt).read_text(encoding="utf-8", errors="replace"))
        if not desc:
            continue
        rel = stem.split("/stamps/", 1)[1]
        parts = rel.split("/")
        name = stamp_name(desc, parts[-1])
        out.append(PairCandidate(
            f"tuxpaint-{slug(rel)}", "tuxpaint", pkg, p, "stamp", name, concept_key(name), parts[0],
            "/".join(parts[1:-1]), _open_path(p), [], [_sentence(desc, 16).lower()], "stamps/" + rel,
            stamp_category(parts[0], parts[1:-1]),
        ))
    return out
