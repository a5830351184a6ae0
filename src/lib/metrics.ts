/**
 * Reconstruction quality on RGB in [0, 1] at model resolution, CHW float arrays.
 * PSNR: data range 1, over all channels and pixels. SSIM: 11×11 Gaussian window (σ = 1.5), computed on each
 * channel over the valid region (no padding, as in Wang et al. 2004), averaged over positions then channels;
 * C1 = 0.01², C2 = 0.03² (data range 1).
 */

export function mse(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new RangeError(`image sizes differ: ${a.length} vs ${b.length}`);
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i]! - b[i]!;
    s += d * d;
  }
  return s / a.length;
}

/** PSNR in dB for data range 1; Infinity for identical images. */
export function psnr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const m = mse(a, b);
  return m === 0 ? Infinity : -10 * Math.log10(m);
}

export function gaussianKernel(size = 11, sigma = 1.5): Float64Array {
  const k = new Float64Array(size);
  const c = (size - 1) / 2;
  let s = 0;
  for (let i = 0; i < size; i++) {
    k[i] = Math.exp(-((i - c) ** 2) / (2 * sigma * sigma));
    s += k[i]!;
  }
  for (let i = 0; i < size; i++) k[i]! /= s;
  return k;
}

/** Separable valid-mode filtering of one h×w plane. Output is (h-K+1)×(w-K+1). */
function filterValid(src: Float64Array, h: number, w: number, k: Float64Array): Float64Array {
  const K = k.length;
  const ow = w - K + 1;
  const oh = h - K + 1;
  const tmp = new Float64Array(h * ow);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < ow; x++) {
      let s = 0;
      for (let t = 0; t < K; t++) s += k[t]! * src[y * w + x + t]!;
      tmp[y * ow + x] = s;
    }
  }
  const out = new Float64Array(oh * ow);
  for (let y = 0; y < oh; y++) {
    for (let x = 0; x < ow; x++) {
      let s = 0;
      for (let t = 0; t < K; t++) s += k[t]! * tmp[(y + t) * ow + x]!;
      out[y * ow + x] = s;
    }
  }
  return out;
}

/** Mean SSIM of one channel (h×w planes). */
export function ssimPlane(a: ArrayLike<number>, b: ArrayLike<number>, h: number, w: number): number {
  const K = 11;
  if (h < K || w < K) throw new RangeError(`SSIM needs at least ${K}×${K} pixels, got ${w}×${h}`);
  const k = gaussianKernel(K, 1.5);
  const n = h * w;
  const x = new Float64Array(n);
  const y = new Float64Array(n);
  const xx = new Float64Array(n);
  const yy = new Float64Array(n);
  const xy = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const p = a[i]!;
    const q = b[i]!;
    x[i] = p;
    y[i] = q;
    xx[i] = p * p;
    yy[i] = q * q;
    xy[i] = p * q;
  }
  const mx = filterValid(x, h, w, k);
  const my = filterValid(y, h, w, k);
  const sxx = filterValid(xx, h, w, k);
  const syy = filterValid(yy, h, w, k);
  const sxy = filterValid(xy, h, w, k);
  const C1 = 0.01 ** 2;
  const C2 = 0.03 ** 2;
  let total = 0;
  for (let i = 0; i < mx.length; i++) {
    const mux = mx[i]!;
    const muy = my[i]!;
    const vx = sxx[i]! - mux * mux;
    const vy = syy[i]! - muy * muy;
    const cxy = sxy[i]! - mux * muy;
    total += ((2 * mux * muy + C1) * (2 * cxy + C2)) / ((mux * mux + muy * muy + C1) * (vx + vy + C2));
  }
  return total / mx.length;
}

/** Mean SSIM over channels of two CHW images with `channels` planes of h×w. */
export function ssim(a: Float32Array, b: Float32Array, h: number, w: number, channels = 3): number {
  if (a.length !== b.length || a.length !== channels * h * w) {
    throw new RangeError(
      `SSIM expects two ${channels}×${h}×${w} images, got ${a.length} and ${b.length} values`,
    );
  }
  const plane = h * w;
  let s = 0;
  for (let c = 0; c < channels; c++) {
    s += ssimPlane(a.subarray(c * plane, (c + 1) * plane), b.subarray(c * plane, (c + 1) * plane), h, w);
  }
  return s / channels;
}

/** Per-pixel error map: mean absolute difference over channels, h×w, values in [0, 1]. */
export function errorMap(a: Float32Array, b: Float32Array, h: number, w: number): Float32Array {
  const plane = h * w;
  const out = new Float32Array(plane);
  for (let i = 0; i < plane; i++) {
    out[i] =
      (Math.abs(a[i]! - b[i]!) +
        Math.abs(a[plane + i]! - b[plane + i]!) +
        Math.abs(a[2 * plane + i]! - b[2 * plane + i]!)) /
      3;
  }
  return out;
}
