/**
 * Decoded-patch previews of codebook entries: what the VQ decoder draws for one code. A decoder's receptive field
 * reaches beyond one token, so a code is decoded as a uniform block×block square of itself and its patch read
 * from the square's centre token: the neighbours it sees are (mostly) itself. Several codes share one decoder run.
 */
import type { GridSize } from './tokenEdit';

export interface PatchRun {
  /** the id grid to decode, [h*w] */
  ids: Int32Array;
  /** which grid cell holds each code's preview */
  places: { code: number; cell: number }[];
}

/** Squares per decoder run: floor(h / block) × floor(w / block). */
export function codesPerRun(grid: GridSize, block = 3): number {
  const b = Math.max(1, Math.min(block, grid.h, grid.w));
  return Math.floor(grid.h / b) * Math.floor(grid.w / b);
}

/**
 * Lays out `codes` in runs of `codesPerRun`: square k of a run is filled with its code; the rows and columns left
 * over at the bottom and right edges join the last square of their row/column, so no cell holds another code.
 */
export function patchRuns(grid: GridSize, codes: readonly number[], block = 3): PatchRun[] {
  const b = Math.max(1, Math.min(block, grid.h, grid.w));
  const bh = Math.floor(grid.h / b);
  const bw = Math.floor(grid.w / b);
  const per = bh * bw;
  const runs: PatchRun[] = [];
  for (let start = 0; start < codes.length; start += per) {
    const chunk = codes.slice(start, start + per);
    const ids = new Int32Array(grid.h * grid.w);
    for (let r = 0; r < grid.h; r++) {
      for (let c = 0; c < grid.w; c++) {
        const k = Math.min(Math.floor(r / b), bh - 1) * bw + Math.min(Math.floor(c / b), bw - 1);
        // squares past the end of a short last run repeat its first code (their pixels are not read)
        ids[r * grid.w + c] = chunk[k] ?? chunk[0]!;
      }
    }
    const half = Math.floor(b / 2);
    const places = chunk.map((code, k) => ({
      code,
      cell: (Math.floor(k / bw) * b + half) * grid.w + (k % bw) * b + half,
    }));
    runs.push({ ids, places });
  }
  return runs;
}

/** Pixel box of a token cell in an S×S picture (cells tile the picture; boundaries rounded down). */
export function cellBox(
  S: number,
  grid: GridSize,
  cell: number,
): { x: number; y: number; width: number; height: number } {
  const r = Math.floor(cell / grid.w);
  const c = cell % grid.w;
  const y0 = Math.floor((r * S) / grid.h);
  const y1 = Math.floor(((r + 1) * S) / grid.h);
  const x0 = Math.floor((c * S) / grid.w);
  const x1 = Math.floor(((c + 1) * S) / grid.w);
  return { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
}

/** RGBA8 crop of a CHW [0,1] picture (S×S), values rounded and clamped as chwToRgba does. */
export function cropRgba(
  chw: Float32Array,
  S: number,
  box: { x: number; y: number; width: number; height: number },
): Uint8ClampedArray {
  if (chw.length !== 3 * S * S) throw new RangeError(`expected 3×${S}×${S} values, got ${chw.length}`);
  const plane = S * S;
  const out = new Uint8ClampedArray(box.width * box.height * 4);
  for (let y = 0; y < box.height; y++) {
    for (let x = 0; x < box.width; x++) {
      const i = (box.y + y) * S + box.x + x;
      const o = (y * box.width + x) * 4;
      out[o] = Math.round(chw[i]! * 255);
      out[o + 1] = Math.round(chw[plane + i]! * 255);
      out[o + 2] = Math.round(chw[2 * plane + i]! * 255);
      out[o + 3] = 255;
    }
  }
  return out;
}
