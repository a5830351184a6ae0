import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pca3, pcaColours } from './pca';
import { b64ToBytes, b64ToFloat32LE, readGolden, REPO_ROOT, rng } from './testutil';

describe('codebook PCA', () => {
  it('recovers the dominant axes of anisotropic data', () => {
    const r = rng(3);
    const n = 500;
    const dim = 6;
    const scales = [5, 0.1, 3, 0.1, 1, 0.1];
    const v = new Float32Array(n * dim);
    for (let i = 0; i < n; i++) for (let d = 0; d < dim; d++) v[i * dim + d] = (r() - 0.5) * scales[d]!;
    const { components, variances } = pca3(v, n, dim);
    expect(variances[0]).toBeGreaterThan(variances[1]);
    expect(variances[1]).toBeGreaterThan(variances[2]);
    const top = (c: number) => {
      let best = 0;
      for (let d = 1; d < dim; d++)
        if (Math.abs(components[c * dim + d]!) > Math.abs(components[c * dim + best]!)) best = d;
      return best;
    };
    expect([top(0), top(1), top(2)]).toEqual([0, 2, 4]);
    expect(Math.abs(components[0]!)).toBeGreaterThan(0.99);
  });

  it('gives deterministic colours spanning 0..255', () => {
    const r = rng(4);
    const v = Float32Array.from({ length: 64 * 8 }, () => r() - 0.5);
    const c1 = pcaColours(v, 64, 8);
    const c2 = pcaColours(v, 64, 8);
    expect(c1).toEqual(c2);
    for (let c = 0; c < 3; c++) {
      const ch = Array.from({ length: 64 }, (_, i) => c1[i * 3 + c]!);
      expect(Math.min(...ch)).toBe(0);
      expect(Math.max(...ch)).toBe(255);
    }
  });

  it('handles dim < 3', () => {
    const v = new Float32Array([0, 1, 2, 3]);
    const c = pcaColours(v, 4, 1);
    expect(Array.from({ length: 4 }, (_, i) => c[i * 3])).toEqual([0, 85, 170, 255]);
  });
});

/**
 * Against numpy (src/lib/__golden__/pca.json, written by `python -m toklip.pca_golden`): `eigh` of a rotated
 * covariance, and the colours of the real TokLIP-Tiny codebook from a Python reference of pcaColours.
 */
interface PcaGolden {
  rotated: {
    size: number;
    dim: number;
    vectors_b64: string;
    eigenvalues: number[];
    eigenvectors: number[][];
    colours_b64: string;
  };
  codebook: {
    model_id: string;
    path: string;
    sha256: string;
    size: number;
    dim: number;
    colours_b64: string;
  };
}

describe('codebook PCA against numpy eigh (src/lib/__golden__/pca.json)', () => {
  const golden = readGolden<PcaGolden>('src/lib/__golden__/pca.json');

  it('rotated covariance: eigenvalues and eigenvectors (up to sign) equal eigh', () => {
    const { size, dim, eigenvalues, eigenvectors } = golden.rotated;
    const v = b64ToFloat32LE(golden.rotated.vectors_b64);
    expect(v.length).toBe(size * dim);
    // the premise: strongly correlated coordinates and principal axes far from every coordinate axis
    expect(maxAbsCorrelation(v, size, dim)).toBeGreaterThan(0.5);
    for (const e of eigenvectors) expect(Math.max(...e.map(Math.abs))).toBeLessThan(0.9);

    const { components, variances } = pca3(v, size, dim);
    expect(eigenvalues).toHaveLength(3);
    for (let c = 0; c < 3; c++) {
      // power iteration stops at a 1e-12 step; eigenvalues are 9.2, 3.6 and 1.6 (well separated)
      expect(Math.abs(variances[c]! - eigenvalues[c]!) / eigenvalues[c]!, `eigenvalue ${c}`).toBeLessThan(
        1e-9,
      );
      const want = eigenvectors[c]!;
      let dot = 0;
      for (let d = 0; d < dim; d++) dot += components[c * dim + d]! * want[d]!;
      const sgn = Math.sign(dot);
      for (let d = 0; d < dim; d++)
        expect(Math.abs(sgn * components[c * dim + d]! - want[d]!), `axis ${c}[${d}]`).toBeLessThan(1e-7);
    }
    expectColoursClose(pcaColours(v, size, dim), b64ToBytes(golden.rotated.colours_b64));
  });

  it('the TokLIP-Tiny codebook gets the colours of the Python reference (within 1/255 per channel)', () => {
    const { model_id, path, sha256, size, dim, colours_b64 } = golden.codebook;
    const manifest = readGolden<{ id: string; codebook: { size: number; dim: number } }>(
      `public/models/${model_id}/manifest.json`,
    );
    expect([manifest.codebook.size, manifest.codebook.dim]).toEqual([size, dim]);
    const raw = readFileSync(resolve(REPO_ROOT, path));
    expect(
      createHash('sha256').update(raw).digest('hex'),
      `${path} changed: run python -m toklip.pca_golden`,
    ).toBe(sha256);
    const vectors = Float32Array.from({ length: raw.byteLength / 4 }, (_, i) => raw.readFloatLE(i * 4));
    expect(vectors.length).toBe(size * dim);
    expectColoursClose(pcaColours(vectors, size, dim), b64ToBytes(colours_b64));
  });
});

function maxAbsCorrelation(v: Float32Array, n: number, dim: number): number {
  const mean = new Float64Array(dim);
  for (let i = 0; i < n; i++) for (let d = 0; d < dim; d++) mean[d]! += v[i * dim + d]! / n;
  const cov = new Float64Array(dim * dim);
  for (let i = 0; i < n; i++)
    for (let a = 0; a < dim; a++)
      for (let b = 0; b < dim; b++)
        cov[a * dim + b]! += (v[i * dim + a]! - mean[a]!) * (v[i * dim + b]! - mean[b]!);
  let best = 0;
  for (let a = 0; a < dim; a++)
    for (let b = 0; b < a; b++)
      best = Math.max(best, Math.abs(cov[a * dim + b]!) / Math.sqrt(cov[a * dim + a]! * cov[b * dim + b]!));
  return best;
}

/**
 * Within one level of 255 per channel: the reference takes its axes from eigh, not power iteration, so a
 * projection that lands within ~1e-9 of a rounding boundary may round the other way.
 */
function expectColoursClose(got: Uint8ClampedArray, want: Uint8Array): void {
  expect(got.length).toBe(want.length);
  let worst = 0;
  let at = -1;
  for (let i = 0; i < got.length; i++) {
    const d = Math.abs(got[i]! - want[i]!);
    if (d > worst) [worst, at] = [d, i];
  }
  expect(worst, `channel ${at % 3} of code ${Math.floor(at / 3)}`).toBeLessThanOrEqual(1);
}
