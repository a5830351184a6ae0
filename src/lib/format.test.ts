import { describe, expect, it } from 'vitest';
import { formatLabTiming, formatMs } from './format';

describe('formatMs', () => {
  it('keeps a decimal below 10 ms and rounds above', () => {
    expect(formatMs(4.26)).toBe('4.3 ms');
    expect(formatMs(175.6)).toBe('176 ms');
    expect(formatMs(Number.NaN)).toBe('–');
  });
});

describe('formatLabTiming', () => {
  it('names each graph and the share of the wait', () => {
    expect(formatLabTiming({ decodeMs: 175.6, embedMs: 49.7, teacherMs: 8.24, totalMs: 236.2 }, 309.7)).toBe(
      'worker: decode 176 ms, TokLIP 50 ms, teacher 8.2 ms (236 ms of the 310 ms waited)',
    );
  });
  it('leaves the teacher out for a model without one', () => {
    expect(formatLabTiming({ decodeMs: 20, embedMs: 5, totalMs: 26 }, 30)).toBe(
      'worker: decode 20 ms, TokLIP 5.0 ms (26 ms of the 30 ms waited)',
    );
  });
});
