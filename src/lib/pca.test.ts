import { describe, expect, it } from 'vitest';
import { pca3, pcaColours } from './pca';
import { rng } from './testutil';

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
