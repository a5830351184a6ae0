import { describe, expect, it } from 'vitest';
import { centerCropBox, denormalise, preprocess, resizeToModel, triangleWeights } from './preprocess';
import { b64ToBytes, b64ToFloat32LE, readGolden, rng } from './testutil';

interface GoldenCase {
  name: string;
  width: number;
  height: number;
  rgba_b64: string;
  size: number;
  mean: number[];
  std: number[];
  output_b64: string;
}

/** Direct (non-separable) transcription of the contract, for cross-checking the fast implementation. */
function reference(
  rgba: Uint8Array,
  W: number,
  H: number,
  S: number,
  mean: number[],
  std: number[],
): Float64Array {
  const m = Math.min(W, H);
  const left = Math.floor((W - m) / 2);
  const top = Math.floor((H - m) / 2);
  const px = (x: number, y: number, c: number) => {
    const i = ((top + y) * W + left + x) * 4;
    const a = rgba[i + 3]!;
    return (rgba[i + c]! * a + 255 * (255 - a)) / 255;
  };
  const scale = m / S;
  const support = Math.max(scale, 1);
  const taps = (i: number) => {
    const c = (i + 0.5) * scale;
    const t: [number, number][] = [];
    for (let j = Math.floor(c - support); j < Math.ceil(c + support); j++) {
      if (j < 0 || j >= m) continue;
      t.push([j, Math.max(0, 1 - Math.abs((j + 0.5 - c) / support))]);
    }
    const s = t.reduce((a, [, w]) => a + w, 0);
    return t.map(([j, w]) => [j, w / s] as const);
  };
  const out = new Float64Array(3 * S * S);
  for (let c = 0; c < 3; c++)
    for (let oy = 0; oy < S; oy++)
      for (let ox = 0; ox < S; ox++) {
        let v = 0;
        for (const [jy, wy] of taps(oy)) for (const [jx, wx] of taps(ox)) v += wy * wx * px(jx, jy, c);
        out[c * S * S + oy * S + ox] = (v / 255 - mean[c]!) / std[c]!;
      }
  return out;
}

function randomImage(W: number, H: number, seed: number, alpha: boolean): Uint8Array {
  const r = rng(seed);
  const d = new Uint8Array(W * H * 4);
  for (let i = 0; i < d.length; i++) d[i] = (i & 3) === 3 && !alpha ? 255 : Math.floor(r() * 256);
  return d;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

describe('preprocess (contract rule)', () => {
  it('weights are normalised and the identity resize is exact', () => {
    for (const [m, S] of [
      [7, 7],
      [300, 128],
      [128, 256],
      [5, 3],
    ] as const) {
      const w = triangleWeights(m, S);
      for (let i = 0; i < S; i++) {
        let s = 0;
        for (let k = 0; k < w.count[i]!; k++) s += w.weights[i * w.maxTaps + k]!;
        expect(s).toBeCloseTo(1, 12);
      }
    }
    const img = randomImage(6, 6, 1, false);
    const out = resizeToModel({ data: img, width: 6, height: 6 }, 6);
    for (let y = 0; y < 6; y++) for (let x = 0; x < 6; x++) expect(out[y * 6 + x]).toBe(img[(y * 6 + x) * 4]);
  });

  it('centre crop box', () => {
    expect(centerCropBox(10, 4)).toEqual({ left: 3, top: 0, side: 4 });
    expect(centerCropBox(5, 8)).toEqual({ left: 0, top: 1, side: 5 });
    expect(centerCropBox(1, 1)).toEqual({ left: 0, top: 0, side: 1 });
  });

  it('matches a direct transcription of the contract (down, up, odd sizes, alpha)', () => {
    const mean = [0.48, 0.45, 0.4];
    const std = [0.26, 0.26, 0.27];
    for (const [W, H, S, alpha] of [
      [37, 23, 16, false],
      [9, 14, 16, true],
      [64, 64, 16, true],
      [1, 1, 4, false],
      [50, 3, 8, true],
    ] as const) {
      const img = randomImage(W, H, W * 31 + H, alpha);
      const got = preprocess({ data: img, width: W, height: H }, { size: S, mean, std });
      expect(got.length).toBe(3 * S * S);
      expect(maxAbsDiff(got, reference(img, W, H, S, mean, std))).toBeLessThan(1e-5);
    }
  });

  it('composites alpha over white and denormalises back', () => {
    const img = new Uint8Array([0, 0, 0, 0, 255, 0, 0, 255, 0, 0, 0, 128, 10, 20, 30, 255]);
    const x = preprocess(
      { data: img, width: 2, height: 2 },
      { size: 2, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] },
    );
    const rgb = denormalise(x, [0.5, 0.5, 0.5], [0.5, 0.5, 0.5]);
    expect(rgb[0]).toBeCloseTo(1, 6); // transparent → white
    expect(rgb[1]).toBeCloseTo(1, 6); // red pixel, R
    expect(rgb[4 + 1]).toBeCloseTo(0, 6); // red pixel, G
    expect(rgb[2]).toBeCloseTo((255 * 127) / 255 / 255, 6); // half-transparent black, R
  });

  it('rejects a buffer of the wrong size', () => {
    expect(() =>
      preprocess(
        { data: new Uint8Array(12), width: 2, height: 2 },
        { size: 2, mean: [0, 0, 0], std: [1, 1, 1] },
      ),
    ).toThrow(/16/);
  });
});

describe('preprocess golden values from Python (src/lib/__golden__/preprocess.json)', () => {
  it('every case within 1e-4 of toklip.preprocess', () => {
    const golden = readGolden<{ cases: GoldenCase[] }>('src/lib/__golden__/preprocess.json');
    expect(golden.cases.length).toBeGreaterThan(0);
    for (const c of golden.cases) {
      const rgba = b64ToBytes(c.rgba_b64);
      const expected = b64ToFloat32LE(c.output_b64);
      const got = preprocess(
        { data: rgba, width: c.width, height: c.height },
        { size: c.size, mean: c.mean, std: c.std },
      );
      expect(got.length, c.name).toBe(expected.length);
      expect(maxAbsDiff(got, expected), c.name).toBeLessThanOrEqual(1e-4);
    }
  });
});
