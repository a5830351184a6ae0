import { describe, expect, it } from 'vitest';
import {
  averageRanks,
  overlapAtK,
  packRows,
  positions,
  rankAll,
  rankGallery,
  scoreRows,
  spearman,
  topK,
} from './ranking';
import { dot } from './similarity';
import { rng } from './testutil';

function unitRows(n: number, dim: number, seed: number): Float32Array[] {
  const r = rng(seed);
  return Array.from({ length: n }, () => {
    const v = Float32Array.from({ length: dim }, () => r() * 2 - 1);
    const norm = Math.hypot(...v);
    return v.map((x) => x / norm);
  });
}

/** The obvious reference: sort every index, higher score first, ties by index. */
const sortedIndices = (s: ArrayLike<number>) =>
  Array.from({ length: s.length }, (_, i) => i).sort((a, b) => s[b]! - s[a]! || a - b);

describe('packRows / scoreRows', () => {
  it('scores each row with the dot product similarity.ts uses', () => {
    const rows = unitRows(37, 16, 1);
    const [q] = unitRows(1, 16, 2);
    const s = scoreRows(packRows(rows, 16), q!);
    expect(s.length).toBe(37);
    rows.forEach((r, i) => expect(s[i]).toBeCloseTo(dot(r, q!), 6));
  });

  it('refuses rows and queries of the wrong width', () => {
    expect(() => packRows([new Float32Array(3), new Float32Array(4)], 3)).toThrow(/row 1 has 4/);
    expect(() => scoreRows(packRows([new Float32Array(3)], 3), [1, 2])).toThrow(/query has 2/);
  });

  it('an empty gallery scores to an empty list', () => {
    expect(scoreRows(packRows([], 8), new Float32Array(8)).length).toBe(0);
  });
});

describe('topK / rankAll', () => {
  it('equals the first k of a full sort, for every k, on random scores with ties', () => {
    const r = rng(7);
    // rounded to one decimal, so many scores tie and the tie rule is exercised
    const scores = Array.from({ length: 60 }, () => Math.round(r() * 10) / 10);
    const ref = sortedIndices(scores);
    for (const k of [0, 1, 2, 5, 17, 59, 60, 100]) expect(topK(scores, k)).toEqual(ref.slice(0, k));
    expect(rankAll(scores)).toEqual(ref);
  });

  it('ranks NaN last instead of scattering it', () => {
    expect(rankAll([0.1, NaN, 0.3])).toEqual([2, 0, 1]);
    expect(topK([NaN, 0.2, NaN, -1], 4)).toEqual([1, 3, 0, 2]);
  });

  it('positions are 1-based ranks', () => {
    expect(Array.from(positions([2, 0, 1]))).toEqual([2, 3, 1]);
  });
});

describe('spearman', () => {
  it('matches 1 − 6Σd²/(n(n²−1)) when there are no ties', () => {
    const r = rng(3);
    const a = Array.from({ length: 25 }, () => r());
    const b = a.map((x) => x + (r() - 0.5) * 0.6);
    const ra = averageRanks(a);
    const rb = averageRanks(b);
    let d2 = 0;
    for (let i = 0; i < a.length; i++) d2 += (ra[i]! - rb[i]!) ** 2;
    const n = a.length;
    expect(spearman(a, b)).toBeCloseTo(1 - (6 * d2) / (n * (n * n - 1)), 12);
  });

  it('is 1 for the same order, −1 for the reverse, whatever the scale', () => {
    expect(spearman([1, 2, 3, 4], [10, 20, 30, 400])).toBeCloseTo(1, 12);
    expect(spearman([1, 2, 3, 4], [4, 3, 2, 1])).toBeCloseTo(-1, 12);
  });

  it('gives tied items their average rank', () => {
    // worked by hand: ranks (descending) a = [4, 2.5, 2.5, 1], b = [4, 3, 2, 1];
    // deviations from 2.5: a = [1.5, 0, 0, −1.5], b = [1.5, .5, −.5, −1.5] → 4.5 / √(4.5 · 5)
    expect(Array.from(averageRanks([1, 2, 2, 3]))).toEqual([4, 2.5, 2.5, 1]);
    expect(spearman([1, 2, 2, 3], [1, 2, 3, 4])).toBeCloseTo(4.5 / Math.sqrt(4.5 * 5), 12);
  });

  it('is NaN when undefined (fewer than 2 items, or a constant list)', () => {
    expect(spearman([1], [2])).toBeNaN();
    expect(spearman([1, 1, 1], [1, 2, 3])).toBeNaN();
    expect(() => spearman([1, 2], [1])).toThrow(/lengths differ/);
  });
});

describe('overlapAtK', () => {
  it('counts the shared items of the two top-k lists', () => {
    expect(overlapAtK([0, 1, 2, 3], [1, 0, 3, 2], 2)).toBe(2);
    expect(overlapAtK([0, 1, 2, 3], [3, 2, 1, 0], 2)).toBe(0);
    expect(overlapAtK([0, 1, 2, 3], [3, 1, 0, 2], 3)).toBe(2);
    expect(overlapAtK([0, 1], [1, 0], 5)).toBe(2); // k capped at the lengths
  });
});

describe('rankGallery', () => {
  it('ranks both sides by their own cosines and reports their agreement', () => {
    const tokRows = unitRows(30, 8, 11);
    const teacherRows = unitRows(30, 8, 12);
    const [q] = unitRows(1, 8, 13);
    const g = rankGallery(packRows(tokRows, 8), packRows(teacherRows, 8), q!, 5);
    const tokCos = tokRows.map((r) => dot(r, q!));
    const teaCos = teacherRows.map((r) => dot(r, q!));
    expect(g.tok.order).toEqual(sortedIndices(Float32Array.from(tokCos)));
    expect(g.teacher!.order).toEqual(sortedIndices(Float32Array.from(teaCos)));
    expect(g.tok.rank[g.tok.order[0]!]).toBe(1);
    expect(g.agreement!.k).toBe(5);
    expect(g.agreement!.overlap).toBe(overlapAtK(g.tok.order, g.teacher!.order, 5));
    expect(g.agreement!.spearman).toBeCloseTo(spearman(tokCos, teaCos), 5);
  });

  it('without a teacher (or a teacher of another size) there is no agreement', () => {
    const rows = unitRows(4, 8, 5);
    const g = rankGallery(packRows(rows, 8), null, rows[2]!);
    expect(g.tok.order[0]).toBe(2); // a row is its own best match
    expect(g.teacher).toBeNull();
    expect(g.agreement).toBeNull();
    expect(rankGallery(packRows(rows, 8), packRows(rows.slice(1), 8), rows[0]!).teacher).toBeNull();
  });

  it('the same rows on both sides agree perfectly', () => {
    const rows = unitRows(12, 8, 9);
    const m = packRows(rows, 8);
    const g = rankGallery(m, m, unitRows(1, 8, 10)[0]!, 5);
    expect(g.agreement).toEqual({ spearman: expect.closeTo(1, 12) as number, k: 5, overlap: 5 });
  });
});
