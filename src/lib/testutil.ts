/** Test-only helpers (Node). */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';

export const REPO_ROOT = resolve(import.meta.dirname, '../..');

export function readGolden<T>(relPath: string): T {
  const file = resolve(REPO_ROOT, relPath);
  if (!existsSync(file)) {
    throw new Error(`golden file ${relPath} is missing: it is written by the Python side (toklip-golden)`);
  }
  return JSON.parse(readFileSync(file, 'utf8')) as T;
}

export function b64ToBytes(b64: string): Uint8Array {
  return new Uint8Array(Buffer.from(b64, 'base64'));
}

export function b64ToFloat32LE(b64: string): Float32Array {
  const bytes = b64ToBytes(b64);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(bytes.byteLength / 4);
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * 4, true);
  return out;
}

/** Small deterministic PRNG (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The contract's example manifest, valid. */
const sha = 'a'.repeat(64);
export function sampleManifest(): Record<string, unknown> {
  return {
    schema: 'toklip-studio/model-manifest',
    schema_version: 1,
    id: 'toklip-tiny',
    display_name: 'TokLIP-Tiny (128 px)',
    description: 'test',
    image: {
      size: 128,
      mean: [0.5, 0.5, 0.5],
      std: [0.5, 0.5, 0.5],
      resize: 'center_crop_then_resize',
      interpolation: 'triangle_antialias',
      alpha_background: [255, 255, 255],
    },
    grid: { h: 16, w: 16 },
    downsample: 8,
    codebook: { size: 1024, dim: 8, l2_normalised: true },
    embed_dim: 256,
    logit_scale: 10,
    logit_bias: -10,
    text: { context_length: 16, pad_id: 0, clean: 'canonicalize', input: 'ids' },
    teacher: true,
    files: [
      'vq_encoder',
      'vq_decoder',
      'semantic_encoder',
      'text_encoder',
      'teacher_image_encoder',
      'tokenizer',
      'codebook',
    ].map((role) => ({ role, path: `${role}.bin`, bytes: 10, sha256: sha })),
    default_prompts: ['a photo of a cat'],
  };
}
