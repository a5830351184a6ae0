import { describe, expect, it } from 'vitest';
import { errorMap, gaussianKernel, psnr, ssim } from './metrics';
import { rng } from './testutil';

function randomImage(n: number, seed: number): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: n }, () => r());
}

describe('metrics', () => {
  it('PSNR with data range 1', () => {
    const a = new Float32Array(12).fill(0.5);
    const b = a.map((v) => v + 0.1);
    expect(psnr(a, b)).toBeCloseTo(20, 4);
    expect(psnr(a, a)).toBe(Infinity);
  });

  it('gaussian kernel sums to 1 and is symmetric', () => {
    const k = gaussianKernel(11, 1.5);
    expect(k.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 12);
    expect(k[0]).toBeCloseTo(k[10]!, 15);
    expect(k[5]).toBeGreaterThan(k[4]!);
  });

  it('SSIM is 1 for identical images, lower for noisy ones, symmetric', () => {
    const h = 32;
    const w = 24;
    const a = randomImage(3 * h * w, 1);
    expect(ssim(a, a, h, w)).toBeCloseTo(1, 10);
    const r = rng(2);
    const b = a.map((v) => Math.min(1, Math.max(0, v + (r() - 0.5) * 0.2)));
    const s = ssim(a, b, h, w);
    expect(s).toBeLessThan(0.99);
    expect(s).toBeGreaterThan(0.3);
    expect(ssim(b, a, h, w)).toBeCloseTo(s, 12);
  });

  it('SSIM of a constant image shifted by a constant (luminance term only)', () => {
    const h = 16;
    const w = 16;
    const a = new Float32Array(3 * h * w).fill(0.5);
    const b = new Float32Array(3 * h * w).fill(0.6);
    const C1 = 0.0001;
    // variances are 0, so SSIM = (2·μx·μy + C1) / (μx² + μy² + C1)
    expect(ssim(a, b, h, w)).toBeCloseTo((2 * 0.5 * 0.6 + C1) / (0.25 + 0.36 + C1), 5);
  });

  it('error map is the mean absolute error over channels', () => {
    const a = new Float32Array([0, 0, 0, 0, 0, 0]);
    const b = new Float32Array([0.3, 0, 0.3, 0, 0.3, 0.6]);
    const e = errorMap(a, b, 1, 2);
    expect(e[0]).toBeCloseTo(0.3, 6);
    expect(e[1]).toBeCloseTo(0.2, 6);
  });
});
