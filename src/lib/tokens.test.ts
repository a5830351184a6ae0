import { describe, expect, it } from 'vitest';
import { codeUsage, firstInvalidId, idsToRows } from './tokens';

describe('token helpers', () => {
  it('rows, usage, validation', () => {
    expect(idsToRows([1, 2, 3, 4, 5, 6], 2, 3)).toEqual([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expect(() => idsToRows([1], 2, 2)).toThrow();
    expect(codeUsage([5, 3, 5, 3, 1])).toEqual([
      { id: 3, count: 2 },
      { id: 5, count: 2 },
      { id: 1, count: 1 },
    ]);
    expect(firstInvalidId([0, 3, 4], 4)).toBe(2);
    expect(firstInvalidId([0, 3], 4)).toBe(-1);
  });
});
