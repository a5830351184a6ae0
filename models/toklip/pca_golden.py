"""Golden vectors for the app's codebook PCA (``src/lib/pca.ts``), written by numpy so that the Vitest
units compare the TypeScript power iteration against an independent eigensolver (``numpy.linalg.eigh``).

    python -m toklip.pca_golden [--bundle public/models/toklip-tiny] [--out src/lib/__golden__/pca.json]

Two parts:

* ``rotated``: seeded Gaussian data whose covariance is a random rotation of a diagonal one, so it is far
  from diagonal (an implementation that only looks at one triangle, or at the diagonal, gets it wrong).
  Stores the float32 vectors, the top-3 eigenvalues and eigenvectors of their sample covariance, and the
  colours.
* ``codebook``: the RGB colour per code of a model folder's ``codebook.bin`` (shape from its manifest),
  computed by :func:`pca_colours_reference`, which follows pca.ts's definition step by step (mean, sample
  covariance with ``n - 1``, top-3 axes, sign, float32 projections, per-channel min-max to 0..255 with
  JavaScript's ``Math.round``) but takes the axes from ``eigh`` instead of power iteration.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_BUNDLE = ROOT / "public/models/toklip-tiny"
DEFAULT_OUT = ROOT / "src/lib/__golden__/pca.json"


def pca3_reference(vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(variances [3], components [3, dim], projections float32 [n, 3]) as pca.ts defines them.

    Components are unit eigenvectors of the sample covariance (divided by ``max(1, n - 1)``) in decreasing
    eigenvalue order, each signed so that its largest-magnitude entry (the first on ties) is positive.
    Rows past ``dim`` (dim < 3) are zero, as in pca.ts.
    """
    x = np.asarray(vectors, dtype=np.float64)
    n, dim = x.shape
    centred = x - x.mean(axis=0)
    cov = centred.T @ centred / max(1, n - 1)
    w, e = np.linalg.eigh(cov)
    order = np.argsort(-w, kind="stable")
    k = min(3, dim)
    variances = np.zeros(3)
    comps = np.zeros((3, dim))
    for c in range(k):
        v = e[:, order[c]]
        big = int(np.argmax(np.abs(v)))  # first index of the maximum, like pca.ts's strict '>'
        comps[c] = v if v[big] >= 0 else -v
        variances[c] = w[order[c]]
    projections = (centred @ comps.T).astype(np.float32)
    return variances, comps, projections


def pca_colours_reference(vectors: np.ndarray) -> np.ndarray:
    """uint8 [n, 3]: each PCA component min-max scaled to 0..255 (128 when constant), as pcaColours."""
    _, _, proj = pca3_reference(vectors)
    p = proj.astype(np.float64)
    out = np.empty(p.shape, dtype=np.uint8)
    for c in range(3):
        lo, hi = p[:, c].min(), p[:, c].max()
        rng = hi - lo
        # Math.round is floor(x + 0.5), not numpy's round-half-to-even
        out[:, c] = np.floor((p[:, c] - lo) / rng * 255 + 0.5) if rng > 0 else 128
    return out


def _b64(a: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(a).tobytes()).decode("ascii")


def rotated_case(seed: int = 0, n: int = 400, sd: tuple[float, ...] = (3.0, 2.0, 1.2, 0.5, 0.3, 0.1)) -> dict[str, Any]:
    """Data with covariance R diag(sd²) Rᵀ for a random rotation R: no principal axis lies near a coordinate axis."""
    rng = np.random.default_rng(seed)
    dim = len(sd)
    q, r = np.linalg.qr(rng.standard_normal((dim, dim)))
    rot = q * np.sign(np.diag(r))  # Haar-distributed rotation
    vectors = ((rng.standard_normal((n, dim)) * np.asarray(sd)) @ rot.T).astype("<f4")
    variances, comps, _ = pca3_reference(vectors)
    return {
        "seed": seed,
        "size": n,
        "dim": dim,
        "vectors_b64": _b64(vectors),
        "eigenvalues": variances.tolist(),
        "eigenvectors": comps.tolist(),
        "colours_b64": _b64(pca_colours_reference(vectors)),
    }


def codebook_case(bundle: Path) -> dict[str, Any]:
    man = json.loads((bundle / "manifest.json").read_text(encoding="utf-8"))
    f = next(f for f in man["files"] if f["role"] == "codebook")
    raw = (bundle / f["path"]).read_bytes()
    size, dim = man["codebook"]["size"], man["codebook"]["dim"]
    vectors = np.frombuffer(raw, dtype="<f4").reshape(size, dim)
    path = (bundle / f["path"]).resolve()
    rel = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path  # the Vitest test opens it from the root
    return {
        "model_id": man["id"],
        "path": str(rel),
        "sha256": hashlib.sha256(raw).hexdigest(),
        "size": size,
        "dim": dim,
        "colours_b64": _b64(pca_colours_reference(vectors)),
    }


def build(bundle: Path = DEFAULT_BUNDLE) -> dict[str, Any]:
    return {
        "generated_by": f"python -m toklip.pca_golden (numpy {np.__version__} linalg.eigh)",
        "rotated": rotated_case(),
        "codebook": codebook_case(bundle),
    }


def write(out: Path, bundle: Path = DEFAULT_BUNDLE) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(build(bundle), indent=1) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bundle", type=Path, default=DEFAULT_BUNDLE)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    a = ap.parse_args(argv)
    write(a.out, a.bundle)
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
