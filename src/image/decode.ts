/**
 * Browser-only image decoding: File/Blob → RGBA8 at full resolution, EXIF orientation honoured
 * (createImageBitmap with imageOrientation 'from-image'), no colour-space conversion and no premultiplication,
 * so that plain sRGB PNGs give exactly the bytes Python (Pillow) reads.
 *
 * Before anything is decoded the file's header is sniffed (src/lib/imageHeader.ts): files that are not images
 * (text, ZIP, SVG, …), truncated files and decompression bombs (huge declared dimensions) are refused with a
 * specific message, without ever handing them to the browser's decoder.
 */
import { isImageType, orientedSize, sniffImage, type HeaderInfo } from '../lib/imageHeader';
import type { ModedPixels, PilMode } from '../lib/pngPixels';
import { decodePngOffThread } from './pngDecoder';

export class ImageDecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ImageDecodeError';
  }
}

export interface DecodedImage {
  rgba: Uint8ClampedArray<ArrayBuffer>;
  width: number;
  height: number;
  /** facts worth telling the user (animated: first frame used; CMYK; 16-bit; EXIF rotation; extreme aspect) */
  notes: string[];
  header: HeaderInfo;
  /**
   * The mode Pillow opens the file in, when known (PNG: decoded here as Pillow does; GIF: "P"); it picks the
   * resampling path of the `official_toklip` preprocessing. Absent: RGB, or RGBA when a pixel is transparent.
   */
  mode?: PilMode;
}

/** Refuse absurd sizes before allocating (decompression bombs). */
export const MAX_PIXELS = 64 * 1024 * 1024;
/** Chromium's canvas limit per side. */
export const MAX_SIDE = 32767;
export const MAX_FILE_BYTES = 100 * 1024 * 1024;

const TYPE_NAMES: Record<string, string> = {
  png: 'PNG',
  jpeg: 'JPEG',
  gif: 'GIF',
  webp: 'WebP',
  bmp: 'BMP',
  avif: 'AVIF',
};

const fmtMpx = (px: number) => `${(px / 1e6).toLocaleString('en-US', { maximumFractionDigits: 1 })} Mpx`;

function extension(name: string): string {
  const m = /\.([a-z0-9]+)$/i.exec(name);
  return m ? m[1]!.toLowerCase() : '';
}

/** Refusals that depend only on the header. Throws ImageDecodeError. */
export function checkHeader(h: HeaderInfo, name: string): void {
  const ext = extension(name);
  const named = ext ? ` (its name ends in .${ext})` : '';
  switch (h.type) {
    case 'empty':
      throw new ImageDecodeError('the file is empty (0 bytes)');
    case 'text':
      throw new ImageDecodeError(`this file is plain text, not an image${named}`);
    case 'html':
      throw new ImageDecodeError(`this file is an HTML page, not an image${named}`);
    case 'zip':
      throw new ImageDecodeError(
        `this file is a ZIP archive, not an image${named}: unpack it and drop the images inside`,
      );
    case 'pdf':
      throw new ImageDecodeError(`this file is a PDF document, not an image${named}`);
    case 'svg':
      throw new ImageDecodeError(
        'SVG images are not accepted (an SVG is a document that can carry scripts); please convert it to PNG',
      );
    case 'unknown':
      throw new ImageDecodeError(
        `this file is not an image this app can read${named}: no PNG, JPEG, GIF, WebP, BMP or AVIF signature`,
      );
  }
  const kind = TYPE_NAMES[h.type] ?? h.type;
  if (h.problem && h.width === undefined) {
    throw new ImageDecodeError(`this ${kind} file is damaged: ${h.problem}`);
  }
  if (h.width !== undefined && h.height !== undefined) {
    if (h.width === 0 || h.height === 0) {
      throw new ImageDecodeError(`this ${kind} declares ${h.width}×${h.height} pixels: it has no pixels`);
    }
    const px = h.width * h.height;
    if (px > MAX_PIXELS || h.width > MAX_SIDE || h.height > MAX_SIDE) {
      throw new ImageDecodeError(
        `this ${kind} declares ${h.width}×${h.height} pixels (${fmtMpx(px)}) in its header, over the limit of ` +
          `${MAX_PIXELS / 1024 / 1024} Mi pixels (${MAX_PIXELS.toLocaleString('en-US')}) and ${MAX_SIDE} px per side: ` +
          'refused before decoding (a possible decompression bomb)',
      );
    }
  }
  if (h.truncated) {
    throw new ImageDecodeError(
      `this ${kind} file is truncated: it ends before its image data does (an incomplete download or copy?)`,
    );
  }
}

function notesFor(h: HeaderInfo, width: number, height: number): string[] {
  const notes: string[] = [];
  const kind = TYPE_NAMES[h.type] ?? h.type;
  if (h.animated) {
    const n = h.frames && h.frames > 1 && h.type !== 'webp' ? `${h.frames} frames` : 'several frames';
    notes.push(`animated ${kind} (${n}): only the first frame is used`);
  }
  if (h.colour === 'CMYK') notes.push('CMYK JPEG: converted to RGB by the browser');
  if (h.bitDepth === 16) notes.push('16 bits per channel: reduced to 8 bits');
  if (h.orientation && h.orientation !== 1)
    notes.push(`EXIF orientation ${h.orientation}: rotated/flipped upright (${width}×${height})`);
  const ratio = Math.max(width, height) / Math.min(width, height);
  if (ratio >= 4) {
    const m = Math.min(width, height);
    notes.push(`extreme aspect ratio (${width}×${height}): only the central ${m}×${m} square is used`);
  }
  if (width * height < 64) notes.push(`tiny image (${width}×${height}): upscaled to the model's input size`);
  return notes;
}

export async function decodeImage(blob: Blob, name = ''): Promise<DecodedImage> {
  if (blob.size === 0) throw new ImageDecodeError('the file is empty (0 bytes)');
  if (blob.size > MAX_FILE_BYTES) {
    throw new ImageDecodeError(
      `the file is ${(blob.size / 1024 / 1024).toFixed(0)} MiB, larger than the ${MAX_FILE_BYTES / 1024 / 1024} MiB limit`,
    );
  }
  let bytes: Uint8Array<ArrayBuffer>;
  try {
    bytes = new Uint8Array(await blob.arrayBuffer());
  } catch (e) {
    // A dropped folder (without the entries API) or a file that disappeared since it was chosen.
    throw new ImageDecodeError(
      `the file could not be read (${(e as Error).name || 'read error'}): is it a folder, or was it moved?`,
    );
  }
  const header = sniffImage(bytes);
  checkHeader(header, name);
  if (!isImageType(header.type)) throw new ImageDecodeError('not an image');
  if (header.type === 'png') {
    const png = await decodePng(bytes, header);
    if (png) return png;
  }
  const mime = header.type === 'jpeg' ? 'image/jpeg' : `image/${header.type}`;

  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(new Blob([bytes], { type: mime }), {
      imageOrientation: 'from-image',
      premultiplyAlpha: 'none',
      colorSpaceConversion: 'none',
    });
  } catch {
    throw new ImageDecodeError(
      `this ${TYPE_NAMES[header.type] ?? header.type} file could not be decoded (damaged or an unsupported variant)`,
    );
  }
  try {
    const { width, height } = bitmap;
    if (width < 1 || height < 1) throw new ImageDecodeError('the image has no pixels');
    if (width * height > MAX_PIXELS) {
      throw new ImageDecodeError(
        `the image is ${width}×${height} pixels, more than the ${MAX_PIXELS / 1024 / 1024} Mi pixel limit`,
      );
    }
    const canvas = new OffscreenCanvas(width, height);
    const ctx = canvas.getContext('2d', { willReadFrequently: true, colorSpace: 'srgb' });
    if (!ctx) throw new ImageDecodeError('no 2D canvas available to read the pixels');
    ctx.drawImage(bitmap, 0, 0);
    const data = ctx.getImageData(0, 0, width, height, { colorSpace: 'srgb' }).data;
    const expected = orientedSize(header);
    const notes = notesFor(header, width, height);
    if (expected && (expected.width !== width || expected.height !== height) && !header.animated) {
      notes.push(`decoded as ${width}×${height}, the header says ${expected.width}×${expected.height}`);
    }
    if (header.type === 'png') notes.push("decoded by the browser: its pixels may differ from Pillow's");
    // Pillow opens GIFs as palette images and so resizes them with NEAREST.
    return {
      rgba: data,
      width,
      height,
      notes,
      header,
      ...(header.type === 'gif' ? { mode: 'P' as const } : {}),
    };
  } finally {
    bitmap.close();
  }
}

/**
 * PNGs are decoded in JS (fast-png, in a worker) rather than by the browser: the browser hands pixels back through a
 * premultiplied canvas (transparent colours lost, partial alpha rounded) and hides the file's mode, and the
 * `official_toklip` preprocessing needs both exactly as Pillow reads them. Returns null when fast-png can't read
 * the file, so the browser's decoder gets its chance.
 */
async function decodePng(bytes: Uint8Array, header: HeaderInfo): Promise<DecodedImage | null> {
  let px: ModedPixels;
  try {
    px = await decodePngOffThread(bytes, header.orientation);
  } catch {
    return null;
  }
  const { width, height } = px;
  if (width < 1 || height < 1) throw new ImageDecodeError('the image has no pixels');
  const notes = notesFor(header, width, height);
  if (px.note) notes.push(px.note);
  return { rgba: px.rgba, width, height, notes, header, mode: px.mode };
}
