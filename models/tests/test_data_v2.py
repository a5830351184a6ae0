"""TokLIP-Tiny v2 data sources (toklip.data.sources_v2, toklip.data.wordnet) on tiny fixtures
written here, plus checks on the real npm data packages / wordnet-base that run only where those
are installed (scripts/datapkgs.sh --all) and skip loudly elsewhere."""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from toklip.data import build as B
from toklip.data import build_v2 as BV2
from toklip.data import sources_v2 as V
from toklip.data.sources import SourceUnavailable
from toklip.data.wordnet import WordNet, parse_data_line, wordnet_captions
from toklip.dataset import load_pairs

# --------------------------------------------------------------------------- fixtures

EMOJI_TEST = """\
# group: Smileys & Emotion
# subgroup: face-smiling
1F600                                                  ; fully-qualified     # \U0001F600 E1.0 grinning face
# subgroup: heart
2764 FE0F                                              ; fully-qualified     # \u2764\ufe0f E0.6 red heart
2764                                                   ; unqualified         # \u2764 E0.6 red heart
# group: People & Body
# subgroup: hand-fingers-open
1F44B                                                  ; fully-qualified     # \U0001F44B E0.6 waving hand
1F44B 1F3FB                                            ; fully-qualified     # \U0001F44B\U0001F3FB E1.0 waving hand: light skin tone
# group: Flags
# subgroup: country-flag
1F1EB 1F1F7                                            ; fully-qualified     # \U0001F1EB\U0001F1F7 E2.0 flag: France
"""

CLDR = """<?xml version="1.0" encoding="UTF-8"?>
<ldml><annotations>
<annotation cp="\U0001F600">face | grin | grinning face</annotation>
<annotation cp="\U0001F600" type="tts">grinning face</annotation>
<annotation cp="\u2764">emotion | heart | love</annotation>
<annotation cp="\u2764" type="tts">red heart</annotation>
<annotation cp="\U0001F44B">hand | wave | waving</annotation>
<annotation cp="\U0001F44B" type="tts">waving hand</annotation>
<annotation cp="\U0001F1EB\U0001F1F7" type="tts">flag: France</annotation>
</annotations></ldml>
"""

TERRITORIES = """<?xml version="1.0" encoding="UTF-8"?>
<ldml><localeDisplayNames><territories>
<territory type="FR">France</territory>
<territory type="GB">United Kingdom</territory>
<territory type="GB" alt="short">UK</territory>
</territories></localeDisplayNames></ldml>
"""

SQUARE = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><rect width="10" height="10" fill="#{c}"/></svg>'


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _pkg(root: Path, name: str, version: str = "1.0.0") -> Path:
    d = root / name
    _write(d / "package.json", json.dumps({"name": name, "version": version}))
    return d


@pytest.fixture()
def idx(tmp_path: Path) -> V.EmojiIndex:
    return V.EmojiIndex(_write(tmp_path / "emoji-test.txt", EMOJI_TEST), [_write(tmp_path / "en.xml", CLDR)])


def _iconify(root: Path, prefix: str, icons: dict, aliases: dict | None = None, chars: dict | None = None,
             spdx: str = "MIT") -> Path:
    d = _pkg(root, f"@iconify-json/{prefix}")
    _write(d / "icons.json", json.dumps({"prefix": prefix, "icons": icons, "aliases": aliases or {},
                                         "width": 32, "height": 32}))
    _write(d / "info.json", json.dumps({"name": prefix.title(), "author": {"name": "Someone", "url": "u"},
                                        "license": {"title": spdx, "spdx": spdx}}))
    if chars is not None:
        _write(d / "chars.json", json.dumps(chars))
    return d


@pytest.fixture()
def root(tmp_path: Path) -> Path:
    """A fake models/datapkgs/node_modules with a few packages in their real layouts."""
    r = tmp_path / "node_modules"
    tw = _pkg(r, "@twemoji/svg", "15.0.0")
    for i, stem in enumerate(("1f600", "2764", "1f44b-1f3fb", "1f1eb-1f1f7", "1f9ff", "not-hex")):
        _write(tw / f"{stem}.svg", SQUARE.format(c=f"{40 * i + 20:02x}0000"))  # distinct renders
    om = _pkg(r, "openmoji", "17.0.0")
    _write(om / "data" / "openmoji.json", json.dumps([
        {"hexcode": "1F600", "group": "smileys-emotion", "openmoji_author": "A. Artist"},
        {"hexcode": "E000", "group": "extras-openmoji", "openmoji_author": "B"},
        {"hexcode": "1F44B", "group": "people-body", "openmoji_author": "C"},  # file missing below
    ]))
    _write(om / "color" / "svg" / "1F600.svg", SQUARE.format(c="00ff00"))
    body = '<rect width="32" height="32"/>'
    # Firefox-OS-like names: Unicode character names squashed, 'face' dropped.
    _iconify(r, "fxemoji", {"heavyblackheart": {"body": body}, "grinning": {"body": body},
                            "acorn": {"body": body}}, spdx="Apache-2.0")
    # Fluent-like: chars.json for some, CLDR slugs with skin-tone suffixes for others.
    _iconify(r, "fluent-emoji-flat", {"grinning-face": {"body": body}, "waving-hand-light": {"body": body},
                                      "flag-france": {"body": body}}, chars={"1f600": "grinning-face"})
    tb = _pkg(r, "@tabler/icons", "3.52.0")
    _write(tb / "icons.json", json.dumps({"shopping-cart-2": {"name": "shopping-cart-2", "category": "E-commerce",
                                                             "tags": ["buy", "Shop", "shopping cart 2"],
                                                             "styles": {"outline": {}, "filled": {}}},
                                         "brand-acme": {"category": "Brand", "tags": [], "styles": {"outline": {}}}}))
    _write(tb / "icons" / "outline" / "shopping-cart-2.svg", SQUARE.format(c="currentColor"))
    _write(tb / "icons" / "outline" / "brand-acme.svg", SQUARE.format(c="currentColor"))
    md = _pkg(r, "@mdi/svg", "7.4.47")
    _write(md / "meta.json", json.dumps([
        {"name": "home-outline", "aliases": ["house-outline"], "tags": ["Home Automation"], "deprecated": False},
        {"name": "old-thing", "aliases": [], "tags": [], "deprecated": True},
        {"name": "some-company", "aliases": [], "tags": ["Brand / Logo"], "deprecated": False},
    ]))
    for n in ("home-outline", "old-thing", "some-company"):
        _write(md / "svg" / f"{n}.svg", SQUARE.format(c="000000"))
    fa = _pkg(r, "@fortawesome/fontawesome-free", "7.3.1")
    svg = SQUARE.format(c="currentColor")
    _write(fa / "metadata" / "icon-families.json", json.dumps({
        "house": {"label": "House", "search": {"terms": ["home", "building"]},
                  "familyStylesByLicense": {"free": [{"family": "classic", "style": "solid"}]},
                  "svgs": {"classic": {"solid": {"raw": svg}, "regular": {"raw": svg}}}},
        "github": {"label": "GitHub", "search": {"terms": []},
                   "familyStylesByLicense": {"free": [{"family": "classic", "style": "brands"}]},
                   "svgs": {"classic": {"brands": {"raw": svg}}}},
    }))
    fl = _pkg(r, "flag-icons", "7.5.0")
    _write(fl / "country.json", json.dumps([
        {"code": "fr", "name": "France", "capital": "Paris", "continent": "Europe", "iso": True},
        {"code": "es-ct", "name": "Catalonia", "capital": "Barcelona", "continent": "Europe", "iso": False},
        {"code": "xx", "name": "Unknown", "iso": False},
    ]))
    for i, p in enumerate(("4x3/fr", "1x1/fr", "4x3/es-ct", "4x3/xx")):
        _write(fl / "flags" / f"{p}.svg", SQUARE.format(c=f"0000{40 * i + 20:02x}"))
    return r


# --------------------------------------------------------------------------- emoji styles


def test_twemoji_named_by_unicode_and_cldr(idx: V.EmojiIndex, root: Path) -> None:
    cands = V.twemoji(idx, root)
    by_id = {c.id: c for c in cands}
    # 1f9ff is not in the (fixture) emoji list, 'not-hex' is not a code point file: both dropped.
    assert sorted(by_id) == ["twemoji-1f1eb-1f1f7", "twemoji-1f44b-1f3fb", "twemoji-1f600", "twemoji-2764-fe0f"]
    face = by_id["twemoji-1f600"]
    assert (face.name, face.concept, face.kind, face.style) == ("grinning face", "grinning face", "emoji", "twemoji")
    assert face.keywords == ["face", "grin"]  # the name itself is not repeated as a keyword
    assert face.license == "CC-BY-4.0" and "Twemoji" in face.attribution and face.version == "15.0.0"
    # A file without VS16 resolves to the fully-qualified sequence.
    assert by_id["twemoji-2764-fe0f"].codepoints == (0x2764, 0xFE0F)
    # Skin tones share the concept of the base emoji, as for Noto.
    assert by_id["twemoji-1f44b-1f3fb"].concept == "waving hand"
    assert by_id["twemoji-1f44b-1f3fb"].name == "waving hand, light skin tone"
    # Unlike v1, each flag is its own concept.
    assert by_id["twemoji-1f1eb-1f1f7"].concept == "flag of france"
    assert "<svg" in face.svg()


def test_openmoji_skips_extras_and_missing_files(idx: V.EmojiIndex, root: Path) -> None:
    cands = V.openmoji(idx, root)
    assert [c.id for c in cands] == ["openmoji-1f600"]
    assert cands[0].license == "CC-BY-SA-4.0" and "A. Artist" in cands[0].attribution


def test_iconify_sets_match_by_chars_unicode_names_and_tone_suffixes(idx: V.EmojiIndex, root: Path) -> None:
    fx = {c.orig_path.split("#")[1]: c for c in V.iconify_emoji(idx, "fxemoji", root)}
    assert sorted(fx) == ["grinning", "heavyblackheart"]  # 'acorn' is no Unicode emoji
    assert fx["heavyblackheart"].concept == "red heart"  # via unicodedata.name(U+2764)
    assert fx["grinning"].concept == "grinning face"
    # info.json says Apache-2.0 (fxemoji's code); the artwork is CC BY 4.0 (mozilla/fxemoji LICENSE.md).
    assert fx["grinning"].license == "CC-BY-4.0" and "Mozilla" in fx["grinning"].attribution
    fl = {c.orig_path.split("#")[1]: c for c in V.iconify_emoji(idx, "fluent-emoji-flat", root)}
    assert fl["grinning-face"].license == "MIT"  # no override: info.json's licence
    assert fl["grinning-face"].attribution.startswith("Fluent-Emoji-Flat by Someone")
    assert fl["grinning-face"].codepoints == (0x1F600,)
    assert fl["waving-hand-light"].codepoints == (0x1F44B, 0x1F3FB)
    assert fl["flag-france"].concept == "flag of france"
    svg = fl["grinning-face"].svg()
    assert svg.startswith("<svg") and 'viewBox="0 0 32 32"' in svg and '<rect width="32"' in svg


def test_iconify_aliases(tmp_path: Path) -> None:
    d = _iconify(tmp_path, "set", {"left": {"body": "<path d='M0 0'/>", "width": 20}},
                 aliases={"right": {"parent": "left", "hFlip": True}, "turned": {"parent": "left", "rotate": 1},
                          "same": {"parent": "left"}, "orphan": {"parent": "nope"}})
    icons = V.iconify_icons(d)
    assert sorted(icons) == ["left", "right", "same"]
    assert "scale(-1 1)" in icons["right"]() and "translate(20 0)" in icons["right"]()
    assert icons["same"]() == icons["left"]() and "scale" not in icons["left"]()


# --------------------------------------------------------------------------- icons and flags


def test_tabler_names_tags_and_styles(root: Path) -> None:
    cands = V.tabler(root)
    assert len(cands) == 1  # filled file absent; the Brand category (logos) is left out
    c = cands[0]
    assert (c.id, c.style, c.name, c.concept, c.group) == (
        "tabler-outline-shopping-cart-2", "tabler-outline", "shopping cart", "shopping cart", "e-commerce")
    assert c.keywords == ["buy", "shop", "shopping cart 2"] and c.license == "MIT"


def test_mdi_skips_deprecated_and_logos_and_drops_style_suffix(root: Path) -> None:
    cands = V.mdi(root)
    assert [c.id for c in cands] == ["mdi-home-outline"]
    assert cands[0].concept == "home" and cands[0].keywords == ["house outline"]
    assert cands[0].license == "Apache-2.0"


def test_fontawesome_free_styles_only_no_brands(root: Path) -> None:
    cands = V.fontawesome(root)
    # 'regular' has an SVG but is not listed as free for this icon; brands are never taken.
    assert [(c.id, c.style, c.name) for c in cands] == [("fontawesome-solid-house", "fontawesome-solid", "house")]
    assert cands[0].keywords == ["home", "building"] and cands[0].license == "CC-BY-4.0"


PHOSPHOR_JS = """var e = /* @__PURE__ */ ((i) => (i.ARROWS = "arrows", i.BRAND = "brands", i.NATURE = "nature", i))(e || {});
const n = [
  {
    name: "acorn",
    pascal_name: "Acorn",
    categories: [e.NATURE],
    tags: [
      "*new*",
      "nut"
    ],
    codepoint: 1
  },
  {
    name: "acme-logo",
    pascal_name: "AcmeLogo",
    categories: [e.BRAND],
    tags: [],
    codepoint: 3
  },
  {
    name: "arrow-up",
    pascal_name: "ArrowUp",
    categories: [e.ARROWS, e.NATURE],
    tags: ["north", "up"],
    codepoint: 2
  }
];
"""


def test_phosphor_index_parser(tmp_path: Path) -> None:
    entries = V.parse_phosphor_index(PHOSPHOR_JS)
    assert entries == [{"name": "acorn", "tags": ["*new*", "nut"], "categories": ["nature"]},
                       {"name": "acme-logo", "tags": [], "categories": ["brands"]},
                       {"name": "arrow-up", "tags": ["north", "up"], "categories": ["arrows", "nature"]}]
    d = _pkg(tmp_path, "@phosphor-icons/core")
    _write(d / "dist" / "index.mjs", PHOSPHOR_JS)
    _write(d / "assets" / "regular" / "acorn.svg", SQUARE.format(c="000000"))
    _write(d / "assets" / "fill" / "acorn-fill.svg", SQUARE.format(c="000000"))
    _write(d / "assets" / "regular" / "acme-logo.svg", SQUARE.format(c="000000"))
    cands = V.phosphor(tmp_path)
    assert [(c.id, c.style) for c in cands] == [("phosphor-fill-acorn", "phosphor-fill"),
                                                ("phosphor-regular-acorn", "phosphor-regular")]
    assert cands[0].keywords == ["nut"]  # '*new*' is a release marker, not a keyword


def test_flags_named_by_cldr_and_shared_with_emoji_flags(idx: V.EmojiIndex, root: Path, tmp_path: Path) -> None:
    terr = V.cldr_territories(_write(tmp_path / "main-en.xml", TERRITORIES))
    assert terr == {"FR": "France", "GB": "United Kingdom"}  # alt="short" ignored
    cands = V.flag_icons(terr, root)
    assert [c.id for c in cands] == ["flag-icons-1x1-fr", "flag-icons-4x3-es-ct", "flag-icons-4x3-fr"]
    by_id = {c.id: c for c in cands}
    assert by_id["flag-icons-4x3-es-ct"].name == "flag of catalonia"  # no CLDR name: package's own
    assert by_id["flag-icons-4x3-fr"].keywords == ["paris"]
    emoji_flag = next(c for c in V.twemoji(idx, root) if c.group == "Flags")
    assert by_id["flag-icons-4x3-fr"].concept == emoji_flag.concept == "flag of france"


def test_icon_words() -> None:
    assert V.icon_words("a-b-2") == "a b"
    assert V.icon_words("arrow-left_circle") == "arrow left circle"
    assert V.icon_words("2") == "2"
    assert V.squash("Black Diamond Suit!") == "blackdiamondsuit"


def test_missing_package_is_skipped_loudly(idx: V.EmojiIndex, root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SourceUnavailable, match="not installed"):
        V.lucide(root)
    skipped: list[dict] = []
    got = V.collect_v2(root, idx, skipped)
    missing = {"lucide", "bootstrap", "phosphor", "fluent-emoji", "streamline-emojis"}
    assert {s["source"] for s in skipped} == missing
    assert set(got) == (set(V.EMOJI_STYLES) | set(V.ICON_SETS) | {"flag-icons"}) - missing
    assert "!!! v2 source lucide skipped" in capsys.readouterr().err
    ids = [c.id for cs in got.values() for c in cs]
    assert len(ids) == len(set(ids))


# --------------------------------------------------------------------------- rasterising


def _resvg() -> None:
    try:
        import resvg_py  # noqa: F401
    except ImportError:
        pytest.skip("!!! resvg-py not installed: rasteriser untested (pip install 'resvg-py==0.5.0', "
                    "or scripts/datapkgs.sh --pip)")


def test_rasterise_size_padding_background() -> None:
    _resvg()
    img = V.rasterise(SQUARE.format(c="ff0000"), 20, padding=0.25, background=(0, 0, 255))
    a = np.asarray(img)
    assert img.mode == "RGB" and img.size == (20, 20)
    assert (a[5:15, 5:15] == [255, 0, 0]).all()  # 20 * (1 - 2 * 0.25) = 10 px square, centred
    assert (a[:5] == [0, 0, 255]).all() and (a[15:] == [0, 0, 255]).all()
    assert (a[:, :5] == [0, 0, 255]).all() and (a[:, 15:] == [0, 0, 255]).all()
    t = np.asarray(V.rasterise(SQUARE.format(c="ff0000"), 20, padding=0.25, background=None))
    assert t.shape == (20, 20, 4) and (t[:5, :, 3] == 0).all() and (t[5:15, 5:15, 3] == 255).all()


def test_rasterise_keeps_aspect_and_inks_current_color() -> None:
    _resvg()
    wide = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 20 10"><rect width="20" height="10" fill="currentColor"/></svg>'
    a = np.asarray(V.rasterise(wide, 40, padding=0.0, ink="#00ff00"))
    assert (a[10:30] == [0, 255, 0]).all()  # 40 x 20, vertically centred
    assert (a[:10] == 255).all() and (a[30:] == 255).all()


def test_rasterise_is_deterministic_and_validates_padding() -> None:
    _resvg()
    svg = ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><circle cx="16" cy="16" r="11" '
           'fill="#3a7" stroke="#123" stroke-width="1.5"/><path d="M4 28 L28 4" stroke="#f00"/></svg>')
    a = V.rasterise(svg, 57, padding=0.07).tobytes()
    assert a == V.rasterise(svg, 57, padding=0.07).tobytes()
    with pytest.raises(ValueError):
        V.rasterise(svg, 32, padding=0.5)


# --------------------------------------------------------------------------- WordNet


def make_wordnet(dirpath: Path) -> Path:
    """A four-synset WordNet in the wndb(5) layout: kitten -> young_mammal -> animal -> organism.
    Offsets must equal byte positions, which fixed-width (8-digit) offsets make computable."""
    synsets = [  # key, lex_filenum, words, hypernym keys, gloss
        ("organism", "03", ["organism", "being"], [], "a living thing"),
        ("animal", "03", ["animal", "animate_being", "beast"], ["organism"], "a living organism"),
        ("young", "05", ["young_mammal"], ["animal"], "any immature mammal"),
        ("kitten", "05", ["kitten", "kitty", "Felis_juvenilis"], ["young"], "young domestic cat"),
    ]
    header = "  1 This software and database is provided by Princeton University.  \n"

    def line(off: dict[str, int], s: tuple) -> str:
        key, lex, words, hyps, gloss = s
        w = " ".join(f"{x} 0" for x in words)
        p = " ".join(f"@ {off[h]:08d} n 0000" for h in hyps)
        return f"{off[key]:08d} {lex} n {len(words):02x} {w} {len(hyps):03d} {p} | {gloss}  \n".replace("  |", " |")

    off = {s[0]: 0 for s in synsets}
    pos = len(header)
    for s in synsets:  # same length whatever the offsets' values, so one pass fixes them
        off[s[0]] = pos
        pos += len(line(off, s).encode())
    _write(dirpath / "data.noun", header + "".join(line(off, s) for s in synsets))
    index = {w.lower(): s[0] for s in synsets for w in s[2]}
    _write(dirpath / "index.noun", header + "".join(
        f"{w} n 1 1 @ 1 0 {off[index[w]]:08d}  \n" for w in sorted(index)))
    _write(dirpath / "noun.exc", "kitties kitty\n")
    return dirpath


def test_wordnet_data_line_format() -> None:
    ss = parse_data_line("02121620 05 n 02 cat 0 true_cat 0 003 @ 02120997 n 0000 ~ 02121808 n 0000 "
                         "@i 09000000 n 0000 | feline mammal  ")
    assert ss.offset == 2121620 and ss.lemmas == ("cat", "true_cat")
    assert ss.hypernyms == (2120997, 9000000) and ss.gloss == "feline mammal"
    assert ss.words == ["cat", "true cat"]


def test_wordnet_lookup_on_fixture(tmp_path: Path) -> None:
    wn = WordNet(make_wordnet(tmp_path / "wn"))
    info = wn.lookup("kitten")
    assert info is not None and info.exact
    assert info.synonyms == ["kitty"]  # the capitalised Latin name is left out
    assert info.hypernyms == ["young mammal"] and info.category == "animal"
    assert info.gloss == "young domestic cat"
    assert wordnet_captions(info) == ["a kitty", "a young mammal", "an animal"]
    assert [s.words[0] for s in wn.chain(wn.synsets("kitten")[0])] == ["young mammal", "animal", "organism"]
    # Plurals via noun.exc and the suffix rules; phrases fall back to their head noun.
    assert wn.base_forms("kitties") == ["kitty"] and wn.base_forms("kittens") == ["kitten"]
    head = wn.lookup("grey kittens")
    assert head is not None and not head.exact and head.lemma == "kitten" and head.synonyms == []
    assert wn.lookup("kitten of doom").lemma == "kitten"  # type: ignore[union-attr]
    assert wn.lookup("grey kittens", head_noun=False) is None
    assert wn.lookup("zebra") is None


def test_wordnet_missing_files(tmp_path: Path) -> None:
    with pytest.raises(SourceUnavailable, match="wordnet-base"):
        WordNet(tmp_path)


def test_debian_textures_reader(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from PIL import Image

    base = tmp_path / "usr/share/games/scorched3d/data/globalmods"
    land = base / "none/data/textures/landscape"
    files = [land / "rock/texture0.jpg", land / "sky.png", base / "none/data/tanks/m1.jpg"]
    for f in files:
        f.parent.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (200, 120), (90, 80, 70)).save(f)
    listing = tuple(sorted(str(f) for f in files))

    def dpkg_files(pkg: str) -> tuple[str, ...]:
        if pkg != "scorched3d-data":
            raise SourceUnavailable(f"{pkg}: not installed")
        return listing

    monkeypatch.setattr(V.S, "dpkg_files", dpkg_files)
    cands = V.debian_textures("scorched3d-data")
    # Only the landscape folder (tank skins are out), sorted ids, fmt by extension, area from the header.
    assert [(c.id, c.fmt, c.area, c.source) for c in cands] == [
        ("scorched3d-rock-texture0", "jpeg", 24000, "scorched3d"), ("scorched3d-sky", "png", 24000, "scorched3d")]
    assert cands[0].open().size == (200, 120)
    assert not any(c.texture for c in cands)  # scorched3d keeps the photo flatness limit
    with pytest.raises(SourceUnavailable):
        V.debian_textures("colobot-common-textures")


def test_curated_texture_readers_pick_natural_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from PIL import Image

    etr = tmp_path / "usr/share/games/etr"
    colobot = tmp_path / "usr/share/games/colobot/textures"
    xplanet = tmp_path / "usr/share/xplanet/images"
    files = {
        "extremetuxracer-data": [etr / "terrains/rock01.png", etr / "env/etr/sunny/front.png",
                                 etr / "env/etr/sunny/frontH.png", etr / "textures/menu_title.png",
                                 etr / "courses/default/bunny_hill/elev.png"],
        "colobot-common-textures": [colobot / "mars001.png", colobot / "cloud02.png", colobot / "relief01.png",
                                    colobot / "lava05.png", colobot / "interface/button1.png",
                                    tmp_path / "usr/share/games/colobot/mods/AltTextures/textures/dirty01.png"],
        "xplanet-images": [xplanet / "earth.jpg", xplanet / "iss.png"],
    }
    for paths in files.values():
        for f in paths:
            f.parent.mkdir(parents=True, exist_ok=True)
            Image.new("RGB", (40, 20), (90, 80, 70)).save(f)

    def dpkg_files(pkg: str) -> tuple[str, ...]:
        if pkg not in files:
            raise SourceUnavailable(f"{pkg}: not installed")
        return tuple(sorted(str(f) for f in files[pkg]))

    monkeypatch.setattr(V.S, "dpkg_files", dpkg_files)
    picked = {pkg: [(c.id, c.texture) for c in V.debian_textures(pkg)] for pkg in files}
    assert picked == {
        # terrain tiles and RGB skybox faces; not the palette *H copies, UI sprites or course maps
        "extremetuxracer-data": [("etr-env-etr-sunny-front", True), ("etr-terrains-rock01", True)],
        # natural surfaces by name; not heightmaps, lava, interface atlases or the mod's copies
        "colobot-common-textures": [("colobot-cloud02", True), ("colobot-mars001", True)],
        "xplanet-images": [("xplanet-earth", True)],  # the globe map, not the spacecraft icons
    }
    # A package that is installed but holds none of the expected files is a loud skip, not an empty source.
    files["xplanet-images"] = [xplanet / "iss.png"]
    with pytest.raises(SourceUnavailable, match="xplanet-images"):
        V.debian_textures("xplanet-images")


# --------------------------------------------------------------------------- v2 builder


def _cand(name: str, kind: str, keywords: list[str] | None = None, subgroup: str = "") -> V.SvgCandidate:
    return V.SvgCandidate(f"x-{V.S.slug(name)}", "x", "pkg", "1", kind, name, V.S.concept_key(name),
                          keywords or [], "", subgroup, "MIT", "someone", "p.svg", lambda: "")


def test_captions_v2_per_kind_with_wordnet(tmp_path: Path) -> None:
    wn = WordNet(make_wordnet(tmp_path / "wn"))
    assert BV2.captions_v2(_cand("kitten", "icon", ["cat", "Pet", "young"]), wn) == [
        "an icon of kitten", "kitten", "a kitten icon", "cat, pet, young", "a pictogram of kitten",
        "a kitty", "a young mammal", "an animal"]
    # Exact WordNet matches only: the head noun of an icon/emoji name is not trusted.
    assert BV2.captions_v2(_cand("kitten outline", "icon"), wn) == [
        "an icon of kitten outline", "kitten outline", "a kitten outline icon", "a pictogram of kitten outline",
        "an image of kitten outline", "a picture of kitten outline"]
    assert BV2.captions_v2(_cand("flag of kitten", "flag", subgroup="Europe"), wn) == [
        "flag of kitten", "the flag of kitten", "a picture of the flag of kitten", "flag of kitten, europe",
        "an image of the flag of kitten"]
    assert BV2.captions_v2(_cand("kitten", "emoji", ["cat", "kitty"]), None) == [
        "an emoji of kitten", "kitten", "cat, kitty", "a picture of kitten", "an image of kitten"]


def test_build_v2_on_fixtures(idx: V.EmojiIndex, root: Path, tmp_path: Path) -> None:
    _resvg()
    wn_dir = make_wordnet(tmp_path / "wn")
    only = ["twemoji", "openmoji", "tabler", "fontawesome", "flag-icons"]
    outs = [tmp_path / "a", tmp_path / "b"]
    for out, workers in zip(outs, (1, 2)):  # deterministic, and the same with rasterising in worker processes
        BV2.build_v2(out, size=32, root=root, idx=idx, wordnet_dir=wn_dir, only=only, workers=workers)
    files = sorted(str(p.relative_to(outs[0])) for p in outs[0].rglob("*") if p.is_file())
    assert files == sorted(str(p.relative_to(outs[1])) for p in outs[1].rglob("*") if p.is_file())
    assert all((outs[0] / f).read_bytes() == (outs[1] / f).read_bytes() for f in files)  # deterministic

    out = outs[0]
    rows = [json.loads(line) for line in (out / "pairs.jsonl").read_text().splitlines()]
    by_id = {r["id"]: r for r in rows}
    # Font Awesome's house and tabler's cart are the same black square here: kept once, lowest id.
    assert "fontawesome-solid-house" in by_id and "tabler-outline-shopping-cart-2" not in by_id
    report = json.loads((out / "sources.json").read_text())
    assert report["profile"] == "v2"
    assert report["counts"]["pairs_skipped"] == {"tabler-outline: identical to another item": 1}
    assert by_id["openmoji-1f600"]["split"] == "heldout_style"  # the default held-out style
    for r in rows:
        assert (out / r["file"]).is_file() and r["license"] and 3 <= len(r["captions"]) <= 8
        if r["style"] != "openmoji":
            assert r["split"] == B.concept_split(r["concept"])  # same split in every style and in v1
    assert by_id["twemoji-1f1eb-1f1f7"]["split"] == by_id["flag-icons-4x3-fr"]["split"]
    # The v1 loaders read it; the held-out style is in neither of their splits.
    loaded = load_pairs(out, "train") + load_pairs(out, "val")
    assert len(loaded) == len(rows) - 1 and all(p.split != "heldout_style" for p in loaded)
    assert sum(r["eval_rep"] for r in rows) == len({r["concept"] for r in rows if r["split"] == "val"})
    assert (out / "vocab_captions.txt").read_text().count("\n") == sum(len(r["captions"]) for r in rows)


def test_build_v2_refuses_a_v1_folder(tmp_path: Path) -> None:
    _write(tmp_path / "sources.json", json.dumps({"schema": "toklip-studio/dataset-sources"}))
    with pytest.raises(ValueError, match="v1 dataset"):
        BV2.build_v2(tmp_path, only=[])


def test_build_cli_profile_v2_delegates(root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _resvg()
    monkeypatch.setenv("TOKLIP_DATAPKGS", str(root))
    out = tmp_path / "v2"
    assert B.main(["--profile", "v2", "--out", str(out), "--only", "tabler", "--size", "24"]) == 0
    report = json.loads((out / "sources.json").read_text())
    assert report["options"]["only"] == ["tabler"] and report["options"]["size"] == 24
    rows = [json.loads(line) for line in (out / "pairs.jsonl").read_text().splitlines()]
    assert [r["id"] for r in rows] == ["tabler-outline-shopping-cart-2"]
    from PIL import Image

    assert Image.open(out / rows[0]["file"]).size == (24, 24)


# --------------------------------------------------------------------------- real packages (opt-in)


def test_real_datapkgs_all_sources_load_and_render() -> None:
    """Runs where scripts/datapkgs.sh installed the npm packages (and resvg-py); skips loudly elsewhere."""
    if not (V.datapkgs_root() / "@twemoji" / "svg" / "package.json").is_file():
        pytest.skip(f"!!! npm data packages not installed under {V.datapkgs_root()} (scripts/datapkgs.sh)")
    _resvg()
    try:
        idx = V.EmojiIndex.from_debian()
    except SourceUnavailable as exc:
        pytest.skip(f"!!! Unicode/CLDR Debian packages missing: {exc}")
    skipped: list[dict] = []
    got = V.collect_v2(idx=idx, skipped=skipped)
    assert skipped == []
    for name, cands in got.items():
        assert cands, name
        assert all(c.license and c.attribution and c.concept and c.version for c in cands), name
        for c in cands[:: max(1, len(cands) // 3)][:3]:  # first, and two more spread over the set
            a = np.asarray(V.rasterise(c.svg(), 48, padding=0.1))
            assert a.min() < 200, c.id  # something was drawn on the white canvas
    ids = [c.id for cs in got.values() for c in cs]
    assert len(ids) == len(set(ids))
    # Cross-style concepts: the same emoji and flag appear in several styles.
    concepts = {name: {c.concept for c in cs} for name, cs in got.items()}
    assert "grinning face" in concepts["twemoji"] & concepts["openmoji"] & concepts["fluent-emoji-flat"]
    assert "flag of france" in concepts["twemoji"] & concepts["flag-icons"]


def test_real_wordnet() -> None:
    try:
        wn = WordNet.from_debian()
    except SourceUnavailable as exc:
        pytest.skip(f"!!! wordnet-base not installed ({exc}); scripts/datapkgs.sh --apt")
    info = wn.lookup("kitten")
    assert info is not None and "kitty" in info.synonyms and info.category == "animal"
    assert os.path.basename(str(wn.root)) == "wordnet"
