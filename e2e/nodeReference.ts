/**
 * onnxruntime-node on a model folder on disk, as a reference for what the app shows: each graph run on a
 * given input (the app's own ids where a graph takes ids, so that each graph is compared on its own input).
 * Text is cleaned and tokenized by src/lib/text.ts and table rows read by src/lib/embeddingTable.ts, as the
 * worker does. Pictures are given at exactly the model's size, so the pixel tensor is the raw RGB normalised
 * with the manifest's mean/std: no resize to mirror (the resize has its own Python goldens).
 */
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import type * as OrtNode from 'onnxruntime-node';
import { tableMode } from '../src/lib/capacity';
import { gatherFromTable, RowReader } from '../src/lib/embeddingTable';
import {
  embeddingTable,
  fileByRole,
  validateManifest,
  type GraphRole,
  type Manifest,
} from '../src/lib/manifest';
import { psnr, ssim } from '../src/lib/metrics';
import { TextTokenizer } from '../src/lib/text';
import { makePng } from './images';

const ort = createRequire(import.meta.url)('onnxruntime-node') as typeof OrtNode;

export const MODELS_DIR = resolve(import.meta.dirname, '../public/models');

export function readManifest(id: string): Manifest {
  return validateManifest(JSON.parse(readFileSync(resolve(MODELS_DIR, id, 'manifest.json'), 'utf8')));
}

/** An S×S RGB picture (gradients, a disc, a checker corner) as PNG, with its raw RGB. */
export function squarePicture(S: number, seed: number): { png: Buffer; rgb: Uint8Array } {
  const rgb = new Uint8Array(S * S * 3);
  for (let y = 0; y < S; y++)
    for (let x = 0; x < S; x++) {
      const i = (y * S + x) * 3;
      const disc = Math.hypot(x - S * (0.4 + 0.1 * seed), y - S * 0.5) < S * (0.18 + 0.06 * seed);
      const checker = x > (2 * S) / 3 && y < S / 3 && ((x >> 2) + (y >> 2)) % 2 === 0;
      rgb[i] = disc ? 40 + 90 * seed : checker ? 250 : Math.round((x * 255) / S);
      rgb[i + 1] = disc ? 200 : checker ? 20 : Math.round(((S - 1 - y) * 255) / S);
      rgb[i + 2] = disc ? 90 : Math.round(((x * 3 + y + 29 * seed) % S) * (255 / S));
    }
  return { png: squarePng(S, rgb), rgb };
}

/** An 8-bit RGB PNG of S×S raw RGB pixels (row-major). */
export function squarePng(S: number, rgb: Uint8Array): Buffer {
  return makePng({
    width: S,
    height: S,
    colourType: 2,
    bitDepth: 8,
    sample: (x, y) => Array.from(rgb.subarray((y * S + x) * 3, (y * S + x) * 3 + 3)),
  });
}

export class NodeReference {
  private readonly sessions = new Map<GraphRole, OrtNode.InferenceSession>();
  private readonly folder: string;
  readonly manifest: Manifest;

  /** `dir`: the folder holding model `id` (default public/models); `manifest`: already read and validated. */
  constructor(id: string, opts: { dir?: string; manifest?: Manifest } = {}) {
    this.folder = resolve(opts.dir ?? MODELS_DIR, id);
    this.manifest =
      opts.manifest ??
      validateManifest(JSON.parse(readFileSync(resolve(this.folder, 'manifest.json'), 'utf8')));
  }

  private async run(role: GraphRole, input: OrtNode.Tensor): Promise<OrtNode.Tensor> {
    let s = this.sessions.get(role);
    if (!s) {
      // 'basic': from 'extended' on, the CPU EP fuses int8 DequantizeLinear+MatMul with int8 activations,
      // ~3e-3 off the graph as written; onnxruntime-web does not.
      s = await ort.InferenceSession.create(resolve(this.folder, fileByRole(this.manifest, role)!.path), {
        graphOptimizationLevel: 'basic',
      });
      this.sessions.set(role, s);
    }
    const out = await s.run({ [s.inputNames[0]!]: input });
    return out[s.outputNames[0]!]!;
  }

  /**
   * Normalised CHW pixels of an S×S raw RGB picture, in float32 steps as ToTensor + Normalize (and the app) compute
   * them: one rounding at the end, as float64 would give, is an ulp off now and then.
   */
  pixels(rgb: Uint8Array): Float32Array {
    const { size: S, mean, std } = this.manifest.image;
    const f = Math.fround;
    const px = new Float32Array(3 * S * S);
    for (let c = 0; c < 3; c++)
      for (let i = 0; i < S * S; i++)
        px[c * S * S + i] = f(f(f(rgb[i * 3 + c]! / 255) - f(mean[c]!)) / f(std[c]!));
    return px;
  }

  async vqIds(rgb: Uint8Array): Promise<Int32Array> {
    const S = this.manifest.image.size;
    const out = await this.run('vq_encoder', new ort.Tensor('float32', this.pixels(rgb), [1, 3, S, S]));
    return Int32Array.from(out.data as ArrayLike<number | bigint>, (v) => Number(v));
  }

  /** PSNR and SSIM of the decoder's picture from `ids` against the S×S input, as the app computes them. */
  async reconstruction(rgb: Uint8Array, ids: Int32Array): Promise<{ psnr: number; ssim: number }> {
    const { h, w } = this.manifest.grid;
    const S = this.manifest.image.size;
    const recon = (await this.run('vq_decoder', new ort.Tensor('int32', ids, [1, h, w])))
      .data as Float32Array;
    const input = new Float32Array(3 * S * S);
    for (let c = 0; c < 3; c++) for (let i = 0; i < S * S; i++) input[c * S * S + i] = rgb[i * 3 + c]! / 255;
    return { psnr: psnr(input, recon), ssim: ssim(input, recon, S, S) };
  }

  /** CHW RGB [3, S, S] the decoder makes of ids [h*w]. */
  async decode(ids: Int32Array): Promise<Float32Array> {
    const { h, w } = this.manifest.grid;
    return (await this.run('vq_decoder', new ort.Tensor('int32', ids, [1, h, w]))).data as Float32Array;
  }

  /** [E] teacher embedding of normalised CHW pixels [3, S, S]. */
  async teacher(pixels: Float32Array): Promise<Float32Array> {
    const S = this.manifest.image.size;
    return (await this.run('teacher_image_encoder', new ort.Tensor('float32', pixels, [1, 3, S, S])))
      .data as Float32Array;
  }

  /** [E] TokLIP embedding of ids [h*w]. */
  async image(ids: Int32Array): Promise<Float32Array> {
    const { h, w } = this.manifest.grid;
    return (await this.run('semantic_encoder', new ort.Tensor('int32', ids, [1, h, w]))).data as Float32Array;
  }

  /** [n·E] prompt embeddings. */
  async text(prompts: string[]): Promise<Float32Array> {
    const m = this.manifest;
    const L = m.text.context_length;
    const tokenizer = new TextTokenizer(
      JSON.parse(readFileSync(resolve(this.folder, fileByRole(m, 'tokenizer')!.path), 'utf8')),
      m.text,
    );
    const ids = tokenizer.encodeBatch(prompts);
    const table = embeddingTable(m);
    if (!table)
      return (await this.run('text_encoder', new ort.Tensor('int32', ids, [prompts.length, L])))
        .data as Float32Array;
    const path = resolve(this.folder, table.path);
    let embeds: Float32Array;
    if (tableMode(m) === 'whole') {
      embeds = gatherFromTable(new Uint8Array(readFileSync(path)), ids, table);
    } else {
      // A table too large to read whole (as the app would stream it): only the rows the prompts use.
      const fd = openSync(path, 'r');
      try {
        const reader = new RowReader(table, async (start, count) => {
          const buf = new Uint8Array(count * table.row_bytes);
          readSync(fd, buf, 0, buf.length, start * table.row_bytes);
          return buf;
        });
        embeds = await reader.gather(ids);
      } finally {
        closeSync(fd);
      }
    }
    return (await this.run('text_encoder', new ort.Tensor('float32', embeds, [prompts.length, L, table.dim])))
      .data as Float32Array;
  }

  async release(): Promise<void> {
    for (const s of this.sessions.values()) await s.release();
    this.sessions.clear();
  }
}

/** cos[p] = image · text[p] for unit vectors of width E. */
export function cosines(image: ArrayLike<number>, text: Float32Array, E: number): number[] {
  const n = text.length / E;
  return Array.from({ length: n }, (_, p) => {
    let s = 0;
    for (let k = 0; k < E; k++) s += image[k]! * text[p * E + k]!;
    return s;
  });
}
