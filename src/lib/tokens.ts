/** Helpers for the h×w token id grid. */

/** Row-major ids → nested rows (the JSON export format: ids[row][col]). */
export function idsToRows(ids: ArrayLike<number>, h: number, w: number): number[][] {
  if (ids.length !== h * w) throw new RangeError(`expected ${h}×${w} ids, got ${ids.length}`);
  return Array.from({ length: h }, (_, r) => Array.from({ length: w }, (_, c) => ids[r * w + c]!));
}

export interface CodeCount {
  id: number;
  count: number;
}

/** Code usage of one image, most used first (ties: lower id first). */
export function codeUsage(ids: ArrayLike<number>): CodeCount[] {
  const counts = new Map<number, number>();
  for (let i = 0; i < ids.length; i++) counts.set(ids[i]!, (counts.get(ids[i]!) ?? 0) + 1);
  return [...counts.entries()]
    .map(([id, count]) => ({ id, count }))
    .sort((a, b) => b.count - a.count || a.id - b.id);
}

/** Checks that every id is an integer in [0, codebookSize). Returns the first bad index, or -1. */
export function firstInvalidId(ids: ArrayLike<number>, codebookSize: number): number {
  for (let i = 0; i < ids.length; i++) {
    const v = ids[i]!;
    if (!Number.isInteger(v) || v < 0 || v >= codebookSize) return i;
  }
  return -1;
}
