import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { decode as decodePng } from 'fast-png';
import { describe, expect, it } from 'vitest';
import { chwToRgba } from './preprocess';
import {
  embeddingSummary,
  encodeNpy,
  exportName,
  idsJson,
  imageResultsJson,
  parseNpy,
  pngOfChw,
  sessionResultsJson,
  type ModelInfo,
} from './labExport';

// Written by numpy's np.save (scripts/npy_goldens.py), the reference for the .npy format.
const golden = (name: string) =>
  new Uint8Array(readFileSync(resolve(import.meta.dirname, '__golden__', name)));

function goldenGrid(): number[] {
  const v = Array.from({ length: 256 }, (_, i) => (i * 37 + 11) % 1024);
  v[3 * 16 + 5] = 1023;
  v[0] = 0;
  return v;
}

describe('encodeNpy', () => {
  it('writes int32 [16, 16] byte for byte as numpy does', () => {
    expect(encodeNpy(Int32Array.from(goldenGrid()), [16, 16], 'int32')).toEqual(
      golden('npy_int32_16x16.npy'),
    );
  });
  it('writes int64 (values beyond 32 bits and negative ones) byte for byte as numpy does', () => {
    expect(encodeNpy([0, 1, 2 ** 40, -5, 1023, 7], [2, 3], 'int64')).toEqual(golden('npy_int64_2x3.npy'));
  });
  it('writes a 1-d shape as a Python 1-tuple, as numpy does', () => {
    expect(encodeNpy([4, 5, 6], [3])).toEqual(golden('npy_int32_3.npy'));
  });
  it('starts the data on a 64-byte boundary with a newline-terminated header', () => {
    const b = encodeNpy(new Int32Array(7 * 3), [7, 3]);
    const p = parseNpy(b);
    expect(p.dataOffset % 64).toBe(0);
    expect(b[p.dataOffset - 1]).toBe(0x0a);
    expect(p.version).toEqual([1, 0]);
  });
  it('rejects a shape that does not hold the values, and values that are not of the dtype', () => {
    expect(() => encodeNpy([1, 2, 3], [2, 2])).toThrow(RangeError);
    expect(() => encodeNpy([1.5], [1])).toThrow(RangeError);
    expect(() => encodeNpy([2 ** 31], [1], 'int32')).toThrow(RangeError);
    expect(() => encodeNpy([1], [-1])).toThrow(RangeError);
  });
});

describe('parseNpy', () => {
  it('reads numpy’s files back to their shape, dtype and values', () => {
    const a = parseNpy(golden('npy_int32_16x16.npy'));
    expect(a).toMatchObject({ descr: '<i4', fortranOrder: false, shape: [16, 16] });
    expect(a.values).toEqual(goldenGrid());
    const b = parseNpy(golden('npy_int64_2x3.npy'));
    expect(b).toMatchObject({ descr: '<i8', shape: [2, 3] });
    expect(b.values).toEqual([0, 1, 2 ** 40, -5, 1023, 7]);
    expect(parseNpy(golden('npy_int32_3.npy')).shape).toEqual([3]);
  });
  it('round-trips what encodeNpy writes', () => {
    const ids = Int32Array.from({ length: 12 }, (_, i) => (i * 97) % 1024);
    for (const dtype of ['int32', 'int64'] as const) {
      const p = parseNpy(encodeNpy(ids, [3, 4], dtype));
      expect(p.shape).toEqual([3, 4]);
      expect(p.values).toEqual(Array.from(ids));
    }
  });
  it('refuses files that are not .npy or whose data is cut short', () => {
    expect(() => parseNpy(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]))).toThrow(/magic/);
    const b = encodeNpy([1, 2, 3, 4], [2, 2]);
    expect(() => parseNpy(b.subarray(0, b.length - 1))).toThrow(/length/);
  });
});

describe('idsJson', () => {
  it('writes rows of ids with the grid and the model', () => {
    const doc = JSON.parse(idsJson([1, 2, 3, 4, 5, 6], { h: 2, w: 3 }, 'm', 'cat.png (edited)')) as {
      ids: number[][];
      grid: { h: number; w: number };
      model_id: string;
    };
    expect(doc.ids).toEqual([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expect(doc.grid).toEqual({ h: 2, w: 3 });
    expect(doc.model_id).toBe('m');
  });
});

describe('pngOfChw', () => {
  it('encodes the pixels the app draws (8-bit RGB) and decodes back to them', () => {
    const W = 5;
    const H = 3;
    const chw = Float32Array.from({ length: 3 * W * H }, (_, i) => ((i * 29) % 101) / 100 - 0.004);
    chw[0] = -0.2; // clamped
    chw[1] = 1.3;
    const png = decodePng(pngOfChw(chw, W, H));
    expect(png).toMatchObject({ width: W, height: H, channels: 3, depth: 8 });
    const want = chwToRgba(chw, W, H).filter((_, i) => i % 4 !== 3);
    expect(Array.from(png.data)).toEqual(Array.from(want));
  });
});

const model: ModelInfo = {
  id: 'toy',
  display_name: 'Toy',
  manifest_sha256: 'ab'.repeat(32),
  embed_dim: 2,
  codebook_size: 8,
  logit_scale: 10,
  logit_bias: -5,
};
const meta = { provider: 'wasm', created: '2026-11-29T00:00:00.000Z' };

describe('results JSON', () => {
  const text = { a: Float32Array.from([1, 0]), b: Float32Array.from([0, 1]) };
  const im = {
    name: 'x.png',
    grid: { h: 1, w: 2 },
    ids: [3, 4],
    embedding: [0.6, 0.8],
    teacherEmbedding: [1, 0],
    lab: { editedIds: [3, 7], edits: 1, embedding: [0.8, 0.6] },
  };
  it('scores every prompt on both paths, the lab’s edited ids included', () => {
    const doc = JSON.parse(imageResultsJson(im, ['a', 'b'], text, model, meta)) as {
      schema: string;
      model: ModelInfo;
      image: {
        ids: number[][];
        lab: { edited_ids: number[][]; teacher_embedding: null };
        scores: Record<string, number | string | null>[];
      };
    };
    expect(doc.schema).toBe('toklip-studio.results/1');
    expect(doc.model.manifest_sha256).toBe(model.manifest_sha256);
    expect(doc.image.ids).toEqual([[3, 4]]);
    expect(doc.image.lab.edited_ids).toEqual([[3, 7]]);
    expect(doc.image.lab.teacher_embedding).toBeNull();
    const [a, b] = doc.image.scores;
    expect(a!.toklip_cos).toBeCloseTo(0.6, 6);
    expect(a!.toklip_sigmoid).toBeCloseTo(1 / (1 + Math.exp(-(10 * 0.6 - 5))), 6);
    expect(a!.teacher_cos).toBeCloseTo(1, 6);
    expect(a!.lab_toklip_cos).toBeCloseTo(0.8, 6);
    expect(a!.lab_teacher_cos).toBeNull();
    expect(b!.toklip_cos).toBeCloseTo(0.8, 6);
    expect(b!.teacher_cos).toBeCloseTo(0, 6);
  });
  it('leaves scores null for a prompt not embedded yet, and lists every image of a session', () => {
    const doc = JSON.parse(sessionResultsJson([im, { name: 'y.png' }], ['a', 'zzz'], text, model, meta)) as {
      images: { file: string; ids: null; scores: { toklip_cos: number | null }[] }[];
    };
    expect(doc.images.map((x) => x.file)).toEqual(['x.png', 'y.png']);
    expect(doc.images[0]!.scores[1]!.toklip_cos).toBeNull();
    expect(doc.images[1]!.ids).toBeNull();
  });
  it('summarises an embedding', () => {
    const s = embeddingSummary([3, -4]);
    expect(s).toMatchObject({ dim: 2, l2_norm: 5, min: -4, max: 3, mean: -0.5, values: [3, -4] });
  });
});

describe('exportName', () => {
  it('drops the extension and characters file systems dislike', () => {
    expect(exportName('cat photo.JPG', '.ids.npy')).toBe('cat_photo.ids.npy');
    expect(exportName('a/b\\c.png', '.png')).toBe('a_b_c.png');
    expect(exportName('', '.json')).toBe('image.json');
  });
});
