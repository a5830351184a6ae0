/**
 * A pure image-header sniffer: file type from magic bytes, and (for PNG, JPEG, GIF, WebP, BMP) the declared
 * dimensions and a few facts the app reports — without decoding any pixel data. Used to refuse decompression
 * bombs from the header alone and to give specific messages for files that are not images at all.
 * Runs in the browser and under Node (unit tests).
 */

export type ImageType = 'png' | 'jpeg' | 'gif' | 'webp' | 'bmp' | 'avif';
export type OtherType = 'svg' | 'zip' | 'pdf' | 'html' | 'text' | 'empty' | 'unknown';

export interface HeaderInfo {
  type: ImageType | OtherType;
  /** declared width/height (before EXIF orientation), when the header has them */
  width?: number;
  height?: number;
  /** bits per sample (PNG/JPEG/BMP) */
  bitDepth?: number;
  /** PNG colour type name, JPEG component count, … */
  colour?: string;
  /** number of frames for GIF / APNG (acTL) / animated WebP (unknown count: 2) */
  frames?: number;
  animated?: boolean;
  /** EXIF orientation 1..8 (JPEG APP1, PNG eXIf; WebP EXIF chunk not parsed) */
  orientation?: number;
  /** the file ends before the image data does (PNG without IEND, JPEG without EOI, GIF without trailer) */
  truncated?: boolean;
  /** what was wrong with the header, when `type` is an image type but it could not be read */
  problem?: string;
}

const PNG_SIG = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

function startsWith(b: Uint8Array, sig: readonly number[], at = 0): boolean {
  if (b.length < at + sig.length) return false;
  for (let i = 0; i < sig.length; i++) if (b[at + i] !== sig[i]) return false;
  return true;
}

const ascii = (b: Uint8Array, at: number, n: number): string =>
  String.fromCharCode(...b.subarray(at, Math.min(b.length, at + n)));

const u16be = (b: Uint8Array, i: number) => (b[i]! << 8) | b[i + 1]!;
const u16le = (b: Uint8Array, i: number) => b[i]! | (b[i + 1]! << 8);
const u24le = (b: Uint8Array, i: number) => b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16);
const u32be = (b: Uint8Array, i: number) =>
  ((b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!) >>> 0;
const u32le = (b: Uint8Array, i: number) =>
  (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)) >>> 0;
const i32le = (b: Uint8Array, i: number) => b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24);

const PNG_COLOUR: Record<number, string> = {
  0: 'grayscale',
  2: 'RGB',
  3: 'palette',
  4: 'grayscale+alpha',
  6: 'RGBA',
};

function sniffPng(b: Uint8Array): HeaderInfo {
  const info: HeaderInfo = { type: 'png' };
  if (b.length < 33 || ascii(b, 12, 4) !== 'IHDR') {
    return { ...info, truncated: b.length < 33, problem: 'the PNG header (IHDR) is missing or cut short' };
  }
  info.width = u32be(b, 16);
  info.height = u32be(b, 20);
  info.bitDepth = b[24];
  info.colour = PNG_COLOUR[b[25]!] ?? `colour type ${b[25]}`;
  // Walk the chunks: acTL (animation), IEND (complete file).
  let at = 8;
  let sawEnd = false;
  while (at + 8 <= b.length) {
    const len = u32be(b, at);
    const type = ascii(b, at + 4, 4);
    if (type === 'acTL' && at + 12 <= b.length) {
      info.frames = u32be(b, at + 8);
      info.animated = info.frames > 1;
    }
    // eXIf holds a bare TIFF block; browsers and Pillow's exif_transpose both honour its orientation.
    if (type === 'eXIf' && info.orientation === undefined && at + 8 + len <= b.length) {
      info.orientation = exifOrientation(b, at + 8, at + 8 + len);
    }
    if (type === 'IEND') {
      sawEnd = true;
      break;
    }
    at += 12 + len;
  }
  if (!sawEnd) info.truncated = true;
  return info;
}

/** EXIF orientation from a TIFF block (the APP1 payload after "Exif\0\0"). */
function exifOrientation(b: Uint8Array, tiff: number, end: number): number | undefined {
  if (tiff + 8 > end) return undefined;
  const le = b[tiff] === 0x49 && b[tiff + 1] === 0x49;
  const be = b[tiff] === 0x4d && b[tiff + 1] === 0x4d;
  if (!le && !be) return undefined;
  const r16 = (i: number) => (le ? u16le(b, i) : u16be(b, i));
  const r32 = (i: number) => (le ? u32le(b, i) : u32be(b, i));
  const ifd = tiff + r32(tiff + 4);
  if (ifd + 2 > end) return undefined;
  const n = r16(ifd);
  for (let k = 0; k < n; k++) {
    const e = ifd + 2 + k * 12;
    if (e + 12 > end) return undefined;
    if (r16(e) === 0x0112) {
      const v = r16(e + 8);
      return v >= 1 && v <= 8 ? v : undefined;
    }
  }
  return undefined;
}

function sniffJpeg(b: Uint8Array): HeaderInfo {
  const info: HeaderInfo = { type: 'jpeg' };
  let at = 2;
  while (at + 4 <= b.length) {
    if (b[at] !== 0xff) {
      info.problem = `the JPEG marker structure is damaged at byte ${at}`;
      return info;
    }
    const marker = b[at + 1]!;
    if (marker === 0xff) {
      at++; // fill byte
      continue;
    }
    if (marker === 0xd8 || (marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) {
      at += 2;
      continue;
    }
    if (marker === 0xd9) break; // EOI before SOS
    const len = u16be(b, at + 2);
    const seg = at + 4;
    const end = at + 2 + len;
    if (marker === 0xe1 && ascii(b, seg, 6) === 'Exif\0\0' && info.orientation === undefined) {
      info.orientation = exifOrientation(b, seg + 6, Math.min(end, b.length));
    }
    // SOF0..SOF15 except DHT (C4), JPG (C8), DAC (CC)
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      if (seg + 6 > b.length) break;
      info.bitDepth = b[seg];
      info.height = u16be(b, seg + 1);
      info.width = u16be(b, seg + 3);
      const nc = b[seg + 5]!;
      info.colour = nc === 1 ? 'grayscale' : nc === 3 ? 'YCbCr' : nc === 4 ? 'CMYK' : `${nc} components`;
    }
    if (marker === 0xda) {
      // Entropy-coded data follows: the file is complete when an EOI marker comes after it.
      let found = false;
      const stop = Math.max(end, b.length - 65536); // trailing bytes after EOI are common: search the tail
      for (let i = b.length - 1; i > stop; i--) {
        if (b[i - 1] === 0xff && b[i] === 0xd9) {
          found = true;
          break;
        }
      }
      if (!found) info.truncated = true;
      return info;
    }
    at = end;
  }
  if (info.width === undefined) {
    info.truncated = at + 4 > b.length;
    info.problem = 'the JPEG has no frame header (SOF) with its dimensions';
  } else {
    info.truncated = true; // no scan data
  }
  return info;
}

function sniffGif(b: Uint8Array): HeaderInfo {
  const info: HeaderInfo = { type: 'gif', width: u16le(b, 6), height: u16le(b, 8), frames: 0 };
  if (b.length < 13) return { type: 'gif', truncated: true, problem: 'the GIF header is cut short' };
  let at = 13;
  const flags = b[10]!;
  if (flags & 0x80) at += 3 * (1 << ((flags & 7) + 1)); // global colour table
  const skipSubBlocks = (i: number): number => {
    while (i < b.length) {
      const n = b[i]!;
      i += 1 + n;
      if (n === 0) return i;
    }
    return -1;
  };
  for (;;) {
    if (at >= b.length) {
      info.truncated = true;
      break;
    }
    const block = b[at]!;
    if (block === 0x3b) break; // trailer
    if (block === 0x21) {
      at = skipSubBlocks(at + 2);
    } else if (block === 0x2c) {
      info.frames!++;
      if (at + 10 > b.length) {
        info.truncated = true;
        break;
      }
      const lf = b[at + 9]!;
      at += 10;
      if (lf & 0x80) at += 3 * (1 << ((lf & 7) + 1));
      at = skipSubBlocks(at + 1); // LZW minimum code size, then data
    } else {
      info.problem = `the GIF block structure is damaged at byte ${at}`;
      break;
    }
    if (at < 0) {
      info.truncated = true;
      break;
    }
  }
  info.animated = info.frames! > 1;
  return info;
}

function sniffWebp(b: Uint8Array): HeaderInfo {
  const info: HeaderInfo = { type: 'webp' };
  const chunk = ascii(b, 12, 4);
  if (chunk === 'VP8 ' && b.length >= 30) {
    info.width = u16le(b, 26) & 0x3fff;
    info.height = u16le(b, 28) & 0x3fff;
  } else if (chunk === 'VP8L' && b.length >= 25) {
    const bits = u32le(b, 21);
    info.width = (bits & 0x3fff) + 1;
    info.height = ((bits >>> 14) & 0x3fff) + 1;
  } else if (chunk === 'VP8X' && b.length >= 30) {
    info.animated = (b[20]! & 0x02) !== 0;
    if (info.animated) info.frames = 2;
    info.width = u24le(b, 24) + 1;
    info.height = u24le(b, 27) + 1;
  } else {
    info.problem = 'the WebP header is missing or cut short';
  }
  const riffSize = u32le(b, 4);
  if (riffSize + 8 > b.length) info.truncated = true;
  return info;
}

function sniffBmp(b: Uint8Array): HeaderInfo {
  const info: HeaderInfo = { type: 'bmp' };
  if (b.length < 26) return { ...info, truncated: true, problem: 'the BMP header is cut short' };
  const dib = u32le(b, 14);
  if (dib === 12) {
    info.width = u16le(b, 18);
    info.height = u16le(b, 20);
    info.bitDepth = b.length >= 26 ? u16le(b, 24) : undefined;
  } else {
    if (b.length < 30) return { ...info, truncated: true, problem: 'the BMP header is cut short' };
    info.width = Math.abs(i32le(b, 18));
    info.height = Math.abs(i32le(b, 22)); // negative = top-down
    info.bitDepth = u16le(b, 28);
  }
  const fileSize = u32le(b, 2);
  if (fileSize > b.length) info.truncated = true;
  return info;
}

function looksLikeText(b: Uint8Array): boolean {
  const n = Math.min(b.length, 512);
  let bad = 0;
  for (let i = 0; i < n; i++) {
    const c = b[i]!;
    if (c === 0) return false;
    if (c < 0x09 || (c > 0x0d && c < 0x20)) bad++;
  }
  return bad <= n / 50;
}

/** Detects the type from the first bytes (at least the first 64 KiB are best; the whole file for `truncated`). */
export function sniffImage(bytes: Uint8Array): HeaderInfo {
  const b = bytes;
  if (b.length === 0) return { type: 'empty' };
  if (startsWith(b, PNG_SIG)) return sniffPng(b);
  if (startsWith(b, [0xff, 0xd8, 0xff])) return sniffJpeg(b);
  if (ascii(b, 0, 6) === 'GIF87a' || ascii(b, 0, 6) === 'GIF89a') return sniffGif(b);
  if (ascii(b, 0, 4) === 'RIFF' && ascii(b, 8, 4) === 'WEBP') return sniffWebp(b);
  if (ascii(b, 0, 2) === 'BM' && b.length >= 14) return sniffBmp(b);
  if (ascii(b, 4, 4) === 'ftyp' && /^avi[fs]$/.test(ascii(b, 8, 4))) return { type: 'avif' };
  if (startsWith(b, [0x50, 0x4b, 0x03, 0x04]) || startsWith(b, [0x50, 0x4b, 0x05, 0x06]))
    return { type: 'zip' };
  if (ascii(b, 0, 5) === '%PDF-') return { type: 'pdf' };
  if (looksLikeText(b)) {
    const head = new TextDecoder()
      .decode(b.subarray(0, Math.min(b.length, 4096)))
      .replace(/^\uFEFF/, '')
      .trimStart()
      .toLowerCase();
    if (
      /<svg[\s>]/.test(head) &&
      (head.startsWith('<svg') || head.startsWith('<?xml') || head.startsWith('<!'))
    )
      return { type: 'svg' };
    if (head.startsWith('<!doctype html') || head.startsWith('<html')) return { type: 'html' };
    return { type: 'text' };
  }
  return { type: 'unknown' };
}

/** True for types the browser decodes and this app accepts. */
export function isImageType(t: HeaderInfo['type']): t is ImageType {
  return t === 'png' || t === 'jpeg' || t === 'gif' || t === 'webp' || t === 'bmp' || t === 'avif';
}

/** Orientations 5..8 swap width and height. */
export function orientedSize(info: HeaderInfo): { width: number; height: number } | null {
  if (info.width === undefined || info.height === undefined) return null;
  return (info.orientation ?? 1) >= 5
    ? { width: info.height, height: info.width }
    : { width: info.width, height: info.height };
}
