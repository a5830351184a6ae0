import { describe, expect, it } from 'vitest';
import { LatestBySlot } from './supersede';

describe('superseded runs', () => {
  it('a run is superseded by a newer seq of its own slot only', () => {
    const l = new LatestBySlot();
    expect(l.isSuperseded('a', 1)).toBe(false); // nothing announced yet
    l.note('a', 1);
    expect(l.isSuperseded('a', 1)).toBe(false);
    l.note('a', 3);
    expect(l.isSuperseded('a', 1)).toBe(true);
    expect(l.isSuperseded('a', 3)).toBe(false);
    l.note('a', 2); // arrives late: 3 stays the newest
    expect(l.isSuperseded('a', 2)).toBe(true);
    expect(l.isSuperseded('a', 3)).toBe(false);
    expect(l.isSuperseded('b', 1)).toBe(false);
  });
});
