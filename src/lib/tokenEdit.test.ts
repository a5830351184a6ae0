import { describe, expect, it } from 'vitest';
import { softmax } from './similarity';
import {
  canRedo,
  canUndo,
  clearSelection,
  clickCell,
  codesByUsage,
  copyCells,
  dragTo,
  emptySelection,
  fillMostCommon,
  mostCommonCode,
  moveCursor,
  mulberry32,
  newHistory,
  pushHistory,
  rectangleCells,
  redo,
  sameIds,
  searchCodes,
  selectAll,
  selectionBounds,
  setCells,
  shuffleCells,
  startDrag,
  toggleCell,
  undo,
} from './tokenEdit';

// A 3×4 grid: index = row * 4 + col.
const G = { h: 3, w: 4 };
const at = (r: number, c: number) => r * G.w + c;

describe('selection', () => {
  it('rectangles span two corners in either order, clipped to nothing outside', () => {
    expect(rectangleCells(G, at(0, 1), at(1, 2))).toEqual([at(0, 1), at(0, 2), at(1, 1), at(1, 2)]);
    expect(rectangleCells(G, at(1, 2), at(0, 1))).toEqual(rectangleCells(G, at(0, 1), at(1, 2)));
    expect(rectangleCells(G, at(2, 3), at(2, 3))).toEqual([at(2, 3)]);
    expect(() => rectangleCells(G, 0, 12)).toThrow(RangeError);
  });

  it('click selects one cell, shift-click a rectangle from the anchor, ctrl-click toggles', () => {
    let s = clickCell(emptySelection(), G, at(0, 0));
    expect(s.cells).toEqual([0]);
    s = clickCell(s, G, at(1, 1), { shift: true });
    expect(s.cells).toEqual([at(0, 0), at(0, 1), at(1, 0), at(1, 1)]);
    expect(s.anchor).toBe(at(0, 0));
    // a second shift-click re-spans from the same anchor (shrinks), it does not accumulate
    s = clickCell(s, G, at(0, 1), { shift: true });
    expect(s.cells).toEqual([at(0, 0), at(0, 1)]);
    s = clickCell(s, G, at(2, 3), { toggle: true });
    expect(s.cells).toEqual([at(0, 0), at(0, 1), at(2, 3)]);
    s = clickCell(s, G, at(0, 0), { toggle: true });
    expect(s.cells).toEqual([at(0, 1), at(2, 3)]);
    // shift after a toggle extends from the toggled cell and keeps what was there
    s = clickCell(s, G, at(1, 0), { shift: true });
    expect(s.cells).toEqual([at(0, 0), at(0, 1), at(1, 0), at(2, 3)]);
    s = clickCell(s, G, at(2, 2));
    expect(s.cells).toEqual([at(2, 2)]);
  });

  it('drag spans a rectangle; additive drag keeps the earlier selection', () => {
    let s = startDrag(emptySelection(), G, at(2, 3));
    s = dragTo(s, G, at(1, 2));
    expect(s.cells).toEqual([at(1, 2), at(1, 3), at(2, 2), at(2, 3)]);
    s = dragTo(s, G, at(2, 2)); // back and forth: the rectangle follows the pointer
    expect(s.cells).toEqual([at(2, 2), at(2, 3)]);
    s = startDrag(s, G, at(0, 0), true);
    s = dragTo(s, G, at(0, 1));
    expect(s.cells).toEqual([at(0, 0), at(0, 1), at(2, 2), at(2, 3)]);
    s = startDrag(s, G, at(0, 3));
    expect(s.cells).toEqual([at(0, 3)]);
  });

  it('keyboard: arrows move the cursor only, shift+arrows extend, space toggles, clamped at edges', () => {
    let s = emptySelection();
    s = moveCursor(s, G, 0, -1); // clamped
    expect(s.cursor).toBe(0);
    s = moveCursor(s, G, 1, 1);
    expect(s.cursor).toBe(at(1, 1));
    expect(s.cells).toEqual([]);
    s = toggleCell(s, G);
    expect(s.cells).toEqual([at(1, 1)]);
    s = moveCursor(s, G, 0, 1, true);
    s = moveCursor(s, G, 5, 0, true); // clamped to the last row
    expect(s.cursor).toBe(at(2, 2));
    expect(s.cells).toEqual([at(1, 1), at(1, 2), at(2, 1), at(2, 2)]);
    s = toggleCell(s, G);
    expect(s.cells).toEqual([at(1, 1), at(1, 2), at(2, 1)]);
    // moving on and extending again adds a new rectangle to the current selection
    s = moveCursor(s, G, -2, 0);
    s = moveCursor(s, G, 0, 5, true);
    expect(s.cells).toEqual([at(0, 2), at(0, 3), at(1, 1), at(1, 2), at(2, 1)]);
    expect(selectAll(s, G).cells).toHaveLength(12);
    expect(clearSelection(s)).toEqual(emptySelection(s.cursor));
  });

  it('bounds of a selection', () => {
    expect(selectionBounds([], G)).toBeNull();
    expect(selectionBounds([at(0, 2), at(2, 1)], G)).toEqual({ row: 0, col: 1, h: 3, w: 2 });
  });
});

describe('edits', () => {
  const ids = Int32Array.from([5, 5, 5, 1, 5, 2, 2, 1, 3, 3, 4, 7]);

  it('set selection to a code; never mutates the input; rejects codes outside the codebook', () => {
    const out = setCells(ids, G, [at(0, 0), at(2, 3)], 9, 10);
    expect(Array.from(out)).toEqual([9, 5, 5, 1, 5, 2, 2, 1, 3, 3, 4, 9]);
    expect(ids[0]).toBe(5);
    expect(() => setCells(ids, G, [0], 10, 10)).toThrow(RangeError);
    expect(() => setCells(ids, G, [0], -1, 10)).toThrow(RangeError);
    expect(() => setCells(ids, G, [12], 0, 10)).toThrow(RangeError);
    expect(() => setCells(ids.subarray(1), G, [0], 0, 10)).toThrow(RangeError);
  });

  it('copy from another grid with an offset, clipped at the source edges', () => {
    // source: 2×2 with distinct values
    const src = Int32Array.from([100, 101, 102, 103]);
    const sg = { h: 2, w: 2 };
    const cells = rectangleCells(G, at(0, 0), at(2, 3));
    const out = copyCells(ids, G, src, sg, cells, { row: 0, col: 0 });
    // only the top-left 2×2 has a source cell
    expect(Array.from(out)).toEqual([100, 101, 5, 1, 102, 103, 2, 1, 3, 3, 4, 7]);
    // offset (-1, -1): target (1, 2) takes source (0, 1), (2, 2) takes (1, 1); (2, 3) would take (1, 2), which is
    // outside the 2×2 source, so it keeps its id
    const shifted = copyCells(ids, G, src, sg, [at(1, 2), at(2, 3), at(2, 2)], { row: -1, col: -1 });
    expect(shifted[at(1, 2)]).toBe(101);
    expect(shifted[at(2, 2)]).toBe(103);
    expect(shifted[at(2, 3)]).toBe(7);
    const past = copyCells(ids, G, src, sg, [at(0, 0)], { row: 5, col: 0 });
    expect(sameIds(past, ids)).toBe(true);
  });

  it('fill uses the code most common outside the selection (whole grid when all is selected)', () => {
    // outside the first row the counts are: 5×1, 2×2, 1×1, 3×2, 4×1, 7×1 → tie 2/3, lower id wins
    const row0 = [at(0, 0), at(0, 1), at(0, 2), at(0, 3)];
    expect(mostCommonCode(ids, row0)).toBe(2);
    const out = fillMostCommon(ids, G, row0);
    expect(Array.from(out.subarray(0, 4))).toEqual([2, 2, 2, 2]);
    expect(Array.from(out.subarray(4))).toEqual(Array.from(ids.subarray(4)));
    expect(mostCommonCode(ids, rectangleCells(G, 0, 11))).toBe(5);
    expect(mostCommonCode(ids, [])).toBe(5);
  });

  it('shuffle permutes only the selected cells, reproducibly per seed', () => {
    const grid = { h: 4, w: 4 };
    const distinct = Int32Array.from({ length: 16 }, (_, i) => i * 10);
    const sel = [1, 2, 5, 6, 9, 10];
    const a = shuffleCells(distinct, grid, sel, 42);
    expect(Array.from(shuffleCells(distinct, grid, sel, 42))).toEqual(Array.from(a));
    expect(sel.map((i) => a[i]).sort((x, y) => x! - y!)).toEqual(sel.map((i) => distinct[i]));
    for (let i = 0; i < 16; i++) if (!sel.includes(i)) expect(a[i]).toBe(distinct[i]);
    // the seed matters: 16 cells have 16! orders, two seeds giving the same one would mean it is ignored
    const all = Array.from({ length: 16 }, (_, i) => i);
    expect(sameIds(shuffleCells(distinct, grid, all, 1), shuffleCells(distinct, grid, all, 2))).toBe(false);
  });

  it('shuffle is unbiased: every order of 3 cells about equally often over many seeds', () => {
    const grid = { h: 1, w: 3 };
    const ids3 = Int32Array.from([0, 1, 2]);
    const counts = new Map<string, number>();
    const N = 6000;
    for (let seed = 0; seed < N; seed++) {
      const k = Array.from(shuffleCells(ids3, grid, [0, 1, 2], seed)).join('');
      counts.set(k, (counts.get(k) ?? 0) + 1);
    }
    expect(counts.size).toBe(6);
    // expected 1000 each (σ ≈ 29); the classic biased shuffle (j drawn from all n at each step, 27 equally likely
    // paths onto 6 orders) gives 4/27 or 5/27 of N, i.e. 889 or 1111
    for (const n of counts.values()) expect(Math.abs(n - N / 6)).toBeLessThan(100);
  });

  it('mulberry32 stays in [0, 1)', () => {
    const r = mulberry32(7);
    for (let i = 0; i < 1000; i++) {
      const x = r();
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThan(1);
    }
  });
});

describe('history', () => {
  const a = Int32Array.from([1, 2, 3]);
  const b = Int32Array.from([1, 9, 3]);
  const c = Int32Array.from([7, 9, 3]);

  it('undo and redo walk the snapshots exactly; a new edit drops the redo branch', () => {
    let h = newHistory(a);
    expect(canUndo(h)).toBe(false);
    h = pushHistory(h, b);
    h = pushHistory(h, c);
    h = undo(h);
    expect(Array.from(h.present)).toEqual([1, 9, 3]);
    h = undo(h);
    expect(Array.from(h.present)).toEqual([1, 2, 3]);
    expect(undo(h)).toBe(h);
    h = redo(h);
    expect(Array.from(h.present)).toEqual([1, 9, 3]);
    expect(canRedo(h)).toBe(true);
    h = pushHistory(h, a.slice());
    expect(canRedo(h)).toBe(false);
    expect(redo(h)).toBe(h);
    expect(h.past.map((x) => Array.from(x))).toEqual([
      [1, 2, 3],
      [1, 9, 3],
    ]);
  });

  it('an edit that changes nothing is no step; the start is a copy', () => {
    const h = newHistory(a);
    expect(h.present).not.toBe(a);
    expect(pushHistory(h, a.slice())).toBe(h);
  });

  it('depth is bounded: the oldest snapshots are dropped', () => {
    let h = newHistory(Int32Array.from([0]), 3);
    for (let i = 1; i <= 5; i++) h = pushHistory(h, Int32Array.from([i]));
    expect(h.past.map((x) => x[0])).toEqual([2, 3, 4]);
    for (let i = 0; i < 10; i++) h = undo(h);
    expect(h.present[0]).toBe(2);
    expect(() => newHistory(a, 0)).toThrow(RangeError);
  });
});

describe('codebook picker', () => {
  it('sorts by uses here, then over all images, then id; keeps unused codes', () => {
    const here = [3, 3, 1];
    const all = [Int32Array.from([3, 3, 1]), Int32Array.from([2, 2, 2, 1, 0])];
    const list = codesByUsage(5, here, all);
    expect(list.map((e) => e.id)).toEqual([3, 1, 2, 0, 4]);
    expect(list[1]).toEqual({ id: 1, here: 1, all: 2 });
    expect(list[4]).toEqual({ id: 4, here: 0, all: 0 });
  });

  it('search by id: exact match first, then ids containing the digits, in the given order', () => {
    const list = codesByUsage(130, [], []); // ids 0…129 in id order
    expect(searchCodes(list, '12').map((e) => e.id)).toEqual([
      12, 112, 120, 121, 122, 123, 124, 125, 126, 127, 128, 129,
    ]);
    expect(searchCodes(list, ' #7 ')[0]!.id).toBe(7);
    expect(searchCodes(list, '')).toHaveLength(130);
    expect(searchCodes(list, '999')).toEqual([]);
  });
});

describe('softmax', () => {
  it('is a distribution; temperature divides the logits; stable for large logits', () => {
    const p = softmax([0, Math.log(2)]);
    expect(p[0]).toBeCloseTo(1 / 3, 12);
    expect(p[1]).toBeCloseTo(2 / 3, 12);
    // temperature 0.5 doubles the logits: ratio e^(2 ln 2) = 4
    const q = softmax([0, Math.log(2)], 0.5);
    expect(q[1]! / q[0]!).toBeCloseTo(4, 10);
    expect(softmax([1000, 1000])).toEqual([0.5, 0.5]);
    expect(softmax([-1000, 0, 1000]).reduce((s, x) => s + x, 0)).toBeCloseTo(1, 12);
    expect(softmax([])).toEqual([]);
    expect(() => softmax([1], 0)).toThrow(RangeError);
  });
});
