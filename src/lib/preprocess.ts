/**
 * Image preprocessing, exactly as docs/CONTRACT.md ("Preprocessing"): `official_toklip`, TokLIP's own inference
 * transform (torchvision on a PIL image): shortest side to S with Pillow's bicubic (bit-exact,
 * src/lib/pillowResample.ts), centre crop with torchvision's rounding, alpha dropped as `convert('RGB')` does,
 * ToTensor + Normalize in float32. Gives a CHW Float32Array. Pure: runs in Node (tests) and in the browser/worker.
 */
import {
  type Interleaved,
  type PassOrder,
  premultiply,
  resizeBicubic,
  resizeNearest,
  unpremultiply,
} from './pillowResample';
import type { PilMode } from './pngPixels';

/** The only mode this app reads (a manifest naming another is refused by validateManifest). */
export type PreprocessingMode = 'official_toklip';

export interface PreprocessSpec {
  size: number;
  mean: readonly [number, number, number] | readonly number[];
  std: readonly [number, number, number] | readonly number[];
  /** the Pillow version's pass order (src/lib/pillowResample.ts); absent: `pillow13` */
  resize_pass_order?: PassOrder;
}

export interface RgbaImage {
  data: Uint8ClampedArray | Uint8Array;
  width: number;
  height: number;
  /**
   * The mode Pillow would open the file in (decides the resampling path); absent: "RGBA" when any pixel is
   * transparent, else "RGB".
   */
  mode?: PilMode;
}

/** The full contract pipeline: RGBA8 in, normalised CHW float32 [3, S, S] out. */
export function preprocess(img: RgbaImage, spec: PreprocessSpec): Float32Array {
  const rgb = officialToklipRgb(img, spec.size, spec.resize_pass_order ?? 'pillow13');
  return toTensorNormalise(rgb, spec.size, spec.mean, spec.std);
}

// ---- official_toklip ------------------------------------------------------------------------

/** torchvision `Resize(S)` with an int size: the shorter side becomes S, the longer `int(S * long / short)`. */
export function shortestSideSize(
  width: number,
  height: number,
  S: number,
): { width: number; height: number } {
  if (width <= height) return { width: S, height: Math.trunc((S * height) / width) };
  return { width: Math.trunc((S * width) / height), height: S };
}

/** Python's `round()` (half to even), which torchvision's `center_crop` uses for its offsets. */
export function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d < 0.5) return f;
  if (d > 0.5) return f + 1;
  return f % 2 === 0 ? f : f + 1;
}

/** torchvision `CenterCrop(S)` offsets on a W×H image at least S on each side. */
export function officialCropOffsets(width: number, height: number, S: number): { left: number; top: number } {
  return { left: roundHalfEven((width - S) / 2.0), top: roundHalfEven((height - S) / 2.0) };
}

function hasAlpha(img: RgbaImage): boolean {
  const { data } = img;
  for (let i = 3; i < data.length; i += 4) if (data[i]! !== 255) return true;
  return false;
}

function channels(img: RgbaImage, keep: 3 | 4): Interleaved {
  const { data, width, height } = img;
  if (keep === 4) return { data, width, height, channels: 4 };
  const out = new Uint8Array(width * height * 3);
  for (let i = 0, o = 0; i < data.length; i += 4, o += 3) {
    out[o] = data[i]!;
    out[o + 1] = data[i + 1]!;
    out[o + 2] = data[i + 2]!;
  }
  return { data: out, width, height, channels: 3 };
}

/**
 * `official_toklip` up to ToTensor: the S×S RGB uint8 picture (HWC) that TokLIP's transform hands to ToTensor —
 * Resize(S, bicubic) of the shortest side on the image in its own mode, CenterCrop(S), convert('RGB').
 */
export function officialToklipRgb(img: RgbaImage, S: number, order: PassOrder = 'pillow13'): Uint8Array {
  const { width, height } = img;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`image size must be positive integers, got ${width}×${height}`);
  }
  if (img.data.length !== width * height * 4) {
    throw new RangeError(
      `RGBA buffer has ${img.data.length} bytes, expected ${width * height * 4} for ${width}×${height}`,
    );
  }
  const mode: PilMode = img.mode ?? (hasAlpha(img) ? 'RGBA' : 'RGB');
  const size = shortestSideSize(width, height, S);
  let im: Interleaved;
  if (size.width === width && size.height === height) {
    // Pillow's resize returns a copy at the same size: no premultiplied round trip, which would blacken the
    // colour under transparent pixels and shift partly transparent ones.
    im = channels(img, 3);
  } else if (mode === 'P' || mode === '1') {
    // Pillow resizes palette and bilevel images with NEAREST whatever filter is asked for.
    im = resizeNearest(channels(img, 3), size.width, size.height);
  } else if (mode === 'RGBA' || mode === 'LA') {
    im = unpremultiply(resizeBicubic(premultiply(channels(img, 4)), size.width, size.height, order));
  } else {
    im = resizeBicubic(channels(img, 3), size.width, size.height, order);
  }
  const { left, top } = officialCropOffsets(im.width, im.height, S);
  const C = im.channels;
  const out = new Uint8Array(S * S * 3);
  for (let y = 0; y < S; y++) {
    for (let x = 0; x < S; x++) {
      const s = ((top + y) * im.width + left + x) * C;
      const o = (y * S + x) * 3;
      out[o] = im.data[s]!;
      out[o + 1] = im.data[s + 1]!;
      out[o + 2] = im.data[s + 2]!;
    }
  }
  return out;
}

/**
 * ToTensor + Normalize as torchvision computes them, in float32: `x = fround(v / 255)`, then
 * `fround(fround(x - mean) / std)` per channel, HWC uint8 in, CHW out.
 */
export function toTensorNormalise(
  hwc: Uint8Array,
  S: number,
  mean: readonly number[],
  std: readonly number[],
): Float32Array {
  const plane = S * S;
  const out = new Float32Array(3 * plane);
  const f = Math.fround;
  for (let c = 0; c < 3; c++) {
    const mu = f(mean[c] ?? 0);
    const sd = f(std[c] ?? 1);
    for (let i = 0; i < plane; i++) out[c * plane + i] = f(f(f(hwc[i * 3 + c]! / 255) - mu) / sd);
  }
  return out;
}

/** Inverse of step 4: normalised CHW back to RGB in [0, 1] (what the model saw, for display and metrics). */
export function denormalise(
  pixels: Float32Array,
  mean: readonly number[],
  std: readonly number[],
): Float32Array {
  const plane = pixels.length / 3;
  const out = new Float32Array(pixels.length);
  for (let c = 0; c < 3; c++) {
    const mu = mean[c] ?? 0;
    const sd = std[c] ?? 1;
    for (let i = c * plane, end = (c + 1) * plane; i < end; i++) out[i] = pixels[i]! * sd + mu;
  }
  return out;
}

/** CHW RGB in [0,1] → RGBA8 (for drawing on a canvas). */
export function chwToRgba(chw: Float32Array, width: number, height: number): Uint8ClampedArray {
  const plane = width * height;
  const out = new Uint8ClampedArray(plane * 4);
  for (let i = 0; i < plane; i++) {
    out[i * 4] = Math.round(chw[i]! * 255);
    out[i * 4 + 1] = Math.round(chw[plane + i]! * 255);
    out[i * 4 + 2] = Math.round(chw[2 * plane + i]! * 255);
    out[i * 4 + 3] = 255;
  }
  return out;
}
