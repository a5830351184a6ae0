/**
 * Token order: the ids as an autoregressive model reads them (raster order, row by row) and prefixes of that
 * order. A prefix of k tokens is decoded with every later position set to one fill code, so the picture and the
 * TokLIP score show how much of the image the first k tokens already carry (TokLIP's encoder is causal, so a
 * prefix is a meaningful input of its own). Also the small line chart's maths (sampling k, scaling to pixels).
 */
import { codeUsage } from './tokens';

/** The first `k` ids in raster order, the remaining positions set to `fill`. */
export function prefixFill(ids: ArrayLike<number>, k: number, fill: number): Int32Array {
  if (!Number.isInteger(k) || k < 0 || k > ids.length)
    throw new RangeError(`prefix length ${k} is outside 0…${ids.length}`);
  if (!Number.isInteger(fill) || fill < 0) throw new RangeError(`fill code ${fill} is not a code`);
  const out = new Int32Array(ids.length);
  for (let i = 0; i < ids.length; i++) out[i] = i < k ? ids[i]! : fill;
  return out;
}

/** The most common code of the grid (ties: lower id): the default fill, so that a fill looks like "background". */
export function defaultFillCode(ids: ArrayLike<number>): number {
  const top = codeUsage(ids)[0];
  if (!top) throw new RangeError('an empty grid has no most common code');
  return top.id;
}

/**
 * At most `count` prefix lengths spread evenly over 0…n, always including 0 and n, ascending, no duplicates
 * (all of 0…n when there are fewer). Each one is a decoder + encoders run, so the chart costs `count` runs.
 */
export function sampleKs(n: number, count = 17): number[] {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`n must be a non-negative integer, got ${n}`);
  if (!Number.isInteger(count) || count < 2) throw new RangeError(`count must be ≥ 2, got ${count}`);
  if (n + 1 <= count) return Array.from({ length: n + 1 }, (_, i) => i);
  const ks = Array.from({ length: count }, (_, i) => Math.round((i * n) / (count - 1)));
  return [...new Set(ks)];
}

/** Row and column (0-based) of raster position `i` in a grid `w` wide. */
export function rasterCell(i: number, w: number): { row: number; col: number } {
  return { row: Math.floor(i / w), col: i % w };
}

// ---- chart -----------------------------------------------------------------------------------------

/** Maps [d0, d1] linearly onto [r0, r1]; a zero-width domain maps everything to the middle of the range. */
export function linearScale(domain: readonly [number, number], range: readonly [number, number]) {
  const [d0, d1] = domain;
  const [r0, r1] = range;
  if (d1 === d0) return () => (r0 + r1) / 2;
  return (x: number) => r0 + ((x - d0) / (d1 - d0)) * (r1 - r0);
}

/**
 * A y extent that holds every finite value with a little room, rounded outwards to `step` so that the axis labels
 * read as round numbers; a flat series still gets a visible band. null when there is no finite value.
 */
export function valueExtent(values: readonly number[], step = 0.05): [number, number] | null {
  const v = values.filter(Number.isFinite);
  if (!v.length) return null;
  let lo = Math.min(...v);
  let hi = Math.max(...v);
  if (hi - lo < step) {
    const mid = (hi + lo) / 2;
    lo = mid - step / 2;
    hi = mid + step / 2;
  }
  // a tiny epsilon so that a value sitting exactly on a step does not get a whole extra step of room
  return [Math.floor(lo / step + 1e-9) * step, Math.ceil(hi / step - 1e-9) * step];
}

/** SVG polyline points "x,y x,y …" of a series; points whose y is not finite are left out. */
export function polylinePoints(
  xs: readonly number[],
  ys: readonly (number | null)[],
  x: (v: number) => number,
  y: (v: number) => number,
): string {
  if (xs.length !== ys.length) throw new RangeError(`${xs.length} x values but ${ys.length} y values`);
  const pts: string[] = [];
  xs.forEach((xv, i) => {
    const yv = ys[i];
    if (yv === null || yv === undefined || !Number.isFinite(yv)) return;
    pts.push(`${x(xv).toFixed(1)},${y(yv).toFixed(1)}`);
  });
  return pts.join(' ');
}

/**
 * Round axis ticks over an extent: multiples of the smallest step of 1, 2, 2.5 or 5 × 10^n that gives at most
 * `max` ticks, so labels read as 0.25, 0.50, … rather than the extent's own odd midpoint.
 */
export function niceTicks(lo: number, hi: number, max = 6): number[] {
  if (!Number.isFinite(lo) || !Number.isFinite(hi) || hi < lo) return [];
  if (hi === lo) return [lo];
  if (max < 2) throw new RangeError(`max must be ≥ 2, got ${max}`);
  const raw = (hi - lo) / (max - 1);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((f) => f * mag).find((s) => s >= raw * (1 - 1e-9))!;
  const first = Math.ceil(lo / step - 1e-9);
  const last = Math.floor(hi / step + 1e-9);
  // rounded to the step's decimals, so 3 × 0.1 prints as 0.3
  const digits = Math.max(0, -Math.floor(Math.log10(step)) + 1);
  return Array.from({ length: last - first + 1 }, (_, i) => Number(((first + i) * step).toFixed(digits)));
}
