import { describe, expect, it } from 'vitest';
import { argmax, cosine, cosineMatrix, matchProbability, ranking, rowsOf, sigmoid } from './similarity';

describe('similarity', () => {
  it('cosine of unit vectors and of scaled vectors', () => {
    expect(cosine([1, 0], [0, 1])).toBe(0);
    expect(cosine([3, 4], [6, 8])).toBeCloseTo(1, 12);
    expect(cosine([1, 0], [-1, 0])).toBe(-1);
    expect(cosine([0, 0], [1, 0])).toBe(0);
    expect(() => cosine([1], [1, 2])).toThrow();
  });

  it('sigmoid probability with logit scale and bias (contract formula)', () => {
    expect(sigmoid(0)).toBe(0.5);
    expect(sigmoid(-800)).toBeGreaterThanOrEqual(0);
    expect(sigmoid(800)).toBe(1);
    expect(matchProbability(1, 10, -10)).toBe(0.5);
    expect(matchProbability(0.2, 10, -10)).toBeCloseTo(1 / (1 + Math.exp(8)), 12);
  });

  it('matrix, ranking and argmax', () => {
    const a = rowsOf(new Float32Array([1, 0, 0, 1]), 2);
    expect(cosineMatrix(a, a)).toEqual([
      [1, 0],
      [0, 1],
    ]);
    expect(ranking([0.1, 0.5, 0.3, 0.5])).toEqual([1, 3, 2, 0]);
    expect(argmax([0.1, 0.5, 0.3])).toBe(1);
    expect(argmax([])).toBe(-1);
  });
});
