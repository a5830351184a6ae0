/**
 * Pillow's resampling, bit for bit (Pillow 10–13, `libImaging/Resample.c`, `Geometry.c`, `Convert.c`), for the
 * `official_toklip` preprocessing mode: TokLIP's own pipeline resizes with torchvision on PIL images, i.e. with
 * Pillow, and a float resize differs from it by up to a few levels per pixel — enough to flip many VQ ids.
 *
 * What must match exactly, and why it is written the way it is:
 * - Filter weights are computed in float64 with the same expressions in the same order as Pillow's C (JS numbers
 *   are IEEE doubles, so the same operations give the same bits), then turned into 22-bit fixed point the way
 *   Pillow rounds them (half away from zero, then truncation).
 * - Each pass accumulates integers from 2^21 (the rounding half) and shifts right by 22, clipping to 0..255: the
 *   intermediate image between the horizontal and the vertical pass is 8-bit, as in Pillow.
 * - The order of the two passes matters (the 8-bit intermediate rounds differently) and depends on Pillow's
 *   version: Pillow 13 runs the vertical pass first when the height shrinks by more than twice as many pixels as
 *   the width (`(h - oh) > 0 && (h - oh) > 2 (w - ow)`), horizontal first otherwise; Pillow ≤ 12.1 always ran the
 *   horizontal pass first. `PassOrder` names the rule. A pass is skipped when its axis keeps its size.
 * - RGBA is resized premultiplied (Pillow converts RGBA → RGBa → resize → RGBA), with Pillow's integer
 *   premultiply (rounded) and unpremultiply (truncated).
 * - NEAREST (Pillow's choice for "P" and "1" images, whatever filter is asked for) walks the source with an
 *   accumulated float64 position as `ImagingScaleAffine` does.
 * Pure: runs in Node (tests) and in the worker.
 */

/** Interleaved 8-bit pixels with `channels` samples per pixel (1–4). */
export interface Interleaved {
  data: Uint8Array | Uint8ClampedArray;
  width: number;
  height: number;
  channels: number;
}

const PRECISION_BITS = 32 - 8 - 2;
const HALF = 1 << (PRECISION_BITS - 1);
const ONE = 1 << PRECISION_BITS;

/** Pillow's bicubic kernel (a = −0.5), written as Resample.c writes it so the doubles round the same way. */
export function bicubicFilter(x: number): number {
  const a = -0.5;
  if (x < 0.0) x = -x;
  if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
  if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
  return 0.0;
}

export interface Coefficients {
  /** taps per output sample (Pillow's `ksize`) */
  ksize: number;
  /** first input index per output sample */
  xmin: Int32Array;
  /** number of input samples per output sample */
  count: Int32Array;
  /** fixed-point weights, `ksize` per output sample */
  k: Int32Array;
}

/**
 * Pillow's `precompute_coeffs` + `normalize_coeffs_8bpc` for a full-range box (0..inSize), bicubic filter.
 */
export function bicubicCoefficients(inSize: number, outSize: number): Coefficients {
  const scale = inSize / outSize;
  const filterscale = scale < 1.0 ? 1.0 : scale;
  const support = 2.0 * filterscale;
  const ksize = Math.ceil(support) * 2 + 1;
  const xmin = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const k = new Int32Array(outSize * ksize);
  const pre = new Float64Array(ksize);
  const ss = 1.0 / filterscale;
  for (let xx = 0; xx < outSize; xx++) {
    const center = 0 + (xx + 0.5) * scale;
    // C's (int) cast truncates toward zero; a negative start is then clamped to 0 anyway.
    let lo = Math.trunc(center - support + 0.5);
    if (lo < 0) lo = 0;
    let hi = Math.trunc(center + support + 0.5);
    if (hi > inSize) hi = inSize;
    const n = hi - lo;
    let ww = 0.0;
    for (let x = 0; x < n; x++) {
      const w = bicubicFilter((x + lo - center + 0.5) * ss);
      pre[x] = w;
      ww += w;
    }
    for (let x = 0; x < n; x++) {
      const w = ww !== 0.0 ? pre[x]! / ww : pre[x]!;
      k[xx * ksize + x] = w < 0 ? Math.trunc(-0.5 + w * ONE) : Math.trunc(0.5 + w * ONE);
    }
    xmin[xx] = lo;
    count[xx] = n;
  }
  return { ksize, xmin, count, k };
}

/** `clip8(ss)`: the accumulator shifted down to 8 bits, clamped. `>>` is C's arithmetic shift on int32. */
function clip8(ss: number): number {
  const v = ss >> PRECISION_BITS;
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

/**
 * Horizontal 8bpc pass over rows [y0, y1) of `src`. Channel loops are unrolled into locals: a 12 MP photo runs
 * ~150 M multiply-adds here, and an inner per-channel loop over a typed array is several times slower.
 */
function horizontal(src: Interleaved, outW: number, y0: number, y1: number): Interleaved {
  const { data, width, channels: C } = src;
  const co = bicubicCoefficients(width, outW);
  const { k, xmin, count, ksize } = co;
  const rows = y1 - y0;
  const out = new Uint8Array(outW * rows * C);
  for (let yy = 0; yy < rows; yy++) {
    const rowBase = (yy + y0) * width * C;
    for (let xx = 0; xx < outW; xx++) {
      const n = count[xx]!;
      const kb = xx * ksize;
      let p = rowBase + xmin[xx]! * C;
      let s0 = HALF;
      let s1 = HALF;
      let s2 = HALF;
      let s3 = HALF;
      for (let x = 0; x < n; x++, p += C) {
        const w = k[kb + x]!;
        s0 += data[p]! * w;
        if (C > 1) s1 += data[p + 1]! * w;
        if (C > 2) s2 += data[p + 2]! * w;
        if (C > 3) s3 += data[p + 3]! * w;
      }
      const o = (yy * outW + xx) * C;
      out[o] = clip8(s0);
      if (C > 1) out[o + 1] = clip8(s1);
      if (C > 2) out[o + 2] = clip8(s2);
      if (C > 3) out[o + 3] = clip8(s3);
    }
  }
  return { data: out, width: outW, height: rows, channels: C };
}

/** Vertical 8bpc pass; `co` indexes rows of `src` shifted by `offset`. */
function vertical(src: Interleaved, co: Coefficients, outH: number, offset: number): Interleaved {
  const { data, width, channels: C } = src;
  const { k, xmin, count, ksize } = co;
  const out = new Uint8Array(width * outH * C);
  const stride = width * C;
  for (let yy = 0; yy < outH; yy++) {
    const base = (xmin[yy]! - offset) * stride;
    const n = count[yy]!;
    const kb = yy * ksize;
    for (let xx = 0; xx < width; xx++) {
      let p = base + xx * C;
      let s0 = HALF;
      let s1 = HALF;
      let s2 = HALF;
      let s3 = HALF;
      for (let y = 0; y < n; y++, p += stride) {
        const w = k[kb + y]!;
        s0 += data[p]! * w;
        if (C > 1) s1 += data[p + 1]! * w;
        if (C > 2) s2 += data[p + 2]! * w;
        if (C > 3) s3 += data[p + 3]! * w;
      }
      const o = (yy * width + xx) * C;
      out[o] = clip8(s0);
      if (C > 1) out[o + 1] = clip8(s1);
      if (C > 2) out[o + 2] = clip8(s2);
      if (C > 3) out[o + 3] = clip8(s3);
    }
  }
  return { data: out, width, height: outH, channels: C };
}

/** Which pass Pillow runs first: `pillow13` (Pillow ≥ 13.0) or `horizontal_first` (Pillow ≤ 12.1). */
export type PassOrder = 'pillow13' | 'horizontal_first';
export const PASS_ORDERS: readonly PassOrder[] = ['pillow13', 'horizontal_first'];

/** Pillow 13's `ImagingResampleInner` rule for running the vertical pass first. */
export function verticalFirst(w: number, h: number, outW: number, outH: number, order: PassOrder): boolean {
  return order === 'pillow13' && h - outH > 0 && h - outH > (w - outW) * 2;
}

/** `Image.resize((outW, outH), BICUBIC)` on an 8-bit image without alpha semantics (all channels alike). */
export function resizeBicubic(
  src: Interleaved,
  outW: number,
  outH: number,
  order: PassOrder = 'pillow13',
): Interleaved {
  if (outW === src.width && outH === src.height) {
    return { ...src, data: new Uint8Array(src.data) };
  }
  const needH = outW !== src.width;
  const needV = outH !== src.height;
  const coV = bicubicCoefficients(src.height, outH);
  if (verticalFirst(src.width, src.height, outW, outH, order)) {
    let im = src;
    if (needV) im = vertical(im, coV, outH, 0);
    if (needH) im = horizontal(im, outW, 0, outH);
    return im;
  }
  // Only the source rows the vertical pass reads go through the horizontal pass (ImagingResampleInner).
  const first = coV.xmin[0]!;
  const last = coV.xmin[outH - 1]! + coV.count[outH - 1]!;
  let im = src;
  let offset = 0;
  if (needH) {
    im = horizontal(src, outW, first, last);
    offset = first;
  }
  if (needV) im = vertical(im, coV, outH, offset);
  return im;
}

/** Pillow's MULDIV255: round(a * b / 255) in integers. */
function mulDiv255(a: number, b: number): number {
  const t = a * b + 128;
  return ((t >> 8) + t) >> 8;
}

/** RGBA → RGBa (premultiplied), Pillow's `rgbA2rgba`. */
export function premultiply(rgba: Interleaved): Interleaved {
  const { data } = rgba;
  const out = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i += 4) {
    const a = data[i + 3]!;
    out[i] = mulDiv255(data[i]!, a);
    out[i + 1] = mulDiv255(data[i + 1]!, a);
    out[i + 2] = mulDiv255(data[i + 2]!, a);
    out[i + 3] = a;
  }
  return { ...rgba, data: out };
}

/** RGBa → RGBA, Pillow's `rgba2rgbA`: integer division (truncation), alpha 0 and 255 copied as they are. */
export function unpremultiply(rgba: Interleaved): Interleaved {
  const { data } = rgba;
  const out = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i += 4) {
    const a = data[i + 3]!;
    for (let c = 0; c < 3; c++) {
      const v = data[i + c]!;
      out[i + c] = a === 255 || a === 0 ? v : Math.min(255, Math.floor((255 * v) / a));
    }
    out[i + 3] = a;
  }
  return { ...rgba, data: out };
}

/** Source index per output index of Pillow's NEAREST resize (`ImagingScaleAffine`: accumulated float64). */
export function nearestIndices(inSize: number, outSize: number): Int32Array {
  const a = inSize / outSize;
  const idx = new Int32Array(outSize);
  let pos = 0 + a * 0.5;
  for (let i = 0; i < outSize; i++) {
    const v = pos < 0.0 ? -1 : Math.trunc(pos);
    // Out of range never happens for a full-image box; Pillow would leave such a pixel 0 (fill), and so do we.
    idx[i] = v < inSize ? v : -1;
    pos += a;
  }
  return idx;
}

/** `Image.resize(size, NEAREST)`. */
export function resizeNearest(src: Interleaved, outW: number, outH: number): Interleaved {
  const { data, width, channels: C } = src;
  const xs = nearestIndices(width, outW);
  const ys = nearestIndices(src.height, outH);
  const out = new Uint8Array(outW * outH * C);
  for (let y = 0; y < outH; y++) {
    if (ys[y]! < 0) continue;
    const row = ys[y]! * width;
    for (let x = 0; x < outW; x++) {
      if (xs[x]! < 0) continue;
      const s = (row + xs[x]!) * C;
      const o = (y * outW + x) * C;
      for (let c = 0; c < C; c++) out[o + c] = data[s + c]!;
    }
  }
  return { data: out, width: outW, height: outH, channels: C };
}
