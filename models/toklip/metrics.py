"""Reconstruction, codebook and retrieval metrics (definitions shared with src/lib/metrics.ts)."""

from __future__ import annotations

import math

import numpy as np


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """Images in [0, 1], any matching shape."""
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return float("inf") if mse == 0 else 10.0 * math.log10(1.0 / mse)


def _gauss(size: int = 11, sigma: float = 1.5) -> np.ndarray:
    x = np.arange(size) - (size - 1) / 2
    g = np.exp(-(x**2) / (2 * sigma**2))
    return g / g.sum()


def _filter_valid(img: np.ndarray, g: np.ndarray) -> np.ndarray:
    """Separable valid-mode filtering of a 2-D array."""
    k = len(g)
    rows = np.stack([img[i : i + img.shape[0] - k + 1] for i in range(k)], 0)
    tmp = np.tensordot(g, rows, axes=(0, 0))
    cols = np.stack([tmp[:, j : j + tmp.shape[1] - k + 1] for j in range(k)], 0)
    return np.tensordot(g, cols, axes=(0, 0))


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    """a, b: CHW in [0, 1]; Gaussian-window SSIM averaged over positions and channels."""
    g = _gauss()
    c1, c2 = 0.01**2, 0.03**2
    vals = []
    for x, y in zip(a.astype(np.float64), b.astype(np.float64)):
        mx, my = _filter_valid(x, g), _filter_valid(y, g)
        sxx = _filter_valid(x * x, g) - mx * mx
        syy = _filter_valid(y * y, g) - my * my
        sxy = _filter_valid(x * y, g) - mx * my
        s = ((2 * mx * my + c1) * (2 * sxy + c2)) / ((mx * mx + my * my + c1) * (sxx + syy + c2))
        vals.append(s.mean())
    return float(np.mean(vals))


def code_stats(ids: np.ndarray, codebook_size: int) -> tuple[float, float]:
    """(fraction of codebook entries used, perplexity = exp(entropy of the code distribution))."""
    counts = np.bincount(ids.ravel(), minlength=codebook_size).astype(np.float64)
    p = counts / counts.sum()
    nz = p[p > 0]
    return float((counts > 0).mean()), float(math.exp(-(nz * np.log(nz)).sum()))


def recall_at(sim: np.ndarray, k: int) -> float:
    """sim[i, j]: query i vs candidate j; the right candidate of query i is j = i."""
    order = np.argsort(-sim, axis=1, kind="stable")[:, :k]
    return float(np.mean([i in order[i] for i in range(sim.shape[0])]))


def participation_ratio(emb: np.ndarray) -> float:
    """(Σλ)² / Σλ² of the embeddings' covariance eigenvalues: how many directions the variance really
    uses (1 = all on a line, d = spread evenly over all d)."""
    if len(emb) < 2:
        return float("nan")
    x = emb.astype(np.float64) - emb.mean(axis=0, keepdims=True)
    lam = np.linalg.eigvalsh(x.T @ x / (len(x) - 1))
    lam = np.clip(lam, 0.0, None)
    return float(lam.sum() ** 2 / (lam**2).sum()) if lam.any() else float("nan")


def cosine_spread(txt: np.ndarray, img: np.ndarray) -> dict[str, float]:
    """Medians of matched (row i, column i) and unmatched text-image cosines, and the unmatched 90th percentile:
    how far apart a probability's bias has to put them."""
    cos = txt @ img.T
    off = ~np.eye(len(cos), dtype=bool)
    return {"matched_cos_median": float(np.median(np.diag(cos))), "unmatched_cos_median": float(np.median(cos[off])),
            "unmatched_cos_p90": float(np.percentile(cos[off], 90))}
