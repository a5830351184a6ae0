/**
 * Test images written byte by byte at test time (no binaries in the repo): PNG in every colour type and bit
 * depth, a DC-only baseline JPEG encoder (grayscale, YCbCr, Adobe CMYK, optional EXIF orientation), an animated
 * GIF with a real LZW encoder, and assorted non-images (ZIP, SVG with a script, text).
 * Pure Node (Buffer, zlib); also used by the unit tests of src/lib/imageHeader.ts.
 */
import { deflateSync } from 'node:zlib';

// ---- PNG ---------------------------------------------------------------------------------------

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32(buf: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

export function pngChunk(type: string, data: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'ascii');
  Buffer.from(data).copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

export const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

export interface PngSpec {
  width: number;
  height: number;
  /** 0 gray, 2 RGB, 3 palette, 4 gray+alpha, 6 RGBA */
  colourType: 0 | 2 | 3 | 4 | 6;
  bitDepth: 8 | 16;
  /** samples per pixel in row-major order; for bitDepth 16 values are 0..65535 */
  sample: (x: number, y: number) => number[];
  /** palette RGB triplets (colour type 3) */
  palette?: [number, number, number][];
  /** tRNS for palette images: alpha per palette entry */
  paletteAlpha?: number[];
  /** extra chunks inserted before IDAT */
  extraChunks?: Buffer[];
}

const CHANNELS: Record<PngSpec['colourType'], number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

export function makePng(s: PngSpec): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(s.width, 0);
  ihdr.writeUInt32BE(s.height, 4);
  ihdr[8] = s.bitDepth;
  ihdr[9] = s.colourType;
  const ch = CHANNELS[s.colourType];
  const bps = s.bitDepth / 8;
  const stride = s.width * ch * bps;
  const raw = Buffer.alloc((stride + 1) * s.height);
  for (let y = 0; y < s.height; y++) {
    for (let x = 0; x < s.width; x++) {
      const v = s.sample(x, y);
      for (let c = 0; c < ch; c++) {
        const at = y * (stride + 1) + 1 + (x * ch + c) * bps;
        if (bps === 2) raw.writeUInt16BE(v[c]!, at);
        else raw[at] = v[c]!;
      }
    }
  }
  const chunks = [PNG_SIGNATURE, pngChunk('IHDR', ihdr)];
  if (s.palette) chunks.push(pngChunk('PLTE', Buffer.from(s.palette.flat())));
  if (s.paletteAlpha) chunks.push(pngChunk('tRNS', Buffer.from(s.paletteAlpha)));
  if (s.extraChunks) chunks.push(...s.extraChunks);
  chunks.push(pngChunk('IDAT', deflateSync(raw)), pngChunk('IEND', new Uint8Array(0)));
  return Buffer.concat(chunks);
}

/** A valid-looking PNG whose IHDR declares huge dimensions, with a tiny IDAT: a decompression bomb's header. */
export function pngBomb(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8;
  ihdr[9] = 2;
  // A real bomb's IDAT inflates to width*height*3 bytes of zeros: ~1000× smaller compressed. Keep ours tiny.
  return Buffer.concat([
    PNG_SIGNATURE,
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', deflateSync(Buffer.alloc(64 * 1024))),
    pngChunk('IEND', new Uint8Array(0)),
  ]);
}

// ---- JPEG (baseline, DC only: one flat colour per 8×8 block) ----------------------------------------

class BitWriter {
  private bytes: number[] = [];
  private acc = 0;
  private n = 0;
  write(value: number, bits: number): void {
    for (let i = bits - 1; i >= 0; i--) {
      this.acc = (this.acc << 1) | ((value >>> i) & 1);
      if (++this.n === 8) this.flushByte();
    }
  }
  private flushByte(): void {
    this.bytes.push(this.acc);
    if (this.acc === 0xff) this.bytes.push(0x00); // byte stuffing
    this.acc = 0;
    this.n = 0;
  }
  finish(): Buffer {
    while (this.n !== 0) this.write(1, 1); // pad with ones
    return Buffer.from(this.bytes);
  }
}

const DC_BITS = [0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0]; // standard luminance DC table (K.3)
const DC_VALS = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];

function huffCodes(bits: number[], vals: number[]): Map<number, { code: number; len: number }> {
  const out = new Map<number, { code: number; len: number }>();
  let code = 0;
  let k = 0;
  for (let len = 1; len <= 16; len++) {
    for (let i = 0; i < bits[len - 1]!; i++) out.set(vals[k++]!, { code: code++, len });
    code <<= 1;
  }
  return out;
}

function segment(marker: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(4);
  head[0] = 0xff;
  head[1] = marker;
  head.writeUInt16BE(payload.length + 2, 2);
  return Buffer.concat([head, payload]);
}

/** APP1 Exif segment holding only the Orientation tag (big-endian TIFF). */
export function exifSegment(orientation: number): Buffer {
  const tiff = Buffer.alloc(8 + 2 + 12 + 4);
  tiff.write('MM', 0, 'ascii');
  tiff.writeUInt16BE(42, 2);
  tiff.writeUInt32BE(8, 4);
  tiff.writeUInt16BE(1, 8); // one entry
  tiff.writeUInt16BE(0x0112, 10); // Orientation
  tiff.writeUInt16BE(3, 12); // SHORT
  tiff.writeUInt32BE(1, 14);
  tiff.writeUInt16BE(orientation, 18);
  tiff.writeUInt32BE(0, 22); // no next IFD
  return segment(0xe1, Buffer.concat([Buffer.from('Exif\0\0', 'binary'), tiff]));
}

export interface JpegSpec {
  width: number;
  height: number;
  components: 1 | 3 | 4;
  /** component values (Y / YCbCr / CMYK as stored, 0..255) of the 8×8 block at (bx, by) */
  block: (bx: number, by: number) => number[];
  orientation?: number;
}

/** Full-range BT.601 RGB → YCbCr (as JFIF). */
export function rgbToYcc([r, g, b]: number[]): number[] {
  return [
    0.299 * r! + 0.587 * g! + 0.114 * b!,
    128 - 0.168736 * r! - 0.331264 * g! + 0.5 * b!,
    128 + 0.5 * r! - 0.418688 * g! - 0.081312 * b!,
  ];
}

export function makeJpeg(s: JpegSpec): Buffer {
  const nc = s.components;
  const parts: Buffer[] = [Buffer.from([0xff, 0xd8])];
  if (s.orientation) parts.push(exifSegment(s.orientation));
  if (nc === 4) {
    // Adobe APP14, transform 0 (CMYK stored as is, inverted as Photoshop writes it)
    const p = Buffer.alloc(12);
    p.write('Adobe', 0, 'ascii');
    p.writeUInt16BE(100, 5);
    parts.push(segment(0xee, p));
  } else {
    const p = Buffer.from([0x4a, 0x46, 0x49, 0x46, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0]); // JFIF 1.01
    parts.push(segment(0xe0, p));
  }
  parts.push(segment(0xdb, Buffer.concat([Buffer.from([0]), Buffer.alloc(64, 1)]))); // all-ones quant table
  const sof = Buffer.alloc(6 + 3 * nc);
  sof[0] = 8;
  sof.writeUInt16BE(s.height, 1);
  sof.writeUInt16BE(s.width, 3);
  sof[5] = nc;
  for (let c = 0; c < nc; c++) sof.set([c + 1, 0x11, 0], 6 + 3 * c);
  parts.push(segment(0xc0, sof));
  parts.push(segment(0xc4, Buffer.from([0x00, ...DC_BITS, ...DC_VALS])));
  // AC table with one code ("0", length 1) for EOB: every block has only its DC coefficient.
  parts.push(segment(0xc4, Buffer.from([0x10, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x00])));
  const sos = Buffer.alloc(1 + 2 * nc + 3);
  sos[0] = nc;
  for (let c = 0; c < nc; c++) sos.set([c + 1, 0x00], 1 + 2 * c);
  sos.set([0, 63, 0], 1 + 2 * nc);
  parts.push(segment(0xda, sos));

  const dc = huffCodes(DC_BITS, DC_VALS);
  const bw = new BitWriter();
  const prev = new Array<number>(nc).fill(0);
  const bw8 = Math.ceil(s.width / 8);
  const bh8 = Math.ceil(s.height / 8);
  for (let by = 0; by < bh8; by++)
    for (let bx = 0; bx < bw8; bx++) {
      const v = s.block(bx, by);
      for (let c = 0; c < nc; c++) {
        const coef = Math.round(8 * (Math.min(255, Math.max(0, v[c]!)) - 128));
        const diff = coef - prev[c]!;
        prev[c] = coef;
        const mag = Math.abs(diff);
        const cat = mag === 0 ? 0 : 32 - Math.clz32(mag);
        const h = dc.get(cat)!;
        bw.write(h.code, h.len);
        if (cat) bw.write(diff < 0 ? diff + (1 << cat) - 1 : diff, cat);
        bw.write(0, 1); // EOB
      }
    }
  parts.push(bw.finish(), Buffer.from([0xff, 0xd9]));
  return Buffer.concat(parts);
}

/** Patches the SOF of a JPEG to declare other dimensions (a decompression bomb's header). */
export function jpegWithDeclaredSize(jpeg: Buffer, width: number, height: number): Buffer {
  const out = Buffer.from(jpeg);
  for (let i = 2; i + 9 < out.length;) {
    const marker = out[i + 1]!;
    const len = out.readUInt16BE(i + 2);
    if (marker === 0xc0) {
      out.writeUInt16BE(height, i + 5);
      out.writeUInt16BE(width, i + 7);
      return out;
    }
    i += 2 + len;
  }
  throw new Error('no SOF0');
}

// ---- GIF (LZW) ----------------------------------------------------------------------------------

function lzw(indices: Uint8Array, minCodeSize: number): Buffer {
  const clear = 1 << minCodeSize;
  const eoi = clear + 1;
  const out: number[] = [];
  let acc = 0;
  let nbits = 0;
  const emit = (code: number, size: number) => {
    acc |= code << nbits;
    nbits += size;
    while (nbits >= 8) {
      out.push(acc & 0xff);
      acc >>>= 8;
      nbits -= 8;
    }
  };
  let size = minCodeSize + 1;
  let next = eoi + 1;
  let table = new Map<number, number>();
  emit(clear, size);
  let cur = indices[0]!;
  for (let i = 1; i < indices.length; i++) {
    const k = indices[i]!;
    const key = (cur << 8) | k;
    const hit = table.get(key);
    if (hit !== undefined) {
      cur = hit;
      continue;
    }
    emit(cur, size);
    if (next === 4096) {
      emit(clear, size);
      next = eoi + 1;
      size = minCodeSize + 1;
      table = new Map();
    } else {
      if (next >= 1 << size) size++;
      table.set(key, next++);
    }
    cur = k;
  }
  emit(cur, size);
  emit(eoi, size);
  if (nbits > 0) out.push(acc & 0xff);
  return Buffer.from(out);
}

function subBlocks(data: Buffer): Buffer {
  const parts: Buffer[] = [];
  for (let i = 0; i < data.length; i += 255) {
    const part = data.subarray(i, i + 255);
    parts.push(Buffer.from([part.length]), part);
  }
  parts.push(Buffer.from([0]));
  return Buffer.concat(parts);
}

/** A looping GIF; each frame is one flat colour (index into a 4-colour palette) over the whole canvas. */
export function makeGif(
  width: number,
  height: number,
  palette: [number, number, number][],
  frames: ((x: number, y: number) => number)[],
): Buffer {
  const pal = palette.slice(0, 4);
  while (pal.length < 4) pal.push([0, 0, 0]);
  const head = Buffer.alloc(13);
  head.write('GIF89a', 0, 'ascii');
  head.writeUInt16LE(width, 6);
  head.writeUInt16LE(height, 8);
  head[10] = 0x80 | 0x01; // global colour table, 2^(1+1) = 4 entries
  const parts: Buffer[] = [head, Buffer.from(pal.flat())];
  parts.push(
    Buffer.from([0x21, 0xff, 0x0b, ...Buffer.from('NETSCAPE2.0', 'ascii'), 0x03, 0x01, 0x00, 0x00, 0x00]),
  );
  for (const f of frames) {
    parts.push(Buffer.from([0x21, 0xf9, 0x04, 0x04, 10, 0, 0, 0])); // GCE: 100 ms, no transparency
    const desc = Buffer.alloc(10);
    desc[0] = 0x2c;
    desc.writeUInt16LE(width, 5);
    desc.writeUInt16LE(height, 7);
    parts.push(desc);
    const idx = new Uint8Array(width * height);
    for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) idx[y * width + x] = f(x, y);
    parts.push(Buffer.from([2]), subBlocks(lzw(idx, 2)));
  }
  parts.push(Buffer.from([0x3b]));
  return Buffer.concat(parts);
}

// ---- not images -----------------------------------------------------------------------------------

/** A ZIP archive holding one stored text file. */
export function makeZip(name = 'photo.jpg', content = 'not really a photo'): Buffer {
  const data = Buffer.from(content);
  const fname = Buffer.from(name);
  const crc = crc32(data);
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt16LE(10, 4);
  local.writeUInt32LE(crc, 14);
  local.writeUInt32LE(data.length, 18);
  local.writeUInt32LE(data.length, 22);
  local.writeUInt16LE(fname.length, 26);
  const central = Buffer.alloc(46);
  central.writeUInt32LE(0x02014b50, 0);
  central.writeUInt16LE(20, 4);
  central.writeUInt16LE(10, 6);
  central.writeUInt32LE(crc, 16);
  central.writeUInt32LE(data.length, 20);
  central.writeUInt32LE(data.length, 24);
  central.writeUInt16LE(fname.length, 28);
  const cdOffset = local.length + fname.length + data.length;
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(1, 8);
  end.writeUInt16LE(1, 10);
  end.writeUInt32LE(central.length + fname.length, 12);
  end.writeUInt32LE(cdOffset, 16);
  return Buffer.concat([local, fname, data, central, fname, end]);
}

/** An SVG that would set window.__svgScriptRan (and fetch a marker URL) if any of its scripts ever ran. */
export function svgWithScript(): Buffer {
  return Buffer.from(
    `<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64" onload="top.__svgScriptRan = 'onload'; fetch('/svg-script-ran')">
  <script>top.__svgScriptRan = 'script'; fetch('/svg-script-ran');</script>
  <rect width="64" height="64" fill="red"/>
</svg>
`,
  );
}
