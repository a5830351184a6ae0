import { describe, expect, it } from 'vitest';
import { deltaText, labScores } from './labScores';

const v = (...x: number[]) => Float32Array.from(x);

describe('lab scores', () => {
  const texts = { cat: v(1, 0), dog: v(0, 1) };

  it('per prompt: cosine, baseline, Δ, and the teacher on the decoded pixels', () => {
    const base = { embedding: v(1, 0), teacherEmbedding: v(0.5, 0.5) };
    const cur = { embedding: v(0.6, 0.8), teacherEmbedding: v(0.25, 0.75) };
    const rows = labScores(['cat', 'dog'], texts, base, cur)!;
    expect(rows[0]).toMatchObject({ prompt: 'cat', baseCos: 1, teacherBaseCos: 0.5, teacherCos: 0.25 });
    expect(rows[0]!.cos).toBeCloseTo(0.6, 6);
    expect(rows[0]!.delta).toBeCloseTo(-0.4, 6);
    expect(rows[0]!.teacherDelta).toBeCloseTo(-0.25, 6);
    expect(rows[1]!.delta).toBeCloseTo(0.8, 6);
    expect(rows[1]!.teacherDelta).toBeCloseTo(0.25, 6);
  });

  it('no teacher: teacher columns null; a prompt not embedded yet: null', () => {
    const rows = labScores(['cat'], texts, { embedding: v(1, 0) }, { embedding: v(1, 0) })!;
    expect(rows[0]).toEqual({
      prompt: 'cat',
      cos: 1,
      baseCos: 1,
      delta: 0,
      teacherCos: null,
      teacherBaseCos: null,
      teacherDelta: null,
    });
    expect(labScores(['cat', 'bird'], texts, { embedding: v(1, 0) }, { embedding: v(1, 0) })).toBeNull();
  });

  it('delta as arrow and signed number; what rounds to zero is "="', () => {
    expect(deltaText(0.0123)).toEqual({ arrow: '↑', text: '+0.012', label: 'up 0.012' });
    expect(deltaText(-0.5)).toEqual({ arrow: '↓', text: '−0.500', label: 'down 0.500' });
    expect(deltaText(0.0004)).toEqual({ arrow: '=', text: '±0.000', label: 'unchanged' });
    expect(deltaText(-0.0004).arrow).toBe('=');
    expect(deltaText(0.04, 1).text).toBe('±0.0');
  });
});
