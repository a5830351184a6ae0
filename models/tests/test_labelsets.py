"""The committed ImageNet-1k label set is exactly what toklip.labelsets extracts from open_clip_torch."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from helpers import skip_unless_ci
from toklip import labelsets

COMMITTED = Path(__file__).resolve().parents[2] / "public" / "labelsets" / "imagenet-1k.json"


def _need_open_clip() -> None:
    if importlib.util.find_spec("open_clip") is None:
        skip_unless_ci(
            "SKIPPED: open_clip_torch is not installed, so public/labelsets/imagenet-1k.json was NOT compared with "
            "its source (scripts/setup.sh installs it: pip install --no-deps open_clip_torch==3.3.0)"
        )


def test_committed_labelset_matches_package_metadata(tmp_path: Path) -> None:
    _need_open_clip()
    out = tmp_path / "imagenet-1k.json"
    assert labelsets.main(["--out", str(out)]) == 0
    assert out.read_text(encoding="utf-8") == COMMITTED.read_text(encoding="utf-8"), (
        "regenerate with: python -m toklip.labelsets --out public/labelsets/imagenet-1k.json"
    )
    assert labelsets.main(["--out", str(COMMITTED), "--check"]) == 0


def test_labelset_shape_and_attribution() -> None:
    _need_open_clip()
    d = labelsets.imagenet_labelset()
    # 1000 entries; open_clip keeps two names twice ("sunglasses", "missile": distinct synsets), so the app keys
    # classes by index, never by name.
    assert len(d["classes"]) == 1000
    assert d["source"]["package"] == "open_clip_torch" and d["source"]["version"]
    assert d["source"]["license"] == "MIT"
    for templates in d["templates"].values():
        assert templates and all(t.count("{}") == 1 for t in templates)
    assert "open_clip_torch" in d["attribution"]


def test_check_flags_a_stale_file(tmp_path: Path) -> None:
    _need_open_clip()
    stale = tmp_path / "stale.json"
    data = labelsets.imagenet_labelset()
    data["classes"][0] = "not a class"
    stale.write_text(json.dumps(data), encoding="utf-8")
    assert labelsets.main(["--out", str(stale), "--check"]) == 1


def test_missing_package_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(labelsets.LabelsetError, match="not installed"):
        labelsets.imagenet_labelset()


def test_concepts_from_data_are_the_held_out_ones(synthetic_data: Path) -> None:
    from conftest import CONCEPTS
    from toklip.export import concepts_from_data
    from toklip.manifest import ManifestError, validate_manifest

    got = concepts_from_data(synthetic_data)
    assert got is not None
    held_out = [c for i, c in enumerate(CONCEPTS) if i % 3 == 0]  # conftest: every third concept is split val
    assert [c["name"] for c in got] == held_out
    assert all(c["split"] == "val" and c["prompt"] == f"an emoji of a {c['name']}" for c in got)
    assert concepts_from_data(None) is None

    man = json.loads((COMMITTED.parents[1] / "models" / "toklip-tiny" / "manifest.json").read_text(encoding="utf-8"))
    validate_manifest({**man, "concepts": got})
    for bad, msg in (({"name": ""}, "name"), ({"prompt": 3}, "prompt"), ({"split": "heldout_style"}, "split")):
        with pytest.raises(ManifestError, match=rf"concepts\[0\]\.{msg}"):
            validate_manifest({**man, "concepts": [{**got[0], **bad}]})
    with pytest.raises(ManifestError, match="concepts must be a list"):
        validate_manifest({**man, "concepts": "x"})


def test_add_concepts_cli_writes_them_into_a_bundle(synthetic_data: Path, tmp_path: Path) -> None:
    from toklip.export import concepts_from_data

    src = COMMITTED.parents[1] / "models" / "toklip-tiny" / "manifest.json"
    (tmp_path / "manifest.json").write_text(src.read_text(encoding="utf-8"), encoding="utf-8")
    assert labelsets.main(["--add-concepts", str(synthetic_data), "--bundle", str(tmp_path)]) == 0
    written = json.loads((tmp_path / "manifest.json").read_text(encoding="utf-8"))
    assert written["concepts"] == concepts_from_data(synthetic_data)
