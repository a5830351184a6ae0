"""TokLIP-Tiny v2 sources (issue 11): emoji in several art styles, icon sets with names/tags, and
flags, all read from the pinned npm data packages in ``models/datapkgs`` (``scripts/datapkgs.sh``).

Like :mod:`toklip.data.sources`, every reader only *enumerates*: it returns :class:`SvgCandidate`
records with a lazy ``svg()`` loader, sorted by id, and raises :class:`SourceUnavailable` when its
package is missing; :func:`collect_v2` turns that into a loud warning and a skip. Rasterising
(:func:`rasterise`) is separate so the builder can render each SVG at several sizes, paddings and
backgrounds. Nothing here is used by the default (v1) build.

Emoji are named from Unicode/CLDR exactly as :func:`toklip.data.sources.noto_emoji` names Noto,
so one concept (``concept``) collects the same emoji across styles. One deliberate difference:
each flag is its own concept ("flag of france"), shared by emoji flags and ``flag-icons``, so flags
split across train/held-out like other concepts instead of collapsing into "country flag".
"""
from __future__ import annotations

import io
import json
import os
import re
import unicodedata
import warnings
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Callable, Iterable

from PIL import Image

from . import sources as S
from .sources import SourceUnavailable

DEFAULT_ROOT = Path(__file__).resolve().parents[2] / "datapkgs" / "node_modules"


def datapkgs_root() -> Path:
    """Where the npm data packages live; ``TOKLIP_DATAPKGS`` overrides (tests, other checkouts)."""
    env = os.environ.get("TOKLIP_DATAPKGS")
    return Path(env) if env else DEFAULT_ROOT


@dataclass
class SvgCandidate:
    id: str  # "<style>-<slug>", unique over all v2 sources
    style: str  # art style: twemoji, openmoji, fluent-emoji, tabler-outline, flag-icons-4x3, ...
    package: str  # npm package name
    version: str  # npm package version (from its package.json)
    kind: str  # "emoji" | "icon" | "flag": selects caption templates
    name: str  # display name, lower case ("grinning face", "flag of france", "shopping cart")
    concept: str  # concept key shared across styles (toklip.data.sources.concept_key)
    keywords: list[str]
    group: str
    subgroup: str
    license: str  # SPDX expression of the artwork
    attribution: str
    orig_path: str  # file inside the package, or "<json file>#<key>"
    svg: Callable[[], str] = field(repr=False)
    codepoints: tuple[int, ...] = ()  # emoji only


# --------------------------------------------------------------------------- package helpers


def package_dir(npm_name: str, root: Path | None = None) -> Path:
    d = (root or datapkgs_root()) / npm_name
    if not (d / "package.json").is_file():
        raise SourceUnavailable(f"{npm_name}: not installed under {d.parent} (run scripts/datapkgs.sh)")
    return d


def package_version(pkg_dir: Path) -> str:
    return str(json.loads((pkg_dir / "package.json").read_text(encoding="utf-8")).get("version", "?"))


def _read(path: Path) -> Callable[[], str]:
    return lambda: path.read_text(encoding="utf-8")


def _const(text: str) -> Callable[[], str]:
    return lambda: text


def squash(text: str) -> str:
    """Letters and digits only, lower case: 'Black Diamond Suit' == 'blackdiamondsuit'."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "", text)


def icon_words(name: str) -> str:
    """'a-b-2' -> 'a b', 'arrow-left-circle' -> 'arrow left circle': file-name slugs to words,
    trailing variant numbers dropped (they number drawings, not meanings)."""
    words = [w for w in re.split(r"[-_\s]+", name.lower()) if w]
    while len(words) > 1 and words[-1].isdigit():
        words.pop()
    return " ".join(words)


# --------------------------------------------------------------------------- Unicode/CLDR names


class EmojiIndex:
    """Unicode emoji-test.txt + CLDR annotations: names, keywords and concepts per sequence, and a
    reverse index from squashed names (CLDR names, Unicode character names) to sequences for
    packages that name their files instead of numbering them (Iconify sets)."""

    def __init__(self, emoji_test: str | Path, cldr_annotations: Iterable[str | Path]) -> None:
        self.entries, self.names = S.parse_emoji_test(emoji_test)
        self.keywords, self.tts = S.parse_cldr_annotations(cldr_annotations)
        self.by_key: dict[tuple[int, ...], S.EmojiEntry] = {}
        for e in self.entries:
            self.by_key.setdefault(self._key(e.cps), e)
        self.by_squash: dict[str, tuple[int, ...]] = {}
        # Base forms first, so a name resolves to the sequence without skin tones.
        ordered = sorted(self.entries, key=lambda e: any(c in S.SKIN_TONES for c in e.cps))
        for e in ordered:
            names = [e.name, self.tts.get("".join(chr(c) for c in self._key(e.cps)), "")]
            if len(self._key(e.cps)) == 1:
                names.append(unicodedata.name(chr(self._key(e.cps)[0]), ""))
            for n in names:
                if n and squash(n):
                    self.by_squash.setdefault(squash(n), e.cps)

    @staticmethod
    def _key(cps: Iterable[int]) -> tuple[int, ...]:
        return tuple(c for c in cps if c != S.VS16)

    @classmethod
    def from_debian(cls) -> "EmojiIndex":
        test_path = S.find_file("unicode-data", "/emoji/emoji-test.txt")
        cldr = [p for p in S.dpkg_files("unicode-cldr-core")
                if p.endswith(("/annotations/en.xml", "/annotationsDerived/en.xml"))]
        if not cldr:
            raise SourceUnavailable("unicode-cldr-core: no annotations/en.xml")
        return cls(test_path, sorted(cldr, key=lambda p: "Derived" in p))

    def entry(self, cps: Iterable[int]) -> S.EmojiEntry | None:
        return self.by_key.get(self._key(cps))

    def lookup_name(self, name: str) -> S.EmojiEntry | None:
        cps = self.by_squash.get(squash(name))
        return self.entry(cps) if cps else None

    def describe(self, e: S.EmojiEntry) -> tuple[str, str, list[str]]:
        """(display name, concept, keywords) the way sources.noto_emoji names Noto glyphs, except
        that each flag is its own concept."""
        name = S.emoji_display_name(e, self.tts)
        concept = S.concept_key(name) if e.group == "Flags" else S.emoji_concept(e, self.names)
        key = "".join(chr(c) for c in self._key(e.cps))
        kws = [k.lower() for k in self.keywords.get(key, []) if k.lower() != name]
        return name, concept, kws


def _emoji_candidate(idx: EmojiIndex, e: S.EmojiEntry, style: str, pkg: str, version: str, lic: str,
                     attribution: str, orig: str, svg: Callable[[], str]) -> SvgCandidate:
    name, concept, kws = idx.describe(e)
    return SvgCandidate(
        f"{style}-" + "-".join(f"{c:x}" for c in e.cps), style, pkg, version, "emoji", name, concept, kws,
        e.group, e.subgroup, lic, attribution, orig, svg, e.cps,
    )


def _hex_cps(stem: str) -> tuple[int, ...] | None:
    try:
        return tuple(int(h, 16) for h in re.split(r"[-_ ]", stem) if h)
    except ValueError:
        return None


# --------------------------------------------------------------------------- emoji styles


def twemoji(idx: EmojiIndex, root: Path | None = None) -> list[SvgCandidate]:
    """``@twemoji/svg``: one file per sequence, named by its code points (VS16 mostly dropped).
    The npm wrapper is MIT; the artwork itself is Twemoji's CC-BY 4.0 (jdecked/twemoji)."""
    pkg = "@twemoji/svg"
    d = package_dir(pkg, root)
    ver = package_version(d)
    out: dict[str, SvgCandidate] = {}
    for p in sorted(d.glob("*.svg")):
        cps = _hex_cps(p.stem)
        e = idx.entry(cps) if cps else None
        if e is None:
            continue
        c = _emoji_candidate(idx, e, "twemoji", pkg, ver, "CC-BY-4.0",
                             "Twemoji by Twitter, Inc and other contributors (github.com/jdecked/twemoji), "
                             "CC-BY 4.0", p.name, _read(p))
        out.setdefault(c.id, c)
    return [out[k] for k in sorted(out)]


def openmoji(idx: EmojiIndex, root: Path | None = None) -> list[SvgCandidate]:
    """``openmoji`` colour SVGs for the Unicode emoji (OpenMoji's own extras have no CLDR name and
    are left out); data/openmoji.json names the file and the artist of each emoji."""
    pkg = "openmoji"
    d = package_dir(pkg, root)
    ver = package_version(d)
    meta = json.loads((d / "data" / "openmoji.json").read_text(encoding="utf-8"))
    out: dict[str, SvgCandidate] = {}
    for m in meta:
        if str(m.get("group", "")).startswith("extras"):
            continue
        p = d / "color" / "svg" / f"{m['hexcode']}.svg"
        cps = _hex_cps(m["hexcode"])
        e = idx.entry(cps) if cps else None
        if e is None or not p.is_file():
            continue
        author = m.get("openmoji_author") or "OpenMoji contributors"
        c = _emoji_candidate(idx, e, "openmoji", pkg, ver, "CC-BY-SA-4.0",
                             f"OpenMoji (openmoji.org), emoji by {author}, CC BY-SA 4.0",
                             f"color/svg/{p.name}", _read(p))
        out.setdefault(c.id, c)
    return [out[k] for k in sorted(out)]


FLUENT_TONES = ("-medium-light", "-medium-dark", "-light", "-medium", "-dark")
TONE_CP = {"-light": 0x1F3FB, "-medium-light": 0x1F3FC, "-medium": 0x1F3FD, "-medium-dark": 0x1F3FE,
           "-dark": 0x1F3FF}


def iconify_svg(body: str, left: float, top: float, width: float, height: float, hflip: bool = False) -> str:
    """A standalone SVG document for an Iconify icon body."""
    if hflip:
        body = f'<g transform="translate({width + 2 * left:g} 0) scale(-1 1)">{body}</g>'
    return (f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
            f'viewBox="{left:g} {top:g} {width:g} {height:g}" width="{width:g}" height="{height:g}">{body}</svg>')


def iconify_icons(pkg_dir: Path) -> dict[str, Callable[[], str]]:
    """Name -> SVG loader for every icon of an ``@iconify-json/*`` set, aliases included when they
    only rename or mirror horizontally (rotated/vertically flipped aliases are skipped)."""
    data = json.loads((pkg_dir / "icons.json").read_text(encoding="utf-8"))
    dw, dh = data.get("width", 16), data.get("height", 16)
    out: dict[str, Callable[[], str]] = {}

    def make(icon: dict, hflip: bool) -> Callable[[], str]:
        svg = iconify_svg(icon["body"], icon.get("left", 0), icon.get("top", 0), icon.get("width", dw),
                          icon.get("height", dh), hflip != bool(icon.get("hFlip", False)))
        return _const(svg)

    for name, icon in data["icons"].items():
        out[name] = make(icon, False)
    for name, alias in data.get("aliases", {}).items():
        parent = data["icons"].get(alias.get("parent", ""))
        if parent is None or alias.get("rotate") or alias.get("vFlip"):
            continue
        out.setdefault(name, make(parent, bool(alias.get("hFlip"))))
    return out


# Where Iconify's info.json records the licence of the upstream *code* rather than of the artwork.
# mozilla/fxemoji LICENSE.md: code Apache-2.0, "License for the Visual Design": CC BY 4.0.
ICONIFY_ARTWORK_LICENSE = {
    "fxemoji": ("CC-BY-4.0", "Firefox OS Emoji by Mozilla (github.com/mozilla/fxemoji), artwork CC BY 4.0"),
}


def iconify_license(pkg_dir: Path) -> tuple[str, str]:
    """(SPDX, attribution) of the artwork: ICONIFY_ARTWORK_LICENSE, else the set's info.json."""
    if pkg_dir.name in ICONIFY_ARTWORK_LICENSE:
        return ICONIFY_ARTWORK_LICENSE[pkg_dir.name]
    info = json.loads((pkg_dir / "info.json").read_text(encoding="utf-8"))
    lic = info.get("license", {})
    author = info.get("author", {})
    attribution = f"{info.get('name', pkg_dir.name)} by {author.get('name', '?')} ({author.get('url', '')}), " \
                  f"{lic.get('title', '?')}"
    return str(lic.get("spdx") or lic.get("title") or "LicenseRef-unknown"), attribution


def iconify_emoji(idx: EmojiIndex, prefix: str, root: Path | None = None,
                  chars_from: str | None = None) -> list[SvgCandidate]:
    """An ``@iconify-json/<prefix>`` emoji set. Icons are matched to Unicode by the set's chars.json
    (code points -> name) when it has one (``chars_from`` borrows another set's, e.g. the 3D Fluent
    set uses the flat set's), else by name: CLDR names ('grinning-face'), Unicode character names
    squashed ('blackdiamondsuit', Firefox OS), Fluent skin-tone suffixes and numbered variants
    ('baby-2', Streamline). Unmatched icons (no Unicode emoji) are left out."""
    pkg = f"@iconify-json/{prefix}"
    d = package_dir(pkg, root)
    ver = package_version(d)
    lic, attribution = iconify_license(d)
    icons = iconify_icons(d)
    chars: dict[str, str] = {}
    for src in (d, package_dir(f"@iconify-json/{chars_from}", root) if chars_from else None):
        if src is not None and (src / "chars.json").is_file():
            for hexes, name in json.loads((src / "chars.json").read_text(encoding="utf-8")).items():
                chars.setdefault(name, hexes)
    out: dict[str, SvgCandidate] = {}
    for name in sorted(icons):
        e = None
        if name in chars:
            cps = _hex_cps(chars[name])
            e = idx.entry(cps) if cps else None
        if e is None:
            e = _match_emoji_name(idx, name)
        if e is None:
            continue
        c = _emoji_candidate(idx, e, prefix, pkg, ver, lic, attribution, f"icons.json#{name}", icons[name])
        if c.id in out:  # numbered variants of one emoji ('baby-1', 'baby-2') keep their own ids
            c.id = f"{prefix}-{S.slug(name)}"
        out.setdefault(c.id, c)
    return [out[k] for k in sorted(out)]


def _match_emoji_name(idx: EmojiIndex, name: str) -> S.EmojiEntry | None:
    base = re.sub(r"-\d+$", "", name) if not name.isdigit() else name
    # Firefox OS drops 'face' ('astonished'); Streamline names flags by country ('france').
    for key in (base, base + "-face", "flag-" + base):
        e = idx.lookup_name(key)
        if e is not None:
            return e
    for suf in FLUENT_TONES:
        if base.endswith(suf):
            plain = idx.lookup_name(base[: -len(suf)])
            if plain is None:
                return None
            toned = idx.entry(plain.cps[:1] + (TONE_CP[suf],) + plain.cps[1:])
            return toned or plain
    return None


EMOJI_STYLES: dict[str, Callable[..., list[SvgCandidate]]] = {
    "twemoji": twemoji,
    "openmoji": openmoji,
    "fluent-emoji": lambda idx, root=None: iconify_emoji(idx, "fluent-emoji", root, chars_from="fluent-emoji-flat"),
    "fluent-emoji-flat": lambda idx, root=None: iconify_emoji(idx, "fluent-emoji-flat", root),
    "fxemoji": lambda idx, root=None: iconify_emoji(idx, "fxemoji", root),
    "streamline-emojis": lambda idx, root=None: iconify_emoji(idx, "streamline-emojis", root),
}


# --------------------------------------------------------------------------- icon sets


def _icon(style: str, pkg: str, ver: str, name: str, keywords: Iterable[str], group: str, lic: str,
          attribution: str, orig: str, svg: Callable[[], str], concept_name: str | None = None) -> SvgCandidate:
    words = icon_words(concept_name if concept_name is not None else name)
    kws: list[str] = []
    for k in keywords:
        k = " ".join(str(k).lower().replace("-", " ").split())
        if k and k != words and not k.startswith("*") and k not in kws:
            kws.append(k)
    return SvgCandidate(f"{style}-{S.slug(name)}", style, pkg, ver, "icon", words, S.concept_key(words), kws,
                        group.lower(), "", lic, attribution, orig, svg)


def tabler(root: Path | None = None) -> list[SvgCandidate]:
    """``@tabler/icons``: icons.json gives category and tags; outline and filled are two styles.
    The 'Brand' category (company logos: trademarks, not concepts) is left out."""
    pkg = "@tabler/icons"
    d = package_dir(pkg, root)
    ver = package_version(d)
    meta = json.loads((d / "icons.json").read_text(encoding="utf-8"))
    out = []
    for name in sorted(meta):
        m = meta[name]
        if m.get("category") == "Brand":
            continue
        for style in sorted(m.get("styles", {})):
            p = d / "icons" / style / f"{name}.svg"
            if p.is_file():
                out.append(_icon(f"tabler-{style}", pkg, ver, name, m.get("tags", []), m.get("category", ""),
                                 "MIT", "Tabler Icons by Paweł Kuna (tabler.io/icons), MIT",
                                 f"icons/{style}/{name}.svg", _read(p)))
    return sorted(out, key=lambda c: c.id)


def mdi(root: Path | None = None) -> list[SvgCandidate]:
    """``@mdi/svg``: meta.json gives aliases (used as keywords) and tags (category); deprecated
    icons and the 'Brand / Logo' tag (trademarks) are skipped. The concept drops trailing style
    words ('-outline', '-variant') only."""
    pkg = "@mdi/svg"
    d = package_dir(pkg, root)
    ver = package_version(d)
    meta = json.loads((d / "meta.json").read_text(encoding="utf-8"))
    out = []
    for m in sorted(meta, key=lambda m: m["name"]):
        p = d / "svg" / f"{m['name']}.svg"
        if m.get("deprecated") or "Brand / Logo" in m.get("tags", []) or not p.is_file():
            continue
        base = re.sub(r"-outline$|-variant$", "", m["name"]) or m["name"]
        group = (m.get("tags") or [""])[0]
        out.append(_icon("mdi", pkg, ver, m["name"], m.get("aliases", []), group, "Apache-2.0",
                         f"Material Design Icons (pictogrammers.com), {m.get('author') or 'Pictogrammers'}, "
                         "Apache 2.0", f"svg/{p.name}", _read(p), base))
    return out


def lucide(root: Path | None = None) -> list[SvgCandidate]:
    """``lucide-static``: tags.json (name -> tags) and icons/<name>.svg."""
    pkg = "lucide-static"
    d = package_dir(pkg, root)
    ver = package_version(d)
    tags = json.loads((d / "tags.json").read_text(encoding="utf-8"))
    out = []
    for p in sorted((d / "icons").glob("*.svg")):
        out.append(_icon("lucide", pkg, ver, p.stem, tags.get(p.stem, []), "", "ISC",
                         "Lucide Contributors (lucide.dev), ISC; parts from Feather by Cole Bemis, MIT",
                         f"icons/{p.name}", _read(p)))
    return out


_PHOSPHOR_ENTRY = re.compile(r"\{\s*name:\s*\"([^\"]+)\"(.*?)\n  \}", re.S)
_JS_STRINGS = re.compile(r"\"((?:[^\"\\]|\\.)*)\"")


def parse_phosphor_index(text: str, categories: dict[str, str] | None = None) -> list[dict]:
    """Entries of ``@phosphor-icons/core/dist/index.mjs`` (a JS module, not JSON): name, tags and
    categories. Categories appear as enum members (``e.NATURE``) resolved from the enum literal."""
    if categories is None:
        categories = {}
        m = re.search(r"e = /\* @__PURE__ \*/ \(\(i\) => \((.*?)\)\)\(e \|\| \{\}\)", text, re.S)
        for k, v in re.findall(r"i\.(\w+) = \"([^\"]+)\"", m.group(1) if m else ""):
            categories[k] = v
    out = []
    for m in _PHOSPHOR_ENTRY.finditer(text):
        body = m.group(2)
        tags_m = re.search(r"\btags:\s*\[(.*?)\]", body, re.S)
        cats_m = re.search(r"\bcategories:\s*\[(.*?)\]", body, re.S)
        tags = _JS_STRINGS.findall(tags_m.group(1)) if tags_m else []
        cats = [categories.get(c, c.lower()) for c in re.findall(r"e\.(\w+)", cats_m.group(1))] if cats_m else []
        out.append({"name": m.group(1), "tags": tags, "categories": cats})
    return out


def phosphor(root: Path | None = None, weights: tuple[str, ...] = ("regular", "fill")) -> list[SvgCandidate]:
    """``@phosphor-icons/core``: assets/<weight>/<name>[-<weight>].svg, tags from dist/index.mjs;
    the 'brands' category (logos) is left out."""
    pkg = "@phosphor-icons/core"
    d = package_dir(pkg, root)
    ver = package_version(d)
    entries = parse_phosphor_index((d / "dist" / "index.mjs").read_text(encoding="utf-8"))
    out = []
    for e in sorted(entries, key=lambda e: e["name"]):
        if "brands" in e["categories"]:
            continue
        for w in weights:
            fname = f"{e['name']}.svg" if w == "regular" else f"{e['name']}-{w}.svg"
            p = d / "assets" / w / fname
            if p.is_file():
                out.append(_icon(f"phosphor-{w}", pkg, ver, e["name"], e["tags"], (e["categories"] or [""])[0],
                                 "MIT", "Phosphor Icons by Helena Zhang and Tobias Fried (phosphoricons.com), MIT",
                                 f"assets/{w}/{fname}", _read(p)))
    return sorted(out, key=lambda c: c.id)


def bootstrap(root: Path | None = None) -> list[SvgCandidate]:
    """``bootstrap-icons``: names only (the npm package ships no tags); '-fill' is a style."""
    pkg = "bootstrap-icons"
    d = package_dir(pkg, root)
    ver = package_version(d)
    out = []
    for p in sorted((d / "icons").glob("*.svg")):
        filled = p.stem.endswith("-fill")
        base = p.stem[: -len("-fill")] if filled else p.stem
        out.append(_icon("bootstrap-fill" if filled else "bootstrap", pkg, ver, p.stem, [], "", "MIT",
                         "Bootstrap Icons by The Bootstrap Authors (icons.getbootstrap.com), MIT",
                         f"icons/{p.name}", _read(p), base))
    return sorted(out, key=lambda c: c.id)


def fontawesome(root: Path | None = None) -> list[SvgCandidate]:
    """``@fortawesome/fontawesome-free``: metadata/icon-families.json holds label, search terms and
    the SVG of each free family/style. Brand logos are left out (trademarks, not concepts)."""
    pkg = "@fortawesome/fontawesome-free"
    d = package_dir(pkg, root)
    ver = package_version(d)
    meta = json.loads((d / "metadata" / "icon-families.json").read_text(encoding="utf-8"))
    out = []
    for name in sorted(meta):
        m = meta[name]
        free = m.get("familyStylesByLicense", {}).get("free", [])
        for fs in free:
            fam, sty = fs.get("family"), fs.get("style")
            raw = m.get("svgs", {}).get(fam, {}).get(sty, {}).get("raw")
            if not raw or sty == "brands":
                continue
            style = f"fontawesome-{sty}" if fam == "classic" else f"fontawesome-{fam}-{sty}"
            terms = m.get("search", {}).get("terms", [])
            out.append(_icon(style, pkg, ver, name, terms, "", "CC-BY-4.0",
                             "Font Awesome Free by Fonticons, Inc. (fontawesome.com), icons CC BY 4.0",
                             f"metadata/icon-families.json#{name}/{fam}/{sty}", _const(raw),
                             str(m.get("label", name))))
    return sorted(out, key=lambda c: c.id)


ICON_SETS: dict[str, Callable[..., list[SvgCandidate]]] = {
    "tabler": tabler,
    "mdi": mdi,
    "lucide": lucide,
    "phosphor": phosphor,
    "bootstrap": bootstrap,
    "fontawesome": fontawesome,
}


# --------------------------------------------------------------------------- flags


def cldr_territories(path: str | Path) -> dict[str, str]:
    """Region code (upper case) -> English name from CLDR main/en.xml (default names only, not the
    'short'/'variant' alternatives)."""
    out: dict[str, str] = {}
    for el in ET.parse(path).getroot().iter("territory"):
        code, text = el.get("type"), (el.text or "").strip()
        if code and text and el.get("alt") is None:
            out.setdefault(code.upper(), text)
    return out


@lru_cache(maxsize=1)
def debian_territories() -> dict[str, str]:
    return cldr_territories(S.find_file("unicode-cldr-core", "/common/main/en.xml"))


def flag_icons(territories: dict[str, str] | None = None, root: Path | None = None,
               aspects: tuple[str, ...] = ("4x3", "1x1")) -> list[SvgCandidate]:
    """``flag-icons``: one concept per flag, 'flag of <CLDR name>' (the package's own name when
    CLDR has none, e.g. subdivisions such as 'es-ct'); the 4:3 and square drawings are two styles."""
    pkg = "flag-icons"
    d = package_dir(pkg, root)
    ver = package_version(d)
    if territories is None:
        try:
            territories = debian_territories()
        except SourceUnavailable as exc:
            warnings.warn(f"!!! {exc}: flag names fall back to flag-icons' country.json")
            territories = {}
    countries = json.loads((d / "country.json").read_text(encoding="utf-8"))
    out = []
    for c in sorted(countries, key=lambda c: c["code"]):
        code = c["code"]
        if code == "xx":  # the package's 'unknown flag' placeholder
            continue
        name = territories.get(code.upper()) or c.get("name") or code
        display = "flag of " + name.lower()
        for aspect in aspects:
            p = d / "flags" / aspect / f"{code}.svg"
            if not p.is_file():
                continue
            kws = [k for k in (c.get("name", "").lower(), str(c.get("capital", "")).lower()) if k and k != name.lower()]
            out.append(SvgCandidate(
                f"flag-icons-{aspect}-{S.slug(code)}", f"flag-icons-{aspect}", pkg, ver, "flag", display,
                S.concept_key(display), kws, "flags", str(c.get("continent") or ""), "MIT",
                "flag-icons by Panayiotis Lipiridis and contributors (flagicons.lipis.dev), MIT",
                f"flags/{aspect}/{p.name}", _read(p)))
    return sorted(out, key=lambda c: c.id)


# --------------------------------------------------------------------------- Debian textures

# Natural textures (rock, sand, grass, snow, sky, planetary maps) from Debian packages; docs/TINY_V2_DATA.md
# gives the licence check and the measured counts. Package -> path fragment of the texture folder
# (scorched3d also ships tank skins, left out by the path).
TEXTURE_PACKAGES = {
    "scorched3d-data": "/globalmods/none/data/textures/landscape/",
    "extremetuxracer-data": "/games/etr/",
    "colobot-common-textures": "/colobot/textures/",
    "xplanet-images": "/xplanet/images/",
}
_TEXTURE_SHORT = {"scorched3d-data": "scorched3d", "extremetuxracer-data": "etr", "colobot-common-textures": "colobot",
                  "xplanet-images": "xplanet"}
# Inside the folder, the files that are natural surfaces or skies (full match on the path after the fragment).
# Only these curated packages get v1's looser texture flatness limit (texture=True), so UI art must be left
# out here, not by the filter. scorched3d keeps the photo limit: its landscape folder also holds cloud masks
# and blurred colour blobs that only the photo limit rejects.
# etr: terrain tiles and the mountain skybox faces; not UI sprites/fonts (textures/, objects/, players/),
#   course maps, nor the *H.png faces (256-colour palette copies of the RGB ones).
# colobot: clouds, deserts, dirt, Mars/Moon ground, water, terrain, sky backdrops; not UI atlases,
#   heightmaps (relief*, res*), effects, fonts, object skins, nor the synthetic lava bubbles.
# xplanet: the whole-globe maps (Earth by day and night, Sun); its PNGs are tiny spacecraft icons.
_TEXTURE_KEEP = {
    "extremetuxracer-data": r"terrains/[^/]+\.png|env/[^/]+/[^/]+/(?:front|left|right)\.png",
    "colobot-common-textures": r"(?:back|cloud|desert|dirty|mars|moon|terra|water)\d+\.png",
    "xplanet-images": r"[^/]+\.jpe?g",
}


def debian_textures(pkg: str) -> list[S.PhotoCandidate]:
    """Raster textures of one TEXTURE_PACKAGES package as photo candidates; v1's photo filter (size,
    opacity, colours, flatness; the texture limit for the curated _TEXTURE_KEEP packages) then drops
    sprites, masks and flat art."""
    frag = TEXTURE_PACKAGES[pkg]
    short = _TEXTURE_SHORT[pkg]
    curated = pkg in _TEXTURE_KEEP
    keep = re.compile(_TEXTURE_KEEP.get(pkg, r".*"), re.I)
    out = []
    for p in S.dpkg_files(pkg):
        if frag in p and p.lower().endswith((".jpg", ".jpeg", ".png")):
            rel = p.split(frag, 1)[1]
            if not keep.fullmatch(rel):
                continue
            with Image.open(p) as im:  # header only
                w, h = im.size
            out.append(S.PhotoCandidate(f"{short}-{S.slug(rel.rsplit('.', 1)[0])}", short, pkg, p,
                                        "jpeg" if p.lower().endswith((".jpg", ".jpeg")) else "png", w * h,
                                        (lambda p=p: Image.open(p)), p, texture=curated))
    if not out:
        raise SourceUnavailable(f"{pkg}: no texture files under {frag}")
    return sorted(out, key=lambda c: c.id)


# --------------------------------------------------------------------------- collection


def collect_v2(root: Path | None = None, idx: EmojiIndex | None = None, skipped: list[dict] | None = None,
               only: Iterable[str] | None = None) -> dict[str, list[SvgCandidate]]:
    """All v2 SVG sources by name (emoji styles, icon sets, 'flag-icons'). A source whose package is
    missing is reported loudly (stderr and ``skipped``) and left out; the rest still load."""
    from .build import loud  # the v1 builder's banner, so both builds warn the same way

    skipped = skipped if skipped is not None else []
    wanted = set(only) if only is not None else None
    out: dict[str, list[SvgCandidate]] = {}

    def take(name: str, fn: Callable[[], list[SvgCandidate]]) -> None:
        if wanted is not None and name not in wanted:
            return
        try:
            out[name] = fn()
        except SourceUnavailable as exc:
            loud(f"v2 source {name} skipped: {exc}")
            skipped.append({"source": name, "reason": str(exc)})

    emoji_idx = idx
    if emoji_idx is None and (wanted is None or wanted & set(EMOJI_STYLES)):
        try:
            emoji_idx = EmojiIndex.from_debian()
        except SourceUnavailable as exc:
            loud(f"v2 emoji styles skipped (no Unicode/CLDR names): {exc}")
            skipped.append({"source": "emoji", "reason": str(exc)})
    if emoji_idx is not None:
        for name, fn in EMOJI_STYLES.items():
            take(name, lambda fn=fn: fn(emoji_idx, root))
    for name, fn in ICON_SETS.items():
        take(name, lambda fn=fn: fn(root))
    take("flag-icons", lambda: flag_icons(root=root))
    return out


# --------------------------------------------------------------------------- rasterising


def _svg_aspect(svg: str) -> float:
    """width / height of the SVG's viewBox (or width/height attributes); 1.0 if neither parses."""
    head = svg[: svg.find(">", svg.find("<svg")) + 1] if "<svg" in svg else ""
    m = re.search(r"viewBox\s*=\s*[\"']\s*([-\d.eE+]+)[\s,]+([-\d.eE+]+)[\s,]+([-\d.eE+]+)[\s,]+([-\d.eE+]+)", head)
    if m:
        w, h = float(m.group(3)), float(m.group(4))
    else:
        mw = re.search(r"\swidth\s*=\s*[\"']([\d.]+)", head)
        mh = re.search(r"\sheight\s*=\s*[\"']([\d.]+)", head)
        w, h = (float(mw.group(1)), float(mh.group(1))) if mw and mh else (1.0, 1.0)
    return w / h if w > 0 and h > 0 else 1.0


def rasterise(svg: str, size: int, padding: float = 0.1,
              background: tuple[int, int, int] | None = (255, 255, 255), ink: str = "#000000") -> Image.Image:
    """Render ``svg`` centred on a ``size`` x ``size`` canvas, its longer side filling
    ``size * (1 - 2 * padding)`` px, aspect ratio kept. ``background=None`` keeps transparency
    (RGBA), else the result is RGB composited over that colour. ``currentColor`` (line-art icon
    sets) is drawn in ``ink``. resvg renders on the CPU without threads or randomness, so the same
    SVG and arguments give the same pixels (checked in models/tests/test_data_v2.py)."""
    try:
        import resvg_py
    except ImportError as exc:  # pragma: no cover - exercised only where the extra is missing
        raise SourceUnavailable("resvg-py not installed (pip install 'resvg-py==0.5.0', or scripts/datapkgs.sh --pip)") from exc
    if not 0 <= padding < 0.5:
        raise ValueError("padding must be in [0, 0.5)")
    inner = max(1, round(size * (1 - 2 * padding)))
    aspect = _svg_aspect(svg)
    w, h = (inner, max(1, round(inner / aspect))) if aspect >= 1 else (max(1, round(inner * aspect)), inner)
    svg = svg.replace("currentColor", ink)
    png = resvg_py.svg_to_bytes(svg_string=svg, width=w, height=h, skip_system_fonts=True)
    art = Image.open(io.BytesIO(bytes(png))).convert("RGBA")
    if art.size != (w, h):  # resvg honours both sizes; guard against a binding that does not
        art = art.resize((w, h), Image.Resampling.BICUBIC)
    canvas = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    canvas.alpha_composite(art, ((size - w) // 2, (size - h) // 2))
    if background is None:
        return canvas
    base = Image.new("RGBA", (size, size), tuple(background) + (255,))
    base.alpha_composite(canvas)
    return base.convert("RGB")
