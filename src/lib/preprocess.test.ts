/**
 * The contract's preprocessing (official_toklip) on small synthetic pictures whose answer is known without
 * torchvision; src/lib/officialPreprocess.test.ts checks it against torchvision on the PNG corpus.
 */
import { describe, expect, it } from 'vitest';
import type { PassOrder } from './pillowResample';
import type { PilMode } from './pngPixels';
import { denormalise, officialToklipRgb, preprocess, toTensorNormalise } from './preprocess';
import { b64ToBytes, b64ToFloat32LE, readGolden, rng } from './testutil';

interface GoldenCase {
  name: string;
  width: number;
  height: number;
  rgba_b64: string;
  mode: PilMode;
  size: number;
  mean: number[];
  std: number[];
  preprocessing: string;
  resize_pass_order: PassOrder;
  output_b64: string;
}

const HALF = { mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] };

function randomImage(W: number, H: number, seed: number, alpha: boolean): Uint8Array {
  const r = rng(seed);
  const d = new Uint8Array(W * H * 4);
  for (let i = 0; i < d.length; i++) d[i] = (i & 3) === 3 && !alpha ? 255 : Math.floor(r() * 256);
  return d;
}

/** RGBA picture from a per-pixel colour function. */
function picture(W: number, H: number, px: (x: number, y: number) => number[]): Uint8Array {
  const d = new Uint8Array(W * H * 4);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) d.set(px(x, y), (y * W + x) * 4);
  return d;
}

/** Channel c of output pixel (x, y) of a CHW tensor of side S. */
const at = (t: Float32Array, S: number, c: number, x: number, y: number) => t[c * S * S + y * S + x]!;

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

describe('preprocess (official_toklip, contract "Preprocessing")', () => {
  it('an S×S opaque picture is neither resized nor cropped: ToTensor + Normalize in float32 only', () => {
    const S = 16;
    const img = randomImage(S, S, 7, false);
    const mean = [0.48, 0.45, 0.4];
    const std = [0.26, 0.26, 0.27];
    const got = preprocess({ data: img, width: S, height: S }, { size: S, mean, std });
    const f = Math.fround;
    for (let c = 0; c < 3; c++)
      for (let i = 0; i < S * S; i++)
        expect(got[c * S * S + i]).toBe(f(f(f(img[i * 4 + c]! / 255) - f(mean[c]!)) / f(std[c]!)));
  });

  it('crops the long side with half-to-even offsets (a margin of 3 starts at 2, not 1)', () => {
    // The short side already is S, so only the crop acts; each column (row) holds its own index.
    const wide = preprocess(
      { data: picture(19, 16, (x) => [x * 10, 0, 0, 255]), width: 19, height: 16 },
      { size: 16, ...HALF },
    );
    expect(denormalise(wide, HALF.mean, HALF.std)[0]! * 255).toBeCloseTo(20, 4);
    const tall = preprocess(
      { data: picture(16, 21, (_, y) => [0, y * 10, 0, 255]), width: 16, height: 21 },
      { size: 16, ...HALF },
    );
    expect(denormalise(tall, HALF.mean, HALF.std)[16 * 16]! * 255).toBeCloseTo(20, 4);
  });

  it('resizes the shortest side to S, keeping the aspect ratio, before the centre crop', () => {
    // 40×20 → 32×16 → crop 16×16 from x = 8: left half red, right half blue in the source, so the crop's
    // outer columns are red and blue and nothing was squashed.
    const img = picture(40, 20, (x) => (x < 20 ? [255, 0, 0, 255] : [0, 0, 255, 255]));
    const x = preprocess({ data: img, width: 40, height: 20 }, { size: 16, ...HALF });
    expect([at(x, 16, 0, 0, 8), at(x, 16, 2, 0, 8)]).toEqual([1, -1]);
    expect([at(x, 16, 0, 15, 8), at(x, 16, 2, 15, 8)]).toEqual([-1, 1]);
  });

  it('drops alpha (no composite): the colour under a transparent pixel is what the model sees', () => {
    // Same size: no resize, so the stored colour of a fully transparent pixel survives, as with Pillow.
    const same = picture(2, 2, (x, y) => (x + y === 0 ? [255, 0, 0, 0] : [10, 20, 30, 128]));
    const rgb = officialToklipRgb({ data: same, width: 2, height: 2 }, 2);
    expect(Array.from(rgb.subarray(0, 6))).toEqual([255, 0, 0, 10, 20, 30]);
    // Resized: Pillow resizes RGBA premultiplied, so a fully transparent region comes out black, not white.
    const up = picture(8, 8, (x) => (x < 4 ? [255, 0, 0, 0] : [0, 0, 255, 255]));
    const t = preprocess({ data: up, width: 8, height: 8 }, { size: 16, ...HALF });
    expect([0, 1, 2].map((c) => at(t, 16, c, 0, 8))).toEqual([-1, -1, -1]);
    expect([0, 1, 2].map((c) => at(t, 16, c, 15, 8))).toEqual([-1, -1, 1]);
  });

  it("follows Pillow's mode: NEAREST for palette pictures, premultiplied bicubic when there is alpha", () => {
    const checker = picture(4, 4, (x, y) => ((x + y) % 2 ? [255, 255, 255, 255] : [0, 0, 0, 255]));
    const asP = officialToklipRgb({ data: checker, width: 4, height: 4, mode: 'P' }, 8);
    expect(new Set(asP)).toEqual(new Set([0, 255]));
    const asRgb = officialToklipRgb({ data: checker, width: 4, height: 4, mode: 'RGB' }, 8);
    expect(Array.from(asRgb).some((v) => v !== 0 && v !== 255)).toBe(true);
    // Without a mode: RGBA when a pixel is not opaque, else RGB.
    const part = randomImage(9, 7, 3, true);
    const spec = { size: 5, ...HALF };
    const rgba = preprocess({ data: part, width: 9, height: 7, mode: 'RGBA' }, spec);
    expect(preprocess({ data: part, width: 9, height: 7 }, spec)).toEqual(rgba);
    expect(
      maxAbsDiff(preprocess({ data: part, width: 9, height: 7, mode: 'RGB' }, spec), rgba),
    ).toBeGreaterThan(0);
  });

  it('passes resize_pass_order on to the resampler (Pillow 13 and older Pillow differ)', () => {
    const img = randomImage(199, 401, 11, false);
    const spec = { size: 64, ...HALF };
    const older = preprocess(
      { data: img, width: 199, height: 401 },
      { ...spec, resize_pass_order: 'horizontal_first' },
    );
    expect(older).toEqual(
      toTensorNormalise(
        officialToklipRgb({ data: img, width: 199, height: 401 }, 64, 'horizontal_first'),
        64,
        HALF.mean,
        HALF.std,
      ),
    );
    expect(maxAbsDiff(older, preprocess({ data: img, width: 199, height: 401 }, spec))).toBeGreaterThan(0);
  });

  it('denormalises back to RGB in [0, 1]', () => {
    const img = picture(2, 2, (x, y) => [x * 255, y * 255, 51, 255]);
    const rgb = denormalise(
      preprocess({ data: img, width: 2, height: 2 }, { size: 2, ...HALF }),
      HALF.mean,
      HALF.std,
    );
    expect(Array.from(rgb, (v) => Math.round(v * 255))).toEqual([
      0, 255, 0, 255, 0, 0, 255, 255, 51, 51, 51, 51,
    ]);
  });

  it('rejects a buffer of the wrong size and a size that is not a positive integer', () => {
    const spec = { size: 2, mean: [0, 0, 0], std: [1, 1, 1] };
    expect(() => preprocess({ data: new Uint8Array(12), width: 2, height: 2 }, spec)).toThrow(/16/);
    expect(() => preprocess({ data: new Uint8Array(0), width: 0, height: 2 }, spec)).toThrow(
      /positive integers/,
    );
  });
});

describe('preprocess golden values from Python (src/lib/__golden__/preprocess.json)', () => {
  it('every case equals toklip.preprocess bit for bit', () => {
    const golden = readGolden<{ cases: GoldenCase[] }>('src/lib/__golden__/preprocess.json');
    expect(golden.cases.length).toBeGreaterThan(0);
    for (const c of golden.cases) {
      expect(
        c.preprocessing,
        `${c.name}: written by toklip-golden before official_toklip was the only mode`,
      ).toBe('official_toklip');
      const expected = b64ToFloat32LE(c.output_b64);
      const got = preprocess(
        { data: b64ToBytes(c.rgba_b64), width: c.width, height: c.height, mode: c.mode },
        { size: c.size, mean: c.mean, std: c.std, resize_pass_order: c.resize_pass_order },
      );
      expect(got.length, c.name).toBe(expected.length);
      expect(maxAbsDiff(got, expected), c.name).toBe(0);
    }
  });
});
