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
