/**
 * PNG → the pixels and mode Pillow gives for the same file, so that the `official_toklip` preprocessing can
 * follow Pillow's mode-dependent path (bicubic for L/RGB, premultiplied bicubic for LA/RGBA, NEAREST for P and
 * "1"). The browser's decoder can't tell us the mode, and it hands back pixels through a premultiplied canvas, which
 * loses the colour of transparent and partly transparent pixels; fast-png gives the stored samples.
 *
 * What Pillow does, and so what this returns (measured with Pillow 13):
 * - colour type 0: depth 1 → "1" (0/255); depth 2/4 → "L" scaled to 0..255 (×85, ×17); depth 8 → "L";
 *   depth 16 → "I;16", which Pillow's `convert('RGB')` clips at 255 — not reproduced (see `exact`).
 * - colour type 2/6 (RGB/RGBA), 4 (LA): 16-bit samples keep their high byte.
 * - colour type 3 → "P": palette colours; tRNS gives alpha but `convert('RGB')` ignores it.
 * - tRNS on L/RGB: alpha in `rgba` (as `convert('RGBA')` gives it), which the preprocessing ignores for these modes.
 * `rgba` always carries the stored colour (never premultiplied) and the alpha Pillow's `convert('RGBA')` gives.
 * Pure: runs in Node (tests) and in the browser.
 */
import { decode } from 'fast-png';

/** Pillow image modes this app distinguishes (L behaves like RGB, LA like RGBA, "1" like P). */
export type PilMode = '1' | 'L' | 'LA' | 'P' | 'RGB' | 'RGBA';

export interface ModedPixels {
  rgba: Uint8ClampedArray<ArrayBuffer>;
  width: number;
  height: number;
  mode: PilMode;
  /** false when Pillow's result is known to differ (16-bit greyscale), with the reason in `note` */
  exact: boolean;
  note?: string;
}

function unpackRow(data: ArrayLike<number>, rowStart: number, width: number, depth: number, out: Uint8Array) {
  const perByte = 8 / depth;
  const mask = (1 << depth) - 1;
  for (let x = 0; x < width; x++) {
    const byte = data[rowStart + Math.floor(x / perByte)]!;
    const shift = 8 - depth * ((x % perByte) + 1);
    out[x] = (byte >> shift) & mask;
  }
}

export function decodePngPixels(bytes: Uint8Array): ModedPixels {
  const png = decode(bytes);
  const { width, height, depth, channels } = png;
  const n = width * height;
  const rgba = new Uint8ClampedArray(new ArrayBuffer(n * 4));
  const src = png.data;
  const trns = png.transparency;
  let mode: PilMode;
  let exact = true;
  let note: string | undefined;

  if (png.palette) {
    mode = 'P';
    const pal = png.palette;
    const idx = new Uint8Array(width);
    const rowBytes = Math.ceil((width * depth) / 8);
    for (let y = 0; y < height; y++) {
      if (depth === 8) for (let x = 0; x < width; x++) idx[x] = src[y * width + x]!;
      else unpackRow(src, y * rowBytes, width, depth, idx);
      for (let x = 0; x < width; x++) {
        const i = idx[x]!;
        const c = pal[i];
        const o = (y * width + x) * 4;
        // An index past the palette reads as black in Pillow's palette lookup.
        rgba[o] = c?.[0] ?? 0;
        rgba[o + 1] = c?.[1] ?? 0;
        rgba[o + 2] = c?.[2] ?? 0;
        rgba[o + 3] = c && c.length > 3 ? c[3]! : trns && i < trns.length ? trns[i]! : 255;
      }
    }
    return { rgba, width, height, mode, exact };
  }

  const hi = depth === 16 ? (v: number) => v >> 8 : (v: number) => v;
  if (channels === 1 || channels === 2) {
    const alpha = channels === 2;
    mode = alpha ? 'LA' : depth === 1 ? '1' : 'L';
    if (depth === 16 && !alpha) {
      exact = false;
      note =
        '16-bit greyscale PNG: Pillow reads it as "I;16" and its RGB conversion clips every value above 255, ' +
        "so TokLIP's own pipeline sees a nearly white picture; this app uses the high byte instead";
    }
    if (depth === 16 && alpha) mode = 'RGBA'; // Pillow opens 16-bit LA as RGBA (same numbers)
    const scale = depth === 1 ? 255 : depth === 2 ? 85 : depth === 4 ? 17 : 1;
    const grey = new Uint8Array(width);
    const rowBytes = Math.ceil((width * depth) / 8);
    const key = !alpha && trns && trns.length > 0 ? trns[0]! : -1;
    for (let y = 0; y < height; y++) {
      if (depth < 8) unpackRow(src, y * rowBytes, width, depth, grey);
      for (let x = 0; x < width; x++) {
        const o = (y * width + x) * 4;
        const s = (y * width + x) * channels;
        const raw = depth < 8 ? grey[x]! : src[s]!;
        const v = depth < 8 ? raw * scale : hi(raw);
        rgba[o] = rgba[o + 1] = rgba[o + 2] = v;
        rgba[o + 3] = alpha ? hi(src[s + 1]!) : raw === key ? 0 : 255;
      }
    }
    return { rgba, width, height, mode, exact, ...(note ? { note } : {}) };
  }

  mode = channels === 4 ? 'RGBA' : 'RGB';
  const key = channels === 3 && trns && trns.length >= 3 ? trns : null;
  for (let i = 0; i < n; i++) {
    const s = i * channels;
    const o = i * 4;
    rgba[o] = hi(src[s]!);
    rgba[o + 1] = hi(src[s + 1]!);
    rgba[o + 2] = hi(src[s + 2]!);
    if (channels === 4) rgba[o + 3] = hi(src[s + 3]!);
    else rgba[o + 3] = key && src[s] === key[0] && src[s + 1] === key[1] && src[s + 2] === key[2] ? 0 : 255;
  }
  return { rgba, width, height, mode, exact };
}

/**
 * Applies an EXIF orientation (1–8) to RGBA pixels, as Pillow's `ImageOps.exif_transpose` and browsers do.
 */
export function orientRgba(
  rgba: Uint8ClampedArray<ArrayBuffer>,
  width: number,
  height: number,
  orientation: number | undefined,
): { rgba: Uint8ClampedArray<ArrayBuffer>; width: number; height: number } {
  const o = orientation ?? 1;
  if (o < 2 || o > 8) return { rgba, width, height };
  const swap = o >= 5;
  const W = swap ? height : width;
  const H = swap ? width : height;
  const out = new Uint8ClampedArray(new ArrayBuffer(W * H * 4));
  const src32 = new Uint32Array(rgba.buffer, rgba.byteOffset, width * height);
  const dst32 = new Uint32Array(out.buffer);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      let sx: number;
      let sy: number;
      switch (o) {
        case 2: sx = width - 1 - x; sy = y; break; // prettier-ignore
        case 3: sx = width - 1 - x; sy = height - 1 - y; break; // prettier-ignore
        case 4: sx = x; sy = height - 1 - y; break; // prettier-ignore
        case 5: sx = y; sy = x; break; // prettier-ignore
        case 6: sx = y; sy = height - 1 - x; break; // prettier-ignore
        case 7: sx = width - 1 - y; sy = height - 1 - x; break; // prettier-ignore
        default:
          sx = width - 1 - y;
          sy = x; // 8 // prettier-ignore
      }
      dst32[y * W + x] = src32[sy * width + sx]!;
    }
  }
  return { rgba: out, width: W, height: H };
}

/** A PNG file's pixels as the app hands them to preprocessing: Pillow's mode and values, EXIF orientation applied. */
export function pngForModel(bytes: Uint8Array, orientation: number | undefined): ModedPixels {
  const px = decodePngPixels(bytes);
  const o = orientRgba(px.rgba, px.width, px.height, orientation);
  return { ...px, ...o };
}
