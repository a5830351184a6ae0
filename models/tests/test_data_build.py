"""Dataset builder: splits, captions, concepts, image heuristics, and a small real build."""
from __future__ import annotations

import hashlib
import json
import shutil
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from toklip.data import build as B
from toklip.data import sources as S

from helpers import skip_unless_ci

# --------------------------------------------------------------------------- splits


def test_stable_unit_is_fixed_and_uniform() -> None:
    # Pinned value: changing the hashing scheme silently reshuffles every split.
    assert B.stable_unit("photo:x") == int(hashlib.sha256(b"photo:x").hexdigest()[:13], 16) / 16**13
    vals = [B.stable_unit(f"k{i}") for i in range(4000)]
    assert 0.0 <= min(vals) and max(vals) < 1.0
    assert abs(np.mean(vals) - 0.5) < 0.02


def test_photo_split_fraction() -> None:
    splits = Counter(B.photo_split(f"photo-{i}") for i in range(5000))
    assert 0.06 < splits["val"] / 5000 < 0.10
    assert B.photo_split("plasma-kite") == B.photo_split("plasma-kite")


def test_concept_split_fraction() -> None:
    splits = Counter(B.concept_split(f"concept {i}") for i in range(5000))
    assert 0.08 < splits["val"] / 5000 < 0.12


def _pair(pid: str, concept: str, kind: str = "stamp", img: Image.Image | None = None) -> S.PairCandidate:
    image = img or Image.new("RGBA", (40, 20), (200, 10, int(hashlib.md5(pid.encode()).hexdigest()[:2], 16), 255))
    return S.PairCandidate(pid, "test", "pkg", pid, kind, concept, concept, "group", "sub",
                           lambda im=image: im, ["kw one", "kw two"], ["a thing"], "", "things")


def test_pairs_share_split_per_concept_and_one_eval_rep(tmp_path: Path) -> None:
    # Enough concepts that some land in val; three items per concept.
    cands = [_pair(f"p{c:03d}-{k}", f"concept {c}") for c in range(60) for k in range(3)]
    records, stats = B.build_pairs(cands, tmp_path)
    by_concept: dict[str, list[dict]] = {}
    for r in records:
        by_concept.setdefault(r["concept"], []).append(r)
    assert all(len({r["split"] for r in rs}) == 1 for rs in by_concept.values())
    val = {c: rs for c, rs in by_concept.items() if rs[0]["split"] == "val"}
    assert val, "expected at least one val concept among 60"
    for rs in val.values():
        reps = [r for r in rs if r["eval_rep"]]
        assert len(reps) == 1 and reps[0]["id"] == min(r["id"] for r in rs)
    assert not any(r["eval_rep"] for r in records if r["split"] == "train")
    assert stats["val_concepts"] == len(val)
    img = Image.open(tmp_path / records[0]["file"])
    assert img.size == (128, 128) and img.mode == "RGB"


def test_identical_pair_images_keep_lowest_rank(tmp_path: Path) -> None:
    same = Image.new("RGBA", (30, 20), (10, 120, 200, 255))
    a, b = _pair("flag-a", "country flag", img=same), _pair("flag-b", "country flag", img=same)
    a.rank, b.rank = 2.0, 0.6  # b is the older, more canonical emoji
    records, stats = B.build_pairs([a, b, _pair("other", "other")], tmp_path)
    assert [r["id"] for r in records] == ["flag-b", "other"]
    assert not (tmp_path / "pairs" / "flag-a.png").exists()
    assert sum(stats["skipped"].values()) == 1


# --------------------------------------------------------------------------- captions


@pytest.mark.parametrize("kind", ["emoji", "stamp", "photo", "painting", "drawing"])
def test_caption_templates(kind: str) -> None:
    c = _pair("x", "Red Apple", kind)
    c.name, c.group = "Red Apple", "Food & Drink"
    caps = B.captions_for(c)
    assert 3 <= len(caps) <= 6
    assert len(set(caps)) == len(caps)
    assert all(cap == cap.lower() and cap.strip() == cap and "  " not in cap for cap in caps)
    assert any("red apple" in cap for cap in caps)


def test_emoji_captions_use_keywords_and_article() -> None:
    c = _pair("e", "grinning face", "emoji")
    c.group, c.keywords = "Activities", ["face", "grin", "grinning face"]
    caps = B.captions_for(c)
    assert caps[0] == "an emoji of grinning face"
    assert "face, grin" in caps and "an activities icon: grinning face" in caps


def test_caption_minimum_without_extras() -> None:
    c = _pair("y", "owl", "emoji")
    c.keywords, c.extra_captions, c.category = [], [], ""
    assert len(B.captions_for(c)) >= 3


# --------------------------------------------------------------------------- emoji concepts

NAMES = {(0x1F44B,): "waving hand", (0x1F9D1, 0x200D, 0x1F52C): "scientist", (0x1F9D1,): "person",
         (0x1F646,): "person gesturing OK"}


def _emoji(cps: tuple[int, ...], name: str, group: str = "People & Body", sub: str = "x") -> S.EmojiEntry:
    return S.EmojiEntry(cps, name, group, sub)


def test_emoji_concepts_collapse_variants() -> None:
    tone = _emoji((0x1F44B, 0x1F3FD), "waving hand: medium skin tone")
    assert S.emoji_concept(tone, NAMES) == "waving hand"
    woman = _emoji((0x1F469, 0x1F3FB, 0x200D, 0x1F52C), "woman scientist: light skin tone")
    man = _emoji((0x1F468, 0x200D, 0x1F52C), "man scientist")
    assert S.emoji_concept(woman, NAMES) == S.emoji_concept(man, NAMES) == "scientist"
    gendered = _emoji((0x1F646, 0x200D, 0x2640, 0xFE0F), "woman gesturing OK")
    assert S.emoji_concept(gendered, NAMES) == "person gesturing ok"
    hair = _emoji((0x1F469, 0x200D, 0x1F9B0), "woman: red hair")
    assert S.emoji_concept(hair, NAMES) == "person"
    fr = _emoji((0x1F1EB, 0x1F1F7), "flag: France", "Flags", "country-flag")
    de = _emoji((0x1F1E9, 0x1F1EA), "flag: Germany", "Flags", "country-flag")
    assert S.emoji_concept(fr, NAMES) == S.emoji_concept(de, NAMES) == "country flag"
    assert S.emoji_display_name(fr, {}) == "flag of france"


def test_parse_emoji_test_and_cldr(tmp_path: Path) -> None:
    (tmp_path / "emoji-test.txt").write_text(
        "# group: Smileys & Emotion\n# subgroup: face-smiling\n"
        "1F600 ; fully-qualified # 😀 E1.0 grinning face\n"
        "263A FE0F ; fully-qualified # ☺️ E0.6 smiling face\n"
        "263A ; unqualified # ☺ E0.6 smiling face\n", encoding="utf-8")
    entries, names = S.parse_emoji_test(tmp_path / "emoji-test.txt")
    assert [e.name for e in entries] == ["grinning face", "smiling face"]
    assert entries[0].group == "Smileys & Emotion" and entries[0].subgroup == "face-smiling"
    assert names[(0x263A,)] == "smiling face"
    (tmp_path / "en.xml").write_text(
        '<ldml><annotations><annotation cp="😀">face | grin</annotation>'
        '<annotation cp="😀" type="tts">grinning face</annotation></annotations></ldml>', encoding="utf-8")
    kws, tts = S.parse_cldr_annotations([tmp_path / "en.xml"])
    assert kws["😀"] == ["face", "grin"] and tts["😀"] == "grinning face"


# --------------------------------------------------------------------------- other sources' text


def test_stamp_text() -> None:
    txt = "A frog.\nfr.utf8=Une grenouille.\nach.utf8=Ogwal\n"
    assert S.stamp_caption_line(txt) == "A frog."
    assert S.stamp_caption_line("de.utf8=Frosch\nA toad.\n") == "A toad."
    assert S.stamp_name("A frog.", "frog-1") == "frog"
    assert S.stamp_name("A Seville orange, also called a bitter orange.", "orange_seville") == "seville orange"
    assert S.stamp_name("Holly leaves are shiny and have prickles.", "holly_leaves") == "holly leaves"
    assert S.stamp_name("Venus—the second planet", "2_venus") == "venus"
    assert S.stamp_category("town", ["houses", "cartoon"]) == "houses"


def test_js_object_fields() -> None:
    text = ('var x = { "tab": [ { "title": qsTr("Horse"), "image2": "qrc:/a/horse.webp", '
            '"text": qsTr("A {brace} in a \\"string\\""), "nested": { "title": "inner" } } ] }')
    objs = [S._js_fields(o) for o in S._js_objects(text)]
    horse = next(o for o in objs if o.get("title") == "Horse")
    assert horse["image2"] == "qrc:/a/horse.webp"
    assert horse["text"].startswith("A {brace}")
    assert any(o.get("title") == "inner" for o in objs)


def test_concept_key_and_slug() -> None:
    assert S.concept_key("Eleven O’Clock!") == "eleven o clock"
    assert S.slug("Château d'Eau/x_1") == "chateau-d-eau-x-1"
    assert S.camel_words("leaningTowerOfPisa3") == "leaning tower of pisa"


def test_copyright_matching() -> None:
    paras = [
        S.CopyrightPara(("*",), "Everyone", "GPL-3+"),
        S.CopyrightPara(("src/activities/erase/resource/*",), "Erasers", "CC-BY-SA-4.0"),
        S.CopyrightPara(("src/activities/erase/resource/bee.jpg",), "Bee Person", "CC0-1.0"),
        S.CopyrightPara(("16.04/Bridge_by_X.jpg",), "X", "CC-BY-4.0"),
    ]
    assert S.match_copyright(paras, "src/activities/erase/resource/bee.webp").copyright == "Bee Person"
    assert S.match_copyright(paras, "src/activities/erase/resource/cat.webp").license == "CC-BY-SA-4.0"
    assert S.match_copyright(paras, "/usr/share/backgrounds/Bridge_by_X.jpg").copyright == "X"
    assert S.match_copyright(paras, "other/file.png").license == "GPL-3+"
    assert S.spdx("GPL-2+") == "GPL-2.0-or-later"


# --------------------------------------------------------------------------- image heuristics


def _noise(w: int, h: int, seed: int = 0) -> Image.Image:
    rng = np.random.default_rng(seed)
    base = np.linspace(0, 200, w)[None, :, None] + rng.normal(0, 12, (h, w, 3))
    return Image.fromarray(np.clip(base, 0, 255).astype(np.uint8), "RGB")


def test_photo_heuristics() -> None:
    assert B.photo_reject_reason(_noise(400, 300), "jpeg") is None
    assert B.photo_reject_reason(_noise(400, 300), "png") is None
    assert B.photo_reject_reason(_noise(200, 120), "jpeg") == "short side < 160"
    grad = np.tile(np.linspace(0, 255, 400, dtype=np.uint8)[None, :, None], (300, 1, 3))
    assert B.photo_reject_reason(Image.fromarray(grad), "png") is not None  # smooth gradient
    sprite = _noise(400, 300).convert("RGBA")
    sprite.putalpha(Image.new("L", (400, 300), 0).resize((400, 300)))
    assert B.photo_reject_reason(sprite, "png") == "transparent (sprite/cut-out)"
    grey = _noise(400, 300).convert("L").convert("RGB")  # black-and-white photos stay photos
    assert B.photo_reject_reason(grey, "jpeg") is None


def test_texture_flat_limit_is_narrow() -> None:
    # A lossless texture whose upper half is an exactly flat sky over a noisy ground: flat over ~half
    # the photo limit's tolerance -> rejected as a photo, kept as a curated texture.
    sky = _noise(400, 300, seed=3)
    sky.paste((120, 160, 220), (0, 0, 400, 90))  # 30% exactly flat
    frac = B.flat_fraction(sky)
    assert B.FLAT_LIMIT["png"] < frac < B.TEXTURE_FLAT_LIMIT
    assert B.photo_reject_reason(sky, "png") == "flat/vector-looking"
    assert B.photo_reject_reason(sky, "png", texture=True) is None
    # The texture limit still rejects a synthetic gradient, and the other tests are unchanged.
    grad = np.tile(np.linspace(0, 255, 400, dtype=np.uint8)[None, :, None], (300, 1, 3))
    assert B.photo_reject_reason(Image.fromarray(grad), "png", texture=True) is not None
    assert B.photo_reject_reason(_noise(200, 120), "png", texture=True) == "short side < 160"
    sprite = _noise(400, 300).convert("RGBA")
    sprite.putalpha(0)
    assert B.photo_reject_reason(sprite, "png", texture=True) == "transparent (sprite/cut-out)"


def test_small_texture_is_kept_at_its_size(tmp_path: Path) -> None:
    tile = _noise(256, 256, seed=4)
    cand = S.PhotoCandidate("t-tile", "t", "pkg", "tile", "png", 256 * 256, lambda: tile.copy(), texture=True)
    records, _ = B.build_photos([cand], tmp_path)
    assert [(r["id"], r["width"], r["height"]) for r in records] == [("t-tile", 256, 256)]  # never upscaled


def test_downscale_and_square() -> None:
    assert B.downscale_short(_noise(1000, 500)).size == (640, 320)
    assert B.downscale_short(_noise(300, 900)).size == (300, 900)  # already small enough
    sprite = Image.new("RGBA", (300, 100), (0, 0, 0, 0))
    sprite.paste((255, 0, 0, 255), (100, 40, 200, 60))
    sq = B.square_on_white(sprite)
    assert sq.size == (128, 128) and sq.mode == "RGB"
    assert sq.getpixel((64, 64))[0] > 200 and sq.getpixel((64, 0)) == (255, 255, 255)
    assert B.square_on_white(Image.new("RGBA", (10, 10), (0, 0, 0, 0))) is None


def test_photo_dedupe_keeps_largest(tmp_path: Path) -> None:
    big = _noise(1200, 800, seed=1)
    small = big.resize((600, 400), Image.Resampling.LANCZOS)
    other = _noise(1200, 800, seed=2).transpose(Image.Transpose.FLIP_LEFT_RIGHT)

    def cand(cid: str, img: Image.Image) -> S.PhotoCandidate:
        return S.PhotoCandidate(cid, "t", "pkg", cid, "jpeg", 0, lambda im=img: im.copy())

    records, stats = B.build_photos([cand("a-small", small), cand("b-big", big), cand("c-other", other)], tmp_path)
    assert [r["id"] for r in records] == ["b-big", "c-other"]
    assert stats["duplicates"] == 1
    assert not (tmp_path / "photos" / "a-small.png").exists()
    assert min(Image.open(tmp_path / "photos" / "b-big.png").size) == 320


def test_missing_source_is_recorded_not_fatal(monkeypatch: pytest.MonkeyPatch) -> None:
    def gone(*_a: object) -> list:
        raise S.SourceUnavailable("tuxpaint-stamps-default: not installed")

    for fn in ("lomiri_wallpapers", "mate_backgrounds", "plasma_wallpapers", "noto_emoji",
               "gcompris_photos", "gcompris_pairs"):
        monkeypatch.setattr(S, fn, lambda *_a: [])
    monkeypatch.setattr(S, "GComprisIndex", gone)
    monkeypatch.setattr(S, "tuxpaint_stamps", gone)
    skipped: list[dict] = []
    photos, pairs = B.collect(None, skipped)
    assert photos == [] and pairs == []
    assert {s["source"] for s in skipped} == {"gcompris", "tuxpaint"}
    assert all("not installed" in s["reason"] for s in skipped)


def test_cli_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        B.main(["--help"])
    assert exc.value.code == 0
    assert "--limit" in capsys.readouterr().out


# --------------------------------------------------------------------------- real, limited build

MISSING = [p for p in S.ALL_PACKAGES if not S.is_installed(p)]


def _digest(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_real_limited_build_is_deterministic(tmp_path: Path) -> None:
    if MISSING:
        skip_unless_ci(f"Debian packages not installed: {', '.join(MISSING)} (scripts/setup.sh installs them)")
    out1, out2 = tmp_path / "a", tmp_path / "b"
    report = B.build(out1, limit=2)
    B.build(out2, limit=2)
    assert _digest(out1) == _digest(out2)  # byte-identical outputs

    photos = [json.loads(line) for line in (out1 / "photos.jsonl").read_text().splitlines()]
    pairs = [json.loads(line) for line in (out1 / "pairs.jsonl").read_text().splitlines()]
    assert photos and pairs
    assert [p["id"] for p in photos] == sorted(p["id"] for p in photos)
    assert list(photos[0]) == ["id", "file", "source", "package", "orig_path", "width", "height", "split"]
    for p in photos:
        im = Image.open(out1 / p["file"])
        assert im.mode == "RGB" and min(im.size) <= 320 and im.size == (p["width"], p["height"])
    assert {p["source"] for p in pairs} == {"emoji", "tuxpaint", "gcompris"}
    for p in pairs:
        assert Image.open(out1 / p["file"]).size == (128, 128)
        assert 3 <= len(p["captions"]) <= 6
    vocab = (out1 / "vocab_captions.txt").read_text(encoding="utf-8").splitlines()
    assert len(vocab) == sum(len(p["captions"]) for p in pairs)
    src = json.loads((out1 / "sources.json").read_text())
    assert src["debian_version"] and not src["skipped"]
    by_name = {s["name"]: s for s in src["sources"]}
    assert by_name["emoji"]["license"] == ["OFL-1.1"]
    assert all(s["version"] for s in src["sources"])
    assert report["options"]["limit"] == 2
    shutil.rmtree(out2)
