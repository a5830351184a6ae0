import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { matchProbability } from './similarity';
import {
  accuracy,
  averageTemplates,
  classCosines,
  classEmbeddings,
  confusionMatrix,
  costText,
  expandPrompts,
  fillTemplate,
  labelledPaths,
  parseLabels,
  parseLabelset,
  predict,
  topK,
} from './zeroShot';
import { mulberry32 } from './tokenEdit';

const len = (v: ArrayLike<number>) => Math.hypot(...Array.from(v));

describe('template averaging', () => {
  it('is the renormalised mean of the normalised rows, whatever their lengths', () => {
    // rows of lengths 2 and 10 along x and y: unit rows (1,0) and (0,1), mean (0.5,0.5), renormalised 1/√2 each
    const avg = averageTemplates(new Float32Array([2, 0, 0, 10]), 2);
    expect(avg[0]).toBeCloseTo(Math.SQRT1_2, 6);
    expect(avg[1]).toBeCloseTo(Math.SQRT1_2, 6);
  });

  it('of one row is that row normalised; of random rows has unit length and is their mean direction', () => {
    expect(Array.from(averageTemplates(new Float32Array([3, 4]), 2))).toEqual([
      expect.closeTo(0.6, 6),
      expect.closeTo(0.8, 6),
    ]);
    const rand = mulberry32(7);
    const dim = 16;
    const rows = Float32Array.from({ length: 5 * dim }, () => rand() * 2 - 1);
    const avg = averageTemplates(rows, dim);
    expect(len(avg)).toBeCloseTo(1, 5);
    // the direction of Σ unit rows, computed the long way
    const sum = new Array<number>(dim).fill(0);
    for (let t = 0; t < 5; t++) {
      const r = Array.from(rows.subarray(t * dim, (t + 1) * dim));
      const n = len(r);
      r.forEach((v, k) => (sum[k]! += v / n));
    }
    const n = len(sum);
    sum.forEach((v, k) => expect(avg[k]).toBeCloseTo(v / n, 5));
  });

  it('classEmbeddings averages each class’s own rows, class-major', () => {
    const rows = new Float32Array([1, 0, 1, 0, /* class 1: */ 0, 1, 0, 3]);
    const c = classEmbeddings(rows, 2, 2);
    expect(Array.from(c)).toEqual([1, 0, 0, 1]);
    expect(() => classEmbeddings(new Float32Array(6), 2, 2)).toThrow(RangeError);
    expect(() => averageTemplates(new Float32Array(3), 2)).toThrow(RangeError);
  });

  it('expands templates class-major and fills {}', () => {
    expect(expandPrompts(['cat', 'dog'], ['a {}.', 'art of the {}.'])).toEqual([
      'a cat.',
      'art of the cat.',
      'a dog.',
      'art of the dog.',
    ]);
    expect(fillTemplate('{}', 'a hat')).toBe('a hat');
    expect(() => expandPrompts(['x'], [])).toThrow(RangeError);
  });
});

describe('prediction', () => {
  it('cosines, top-k with ties kept in index order', () => {
    const classes = new Float32Array([1, 0, 0, 1, Math.SQRT1_2, Math.SQRT1_2]);
    expect(classCosines([1, 0], classes, 2)).toEqual([1, 0, expect.closeTo(Math.SQRT1_2, 6)]);
    expect(topK([0.1, 0.5, 0.3, 0.5], 3)).toEqual([1, 3, 2]);
    expect(topK([0.1], 5)).toEqual([0]);
    expect(() => classCosines([1, 0, 0], classes, 2)).toThrow(RangeError);
  });

  it('softmax over all labels at logit_scale, sigmoid per pair', () => {
    const cos = [0.2, 0.5, -0.1, 0.4];
    const scale = 10;
    const bias = -9;
    const top = predict(cos, scale, bias, 2);
    const z = cos.reduce((s, c) => s + Math.exp(scale * c), 0);
    expect(top.map((p) => p.index)).toEqual([1, 3]);
    expect(top[0]!.softmax).toBeCloseTo(Math.exp(5) / z, 12);
    expect(top[1]!.softmax).toBeCloseTo(Math.exp(4) / z, 12);
    expect(top[0]!.sigmoid).toBe(matchProbability(0.5, scale, bias));
    // the softmax of all labels sums to one; the sigmoids need not
    const all = predict(cos, scale, bias, cos.length);
    expect(all.reduce((s, p) => s + p.softmax, 0)).toBeCloseTo(1, 12);
  });
});

describe('folder evaluation', () => {
  it('accuracy and confusion matrix (rows: true class, columns: predicted)', () => {
    const truth = [0, 0, 1, 1, 2];
    const pred = [0, 1, 1, 1, 0];
    expect(accuracy(truth, pred)).toBeCloseTo(3 / 5, 12);
    expect(confusionMatrix(truth, pred, 3)).toEqual([
      [1, 1, 0],
      [0, 2, 0],
      [1, 0, 0],
    ]);
    expect(accuracy([], [])).toBeNaN();
    expect(() => confusionMatrix([3], [0], 3)).toThrow(RangeError);
    expect(() => accuracy([0], [])).toThrow(RangeError);
  });

  it('labels are the sub-folders under the picked root', () => {
    const { items, labels } = labelledPaths([
      'pets/dog/a.jpg',
      'pets/cat/b.PNG',
      'pets/cat/nested/c.webp',
      'pets/readme.txt',
      'pets/top.jpg',
      'pets/dog/.DS_Store',
    ]);
    expect(labels).toEqual(['cat', 'dog']);
    expect(items).toEqual([
      { path: 'pets/dog/a.jpg', label: 'dog' },
      { path: 'pets/cat/b.PNG', label: 'cat' },
      { path: 'pets/cat/nested/c.webp', label: 'cat' },
    ]);
  });

  it('label folders dropped side by side (no common root) label their own files', () => {
    const { items, labels } = labelledPaths(['dog/a.jpg', 'cat/b.jpg', 'loose.jpg']);
    expect(labels).toEqual(['cat', 'dog']);
    expect(items.map((x) => x.label)).toEqual(['dog', 'cat']);
    // one label folder dropped alone: its name is the label
    expect(labelledPaths(['dog/a.jpg', 'dog/b.jpg']).labels).toEqual(['dog']);
  });

  it('user labels: one per line, trimmed, no blanks or repeats', () => {
    expect(parseLabels(' a cat \n\n a dog\r\na cat\n')).toEqual(['a cat', 'a dog']);
  });

  it('cost text', () => {
    expect(costText(7000, 2)).toBe('about 14 s');
    expect(costText(80000, 2)).toBe('about 3 min');
    expect(costText(1, 2)).toBe('about 1 s');
  });
});

describe('label set JSON', () => {
  it('the committed ImageNet-1k set parses: 1000 classes, templates with one {}, attribution', () => {
    const json = JSON.parse(
      readFileSync(resolve(import.meta.dirname, '../../public/labelsets/imagenet-1k.json'), 'utf8'),
    ) as unknown;
    const ls = parseLabelset(json);
    expect(ls.classes).toHaveLength(1000);
    expect(Object.keys(ls.templates).sort()).toEqual(['openai', 'simple']);
    expect(ls.source.package).toBe('open_clip_torch');
    expect(ls.attribution).toMatch(/open_clip_torch/);
  });

  it('rejects broken ones', () => {
    const good = {
      schema: 'toklip-studio/labelset',
      id: 'x',
      name: 'x',
      classes: ['a'],
      templates: { simple: ['a {}.'] },
      source: { package: 'p', version: '1', license: 'MIT', url: '' },
      attribution: 'from p',
    };
    expect(parseLabelset(good).classes).toEqual(['a']);
    expect(() => parseLabelset({ ...good, schema: 'other' })).toThrow(/labelset/);
    expect(() => parseLabelset({ ...good, templates: { simple: ['no slot'] } })).toThrow(/one \{\}/);
    expect(() => parseLabelset({ ...good, classes: [] })).toThrow(/classes/);
    expect(() => parseLabelset({ ...good, attribution: '' })).toThrow(/attribution/);
  });
});
