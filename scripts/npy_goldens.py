"""Writes the .npy goldens of src/lib/labExport.test.ts with numpy's own np.save, so that the app's .npy writer is
checked byte for byte against numpy rather than against a header typed by hand.

    .venv/bin/python scripts/npy_goldens.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parents[1] / "src/lib/__golden__"


def write(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    grid = ((np.arange(256, dtype=np.int64) * 37 + 11) % 1024).astype(np.int32).reshape(16, 16)
    grid[3, 5] = 1023
    grid[0, 0] = 0
    np.save(out / "npy_int32_16x16.npy", grid)
    np.save(out / "npy_int64_2x3.npy", np.array([[0, 1, 2**40], [-5, 1023, 7]], dtype="<i8"))
    np.save(out / "npy_int32_3.npy", np.array([4, 5, 6], dtype="<i4"))


def main() -> None:
    write(OUT)
    print(f"numpy {np.__version__}: wrote {OUT}/npy_*.npy")


if __name__ == "__main__":
    main()
