"""Every committed golden / shared test-vector file still equals what its Python generator writes now.

Each generator runs into a temporary folder (the same functions the documented commands call) and its
output is diffed with the committed file: strings, ints, bools and structure exactly, floats within
``ATOL + RTOL * |committed|``, PNGs by decoded pixels. A new golden file under one of GOLDEN_GLOBS must
be claimed by a generator here, or the inventory test fails.

Tolerance: regenerating golden.json on another machine (other CPU, onnxruntime thread count) moves its
float32 results by a few ulps: at most 3e-7 absolute on unit-scale values (cosines, probabilities,
normalised embedding entries) and 5e-7 on a 23 dB PSNR, measured. ATOL = RTOL = 1e-6 allows that and
nothing a real change makes: a retrained or re-exported model, a preprocessing or tokenizer change moves
these values by 1e-3 or more (and usually changes ids, which must be equal).
"""

from __future__ import annotations

import fnmatch
import importlib.util
import json
import math
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from helpers import skip_unless_ci

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "models/data"
BUILD_DATA = "PYTHONPATH=models .venv/bin/python -m toklip.data.build --out models/data"
ATOL = 1e-6
RTOL = 1e-6

# Where committed goldens live; every match must belong to a generator below.
GOLDEN_GLOBS = ["src/lib/__golden__/*", "e2e/fixtures/*/*", "src/lib/textFixTables.json"]


@contextmanager
def _cwd(path: Path) -> Iterator[None]:
    old = Path.cwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(old)


def _toklip_golden(out: Path) -> None:
    from toklip.golden import write_golden

    # Relative paths from the repository root, as in the README command: text.json records the tokenizer's path.
    with _cwd(ROOT):
        write_golden(Path("public/models/toklip-tiny"), Path("models/data"), out / "e2e/fixtures/toklip-tiny",
                     out / "src/lib/__golden__")


def _official_goldens(out: Path) -> None:
    spec = importlib.util.spec_from_file_location("official_goldens", ROOT / "scripts/official_goldens.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    # The tokenizer rebuilt by the exporter's functions, not read from the gitignored synthetic folder.
    mod.write_all(out / "src/lib/__golden__", mod.synthetic_tokenizer_json())


def _npy_goldens(out: Path) -> None:
    spec = importlib.util.spec_from_file_location("npy_goldens", ROOT / "scripts/npy_goldens.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    mod.write(out / "src/lib/__golden__")


def _pca_golden(out: Path) -> None:
    from toklip.pca_golden import write

    write(out / "src/lib/__golden__/pca.json", ROOT / "public/models/toklip-tiny")


def _text_fix_tables(out: Path) -> None:
    from toklip.text_fix_tables import build_tables, render

    (out / "src/lib").mkdir(parents=True)
    (out / "src/lib/textFixTables.json").write_text(render(build_tables()), encoding="utf-8")


@dataclass(frozen=True)
class Generator:
    name: str
    command: str  # what regenerates the committed files
    covers: tuple[str, ...]  # fnmatch patterns of the committed files it writes
    run: Callable[[Path], None]  # writes the same relative paths under the folder it is given
    needs_data: bool = False


GENERATORS = [
    Generator("toklip.golden", "toklip-golden --bundle public/models/toklip-tiny --data models/data "
              "--e2e e2e/fixtures/toklip-tiny --units src/lib/__golden__",
              ("e2e/fixtures/toklip-tiny/*", "src/lib/__golden__/preprocess.json", "src/lib/__golden__/text.json"),
              _toklip_golden, needs_data=True),
    Generator("official_goldens", ".venv/bin/python scripts/official_goldens.py",
              ("src/lib/__golden__/official-*.json",), _official_goldens),
    Generator("npy_goldens", ".venv/bin/python scripts/npy_goldens.py", ("src/lib/__golden__/npy_*.npy",),
              _npy_goldens),
    Generator("toklip.pca_golden", "python -m toklip.pca_golden", ("src/lib/__golden__/pca.json",), _pca_golden),
    Generator("toklip.text_fix_tables", "python -m toklip.text_fix_tables", ("src/lib/textFixTables.json",),
              _text_fix_tables),
]


def _committed() -> list[str]:
    return sorted({str(p.relative_to(ROOT)) for g in GOLDEN_GLOBS for p in ROOT.glob(g) if p.is_file()})


def _claimed(rel: str, g: Generator) -> bool:
    return any(fnmatch.fnmatch(rel, pat) for pat in g.covers)


def test_every_committed_golden_has_a_generator() -> None:
    files = _committed()
    assert "e2e/fixtures/toklip-tiny/golden.json" in files and "src/lib/__golden__/pca.json" in files
    orphans = [f for f in files if not any(_claimed(f, g) for g in GENERATORS)]
    assert not orphans, f"golden files no freshness check regenerates: {orphans} (add a Generator)"


def _diff(want: Any, got: Any, path: str, out: list[str]) -> None:
    """Appends a line per difference; floats compare within ATOL + RTOL * |want|."""
    if isinstance(want, dict) and isinstance(got, dict):
        if want.keys() != got.keys():
            out.append(f"{path}: keys {sorted(want.keys() ^ got.keys())} only on one side")
        for k in want.keys() & got.keys():
            _diff(want[k], got[k], f"{path}.{k}", out)
    elif isinstance(want, list) and isinstance(got, list):
        if len(want) != len(got):
            out.append(f"{path}: length {len(want)} committed vs {len(got)} now")
        for i, (w, g) in enumerate(zip(want, got)):
            _diff(w, g, f"{path}[{i}]", out)
    elif isinstance(want, float) and isinstance(got, (int, float)) and not isinstance(got, bool):
        if not (math.isfinite(want) and abs(want - got) <= ATOL + RTOL * abs(want)) and not (want == got):
            out.append(f"{path}: {want!r} committed vs {got!r} now")
    elif type(want) is not type(got) or want != got:
        out.append(f"{path}: {str(want)[:80]!r} committed vs {str(got)[:80]!r} now")


def diff_files(committed: Path, generated: Path) -> list[str]:
    if committed.suffix == ".json":
        out: list[str] = []
        _diff(json.loads(committed.read_text(encoding="utf-8")), json.loads(generated.read_text(encoding="utf-8")),
              "$", out)
        return out
    if committed.suffix == ".png":
        with Image.open(committed) as a, Image.open(generated) as b:
            if (a.mode, a.size) != (b.mode, b.size):
                return [f"{a.mode} {a.size} committed vs {b.mode} {b.size} now"]
            n = int((np.asarray(a) != np.asarray(b)).sum())
            return [f"{n} pixel values differ"] if n else []
    return [] if committed.read_bytes() == generated.read_bytes() else ["bytes differ"]


def test_diff_catches_what_it_must() -> None:
    out: list[str] = []
    _diff({"a": [1, 0.5, "x"], "b": 0.25}, {"a": [1, 0.5 + 5e-7, "x"], "b": 0.25}, "$", out)
    assert out == []  # a few float32 ulps
    _diff({"a": [1, 0.5, "x"], "b": 0.25, "c": 1}, {"a": [2, 0.5 + 1e-5, "y"], "b": [0.25]}, "$", out)
    assert len(out) == 5, out  # int, float beyond tolerance, string, type, missing key


@pytest.mark.parametrize("gen", GENERATORS, ids=[g.name for g in GENERATORS])
def test_committed_goldens_are_fresh(gen: Generator, tmp_path: Path) -> None:
    if gen.needs_data and not (DATA / "pairs.jsonl").exists():
        skip_unless_ci(f"{gen.name} needs the dataset models/data, which is missing: build it with `{BUILD_DATA}` "
                       "(scripts/test.sh does, before pytest)")
    gen.run(tmp_path)
    generated = {str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file()}
    committed = {f for f in _committed() if _claimed(f, gen)}
    assert generated, f"{gen.name} wrote nothing"
    unclaimed = sorted(f for f in generated if not _claimed(f, gen))
    assert not unclaimed, f"{gen.name} wrote files outside its declared patterns: {unclaimed}"
    problems = [f"{f}: not written any more" for f in sorted(committed - generated)]
    problems += [f"{f}: written but not committed" for f in sorted(generated - committed)]
    for f in sorted(committed & generated):
        problems += [f"{f}: {d}" for d in diff_files(ROOT / f, tmp_path / f)[:10]]
    assert not problems, f"stale goldens; regenerate with `{gen.command}`:\n" + "\n".join(problems[:40])
