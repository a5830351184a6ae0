/** Test pictures made on the fly as PNG. */
import { makePng } from './images';

/** RGBA8 or RGB8 pixels, row-major, as an unfiltered PNG (the general writer lives in images.ts). */
export function encodePng(width: number, height: number, pixels: Uint8Array, channels: 3 | 4 = 4): Buffer {
  return makePng({
    width,
    height,
    colourType: channels === 4 ? 6 : 2,
    bitDepth: 8,
    sample: (x, y) => {
      const i = (y * width + x) * channels;
      return Array.from(pixels.subarray(i, i + channels));
    },
  });
}

/** A colourful test picture: gradients and a disc. */
export function testPicture(width: number, height: number, seed = 0): Buffer {
  const px = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      const d = Math.hypot(x - width / 2, y - height / 2) < Math.min(width, height) / 4;
      px[i] = d ? 230 : (x * 255) / width;
      px[i + 1] = d ? 40 + seed * 50 : (y * 255) / height;
      px[i + 2] = d ? 60 : ((x + y + seed * 40) * 128) / (width + height);
    }
  return encodePng(width, height, px, 3);
}
