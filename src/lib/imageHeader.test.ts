import { describe, expect, it } from 'vitest';
import {
  jpegWithDeclaredSize,
  makeGif,
  makeJpeg,
  makePng,
  makeZip,
  pngBomb,
  pngChunk,
  svgWithScript,
} from '../../e2e/images';
import { isImageType, orientedSize, sniffImage } from './imageHeader';

const flat = (v: number[]) => () => v;

function webpVp8(w: number, h: number): Uint8Array {
  const b = new Uint8Array(30);
  b.set(Buffer.from('RIFF'), 0);
  new DataView(b.buffer).setUint32(4, 22, true);
  b.set(Buffer.from('WEBPVP8 '), 8);
  b.set([0x9d, 0x01, 0x2a], 23);
  new DataView(b.buffer).setUint16(26, w, true);
  new DataView(b.buffer).setUint16(28, h, true);
  return b;
}

function webpVp8l(w: number, h: number): Uint8Array {
  const b = new Uint8Array(30);
  b.set(Buffer.from('RIFF'), 0);
  new DataView(b.buffer).setUint32(4, 22, true);
  b.set(Buffer.from('WEBPVP8L'), 8);
  b[20] = 0x2f;
  new DataView(b.buffer).setUint32(21, ((w - 1) | ((h - 1) << 14)) >>> 0, true);
  return b;
}

function webpVp8x(w: number, h: number, animated: boolean): Uint8Array {
  const b = new Uint8Array(30);
  b.set(Buffer.from('RIFF'), 0);
  new DataView(b.buffer).setUint32(4, 22, true);
  b.set(Buffer.from('WEBPVP8X'), 8);
  b[20] = animated ? 0x02 : 0;
  const put24 = (at: number, v: number) => b.set([v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff], at);
  put24(24, w - 1);
  put24(27, h - 1);
  return b;
}

function bmp(w: number, h: number, bpp = 24): Uint8Array {
  const b = new Uint8Array(54);
  const dv = new DataView(b.buffer);
  b.set(Buffer.from('BM'), 0);
  dv.setUint32(2, 54, true);
  dv.setUint32(14, 40, true);
  dv.setInt32(18, w, true);
  dv.setInt32(22, -h, true); // top-down
  dv.setUint16(26, 1, true);
  dv.setUint16(28, bpp, true);
  return b;
}

describe('sniffImage', () => {
  it('PNG: dimensions, bit depth, colour type, completeness', () => {
    const png = makePng({ width: 7, height: 5, colourType: 2, bitDepth: 8, sample: flat([1, 2, 3]) });
    expect(sniffImage(png)).toMatchObject({ type: 'png', width: 7, height: 5, bitDepth: 8, colour: 'RGB' });
    expect(sniffImage(png).truncated).toBeUndefined();
    const p16 = makePng({ width: 3, height: 2, colourType: 6, bitDepth: 16, sample: flat([1, 2, 3, 4]) });
    expect(sniffImage(p16)).toMatchObject({ bitDepth: 16, colour: 'RGBA' });
    const pal = makePng({
      width: 2,
      height: 2,
      colourType: 3,
      bitDepth: 8,
      sample: flat([0]),
      palette: [[1, 2, 3]],
    });
    expect(sniffImage(pal).colour).toBe('palette');
    expect(sniffImage(png.subarray(0, png.length - 20))).toMatchObject({ type: 'png', truncated: true });
    expect(sniffImage(png.subarray(0, 20))).toMatchObject({ type: 'png', truncated: true });
  });

  it('PNG: huge declared size is read from IHDR alone', () => {
    expect(sniffImage(pngBomb(100_000, 100_000))).toMatchObject({ width: 100_000, height: 100_000 });
  });

  it('APNG: acTL frame count', () => {
    const actl = Buffer.alloc(8);
    actl.writeUInt32BE(3, 0);
    const png = makePng({
      width: 2,
      height: 2,
      colourType: 0,
      bitDepth: 8,
      sample: flat([9]),
      extraChunks: [pngChunk('acTL', actl)],
    });
    expect(sniffImage(png)).toMatchObject({ frames: 3, animated: true });
  });

  it('JPEG: SOF dimensions, components, EXIF orientation, truncation', () => {
    const j = makeJpeg({
      width: 40,
      height: 24,
      components: 3,
      block: flat([100, 128, 128]),
      orientation: 6,
    });
    expect(sniffImage(j)).toMatchObject({
      type: 'jpeg',
      width: 40,
      height: 24,
      colour: 'YCbCr',
      orientation: 6,
    });
    expect(sniffImage(j).truncated).toBeUndefined();
    expect(orientedSize(sniffImage(j))).toEqual({ width: 24, height: 40 });
    const cmyk = makeJpeg({ width: 16, height: 16, components: 4, block: flat([0, 0, 0, 0]) });
    expect(sniffImage(cmyk).colour).toBe('CMYK');
    const gray = makeJpeg({ width: 8, height: 8, components: 1, block: flat([50]) });
    expect(sniffImage(gray)).toMatchObject({ colour: 'grayscale', bitDepth: 8 });
    const big = makeJpeg({
      width: 256,
      height: 256,
      components: 3,
      block: (x, y) => [(x * 37 + y * 11) % 256, 128, 128],
    });
    expect(sniffImage(big.subarray(0, Math.floor(big.length * 0.6)))).toMatchObject({ truncated: true });
    expect(sniffImage(jpegWithDeclaredSize(gray, 60_000, 50_000))).toMatchObject({
      width: 60_000,
      height: 50_000,
    });
  });

  it('GIF: dimensions and frames', () => {
    const g = makeGif(
      9,
      4,
      [
        [255, 0, 0],
        [0, 0, 255],
      ],
      [() => 0, () => 1, () => 0],
    );
    expect(sniffImage(g)).toMatchObject({ type: 'gif', width: 9, height: 4, frames: 3, animated: true });
    const one = makeGif(3, 3, [[0, 0, 0]], [() => 0]);
    expect(sniffImage(one)).toMatchObject({ frames: 1, animated: false });
    expect(sniffImage(g.subarray(0, g.length - 5)).truncated).toBe(true);
  });

  it('WebP: VP8, VP8L, VP8X (animation flag)', () => {
    expect(sniffImage(webpVp8(320, 200))).toMatchObject({ type: 'webp', width: 320, height: 200 });
    expect(sniffImage(webpVp8l(5, 16000))).toMatchObject({ width: 5, height: 16000 });
    expect(sniffImage(webpVp8x(70000, 3, true))).toMatchObject({ width: 70000, height: 3, animated: true });
  });

  it('BMP: dimensions (top-down) and depth', () => {
    expect(sniffImage(bmp(640, 480))).toMatchObject({ type: 'bmp', width: 640, height: 480, bitDepth: 24 });
  });

  it('not images: empty, text, ZIP, SVG, HTML, PDF, binary', () => {
    expect(sniffImage(new Uint8Array())).toEqual({ type: 'empty' });
    expect(sniffImage(Buffer.from('hello, this is a note')).type).toBe('text');
    expect(sniffImage(makeZip()).type).toBe('zip');
    expect(sniffImage(svgWithScript()).type).toBe('svg');
    expect(sniffImage(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"></svg>')).type).toBe('svg');
    expect(sniffImage(Buffer.from('<!DOCTYPE html><html></html>')).type).toBe('html');
    expect(sniffImage(Buffer.from('%PDF-1.7\n')).type).toBe('pdf');
    expect(sniffImage(new Uint8Array([0, 1, 2, 3, 250, 251])).type).toBe('unknown');
    expect(isImageType('svg')).toBe(false);
    expect(isImageType('png')).toBe(true);
  });
});
