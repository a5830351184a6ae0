import { describe, expect, it } from 'vitest';
import { chwToRgba } from './preprocess';
import { cellBox, codesPerRun, cropRgba, patchRuns } from './codePatches';

describe('decoded-patch layout', () => {
  const G = { h: 16, w: 16 };

  it('each preview cell and its 8 neighbours hold the previewed code; runs hold nothing else', () => {
    const codes = Array.from({ length: 30 }, (_, i) => 100 + i);
    expect(codesPerRun(G)).toBe(25);
    const runs = patchRuns(G, codes);
    expect(runs.map((r) => r.places.length)).toEqual([25, 5]);
    expect(runs.flatMap((r) => r.places.map((p) => p.code))).toEqual(codes);
    for (const run of runs) {
      const allowed = new Set(run.places.map((p) => p.code));
      expect([...run.ids].every((v) => allowed.has(v))).toBe(true);
      expect(new Set(run.places.map((p) => p.cell)).size).toBe(run.places.length);
      for (const { code, cell } of run.places) {
        const r = Math.floor(cell / G.w);
        const c = cell % G.w;
        for (let dr = -1; dr <= 1; dr++)
          for (let dc = -1; dc <= 1; dc++) expect(run.ids[(r + dr) * G.w + c + dc]).toBe(code);
      }
    }
    // the leftover 16th row and column belong to the last squares, not to another code
    expect(runs[0]!.ids[15 * 16 + 15]).toBe(124);
    expect(runs[0]!.ids[15 * 16]).toBe(120);
  });

  it('a grid smaller than the block uses smaller squares', () => {
    const runs = patchRuns({ h: 2, w: 2 }, [7, 8]);
    expect(runs).toHaveLength(2);
    expect(Array.from(runs[0]!.ids)).toEqual([7, 7, 7, 7]);
    expect(patchRuns(G, [])).toEqual([]);
  });

  it('cell boxes tile the picture; crops match chwToRgba of the whole', () => {
    expect(cellBox(128, G, 17)).toEqual({ x: 8, y: 8, width: 8, height: 8 });
    const S = 10;
    const grid = { h: 3, w: 3 }; // 10 px over 3 cells: boxes of 3, 3, 4 px
    expect([0, 1, 2].map((c) => cellBox(S, grid, c).width)).toEqual([3, 3, 4]);
    const chw = Float32Array.from({ length: 3 * S * S }, (_, i) => ((i * 37) % 101) / 100);
    const whole = chwToRgba(chw, S, S);
    const box = cellBox(S, grid, 5); // row 1, column 2
    const crop = cropRgba(chw, S, box);
    for (let y = 0; y < box.height; y++)
      for (let x = 0; x < box.width; x++)
        for (let k = 0; k < 4; k++)
          expect(crop[(y * box.width + x) * 4 + k]).toBe(whole[((box.y + y) * S + box.x + x) * 4 + k]);
    expect(() => cropRgba(chw.subarray(1), S, box)).toThrow(RangeError);
  });
});
