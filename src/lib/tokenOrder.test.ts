import { describe, expect, it } from 'vitest';
import {
  defaultFillCode,
  linearScale,
  niceTicks,
  polylinePoints,
  prefixFill,
  rasterCell,
  sampleKs,
  valueExtent,
} from './tokenOrder';

describe('prefixFill', () => {
  const ids = Int32Array.from([5, 6, 7, 8, 9, 10]);
  it('keeps the first k ids and fills the rest', () => {
    expect(Array.from(prefixFill(ids, 0, 1))).toEqual([1, 1, 1, 1, 1, 1]);
    expect(Array.from(prefixFill(ids, 2, 1))).toEqual([5, 6, 1, 1, 1, 1]);
    expect(Array.from(prefixFill(ids, 6, 1))).toEqual([5, 6, 7, 8, 9, 10]);
  });
  it('returns a new array and leaves the input alone', () => {
    const out = prefixFill(ids, 6, 0);
    out[0] = 99;
    expect(ids[0]).toBe(5);
  });
  it('rejects prefix lengths and fills that are not positions or codes', () => {
    expect(() => prefixFill(ids, -1, 0)).toThrow(RangeError);
    expect(() => prefixFill(ids, 7, 0)).toThrow(RangeError);
    expect(() => prefixFill(ids, 1.5, 0)).toThrow(RangeError);
    expect(() => prefixFill(ids, 1, -2)).toThrow(RangeError);
  });
});

describe('defaultFillCode', () => {
  it('is the most used code, the lower id on a tie', () => {
    expect(defaultFillCode([3, 4, 4, 3, 9])).toBe(3);
    expect(defaultFillCode([7, 4, 4])).toBe(4);
  });
  it('has no answer for an empty grid', () => {
    expect(() => defaultFillCode([])).toThrow(RangeError);
  });
});

describe('sampleKs', () => {
  it('spreads 17 lengths over a 16×16 grid every 16 tokens, ends included', () => {
    expect(sampleKs(256)).toEqual(Array.from({ length: 17 }, (_, i) => i * 16));
  });
  it('rounds uneven spacing and never repeats a length', () => {
    const ks = sampleKs(10, 4);
    expect(ks).toEqual([0, 3, 7, 10]);
    const many = sampleKs(20, 17);
    expect(new Set(many).size).toBe(many.length);
    expect(many[0]).toBe(0);
    expect(many.at(-1)).toBe(20);
    expect(many).toEqual([...many].sort((a, b) => a - b));
  });
  it('gives every length when there are fewer than asked', () => {
    expect(sampleKs(3, 17)).toEqual([0, 1, 2, 3]);
    expect(sampleKs(0)).toEqual([0]);
  });
  it('rejects bad arguments', () => {
    expect(() => sampleKs(-1)).toThrow(RangeError);
    expect(() => sampleKs(10, 1)).toThrow(RangeError);
  });
});

describe('rasterCell', () => {
  it('reads row by row', () => {
    expect(rasterCell(0, 16)).toEqual({ row: 0, col: 0 });
    expect(rasterCell(17, 16)).toEqual({ row: 1, col: 1 });
    expect(rasterCell(255, 16)).toEqual({ row: 15, col: 15 });
  });
});

describe('chart scaling', () => {
  it('maps a domain onto a range, flipped ranges included (SVG y grows downwards)', () => {
    const x = linearScale([0, 256], [10, 210]);
    expect(x(0)).toBe(10);
    expect(x(128)).toBe(110);
    expect(x(256)).toBe(210);
    const y = linearScale([0.1, 0.3], [100, 0]);
    expect(y(0.1)).toBeCloseTo(100, 12);
    expect(y(0.3)).toBeCloseTo(0, 12);
    expect(y(0.2)).toBeCloseTo(50, 12);
  });
  it('puts everything in the middle for a zero-width domain', () => {
    expect(linearScale([2, 2], [0, 10])(2)).toBe(5);
  });
  it('rounds the value extent outwards to the step and widens a flat series', () => {
    expect(valueExtent([0.12, 0.31])).toEqual([0.1, 0.35000000000000003]);
    const [lo, hi] = valueExtent([0.2, 0.2])!;
    expect(lo).toBeLessThan(0.2);
    expect(hi).toBeGreaterThan(0.2);
    expect(valueExtent([0.1, 0.2], 0.1)).toEqual([0.1, 0.2]);
    expect(valueExtent([NaN])).toBeNull();
    expect(valueExtent([-0.07, 0.02])).toEqual([-0.1, 0.05]);
  });
  it('writes polyline points, leaving out missing values', () => {
    const x = linearScale([0, 2], [0, 20]);
    const y = linearScale([0, 1], [10, 0]);
    expect(polylinePoints([0, 1, 2], [0, null, 1], x, y)).toBe('0.0,10.0 20.0,0.0');
    expect(() => polylinePoints([0], [], x, y)).toThrow(RangeError);
  });
});

describe('niceTicks', () => {
  it('picks round steps within the extent', () => {
    expect(niceTicks(-0.6, 0.75)).toEqual([-0.5, 0, 0.5]);
    expect(niceTicks(-0.6, 0.75, 8)).toEqual([-0.6, -0.4, -0.2, 0, 0.2, 0.4, 0.6]);
    expect(niceTicks(0.1, 0.35)).toEqual([0.1, 0.15, 0.2, 0.25, 0.3, 0.35]);
    expect(niceTicks(0, 256, 5)).toEqual([0, 100, 200]);
    expect(niceTicks(0, 1, 3)).toEqual([0, 0.5, 1]);
  });
  it('never gives more than max ticks', () => {
    for (const [lo, hi] of [
      [-1, 1],
      [0.123, 0.987],
      [-0.33, -0.31],
    ] as const)
      for (const max of [2, 3, 5, 6, 8]) expect(niceTicks(lo, hi, max).length).toBeLessThanOrEqual(max);
  });
  it('handles a point and refuses reversed or infinite extents', () => {
    expect(niceTicks(0.2, 0.2)).toEqual([0.2]);
    expect(niceTicks(1, 0)).toEqual([]);
    expect(niceTicks(0, Infinity)).toEqual([]);
  });
});
