/**
 * Browser-only image decoding: File/Blob → RGBA8 at full resolution, EXIF orientation honoured
 * (createImageBitmap with imageOrientation 'from-image'), no colour-space conversion and no premultiplication,
 * so that plain sRGB PNGs give exactly the bytes Python (Pillow) reads.
 */

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
}

/** Refuse absurd sizes before allocating (decompression bombs). */
export const MAX_PIXELS = 64 * 1024 * 1024;
export const MAX_FILE_BYTES = 100 * 1024 * 1024;

export async function decodeImage(blob: Blob): Promise<DecodedImage> {
  if (blob.size === 0) throw new ImageDecodeError('the file is empty (0 bytes)');
  if (blob.size > MAX_FILE_BYTES) {
    throw new ImageDecodeError(`the file is larger than ${MAX_FILE_BYTES / 1024 / 1024} MiB`);
  }
  if (blob.type === 'image/svg+xml') {
    throw new ImageDecodeError('SVG images are not accepted; please use PNG, JPEG, WebP, GIF or BMP');
  }
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(blob, {
      imageOrientation: 'from-image',
      premultiplyAlpha: 'none',
      colorSpaceConversion: 'none',
    });
  } catch {
    throw new ImageDecodeError('this file could not be decoded as an image (unsupported or damaged)');
  }
  try {
    const { width, height } = bitmap;
    if (width < 1 || height < 1) throw new ImageDecodeError('the image has no pixels');
    if (width * height > MAX_PIXELS) {
      throw new ImageDecodeError(
        `the image is ${width}×${height} pixels, more than the ${MAX_PIXELS / 1024 / 1024} Mpx limit`,
      );
    }
    const canvas = new OffscreenCanvas(width, height);
    const ctx = canvas.getContext('2d', { willReadFrequently: true, colorSpace: 'srgb' });
    if (!ctx) throw new ImageDecodeError('no 2D canvas available to read the pixels');
    ctx.drawImage(bitmap, 0, 0);
    const data = ctx.getImageData(0, 0, width, height, { colorSpace: 'srgb' }).data;
    return { rgba: data, width, height };
  } finally {
    bitmap.close();
  }
}
