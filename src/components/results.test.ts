import { describe, expect, it } from 'vitest';
import { sampleManifest } from '../lib/testutil';
import { validateManifest } from '../lib/manifest';
import type { ImageItem } from '../store/store';
import { heatmapRgba, rampColour, tokenMapRgba } from './colour';
import { exportImage, scoreImage } from './results';

const manifest = validateManifest(sampleManifest());
const unit = (v: number[]) => {
  const n = Math.hypot(...v);
  return Float32Array.from(v, (x) => x / n);
};

describe('per-image results', () => {
  const image: ImageItem = {
    id: 'a',
    name: 'a.png',
    bytes: 1,
    url: null,
    status: 'done',
    timings: {},
    grid: { h: 1, w: 2 },
    ids: new Int32Array([3, 4]),
    embedding: unit([1, 0, 0]),
    teacherEmbedding: unit([0, 1, 0]),
    psnr: 20,
  };
  const text = { cat: unit([0, 1, 0]), dog: unit([1, 1, 0]) };

  it('scores, ranks and exports', () => {
    const s = scoreImage(image, ['cat', 'dog'], text, manifest)!;
    expect(s.cosines[0]).toBeCloseTo(0, 6);
    expect(s.cosines[1]).toBeCloseTo(Math.SQRT1_2, 6);
    expect(s.ranking).toEqual([1, 0]);
    expect(s.probabilities[1]).toBeCloseTo(1 / (1 + Math.exp(-(10 * Math.SQRT1_2 - 10))), 6);
    expect(s.teacherCosines![0]).toBeCloseTo(1, 6);
    const out = exportImage(image, manifest, 'wasm', s);
    expect(out.ids).toEqual([[3, 4]]);
    expect(out.ranking).toEqual([1, 0]);
    expect(out.model_id).toBe('toklip-tiny');
  });

  it('softmax over the prompts: exp(scale·cos) normalised, next to the independent sigmoids', () => {
    const s = scoreImage(image, ['cat', 'dog'], text, manifest)!;
    const scale = manifest.logit_scale;
    // two prompts: p(dog) = 1 / (1 + exp(scale·(cos_cat − cos_dog)))
    const dog = 1 / (1 + Math.exp(scale * (s.cosines[0]! - s.cosines[1]!)));
    expect(s.softmax[1]).toBeCloseTo(dog, 12);
    expect(s.softmax[0]).toBeCloseTo(1 - dog, 12);
    // the sigmoids need not sum to 1; the softmax always does
    expect(s.softmax.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    expect(exportImage(image, manifest, 'wasm', s).softmax_over_prompts).toEqual(s.softmax);
    // one prompt: the softmax is 1 whatever the cosine, the sigmoid is not
    const one = scoreImage(image, ['cat'], text, manifest)!;
    expect(one.softmax).toEqual([1]);
    expect(one.probabilities[0]).toBeLessThan(0.5);
  });

  it('waits for every prompt embedding', () => {
    expect(scoreImage(image, ['cat', 'bird'], text, manifest)).toBeNull();
    expect(scoreImage({ ...image, embedding: undefined }, ['cat'], text, manifest)).toBeNull();
  });
});

describe('colours', () => {
  it('token map uses the PCA colour of each id', () => {
    const colours = new Uint8ClampedArray([0, 0, 0, 10, 20, 30]);
    expect(Array.from(tokenMapRgba(new Int32Array([1, 0]), colours))).toEqual([
      10, 20, 30, 255, 0, 0, 0, 255,
    ]);
  });
  it('heat ramp is monotone in brightness and clamps', () => {
    const lum = (t: number) => rampColour(t).reduce((a, b) => a + b, 0);
    for (let t = 0; t < 1; t += 0.1) expect(lum(t + 0.1)).toBeGreaterThan(lum(t));
    expect(rampColour(2)).toEqual(rampColour(1));
    expect(Array.from(heatmapRgba(new Float32Array([0]), 1))).toEqual([0, 0, 4, 255]);
  });
});
