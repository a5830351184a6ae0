/**
 * The token lab's pure core: which cells are selected, what an edit does to an h×w id grid, and the undo/redo
 * history of id snapshots. Everything returns new values (zustand state is replaced, never mutated), so an
 * undo snapshot can never be changed behind the history's back.
 */
import { codeUsage } from './tokens';

export interface GridSize {
  h: number;
  w: number;
}

// ---- selection --------------------------------------------------------------------------------

/**
 * A selection on the grid, following the ARIA multi-select grid pattern: the cursor (focused cell) moves
 * independently of the selection; Space toggles the cursor's cell; Shift extends a rectangle from the anchor.
 * `base` is what was selected before the current Shift/drag extension began, so extending a rectangle back and
 * forth never loses cells that were chosen earlier.
 */
export interface Selection {
  /** selected cell indices (row * w + col), ascending, no duplicates */
  cells: readonly number[];
  /** corner the current rectangle extends from */
  anchor: number;
  /** the focused cell */
  cursor: number;
  /** selection the current extension is added to */
  base: readonly number[];
}

export function emptySelection(cursor = 0): Selection {
  return { cells: [], anchor: cursor, cursor, base: [] };
}

function checkIndex(grid: GridSize, i: number): void {
  if (!Number.isInteger(i) || i < 0 || i >= grid.h * grid.w)
    throw new RangeError(`cell ${i} is outside the ${grid.h}×${grid.w} grid`);
}

/** Sorted union without duplicates. */
function union(a: readonly number[], b: readonly number[]): number[] {
  return [...new Set([...a, ...b])].sort((x, y) => x - y);
}

/** Cells of the rectangle spanned by two corner cells (either order), row-major. */
export function rectangleCells(grid: GridSize, a: number, b: number): number[] {
  checkIndex(grid, a);
  checkIndex(grid, b);
  const r0 = Math.min(Math.floor(a / grid.w), Math.floor(b / grid.w));
  const r1 = Math.max(Math.floor(a / grid.w), Math.floor(b / grid.w));
  const c0 = Math.min(a % grid.w, b % grid.w);
  const c1 = Math.max(a % grid.w, b % grid.w);
  const out: number[] = [];
  for (let r = r0; r <= r1; r++) for (let c = c0; c <= c1; c++) out.push(r * grid.w + c);
  return out;
}

export interface ClickModifiers {
  /** Shift: rectangle from the anchor to this cell, added to what was selected before the extension */
  shift?: boolean;
  /** Ctrl/Cmd: toggle this one cell, keep the rest */
  toggle?: boolean;
}

/** A click on a cell (also the start of a drag): plain selects only it; see ClickModifiers. */
export function clickCell(sel: Selection, grid: GridSize, i: number, mods: ClickModifiers = {}): Selection {
  checkIndex(grid, i);
  if (mods.shift) return { ...sel, cursor: i, cells: union(sel.base, rectangleCells(grid, sel.anchor, i)) };
  if (mods.toggle) return toggleCell({ ...sel, cursor: i }, grid);
  return { cells: [i], anchor: i, cursor: i, base: [] };
}

/**
 * Starts a rectangle drag at `i`: like a plain click, or, with `additive` (Ctrl/Cmd held), keeping the current
 * selection as the base the rectangle is added to.
 */
export function startDrag(sel: Selection, grid: GridSize, i: number, additive = false): Selection {
  checkIndex(grid, i);
  const base = additive ? sel.cells : [];
  return { cells: union(base, [i]), anchor: i, cursor: i, base };
}

/** The pointer is over `i` during a drag: the rectangle now spans anchor..i. */
export function dragTo(sel: Selection, grid: GridSize, i: number): Selection {
  checkIndex(grid, i);
  return { ...sel, cursor: i, cells: union(sel.base, rectangleCells(grid, sel.anchor, i)) };
}

/** Space: toggles the cursor's cell; the next extension starts there and keeps everything else. */
export function toggleCell(sel: Selection, grid: GridSize): Selection {
  checkIndex(grid, sel.cursor);
  const has = sel.cells.includes(sel.cursor);
  const cells = has ? sel.cells.filter((c) => c !== sel.cursor) : union(sel.cells, [sel.cursor]);
  return { cells, anchor: sel.cursor, cursor: sel.cursor, base: cells };
}

/**
 * Arrow keys: move the cursor by (dRow, dCol), clamped to the grid. Without `extend` the selection stays and the
 * next extension starts from the new cell; with `extend` (Shift) the rectangle anchor..cursor is added to the base.
 */
export function moveCursor(
  sel: Selection,
  grid: GridSize,
  dRow: number,
  dCol: number,
  extend = false,
): Selection {
  const r = Math.max(0, Math.min(grid.h - 1, Math.floor(sel.cursor / grid.w) + dRow));
  const c = Math.max(0, Math.min(grid.w - 1, (sel.cursor % grid.w) + dCol));
  const cursor = r * grid.w + c;
  if (extend) return { ...sel, cursor, cells: union(sel.base, rectangleCells(grid, sel.anchor, cursor)) };
  return { ...sel, cursor, anchor: cursor, base: sel.cells };
}

export function selectAll(sel: Selection, grid: GridSize): Selection {
  const cells = Array.from({ length: grid.h * grid.w }, (_, i) => i);
  return { ...sel, cells, anchor: sel.cursor, base: cells };
}

export function clearSelection(sel: Selection): Selection {
  return emptySelection(sel.cursor);
}

/** Bounding box of the selection (null when empty), for saying where the edit is. */
export function selectionBounds(
  cells: readonly number[],
  grid: GridSize,
): { row: number; col: number; h: number; w: number } | null {
  if (!cells.length) return null;
  let r0 = Infinity;
  let r1 = -Infinity;
  let c0 = Infinity;
  let c1 = -Infinity;
  for (const i of cells) {
    const r = Math.floor(i / grid.w);
    const c = i % grid.w;
    r0 = Math.min(r0, r);
    r1 = Math.max(r1, r);
    c0 = Math.min(c0, c);
    c1 = Math.max(c1, c);
  }
  return { row: r0, col: c0, h: r1 - r0 + 1, w: c1 - c0 + 1 };
}

// ---- edits --------------------------------------------------------------------------------------

function checkGrid(ids: Int32Array, grid: GridSize): void {
  if (ids.length !== grid.h * grid.w)
    throw new RangeError(`expected ${grid.h}×${grid.w} ids, got ${ids.length}`);
}

/** Sets every selected cell to `code`. */
export function setCells(
  ids: Int32Array,
  grid: GridSize,
  cells: readonly number[],
  code: number,
  codebookSize: number,
): Int32Array {
  checkGrid(ids, grid);
  // The graphs would reject the id anyway; failing here names the cause instead of a worker error.
  if (!Number.isInteger(code) || code < 0 || code >= codebookSize)
    throw new RangeError(`code ${code} is outside the codebook (0…${codebookSize - 1})`);
  const out = ids.slice();
  for (const i of cells) {
    checkIndex(grid, i);
    out[i] = code;
  }
  return out;
}

/**
 * Copies tokens from another image's grid into the selected cells: target (r, c) takes source
 * (r + offset.row, c + offset.col). Cells whose source falls outside the source grid keep their id (clipped), so
 * grids of different sizes and offsets past the edge are fine.
 */
export function copyCells(
  ids: Int32Array,
  grid: GridSize,
  source: Int32Array,
  sourceGrid: GridSize,
  cells: readonly number[],
  offset: { row: number; col: number } = { row: 0, col: 0 },
): Int32Array {
  checkGrid(ids, grid);
  checkGrid(source, sourceGrid);
  const out = ids.slice();
  for (const i of cells) {
    checkIndex(grid, i);
    const sr = Math.floor(i / grid.w) + offset.row;
    const sc = (i % grid.w) + offset.col;
    if (sr < 0 || sc < 0 || sr >= sourceGrid.h || sc >= sourceGrid.w) continue;
    out[i] = source[sr * sourceGrid.w + sc]!;
  }
  return out;
}

/**
 * The code used most outside the selection (ties: lower id), i.e. what "surrounds" the selected cells; the whole
 * grid when everything is selected. Outside rather than whole-grid so that filling a large object does not fill
 * it with its own code.
 */
export function mostCommonCode(ids: Int32Array, cells: readonly number[]): number {
  const selected = new Set(cells);
  const outside: number[] = [];
  for (let i = 0; i < ids.length; i++) if (!selected.has(i)) outside.push(ids[i]!);
  const usage = codeUsage(outside.length ? outside : ids);
  if (!usage.length) throw new RangeError('an empty grid has no most common code');
  return usage[0]!.id;
}

export function fillMostCommon(ids: Int32Array, grid: GridSize, cells: readonly number[]): Int32Array {
  checkGrid(ids, grid);
  const code = mostCommonCode(ids, cells);
  const out = ids.slice();
  for (const i of cells) {
    checkIndex(grid, i);
    out[i] = code;
  }
  return out;
}

/** mulberry32: a small seeded PRNG, so that a shuffle is reproducible from its seed (tests, and re-runs). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Permutes the ids among the selected cells (Fisher–Yates with mulberry32(seed)); other cells are unchanged. */
export function shuffleCells(
  ids: Int32Array,
  grid: GridSize,
  cells: readonly number[],
  seed: number,
): Int32Array {
  checkGrid(ids, grid);
  for (const i of cells) checkIndex(grid, i);
  const positions = [...new Set(cells)].sort((a, b) => a - b);
  const values = positions.map((i) => ids[i]!);
  const rand = mulberry32(seed);
  for (let k = values.length - 1; k > 0; k--) {
    const j = Math.floor(rand() * (k + 1));
    [values[k], values[j]] = [values[j]!, values[k]!];
  }
  const out = ids.slice();
  positions.forEach((i, k) => (out[i] = values[k]!));
  return out;
}

export function sameIds(a: Int32Array, b: Int32Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

// ---- history ------------------------------------------------------------------------------------

/** Undo/redo over id snapshots. Snapshots are never mutated (every edit above returns a new array). */
export interface History {
  past: readonly Int32Array[];
  present: Int32Array;
  future: readonly Int32Array[];
  /** most undo steps kept; the oldest are dropped beyond it (memory: h·w·4 bytes per step) */
  limit: number;
}

export const DEFAULT_HISTORY_LIMIT = 100;

export function newHistory(ids: Int32Array, limit = DEFAULT_HISTORY_LIMIT): History {
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`history limit must be ≥ 1, got ${limit}`);
  return { past: [], present: ids.slice(), future: [], limit };
}

/** Records an edit; an edit that changes nothing is not a step (so undo never appears to do nothing). */
export function pushHistory(h: History, next: Int32Array): History {
  if (sameIds(h.present, next)) return h;
  const past = [...h.past, h.present];
  return { ...h, past: past.slice(Math.max(0, past.length - h.limit)), present: next, future: [] };
}

export function canUndo(h: History): boolean {
  return h.past.length > 0;
}

export function canRedo(h: History): boolean {
  return h.future.length > 0;
}

export function undo(h: History): History {
  if (!canUndo(h)) return h;
  return {
    ...h,
    past: h.past.slice(0, -1),
    present: h.past[h.past.length - 1]!,
    future: [h.present, ...h.future],
  };
}

export function redo(h: History): History {
  if (!canRedo(h)) return h;
  return { ...h, past: [...h.past, h.present], present: h.future[0]!, future: h.future.slice(1) };
}

// ---- codebook picker -------------------------------------------------------------------------------

export interface CodeEntry {
  id: number;
  /** uses in this image's current ids */
  here: number;
  /** uses over every loaded image's ids */
  all: number;
}

/**
 * Every code of the codebook, most used first: by uses in this image, then over all loaded images, then by id.
 * Unused codes are kept (at the end) so that any code can be picked.
 */
export function codesByUsage(
  codebookSize: number,
  here: ArrayLike<number>,
  all: readonly ArrayLike<number>[],
): CodeEntry[] {
  const hereCount = new Uint32Array(codebookSize);
  const allCount = new Uint32Array(codebookSize);
  for (let i = 0; i < here.length; i++) {
    const v = here[i]!;
    if (v >= 0 && v < codebookSize) hereCount[v]!++;
  }
  for (const ids of all) {
    for (let i = 0; i < ids.length; i++) {
      const v = ids[i]!;
      if (v >= 0 && v < codebookSize) allCount[v]!++;
    }
  }
  return Array.from({ length: codebookSize }, (_, id) => ({
    id,
    here: hereCount[id]!,
    all: allCount[id]!,
  })).sort((a, b) => b.here - a.here || b.all - a.all || a.id - b.id);
}

/**
 * Codes whose id contains the query's digits, the exact id first, in the given order otherwise. A query without
 * digits filters nothing (the picker shows the usage order).
 */
export function searchCodes(entries: readonly CodeEntry[], query: string): CodeEntry[] {
  const q = query.replace(/\D/g, '');
  if (!q) return [...entries];
  const exact = entries.filter((e) => String(e.id) === String(Number(q)));
  const rest = entries.filter((e) => String(e.id).includes(q) && !exact.includes(e));
  return [...exact, ...rest];
}
