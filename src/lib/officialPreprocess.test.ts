/**
 * `official_toklip` against torchvision, byte for byte, on the PNG corpus written by Python
 * (`python -m toklip.preprocess_corpus`: Debian photos at many shapes plus synthetic edge cases, each with the
 * uint8 picture torchvision's TokLIP transform makes from it). The PNG is decoded as the app decodes it
 * (src/lib/pngPixels.ts), so the decoder's mode and values are checked along with the resampler.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sniffImage } from './imageHeader';
import type { PassOrder } from './pillowResample';
import { pngForModel } from './pngPixels';
import {
  officialToklipRgb,
  preprocess,
  roundHalfEven,
  shortestSideSize,
  toTensorNormalise,
} from './preprocess';

interface CorpusCase {
  name: string;
  png: string;
  rgb: string;
  tensor?: string;
  size: number;
  width: number;
  height: number;
  pillow_mode: string;
  exact: boolean;
}
interface Corpus {
  pillow: string;
  pass_order: PassOrder;
  torchvision: string;
  mean: number[];
  std: number[];
  cases: CorpusCase[];
}

const DIR = resolve(
  import.meta.dirname,
  '../..',
  process.env.TOKLIP_PREPROCESS_CORPUS ?? 'models/.cache/preprocess-corpus',
);
const INDEX = resolve(DIR, 'index.json');

function loadCorpus(): Corpus {
  if (!existsSync(INDEX)) {
    throw new Error(
      `${INDEX} is missing: build the corpus with\n  .venv/bin/python -m toklip.preprocess_corpus\n` +
        '(scripts/test.sh does this before npm test)',
    );
  }
  return JSON.parse(readFileSync(INDEX, 'utf8')) as Corpus;
}

const corpus = loadCorpus();

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): { max: number; at: number; count: number } {
  let max = 0;
  let at = -1;
  let count = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    if (d > 0) count++;
    if (d > max) {
      max = d;
      at = i;
    }
  }
  return { max, at, count };
}

describe('official_toklip preprocessing equals torchvision on the PNG corpus', () => {
  it('has at least 40 cases, photos and synthetic edge cases', () => {
    expect(corpus.cases.length).toBeGreaterThanOrEqual(40);
    expect(corpus.cases.filter((c) => c.name.startsWith('photo')).length).toBeGreaterThanOrEqual(8);
    const modes = new Set(corpus.cases.map((c) => c.pillow_mode));
    for (const m of ['RGB', 'RGBA', 'L', 'LA', 'P', '1']) expect(modes, `a ${m} case`).toContain(m);
  });

  for (const c of corpus.cases) {
    it(`${c.name} (${c.pillow_mode}, ${c.width}×${c.height} → ${c.size})`, () => {
      const bytes = new Uint8Array(readFileSync(resolve(DIR, c.png)));
      const px = pngForModel(bytes, sniffImage(bytes).orientation);
      expect([px.width, px.height], 'size after EXIF orientation').toEqual([c.width, c.height]);
      if (!c.exact) {
        // Pillow's own result is not reproduced (16-bit grey): the decoder must say so, not pretend.
        expect(px.exact).toBe(false);
        expect(px.note).toMatch(/16-bit/);
        return;
      }
      expect(px.exact).toBe(true);
      const got = officialToklipRgb(
        { data: px.rgba, width: px.width, height: px.height, mode: px.mode },
        c.size,
      );
      const want = new Uint8Array(readFileSync(resolve(DIR, c.rgb)));
      expect(got.length).toBe(want.length);
      const d = maxAbsDiff(got, want);
      expect(d, `max |Δ| over ${want.length} uint8 values`).toEqual({ max: 0, at: -1, count: 0 });
      if (c.tensor) {
        const t = new Float32Array(readFileSync(resolve(DIR, c.tensor)).buffer.slice(0));
        const x = preprocess(
          { data: px.rgba, width: px.width, height: px.height, mode: px.mode },
          {
            size: c.size,
            mean: corpus.mean,
            std: corpus.std,
            resize_pass_order: corpus.pass_order,
          },
        );
        expect(maxAbsDiff(x, t).max, 'normalised float32 tensor').toBe(0);
      }
    });
  }
});

describe('official_toklip building blocks', () => {
  it('rounds crop offsets half to even, as Python round() does', () => {
    expect([0.5, 1.5, 2.5, 3.5, 1, 2.25].map(roundHalfEven)).toEqual([0, 2, 2, 4, 1, 2]);
  });
  it('resizes the shortest side to S and truncates the long side', () => {
    expect(shortestSideSize(301, 200, 256)).toEqual({ width: 385, height: 256 });
    expect(shortestSideSize(200, 301, 256)).toEqual({ width: 256, height: 385 });
    expect(shortestSideSize(5, 5, 384)).toEqual({ width: 384, height: 384 });
  });
  it('leaves a picture already at S×S alone, alpha included (Pillow returns a copy, not a resample)', () => {
    // torchvision on this 2×2 RGBA gives 255,0,0 and 10,20,30: a premultiplied round trip gave 0,0,0 and 9,19,29.
    const rgba = new Uint8Array([255, 0, 0, 0, 10, 20, 30, 128, 10, 20, 30, 128, 10, 20, 30, 128]);
    const rgb = officialToklipRgb({ data: rgba, width: 2, height: 2, mode: 'RGBA' }, 2);
    expect(Array.from(rgb)).toEqual([255, 0, 0, 10, 20, 30, 10, 20, 30, 10, 20, 30]);
  });
  it('normalises in float32 like ToTensor + Normalize', () => {
    const hwc = new Uint8Array([0, 128, 255, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const x = toTensorNormalise(hwc, 2, [0.5, 0.5, 0.5], [0.5, 0.5, 0.5]);
    expect(x[0]).toBe(-1);
    expect(x[4 + 0]).toBe(Math.fround(Math.fround(Math.fround(128 / 255) - 0.5) / 0.5));
    expect(x[8 + 0]).toBe(1);
  });
});
