/**
 * Exports of the token lab (pure serialisers; the components only hand their bytes to a download): edited ids as
 * JSON and as a NumPy .npy file, the decoded picture as PNG, and results JSON per image and for the session.
 */
import { encode as encodePng } from 'fast-png';
import { chwToRgba } from './preprocess';
import { dot, matchProbability, norm } from './similarity';
import { idsToRows } from './tokens';

export interface Grid {
  h: number;
  w: number;
}

// ---- .npy ------------------------------------------------------------------------------------------

export type NpyDtype = 'int32' | 'int64';

const NPY_MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
const DESCR: Record<NpyDtype, string> = { int32: '<i4', int64: '<i8' };
// numpy aligns the data to 64 bytes (format version 1.0 allows any multiple of 16)
const ALIGN = 64;

/**
 * A .npy file (format version 1.0) of integer ids, C order, little-endian: magic, version, a uint16 header length,
 * then the header dict padded with spaces and ended by '\n' so that the data starts at a multiple of 64 bytes.
 */
export function encodeNpy(
  values: ArrayLike<number>,
  shape: readonly number[],
  dtype: NpyDtype = 'int32',
): Uint8Array {
  const count = shape.reduce((a, b) => a * b, 1);
  if (!shape.every((d) => Number.isInteger(d) && d >= 0))
    throw new RangeError(`shape ${JSON.stringify(shape)} is not a list of sizes`);
  if (count !== values.length)
    throw new RangeError(`shape [${shape.join(', ')}] holds ${count} values, got ${values.length}`);
  for (let i = 0; i < values.length; i++)
    if (
      !Number.isInteger(values[i]!) ||
      (dtype === 'int32' && (values[i]! < -(2 ** 31) || values[i]! >= 2 ** 31))
    )
      throw new RangeError(`value ${values[i]} at ${i} is not an ${dtype}`);
  // Python's tuple syntax: a 1-tuple needs its trailing comma
  const tuple = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  const dict = `{'descr': '${DESCR[dtype]}', 'fortran_order': False, 'shape': ${tuple}, }`;
  const pre = NPY_MAGIC.length + 2 + 2;
  const unpadded = pre + dict.length + 1;
  const headerLen = dict.length + 1 + ((ALIGN - (unpadded % ALIGN)) % ALIGN);
  if (headerLen > 0xffff) throw new RangeError('the .npy header is too long for format 1.0');
  const itemSize = dtype === 'int32' ? 4 : 8;
  const out = new Uint8Array(pre + headerLen + count * itemSize);
  out.set(NPY_MAGIC, 0);
  out[6] = 1; // major version
  out[7] = 0; // minor version
  const view = new DataView(out.buffer);
  view.setUint16(8, headerLen, true);
  const header = dict.padEnd(headerLen - 1, ' ') + '\n';
  for (let i = 0; i < header.length; i++) out[pre + i] = header.charCodeAt(i);
  const at = pre + headerLen;
  for (let i = 0; i < count; i++) {
    if (dtype === 'int32') view.setInt32(at + i * 4, values[i]!, true);
    else view.setBigInt64(at + i * 8, BigInt(values[i]!), true);
  }
  return out;
}

export interface ParsedNpy {
  version: [number, number];
  descr: string;
  fortranOrder: boolean;
  shape: number[];
  /** offset of the data in the file */
  dataOffset: number;
  values: number[];
}

/**
 * Reads back what encodeNpy writes (and any little-endian int32/int64 C-order .npy of format 1.0/2.0): for tests and
 * for checking a download, not a general .npy reader.
 */
export function parseNpy(bytes: Uint8Array): ParsedNpy {
  if (bytes.length < 10 || NPY_MAGIC.some((b, i) => bytes[i] !== b))
    throw new Error('not a .npy file (bad magic)');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version: [number, number] = [bytes[6]!, bytes[7]!];
  const v1 = version[0] === 1;
  const headerLen = v1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const pre = v1 ? 10 : 12;
  const header = String.fromCharCode(...bytes.subarray(pre, pre + headerLen));
  if (!header.endsWith('\n')) throw new Error('the .npy header does not end with a newline');
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || !fortran || shapeText === undefined) throw new Error(`unreadable .npy header: ${header}`);
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map(Number);
  const count = shape.reduce((a, b) => a * b, 1);
  const dataOffset = pre + headerLen;
  const values: number[] = [];
  if (descr === '<i4') {
    if (bytes.length !== dataOffset + count * 4)
      throw new Error('the .npy data length does not match its shape');
    for (let i = 0; i < count; i++) values.push(view.getInt32(dataOffset + i * 4, true));
  } else if (descr === '<i8') {
    if (bytes.length !== dataOffset + count * 8)
      throw new Error('the .npy data length does not match its shape');
    for (let i = 0; i < count; i++) values.push(Number(view.getBigInt64(dataOffset + i * 8, true)));
  } else {
    throw new Error(`dtype ${descr} is not read here`);
  }
  return { version, descr, fortranOrder: fortran === 'True', shape, dataOffset, values };
}

// ---- ids JSON and PNG --------------------------------------------------------------------------------

/** Edited ids as JSON: rows of ids (ids[row][col], as the card's export), with the grid and the model. */
export function idsJson(ids: ArrayLike<number>, grid: Grid, modelId: string, source: string): string {
  return (
    JSON.stringify(
      {
        app: 'toklip-studio',
        kind: 'token-ids',
        model_id: modelId,
        source,
        grid,
        ids: idsToRows(ids, grid.h, grid.w),
      },
      null,
      1,
    ) + '\n'
  );
}

/** An 8-bit RGB PNG of a CHW [0,1] picture (values rounded and clamped as the app draws them). */
export function pngOfChw(chw: Float32Array, width: number, height: number): Uint8Array {
  const rgba = chwToRgba(chw, width, height);
  const rgb = new Uint8Array(width * height * 3);
  for (let i = 0, j = 0; i < rgba.length; i += 4, j += 3) {
    rgb[j] = rgba[i]!;
    rgb[j + 1] = rgba[i + 1]!;
    rgb[j + 2] = rgba[i + 2]!;
  }
  return encodePng({ width, height, data: rgb, channels: 3, depth: 8 });
}

// ---- results JSON ------------------------------------------------------------------------------------

export interface ModelInfo {
  id: string;
  display_name: string;
  /** sha256 of manifest.json as served (null: it could not be read again) */
  manifest_sha256: string | null;
  embed_dim: number;
  codebook_size: number;
  logit_scale: number;
  logit_bias: number;
}

export interface EmbeddingSummary {
  dim: number;
  l2_norm: number;
  min: number;
  max: number;
  mean: number;
  /** the whole vector, so that scores against other prompts can be recomputed */
  values: number[];
}

export function embeddingSummary(e: ArrayLike<number>): EmbeddingSummary {
  const values = Array.from(e);
  return {
    dim: values.length,
    l2_norm: norm(values),
    min: Math.min(...values),
    max: Math.max(...values),
    mean: values.reduce((a, b) => a + b, 0) / (values.length || 1),
    values,
  };
}

/** What one image and (optionally) its token lab hold, as plain arrays. */
export interface ImageResultsInput {
  name: string;
  width?: number;
  height?: number;
  grid?: Grid;
  ids?: ArrayLike<number>;
  psnr?: number;
  ssim?: number;
  /** TokLIP embedding of the image's own ids */
  embedding?: ArrayLike<number>;
  /** teacher embedding of the input picture */
  teacherEmbedding?: ArrayLike<number>;
  lab?: {
    editedIds: ArrayLike<number>;
    edits: number;
    /** TokLIP embedding of the edited ids (absent while it is being computed) */
    embedding?: ArrayLike<number>;
    /** teacher embedding of the picture decoded from the edited ids */
    teacherEmbedding?: ArrayLike<number>;
  };
}

export interface PromptRow {
  prompt: string;
  toklip_cos: number | null;
  toklip_sigmoid: number | null;
  teacher_cos: number | null;
  lab_toklip_cos: number | null;
  lab_teacher_cos: number | null;
}

function cosOrNull(e: ArrayLike<number> | undefined, t: Float32Array | undefined): number | null {
  return e && t ? dot(e, t) : null;
}

/** Results of one image: ids (and edited ids), embedding summaries and a score row per prompt. */
export function imageResults(
  im: ImageResultsInput,
  prompts: readonly string[],
  textEmbeddings: Readonly<Record<string, Float32Array>>,
  model: ModelInfo,
) {
  const grid = im.grid;
  const rows = (ids: ArrayLike<number> | undefined) => (ids && grid ? idsToRows(ids, grid.h, grid.w) : null);
  const scores: PromptRow[] = prompts.map((prompt) => {
    const t = textEmbeddings[prompt];
    const cos = cosOrNull(im.embedding, t);
    return {
      prompt,
      toklip_cos: cos,
      toklip_sigmoid: cos === null ? null : matchProbability(cos, model.logit_scale, model.logit_bias),
      teacher_cos: cosOrNull(im.teacherEmbedding, t),
      lab_toklip_cos: cosOrNull(im.lab?.embedding, t),
      lab_teacher_cos: cosOrNull(im.lab?.teacherEmbedding, t),
    };
  });
  return {
    file: im.name,
    width: im.width ?? null,
    height: im.height ?? null,
    grid: grid ?? null,
    ids: rows(im.ids),
    recon_psnr_db: im.psnr ?? null,
    recon_ssim: im.ssim ?? null,
    embedding: im.embedding ? embeddingSummary(im.embedding) : null,
    teacher_embedding: im.teacherEmbedding ? embeddingSummary(im.teacherEmbedding) : null,
    lab: im.lab
      ? {
          edits: im.lab.edits,
          edited_ids: rows(im.lab.editedIds),
          embedding: im.lab.embedding ? embeddingSummary(im.lab.embedding) : null,
          teacher_embedding: im.lab.teacherEmbedding ? embeddingSummary(im.lab.teacherEmbedding) : null,
        }
      : null,
    scores,
  };
}

export const RESULTS_SCHEMA = 'toklip-studio.results/1';

/** Results JSON of one image. */
export function imageResultsJson(
  im: ImageResultsInput,
  prompts: readonly string[],
  textEmbeddings: Readonly<Record<string, Float32Array>>,
  model: ModelInfo,
  meta: { provider: string | null; created: string },
): string {
  const doc = {
    schema: RESULTS_SCHEMA,
    app: 'toklip-studio',
    ...meta,
    model,
    prompts,
    image: imageResults(im, prompts, textEmbeddings, model),
  };
  return JSON.stringify(doc, null, 1) + '\n';
}

/** Results JSON of every image of the session, in the order they were added. */
export function sessionResultsJson(
  images: readonly ImageResultsInput[],
  prompts: readonly string[],
  textEmbeddings: Readonly<Record<string, Float32Array>>,
  model: ModelInfo,
  meta: { provider: string | null; created: string },
): string {
  const doc = {
    schema: RESULTS_SCHEMA,
    app: 'toklip-studio',
    ...meta,
    model,
    prompts,
    images: images.map((im) => imageResults(im, prompts, textEmbeddings, model)),
  };
  return JSON.stringify(doc, null, 1) + '\n';
}

/** A file name from an image name: its extension dropped, characters file systems dislike replaced. */
export function exportName(imageName: string, suffix: string): string {
  const stem = imageName.replace(/\.[^./\\]*$/, '').replace(/[^\w.-]+/g, '_') || 'image';
  return `${stem}${suffix}`;
}
